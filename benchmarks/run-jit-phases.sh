#!/usr/bin/env bash
# Where the JIT compiles during `bin/jacobian train --backend cpu`: per phase (start-up with the JIT warm-up, then each
# epoch), the C2 compiles that started in it and their time, those of dev.jacobian's own methods (and how many
# compiled a method for the first time), the Vector API's fallbacks, C1; epoch 1's longest compiles
# (peers/jit_phases.py's docstring). A JFR recording of every compile and a log with millisecond stamps, per run.
#
#   benchmarks/run-jit-phases.sh                                    # batch 128, 2 threads, 4 epochs, 2 runs
#   ARGS="--batch 64 --threads 1 --runs 3" benchmarks/run-jit-phases.sh
#   JACOBIAN_JAVA_OPTS="-XX:AOTMode=off" benchmarks/run-jit-phases.sh  # a variant: without the start-up cache
#
# About 10 s per run (and a few seconds for the SGEMM peak printed beside the figures). Nothing else may run
# meanwhile. Results: benchmarks/target/jit-phases.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$out"
"$root/bin/jacobian" --version >/dev/null 2>&1 || "$root/bin/jacobian" --version   # builds the CLI's jar first when stale
pick_coretype   # for the peak printed beside the figures
{
  machine_header
  # shellcheck disable=SC2086
  JAVA_HOME="$JAVA_HOME" /usr/bin/python3 "$here/peers/jit_phases.py" ${ARGS:-}
} | tee "$out/jit-phases.md"
