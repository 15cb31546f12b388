#!/usr/bin/env bash
# Runs the CPU-backend-vs-OpenCL-backend benchmarks with short JMH settings, then prints the tables:
# ClVsCpuGemmBenchmark (GFLOP/s), ElementwiseBenchmark and ReductionBenchmark (elements/s, GB/s) and
# TrainingStepBenchmark (steps/s and host transfers per step), each with the CPU/OpenCL ratio per row.
# The OpenCL backend takes the first GPU, else any OpenCL device (PoCL on a CPU-only machine; then the
# "OpenCL" column is the same CPU through PoCL, not a GPU). Choose a device with
# JMH_OPTS="... -jvmArgsPrepend -Djacobian.opencl.device=<index or name>" (Prepend: an Append would replace the benchmarks' own --add-modules).
#
#   benchmarks/run-backends.sh                         # build if needed, run all four, print the tables
#   BUILD=1 benchmarks/run-backends.sh                 # rebuild the modules the benchmarks use first
#   BENCHES="ClVsCpuGemmBenchmark TrainingStepBenchmark" benchmarks/run-backends.sh
#   PARAMS="-p backend=opencl" benchmarks/run-backends.sh            # one backend only
#   PARAMS="-p shape=1024,4096" BENCHES=ClVsCpuGemmBenchmark benchmarks/run-backends.sh   # opt-in 4096
#   JMH_OPTS="-wi 5 -w 1 -i 10 -r 1 -f 2" benchmarks/run-backends.sh                     # longer runs
#
# Results: benchmarks/target/backend-<bench>.json (JMH JSON), backend-report.md, backend-run.log.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
benches="${BENCHES:-ClVsCpuGemmBenchmark ElementwiseBenchmark ReductionBenchmark TrainingStepBenchmark}"
jmh_opts="${JMH_OPTS:--wi 2 -w 1 -i 3 -r 1 -f 1}"
params="${PARAMS:-}"

build_jar -pl benchmarks -am

log="$out/backend-run.log"
: > "$log"
files=()
for bench in $benches; do
  json="$out/backend-$bench.json"
  echo "== $bench $params $jmh_opts" | tee -a "$log"
  # the anchored regex keeps e.g. GemmBenchmark from also matching ClVsCpuGemmBenchmark
  "$java" -jar "$jar" "\\.$bench\\." $params $jmh_opts -rf json -rff "$json" 2>&1 | tee -a "$log" \
      | grep -oE "BenchSupport - backend .*|^$bench\.[a-zA-Z]+ .*" | sed 's/^BenchSupport - //' | sort -u || true
  files+=("$json")
done
python3 "$here/report.py" "${files[@]}" --svg "$out/backend-ratios.svg" | tee "$out/backend-report.md"
