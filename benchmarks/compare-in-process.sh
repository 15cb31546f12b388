#!/usr/bin/env bash
# The CPU backend's training step of an older commit against the working tree's, both in one process (InProcessAB:
# each build in a class loader of its own, the two timed in alternating halves of every round; the median of per-round
# ratios), for each batch size and thread count, with the CPU model and its measured SGEMM peak beside it. Use it where
# the machine's speed drifts within seconds, which separate processes (compare-commits.sh) cannot see past.
#
#   benchmarks/compare-in-process.sh OLD_REV
#   BATCHES="64 128" THREADS="1 2" ROUNDS=40 benchmarks/compare-in-process.sh HEAD~3
#   COMPETE=2000,2000 THREADS=2 benchmarks/compare-in-process.sh HEAD~1   # beside a thread busy 2 ms of every 4
#   JVM_OPTS="-Dsome.property=1" benchmarks/compare-in-process.sh HEAD   # extra JVM options (both builds see them)
#
# The old commit is built in a temporary git worktree, with StepTimer copied in when it lacks it (it must compile
# against the old API). Each half of a round waits for the other build's workers to park first (InProcessAB). About a
# minute per configuration. Nothing else may run meanwhile. Results:
# benchmarks/target/compare-in-process.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
old_rev="${1:?usage: compare-in-process.sh OLD_REV}"
BUILD=1 build_jar -pl benchmarks -am
build_old_jar "$old_rev" benchmarks/src/main/java/dev/jacobian/bench/StepTimer.java
new_jar="$out/benchmarks-new.jar"
cp "$jar" "$new_jar"
pick_coretype   # for the peak printed beside the figures
{
  machine_header
  echo "old: $old_rev ($(git -C "$root" rev-parse --short "$old_rev")), new: the working tree at $(git -C "$root" rev-parse --short HEAD)${COMPETE:+, beside a thread busy for ${COMPETE%,*} us then idle for ${COMPETE#*,} us}"
  for b in ${BATCHES:-128 64}; do
    for t in ${THREADS:-1 2}; do
      "$java" --add-modules=jdk.incubator.vector -Xmx2g -Dbatch="$b" -Dthreads="$t" -Drounds="${ROUNDS:-30}" \
          -Dcompete="${COMPETE:-}" ${JVM_OPTS:-} \
          -cp "$new_jar" dev.jacobian.bench.InProcessAB "$old_jar" "$new_jar" 2>&1 | grep -v -E "WARN|INFO"
    done
  done
} | tee "$out/compare-in-process.md"
