#!/usr/bin/env bash
# Jacobian's OpenCL backend against cuBLAS and PyTorch eager, on the GPU machine, in one command.
#
# NOT RUN YET: the session that wrote this kit had no GPU machine, so no GPU numbers exist for it; the
# CPU-only machine's numbers (PoCL as the OpenCL device) come from benchmarks/run-backends.sh instead.
#
# What it does, from the project root on the device machine:
#   1. sources .device/env.sh (Java runtime + OpenCL ICD loader pointed at libnvidia-opencl.so.1),
#   2. runs ClVsCpuGemmBenchmark (256..4096 and the MLP shapes) and TrainingStepBenchmark (batch 32, 128,
#      512) from benchmarks/target/benchmarks.jar with -p backend=opencl,
#   3. runs benchmarks/gpu/torch_reference.py (cuBLAS SGEMM with TF32 off, the same MLP step in eager),
#   4. prints report.py's tables: Jacobian OpenCL GFLOP/s and steps/s, transfers per step,
#      OpenCL/cuBLAS and Jacobian/PyTorch.
# Everything (JMH JSON, torch JSON, logs, report.md) is written under $OUT.
#
# Here, before:   bash ../shared/device/prepare.sh           # writes .device/ (see /work/shared/device)
#                 mvn -q -pl benchmarks -am install -DskipTests   # builds benchmarks/target/benchmarks.jar
# Then the device tool's run with
#     carry:   [".device", "benchmarks/target/benchmarks.jar"]      (about 35 MiB of the 64 MiB allowed)
#     command: bash benchmarks/gpu/run-on-device.sh
# Each step has its own time limit (GEMM 240 s, training 120 s, PyTorch 150 s) so the whole stays under
# the device's 10 minutes per command; a step that fails or times out leaves the others' results.
# Settings: JMH_OPTS (default "-wi 2 -w 1 -i 3 -r 1 -f 1"), SIZES (default 256,512,1024,2048,4096).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
out="${OUT:-$root/benchmarks/target/device}"
mkdir -p "$out"
jar="benchmarks/target/benchmarks.jar"
jmh_opts="${JMH_OPTS:--wi 2 -w 1 -i 3 -r 1 -f 1}"
sizes="${SIZES:-256,512,1024,2048,4096}"
mlp="128x256x784:NN,128x128x256:NN,784x256x128:TN,256x128x128:TN,128x256x128:NT,128x784x256:NT"

# shellcheck disable=SC1091
source .device/env.sh > "$out/env.log" 2>&1
cat "$out/env.log"
{ nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; } \
    > "$out/nvidia-smi.txt" 2>&1 || true
[ -f "$jar" ] || { echo "run-on-device.sh: $jar missing; build it here and carry it" >&2; exit 1; }

step() {   # step NAME SECONDS COMMAND...: run with a time limit, log, and say how it ended
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s): $*"
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  grep -oE "BenchSupport - backend .*|^[A-Za-z]+Benchmark\.[a-zA-Z]+ .*" "$out/$name.log" | sed 's/^BenchSupport - //' | sort -u
  [ $rc -eq 0 ] || echo "!! $name ended with status $rc (124: time limit); see $name.log"
}

step opencl-gemm 240 java -jar "$jar" '\.ClVsCpuGemmBenchmark\.' -p backend=opencl -p shape="$sizes,$mlp" \
    $jmh_opts -rf json -rff "$out/opencl-gemm.json"
step opencl-train 120 java -jar "$jar" '\.TrainingStepBenchmark\.' -p backend=opencl -p batch=32,128,512 \
    $jmh_opts -rf json -rff "$out/opencl-train.json"
step torch 150 python3 "$here/torch_reference.py" --sizes "$sizes" --batches 32,128,512 --out "$out/torch.json"

jsons=()
for f in "$out/opencl-gemm.json" "$out/opencl-train.json" "$out/torch.json"; do
  [ -s "$f" ] && jsons+=("$f")
done
if [ ${#jsons[@]} -gt 0 ]; then
  python3 benchmarks/report.py "${jsons[@]}" --svg "$out/ratios.svg" | tee "$out/report.md"
else
  echo "run-on-device.sh: no results to report" >&2
  exit 1
fi
