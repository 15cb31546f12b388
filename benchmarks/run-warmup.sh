#!/usr/bin/env bash
# The JIT warm-up's effect: `bin/jacobian train --backend cpu` with its warm-up and with --no-warm-up, in alternating
# pairs; epoch 1 against epochs 2 and 3, start-up, and launch to the end of epoch 2 (peers/warmup_ab.py's docstring).
#
#   benchmarks/run-warmup.sh                           # batch 128, 2 threads, 3 epochs, 4 rounds (about 2 minutes)
#   ARGS="--batch 64 --rounds 6" benchmarks/run-warmup.sh
#
# Needs /usr/bin/python3 with numpy (Debian's python3-numpy: the SGEMM peak printed beside the figures). Nothing else
# may run meanwhile. Results: benchmarks/target/warmup-report.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  echo "run-warmup: /usr/bin/python3 needs numpy (apt-get install python3-numpy)" >&2
  exit 1
fi
mkdir -p "$out"
"$root/bin/jacobian" --version >/dev/null 2>&1 || "$root/bin/jacobian" --version   # builds the CLI's jar first when stale
# shellcheck disable=SC2086
/usr/bin/python3 "$here/peers/warmup_ab.py" ${ARGS:-} | tee "$out/warmup-report.md"
