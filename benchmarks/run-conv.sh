#!/usr/bin/env bash
# Conv2d forward + backward (to input and weights) for the CNN's layer shapes, Jacobian against PyTorch's CPU
# convolution in one run: ConvBenchmark (JMH) on BACKENDS (default cpu; "cpu,opencl" adds the OpenCL backend, which is
# PoCL on a machine without a GPU), then benchmarks/peers/torch_conv.py (the same calls in eager PyTorch), both at
# THREADS threads; prints calls/s, GFLOP/s and the ratio per layer, with the CPU model and its measured SGEMM peak.
# Needs /usr/bin/python3 with torch (Debian: python3-torch).
#
#   benchmarks/run-conv.sh                      # batch 64, conv1, conv2 and conv3, 2 threads, CPU backend
#   BACKENDS=cpu,opencl THREADS=1 BUILD=1 benchmarks/run-conv.sh
#
# Results: benchmarks/target/conv-jacobian.json (JMH), conv-torch.json, conv-report.md. Time with nothing else running.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
threads="${THREADS:-2}"
batch="${BATCH:-64}"
backends="${BACKENDS:-cpu}"
jmh_opts="${JMH_OPTS:--wi 3 -w 2 -i 5 -r 2 -f 1}"

build_jar -pl benchmarks -am
pick_coretype   # the PyTorch peer's OpenBLAS runs its fastest kernel; PEAK is its measured peak

"$java" -jar "$jar" "\\.ConvBenchmark\\." -p backend="$backends" -p batch="$batch" \
    -jvmArgsPrepend "-Djacobian.cpu.threads=$threads" $jmh_opts \
    -rf json -rff "$out/conv-jacobian.json" | grep -E "^ConvBenchmark|^Benchmark" || true
# PyTorch at its best: ATen with 1 or THREADS threads, passive OpenMP waits, OpenBLAS at THREADS threads
threads_list="1"
[[ "$threads" != "1" ]] && threads_list="1,$threads"
OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="$threads" \
  /usr/bin/python3 "$here/peers/torch_conv.py" --threads "$threads_list" --batch "$batch" > "$out/conv-torch.json"
peak="${PEAK:-$(measure_peak)}"
PEAK="$peak" python3 - "$out/conv-jacobian.json" "$out/conv-torch.json" "$threads" "$batch" <<'PY' | tee "$out/conv-report.md"
import json, os, platform, sys
jmh = json.load(open(sys.argv[1]))
torch = json.load(open(sys.argv[2]))
batch = int(sys.argv[4])
info = {}
for l in open("/proc/cpuinfo"):
    k, _, v = l.partition(":")
    info.setdefault(k.strip(), v.strip())
geometry = {"conv1": (1, 28, 28, 32), "conv2": (32, 14, 14, 64), "conv3": (64, 7, 7, 128)}
def gflop(layer):  # forward, backward to the input and to the weights: three GEMMs of the same size
    c, h, w, oc = geometry[layer]
    return 3 * 2 * batch * h * w * oc * c * 9 / 1e9
print(f"Conv2d 3x3 (stride 1, padding 1, no bias) forward + backward to input and weights, batch {batch}, "
      f"{sys.argv[3]} thread(s), {info.get('model name', platform.processor())} (family {info.get('cpu family', '?')} "
      f"model {info.get('model', '?')}), measured peak {os.environ['PEAK']} GFLOP/s (OpenBLAS SGEMM 1024^3, 1 thread); "
      f"PyTorch {torch['torch']} (oneDNN convolution: {torch['mkldnn']})")
print()
print("| layer | backend | Jacobian calls/s (JMH, ± 99.9% CI) | GFLOP/s | PyTorch calls/s (best ATen threads) | GFLOP/s | ratio |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for r in jmh:
    layer = r["params"]["layer"]
    score = r["primaryMetric"]["score"]
    err = r["primaryMetric"]["scoreError"]
    err = f" ± {err:.1f}" if isinstance(err, (int, float)) else ""
    peer = torch["calls_per_s"][layer]
    print(f"| {layer} | {r['params']['backend']} | {score:.1f}{err} | {score * gflop(layer):.1f} | {peer:.1f} "
          f"({torch['best_threads'][layer]}) | {peer * gflop(layer):.1f} | {score / peer:.2f}x |")
PY
