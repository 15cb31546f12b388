#!/usr/bin/env bash
# Training epochs of the 784-256-128-10 MLP on the shipped Fashion-MNIST as bin/jacobian train runs them (a
# DataLoader feeding a Trainer), for several configurations threads:prefetch alternating epoch by epoch in one process
# after warm epochs (EpochLoop: epoch time against the first configuration's, and the share spent waiting for a
# batch), with the CPU model and its measured SGEMM peak beside it. A configuration's prefetch is a number of batches
# ahead on the loader's thread, or P: gathered between the steps on the backend's threads (DataLoader's gatherOn).
# bin/jacobian train runs 1:8 on 1 thread of a 2-core machine and 2:P on 2.
#
#   benchmarks/run-epoch-loop.sh                                  # 1:8, 2:P and 2:1 at batch 128
#   CONFIGS=2:1,2:P,2:0 BATCH=64 ROUNDS=8 benchmarks/run-epoch-loop.sh
#
# About 20 s per configuration. Nothing else may run meanwhile. Results: benchmarks/target/epoch-loop.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
build_jar -pl benchmarks -am
pick_coretype   # for the peak printed beside the figures
{
  machine_header
  "$java" --add-modules=jdk.incubator.vector -XX:+UseSerialGC -Xmn48m -Xmx1g -Dconfigs="${CONFIGS:-1:8,2:P,2:1}" \
      -Dbatch="${BATCH:-128}" -Drounds="${ROUNDS:-5}" -Dwarm="${WARM:-2}" -Ddata="$root/samples/data/fashion-mnist" \
      -cp "$jar" dev.jacobian.bench.EpochLoop 2>&1 | grep -v -E "WARN|INFO"
} | tee "$out/epoch-loop.md"
