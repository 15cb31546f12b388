#!/usr/bin/env bash
# The epoch benchmark: trains the 784-256-128-10 MLP on the shipped Fashion-MNIST with `bin/jacobian train
# --backend cpu`, with numpy and with PyTorch CPU (peers/mlp_train.py: the same network, data, batches and SGD),
# one process per run, and prints seconds per epoch, Jacobian's ratios against each peer at its best thread
# setting, two threads against one, the momentum penalty, epoch 1 against epoch 2, start-up and peak RSS, with the
# CPU model and its measured SGEMM peak. peers/mlp_peers.py's docstring says what is timed and how.
#
#   benchmarks/run-epochs.sh                              # batch 64 and 128, 1 and 2 threads, 5 epochs, 1 round
#   ROUNDS=3 benchmarks/run-epochs.sh                     # the record: medians over three processes each
#   ARGS="--batches 128 --peers jacobian,numpy" benchmarks/run-epochs.sh
#
# Needs /usr/bin/python3 with numpy (Debian's python3-numpy) and PyTorch (python3-torch, installed here with
# apt-get when missing and we are root). About 4 minutes a round on 2 cores. Nothing else may run meanwhile.
# Results: benchmarks/target/epochs.json (every run), epochs-report.md, epochs-run.log.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
if ! /usr/bin/python3 -c 'import numpy, torch' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy python3-torch >/dev/null
  else
    echo "run-epochs: /usr/bin/python3 needs numpy and torch (apt-get install python3-numpy python3-torch)" >&2
    exit 1
  fi
fi
mkdir -p "$out"
"$root/bin/jacobian" --version >/dev/null 2>&1 || "$root/bin/jacobian" --version   # builds the CLI's jar first when stale
# shellcheck disable=SC2086
/usr/bin/python3 "$here/peers/mlp_peers.py" --rounds "${ROUNDS:-1}" --json "$out/epochs.json" ${ARGS:-} \
    2> >(tee "$out/epochs-run.log" >&2) | tee "$out/epochs-report.md"
