#!/usr/bin/env bash
# Runs GemmBenchmark (Jacobian CPU SGEMM vs OpenBLAS through netlib-java) at 1 and 2 threads with short
# JMH settings, then prints the GFLOP/s table. OpenBLAS reads OPENBLAS_NUM_THREADS once per process,
# so each thread count is its own JMH run with the matching environment (the benchmark checks it).
#
#   benchmarks/run.sh                  # build if needed, run both thread counts, print the table
#   BUILD=1 benchmarks/run.sh          # rebuild cpu-backend + benchmarks first
#   JMH_OPTS="-wi 5 -i 10" benchmarks/run.sh
#   CORETYPE=Haswell benchmarks/run.sh    # OpenBLAS's kernels: by default the faster of a preset OPENBLAS_CORETYPE and
#                                         # the ones the CPU's flags name (SkylakeX with AVX-512, Haswell with AVX2;
#                                         # lib.sh's pick_coretype); the log records which ran
#
# Results: benchmarks/target/gemm-t1.json, gemm-t2.json (JMH JSON), gemm-report.md, gemm-run.log.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
threads_list="${THREADS:-1 2}"
jmh_opts="${JMH_OPTS:--wi 3 -w 1 -i 4 -r 1 -f 1}"

build_jar -pl benchmarks -am
pick_coretype   # Debian's OpenBLAS 0.3.21 picks slow generic kernels on newer Intel CPUs: the peer runs its best

log="$out/gemm-run.log"
: > "$log"
files=()
for t in $threads_list; do
  json="$out/gemm-t$t.json"
  echo "== GemmBenchmark, $t thread(s): OPENBLAS_NUM_THREADS=$t" | tee -a "$log"
  OPENBLAS_NUM_THREADS="$t" OPENBLAS_VERBOSE=2 "$java" -jar "$jar" "\\.GemmBenchmark\\." -p threads="$t" $jmh_opts \
      -rf json -rff "$json" 2>&1 | tee -a "$log" | grep -E "peer BLAS|jacobian: |Core: |^GemmBenchmark|^Benchmark" || true
  files+=("$json")
done
{
  machine_header   # the CPU model and its measured peak beside the ratios
  python3 "$here/report.py" "${files[@]}" --svg "$out/gemm-ratios.svg"
} | tee "$out/gemm-report.md"
echo "which BLAS ran (from the forks' logs):"
grep -E "peer BLAS|Core: " "$log" | sort | uniq -c
