#!/usr/bin/env bash
# Runs Jacobian's CPU training step (TrainingStepBenchmark, backend cpu) and its Deeplearning4j peer
# (Dl4jTrainingStepBenchmark: ND4J native CPU backend, same MLP and data) in one JMH invocation with short
# settings, then prints steps/s per batch and Jacobian/DL4J. Needs the peers build (Maven profile
# "peers", off by default: DL4J/ND4J and ~150 MiB of natives never enter benchmarks.jar or CI):
# benchmarks/target/benchmarks-peers.jar, built here when missing or with BUILD=1 (from the installed
# Jacobian modules in ~/.m2; install them first if they changed).
#
#   benchmarks/run-peers.sh                          # build if needed, run batch 32, 128, 512, print the table
#   THREADS=1 benchmarks/run-peers.sh                # DL4J threads (OMP_NUM_THREADS and ND4J's setters)
#   OMP_WAIT_POLICY=ACTIVE benchmarks/run-peers.sh   # libgomp's default spinning (slower here, see below)
#   PARAMS="-p batch=128" benchmarks/run-peers.sh
#   JMH_OPTS="-wi 5 -w 1 -i 10 -r 1 -f 2" benchmarks/run-peers.sh   # steadier numbers
#
# Threads: the CPU backend uses one worker per available processor (the log's "backend cpu: CPU, N
# thread(s)" line says how many); THREADS (default: the processor count) goes to libnd4j's OpenMP and
# OpenBLAS through OMP_NUM_THREADS, and to ND4J's Environment/BLAS setters through -p threads; the log's
# "DL4J peer:" line says what ND4J reports. libnd4j's OpenMP (libgomp) pool and OpenBLAS's own pthreads
# pool are two pools; with libgomp's default spin-waiting they fight over 2 cores (DL4J at 2 threads ran
# slower than at 1), so OMP_WAIT_POLICY defaults to PASSIVE here, DL4J's best 2-thread setting we found.
#
# Results: benchmarks/target/peers-train.json (JMH JSON), peers-report.md, peers-run.log.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
peers_jar="$out/benchmarks-peers.jar"
threads="${THREADS:-$(nproc)}"
wait_policy="${OMP_WAIT_POLICY:-PASSIVE}"
# DL4J's steps vary more than Jacobian's (a young GC every second or so), hence 5 iterations
jmh_opts="${JMH_OPTS:--wi 3 -w 1 -i 5 -r 1 -f 1}"
params="${PARAMS:-}"

if [[ "${BUILD:-0}" == "1" || ! -f "$peers_jar" ]]; then
  (cd "$root" && ./mvnw -q -B -ntp -Ppeers -pl benchmarks package -DskipTests)
fi

pick_coretype   # ND4J's OpenBLAS runs its fastest kernel here
log="$out/peers-run.log"
json="$out/peers-train.json"
settings="OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=$wait_policy $params $jmh_opts"
echo "== TrainingStepBenchmark (cpu) + Dl4jTrainingStepBenchmark, $settings" | tee "$log"
# the anchored regexes keep TrainingStepBenchmark from also matching Dl4jTrainingStepBenchmark;
# -p backend only applies to TrainingStepBenchmark, -p threads only to the DL4J one
OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY="$wait_policy" "$java" -jar "$peers_jar" "\\.TrainingStepBenchmark\\." "\\.Dl4jTrainingStepBenchmark\\." \
    -p backend=cpu -p threads="$threads" $params $jmh_opts -rf json -rff "$json" 2>&1 | tee -a "$log" \
    | grep -oE "BenchSupport - backend .*|Dl4jTrainingStepBenchmark - DL4J peer: .*|^(Dl4j)?TrainingStepBenchmark\.[a-zA-Z]+ .*" \
    | sed -E 's/^(BenchSupport|Dl4jTrainingStepBenchmark) - //' | sort -u || true
{ echo "Run: $settings"; echo; python3 "$here/report.py" "$json" --svg "$out/peers-ratios.svg"; } | tee "$out/peers-report.md"
