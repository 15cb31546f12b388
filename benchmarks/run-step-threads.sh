#!/usr/bin/env bash
# The CPU backend's training step (784-256-128-10 MLP, SGD with momentum) on 2 threads against 1, alternating in one
# process (StepThreads: the median of per-round speed-ups), at batch 128 and 64, with the CPU model and its measured
# SGEMM peak beside it, and what a second thread gave the machine itself in the same rounds (TwoCoreProbe: 2.00 on two
# free cores; a 2-vCPU virtual machine does not always give it one) with the step's gain against it, what a split of
# the batch could give at best (BatchSplitCeiling: two half batches side by side on 1-thread backends, exchanging
# nothing) and whether the host put the two threads on one die or on two (a round trip between them, round by round,
# with the step's gain on each); OPS=true adds each backend call's share of the step and its gain on 2 threads.
#
#   benchmarks/run-step-threads.sh
#   BATCHES=128 OPS=true ROUNDS=30 benchmarks/run-step-threads.sh
#   BATCHES=128 PROFILE=true benchmarks/run-step-threads.sh   # and the thread pool's calls per site (the JDK Flight
#                                                            # Recorder events of the 2-thread steps; peers/parallel_profile.py)
#
# About 40 s per batch size. Nothing else may run meanwhile. Results: benchmarks/target/step-threads.md (and with
# PROFILE=true the recordings, step-threads-BATCH.jfr).
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
build_jar -pl benchmarks -am
pick_coretype   # for the peak printed beside the figures
{
  machine_header
  for b in ${BATCHES:-128 64}; do
    profile=()
    [[ "${PROFILE:-false}" == true ]] && profile=(-Dprofile="$out/step-threads-$b.jfr")
    "$java" --add-modules=jdk.incubator.vector -Xmx2g -Dbatch="$b" -Drounds="${ROUNDS:-20}" -Dops="${OPS:-false}" \
        ${profile[@]+"${profile[@]}"} -cp "$jar" dev.jacobian.bench.StepThreads 2>&1 | grep -v -E "WARN|INFO"
    if [[ "${PROFILE:-false}" == true ]]; then
      JAVA_HOME="$(dirname "$(dirname "$java")")" /usr/bin/python3 "$here/peers/parallel_profile.py" "$out/step-threads-$b.jfr" \
          "$(( ${ROUNDS:-20} * 100 ))"
    fi
  done
} | tee "$out/step-threads.md"
