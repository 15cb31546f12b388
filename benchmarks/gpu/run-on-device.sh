#!/usr/bin/env bash
# Jacobian's one-shot GPU check: on a bare NVIDIA machine, from the project root, with .gpucheck/ carried (made on
# the CPU machine by benchmarks/gpu/pack.sh):
#
#     bash .gpucheck/run.sh                   (the device tool: carry [".gpucheck"], timeout_s 600)
#
# In order, most decisive first, each step with its own limit and the whole under BUDGET seconds (default 530,
# so that a 600 s command never dies mid-step):
#   setup  the Java runtime and the ICD loader unpacked, NVIDIA's OpenCL driver found and registered, clinfo  ~10 s
#   tests  the gpu-backend suite (conformance, gradient checks, the step budget, PyTorch parity) on the GPU  <=150 s
#   gemm   ClVsCpuGemmBenchmark on OpenCL: 4096^3 and the MLP's products (GFLOP/s)                         <=110 s
#   step   TrainingStepBenchmark (steps/s) and StepEnqueueBenchmark (host us to enqueue a step) on OpenCL,
#          batch 32, 128, 512                                                                             <=120 s
#   torch  benchmarks/gpu/torch_reference.py: cuBLAS SGEMM (TF32 off) at the same shapes and the same MLP step
#          in PyTorch eager                                                                              <=100 s
#   trace  StepTrace under the OpenCL call counter: launches, argument sets, transfers and each kernel's device
#          time in one step, batch 32, 128, 512                                                           <=40 s
#   report benchmarks/report.py: OpenCL/cuBLAS and Jacobian/PyTorch ratios, transfers per step
# Results under $OUT, seven files: summary.txt (this log), env.txt, tests.txt, jmh.txt, trace.txt, torch.txt,
# report.md.
# GPUCHECK_QUICK=1 shrinks every step (a dry run on PoCL before spending device time: the same script runs on any
# OpenCL device, and torch falls back to saying it has no CUDA).
set -uo pipefail
start=$(date +%s)
budget=${BUDGET:-530}
kit=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$kit/.." && pwd)
cd "$root"
out=${OUT:-$root/.gpucheck-out}
mkdir -p "$out"
exec > >(tee -a "$out/summary.txt") 2>&1
quick=${GPUCHECK_QUICK:-0}
left() { echo $((budget - ($(date +%s) - start))); }
step() {  # step NAME LIMIT FILE COMMAND...: at most min(LIMIT, budget left - 20) seconds, output appended to FILE
  local name=$1 limit=$2 file=$3; shift 3
  local l; l=$(left); l=$((l - 20)); [ "$l" -lt "$limit" ] && limit=$l
  if [ "$limit" -lt 10 ]; then echo "== $name: skipped, budget spent"; return 99; fi
  echo "== $name (limit ${limit}s, $(($(date +%s) - start))s elapsed)"
  local t0; t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" >> "$out/$file" 2>&1
  local rc=$?
  echo "== $name: rc=$rc in $(($(date +%s) - t0))s"
  return $rc
}

# ------------------------------------------------------------------------------------------------ setup
echo "== setup"
{
  uname -a
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv 2>&1
  head -2 /etc/os-release 2>/dev/null
} > "$out/env.txt" 2>&1
if [ ! -x /tmp/jre/bin/java ]; then
  tar xJf "$kit/jre.txz" -C /tmp 2>/dev/null || python3 -c "import tarfile,sys; tarfile.open(sys.argv[1]).extractall('/tmp')" "$kit/jre.txz"
fi
export JAVA_HOME=/tmp/jre PATH="/tmp/jre/bin:$PATH"
icd=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
  [ -e "$d/libnvidia-opencl.so.1" ] && { icd="$d/libnvidia-opencl.so.1"; break; }
done
[ -n "$icd" ] || icd=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl.so.1/{print $NF; exit}')
[ -n "$icd" ] || icd=$(find / -xdev -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n 1)
echo "libnvidia-opencl: ${icd:-not found, so the ICD vendors of the system are used}" | tee -a "$out/env.txt"
if [ -n "$icd" ]; then
  export OCL_ICD_VENDORS="$icd"          # ocl-icd (the carried loader) takes the driver library itself
  export OCL_ICD_FILENAMES="$icd"        # the Khronos loader (e.g. CUDA's libOpenCL.so.1) reads this one
  export LD_LIBRARY_PATH="$kit/ocl:$(dirname "$icd")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  export LD_LIBRARY_PATH="$kit/ocl${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
java -version 2>&1 | head -1
# a Python that has PyTorch (the first python3 on PATH may be a bare one)
py=python3
for p in python3 /usr/bin/python3 /opt/conda/bin/python3 /usr/local/bin/python3; do
  command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null && { py=$p; break; }
done
echo "python with torch: $py" | tee -a "$out/env.txt"
"$kit/ocl/clinfo" -l 2>&1 | tee -a "$out/env.txt"
"$kit/ocl/clinfo" >> "$out/env.txt" 2>&1
ocl_ok=0
"$kit/ocl/clinfo" -l 2>/dev/null | grep -q 'Device' && ocl_ok=1
[ "$ocl_ok" = 1 ] || echo "!! no OpenCL device: the Java steps are skipped; env.txt says what the machine has"
jar="$kit/lib/benchmarks.jar"
jmh=(-wi 2 -w 1 -i 3 -r 1 -f 1)
shapes=4096,128x256x784:NN,128x128x256:NN,784x256x128:TN,256x128x128:TN,128x256x128:NT,128x784x256:NT
sizes=4096
batches=32,128,512
trace_steps=300
select=(--select-package dev.jacobian.opencl)
if [ "$quick" = 1 ]; then
  jmh=(-wi 1 -w 1 -i 1 -r 1 -f 1); shapes=128x256x784:NN,784x256x128:TN; sizes=256; batches=128
  trace_steps=20
  select=(--select-class dev.jacobian.opencl.ClStepBudgetTest --select-class dev.jacobian.opencl.ClGemmPlanTest)
fi

if [ "$ocl_ok" = 1 ]; then
# ------------------------------------------------------------------------------------------------ tests
  export CI=1   # a skipped OpenCL test is a failure here
  step tests 150 tests.txt java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g \
      -jar "$kit/lib/junit-console.jar" execute \
      --class-path "$kit/lib/gpu-backend-tests.jar:$kit/lib/core-tests.jar:$jar" \
      "${select[@]}" --details=testfeed --disable-ansi-colors --disable-banner
  unset CI
  grep -E 'tests (successful|failed|skipped|aborted)|containers failed|=> ' "$out/tests.txt" | head -30
  # the GEMM tuner's verdict for this GPU (ClGemmTuner: each rung's variants in GFLOP/s and the winner), cached in
  # ~/.cache/jacobian/opencl for the JMH runs below
  grep -h -o 'tuned the GEMM tiles.*' "$out/tests.txt" | head -2 || true

# ------------------------------------------------------------------------------------------------ gemm, step
  step gemm 110 jmh.txt java -jar "$jar" '\.ClVsCpuGemmBenchmark\.' -p backend=opencl -p shape="$shapes" \
      "${jmh[@]}" -rf json -rff "$out/jmh-gemm.json"
  step step 120 jmh.txt java -jar "$jar" '\.(TrainingStepBenchmark\.step|StepEnqueueBenchmark\.enqueue)$' \
      -p backend=opencl -p batch="$batches" "${jmh[@]}" -rf json -rff "$out/jmh-step.json"
  grep -E '^(ClVsCpuGemmBenchmark|TrainingStepBenchmark|StepEnqueueBenchmark)\.' "$out/jmh.txt" | head -30
fi

# ------------------------------------------------------------------------------------------------ torch
step torch 100 torch.txt "$py" benchmarks/gpu/torch_reference.py --sizes "$sizes" --batches "$batches" \
    --min-seconds 0.3 --out "$out/torch.json"
tail -5 "$out/torch.txt"

# ------------------------------------------------------------------------------------------------ trace
# one step per kernel on the device's clock: StepTrace's marked steps under the call counter (CLTRACE_PROFILE
# makes the queue profiled, so the step times here are a little longer than the JMH ones)
if [ "$ocl_ok" = 1 ] && [ -f "$kit/trace/libOpenCL.so" ]; then
  tl=/tmp/step.tl
  rm -f "$tl"
  saved=$LD_LIBRARY_PATH
  export CLTRACE_OUT=$tl CLTRACE_PROFILE=1 LD_LIBRARY_PATH="$kit/trace:$LD_LIBRARY_PATH"
  step trace 40 trace.txt java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -cp "$jar" dev.jacobian.bench.StepTrace opencl "$trace_steps" "$batches"
  unset CLTRACE_OUT CLTRACE_PROFILE
  export LD_LIBRARY_PATH=$saved
  [ -s "$tl" ] && "$py" "$kit/trace/cltrace_report.py" "$tl" --list >> "$out/trace.txt" 2>&1
  grep -E '^steptrace' "$out/trace.txt"
fi

# ------------------------------------------------------------------------------------------------ report
jsons=()
for f in "$out/jmh-gemm.json" "$out/jmh-step.json" "$out/torch.json"; do [ -s "$f" ] && jsons+=("$f"); done
if [ ${#jsons[@]} -gt 0 ]; then
  "$py" benchmarks/report.py "${jsons[@]}" > "$out/report.md" 2>&1
  cat "$out/report.md"
fi
# seven files come back: fold the JSON into the text files
for f in "$out"/*.json; do
  [ -f "$f" ] || continue
  case $(basename "$f") in jmh*) dst=jmh.txt ;; *) dst=torch.txt ;; esac
  { echo "--- $(basename "$f")"; cat "$f"; } >> "$out/$dst" && rm -f "$f"
done
echo "== done in $(($(date +%s) - start))s; files: $(ls "$out" | tr '\n' ' ')"
