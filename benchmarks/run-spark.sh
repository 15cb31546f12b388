#!/usr/bin/env bash
# Data-parallel training on Spark in local mode (local[2]) against DataParallel on the same machine, in one run
# (spark/src/test/java/dev/jacobian/spark/bench/SparkEpochBenchmark.java): seconds per epoch of the 784-256-128-10
# MLP for 1 and 2 workers, per-step mode and averaging every 8 and 32 steps, and the exchange's cost per step. Prints
# the CPU model and the measured SGEMM peak beside the table. Time with nothing else running.
#
#   benchmarks/run-spark.sh                  # 12800 synthetic samples, global batch 128, 3 epochs (1 warm-up)
#   benchmarks/run-spark.sh 25600 256 4      # samples, global batch, epochs
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$root"
if [[ "${BUILD:-0}" == "1" || ! -d spark/target/test-classes/dev/jacobian/spark/bench ]]; then
  ./mvnw -q -B -ntp install -DskipTests -pl spark -am
  ./mvnw -q -B -ntp test-compile -pl spark
fi
./mvnw -q -B -ntp dependency:build-classpath -pl spark -Dmdep.outputFile="$out/spark-classpath.txt" >/dev/null
flags="$(sed -n '/<spark.jvm.flags>/,/<\/spark.jvm.flags>/p' spark/pom.xml | sed 's/<[^>]*>//g' | tr '\n' ' ')"
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1), family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p'), $(nproc) CPUs"
# shellcheck disable=SC2086
"$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED $flags -Xmx4g \
    -cp "spark/target/test-classes:spark/target/classes:$(cat "$out/spark-classpath.txt")" \
    dev.jacobian.spark.bench.SparkEpochBenchmark "$@" 2> "$out/spark-run.log" | tee "$out/spark-report.md"
echo
pick_coretype 2>/dev/null
echo "Machine: $cpu; measured SGEMM peak (OpenBLAS, 1 thread, 1024^3): ${PEAK:-$(measure_peak 2>/dev/null || echo '?')} GFLOP/s" \
    | tee -a "$out/spark-report.md"
