#!/usr/bin/env bash
# Training-step throughput per optimizer, Jacobian's CPU backend against PyTorch on the CPU, in one run:
# TrainingStepBenchmark (JMH, backend cpu) with each optimizer, then benchmarks/peers/torch_cpu_step.py (the
# same model, data, clipping and optimizers in eager PyTorch), both at THREADS threads, and prints the
# steps/s of each and their ratio. Needs /usr/bin/python3 with torch (Debian: python3-torch).
#
#   benchmarks/run-optimizers.sh                       # batch 128, sgd and adam, 2 threads
#   OPTIMIZERS=sgd,adam,adamw,rmsprop BATCH=64 THREADS=1 BUILD=1 benchmarks/run-optimizers.sh
#   NORM=batch DROPOUT=0.2 OPTIMIZERS=adamw benchmarks/run-optimizers.sh   # batch norm and dropout in both
#   NET=cnn BATCH=64 OPTIMIZERS=sgd benchmarks/run-optimizers.sh            # the CLI's CNN (--model cnn) instead
#
# Results: benchmarks/target/optimizers-jacobian.json (JMH), optimizers-torch.json, optimizers-report.md (with the CPU
# model and its measured SGEMM peak).
# Time with nothing else running on the machine.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
threads="${THREADS:-2}"
batch="${BATCH:-128}"
optimizers="${OPTIMIZERS:-sgd,adam}"
norm="${NORM:-none}"        # none, batch or layer
dropout="${DROPOUT:-0}"
net="${NET:-mlp}"           # mlp or cnn
jmh_opts="${JMH_OPTS:--wi 3 -w 2 -i 5 -r 2 -f 1}"

build_jar -pl benchmarks -am
pick_coretype   # the PyTorch peer's OpenBLAS runs its fastest kernel; PEAK is its measured peak

"$java" -Djacobian.cpu.threads="$threads" -jar "$jar" "\\.TrainingStepBenchmark\\." -p backend=cpu -p batch="$batch" \
    -p optimizer="$optimizers" -p norm="$norm" -p dropout="$dropout" -p net="$net" -jvmArgsPrepend "-Djacobian.cpu.threads=$threads" $jmh_opts \
    -rf json -rff "$out/optimizers-jacobian.json" | grep -E "^TrainingStepBenchmark|^Benchmark" || true
# PyTorch at its best: OpenBLAS with THREADS threads, ATen with 1 or THREADS, passive OpenMP waits (see the script)
threads_list="1"
[[ "$threads" != "1" ]] && threads_list="1,$threads"
OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="$threads" \
  /usr/bin/python3 "$here/peers/torch_cpu_step.py" --threads "$threads_list" --batch "$batch" --optimizers "$optimizers" \
    --norm "$norm" --dropout "$dropout" --net "$net" > "$out/optimizers-torch.json"
# the machine's measured peak, printed beside the ratios: OpenBLAS SGEMM 1024^3, 1 thread, through numpy
peak="${PEAK:-$(measure_peak)}"
PEAK="$peak" python3 - "$out/optimizers-jacobian.json" "$out/optimizers-torch.json" "$threads" "$batch" <<'PY' | tee "$out/optimizers-report.md"
import json, platform, sys
jmh = json.load(open(sys.argv[1]))
torch = json.load(open(sys.argv[2]))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
import os
family = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("cpu family")), "?")
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model\t")), "?")
net = "CNN conv32-conv64-conv128-128-10" if torch.get("net") == "cnn" else "784-256-128-10"
print(f"Training step {net} (norm {torch['norm']}, dropout {torch['dropout']}), batch {sys.argv[4]}, "
      f"{sys.argv[3]} thread(s), {cpu} (family {family} model {model}), measured peak {os.environ['PEAK']} GFLOP/s "
      f"(OpenBLAS SGEMM 1024^3, 1 thread); PyTorch {torch['torch']}")
print()
print("| optimizer | Jacobian CPU steps/s (JMH, ± 99.9% CI) | PyTorch steps/s (median of rounds, best ATen threads) | ratio |")
print("| --- | --- | --- | --- |")
for r in jmh:
    if not r["benchmark"].endswith(".step"):
        continue
    name = r["params"]["optimizer"]
    score = r["primaryMetric"]["score"]
    err = r["primaryMetric"]["scoreError"]
    err = f" ± {err:.0f}" if isinstance(err, (int, float)) else ""  # JMH writes "NaN" for a single iteration
    peer = torch["steps_per_s"].get(name)
    ratio = f"{score / peer:.2f}x" if peer else "-"
    best = torch["best_threads"].get(name)
    print(f"| {name} | {score:.0f}{err} | {peer:.0f} ({best} ATen thread(s)) | {ratio} |" if peer
          else f"| {name} | {score:.0f} | - | - |")
PY
