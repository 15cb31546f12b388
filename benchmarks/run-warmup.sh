#!/usr/bin/env bash
# The JIT warm-up's effect: `bin/jacobian train --backend cpu` with its warm-up and with --no-warm-up, in alternating
# pairs; epoch 1 against epochs 2 and 3, start-up, and launch to the end of epoch 2 (peers/warmup_ab.py's docstring).
#
#   benchmarks/run-warmup.sh                           # batch 128, 2 threads, 3 epochs, 4 rounds (about 2 minutes)
#   ARGS="--batch 64 --rounds 6" benchmarks/run-warmup.sh
#
# Needs python3. Nothing else may run meanwhile. Results: benchmarks/target/warmup-report.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$out"
"$root/bin/jacobian" --version >/dev/null 2>&1 || "$root/bin/jacobian" --version   # builds the CLI's jar first when stale
# shellcheck disable=SC2086
python3 "$here/peers/warmup_ab.py" ${ARGS:-} | tee "$out/warmup-report.md"
