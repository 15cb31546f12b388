#!/usr/bin/env bash
# The CPU backend's training step (784-256-128-10 MLP, SGD with momentum) on 2 threads against 1, alternating in one
# process (StepThreads: the median of per-round speed-ups), at batch 128 and 64, with the CPU model and its measured
# SGEMM peak beside it, and what a second thread gave the machine itself in the same rounds (TwoCoreProbe: 2.00 on two
# free cores; a 2-vCPU virtual machine does not always give it one) with the step's gain against it; OPS=true adds each
# backend call's share of the step and its gain on 2 threads.
#
#   benchmarks/run-step-threads.sh
#   BATCHES=128 OPS=true ROUNDS=30 benchmarks/run-step-threads.sh
#
# About 40 s per batch size. Nothing else may run meanwhile. Results: benchmarks/target/step-threads.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
build_jar -pl benchmarks -am
pick_coretype   # for the peak printed beside the figures
{
  machine_header
  for b in ${BATCHES:-128 64}; do
    "$java" --add-modules=jdk.incubator.vector -Xmx2g -Dbatch="$b" -Drounds="${ROUNDS:-20}" -Dops="${OPS:-false}" \
        -cp "$jar" dev.jacobian.bench.StepThreads 2>&1 | grep -v -E "WARN|INFO"
  done
} | tee "$out/step-threads.md"
