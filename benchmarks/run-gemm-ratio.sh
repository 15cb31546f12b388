#!/usr/bin/env bash
# Jacobian's CPU SGEMM against OpenBLAS, alternating in one process (GemmRatio: the median of per-round ratios, robust
# where the machine's speed drifts), for 1 and 2 threads, with the CPU model and its measured SGEMM peak beside it.
#
#   benchmarks/run-gemm-ratio.sh                      # squares and the MLP's products, 1 and 2 threads (~4 min)
#   SHAPES="1024 128x256x784:NN" THREADS=1 ROUNDS=40 benchmarks/run-gemm-ratio.sh
#   FORKS=5 SHAPES="1024 128x256x784:NN" benchmarks/run-gemm-ratio.sh   # five JVMs each, and the spread across them
#
# OpenBLAS runs its fastest kernel: the faster of a preset OPENBLAS_CORETYPE and the one the CPU's flags name (SkylakeX
# on AVX-512, Haswell on AVX2; Debian's 0.3.21 picks slow generic kernels on newer Intel CPUs), or CORETYPE=NAME.
# OpenBLAS's idle threads spin for about 2^28 cycles (a tenth of a second) after each call, which would take a core
# from Jacobian's half of the next round: OPENBLAS_THREAD_TIMEOUT=4 (its least) makes them sleep at once; Jacobian's
# workers spin 1 ms before they park (-Djacobian.cpu.spinMicros=1000; by default 200 ms, which would take a core from
# OpenBLAS's half), and GemmRatio pauses 5 ms before each half, so each half starts with the other's threads asleep.
# Needs libopenblas0 (and numpy for the peak). About two minutes per thread count. Nothing else may run meanwhile.
# Results: benchmarks/target/gemm-ratio.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
build_jar -pl benchmarks -am
# squares, then the products of the 784-256-128-10 MLP's step at batch 128 (the first layer's forward, the second's, the
# weight gradients, the input gradients), then the output layer's at batch 128 and 64 (forward, weight gradient, input
# gradient)
shapes="${SHAPES:-512 1024 128x256x784:NN 128x128x256:NN 784x256x128:TN 256x128x128:TN 128x784x256:NT 128x256x128:NT \
128x10x128:NN 128x10x128:TN 128x128x10:NT 64x10x128:NN 128x10x64:TN 64x128x10:NT}"
pick_coretype
report="$out/gemm-ratio.md"
{
  machine_header
  for t in ${THREADS:-1 2}; do
    for ((f = 1; f <= ${FORKS:-1}; f++)); do
      # shellcheck disable=SC2086
      OPENBLAS_NUM_THREADS="$t" OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-4}" "$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
          -Ddev.ludovic.netlib.blas.nativeLib=libopenblas.so.0 -Xms2g -Xmx2g -Djacobian.cpu.spinMicros=1000 -Dthreads="$t" -Drounds="${ROUNDS:-25}" \
          -cp "$jar" dev.jacobian.bench.GemmRatio $shapes 2>&1 | grep -v -E "WARN|INFO"
    done
  done
} | tee "$report"
# with several forks: per shape and thread count, the spread of the forks' median ratios and of Jacobian's median
# against the measured peak (a JVM that ran the product much faster or slower than the others would show in the
# second, not the first, when the machine's own speed drifted)
if [[ "${FORKS:-1}" -gt 1 ]]; then
  awk -v forks="$FORKS" '/^SGEMM peak:/ { peak = $3 }
    /Jacobian\/OpenBLAS/ {
      key = $1 " threads " substr($3, 1, length($3) - 1); r = $5; sub(/x$/, "", r)
      for (i = 1; i <= NF; i++) if ($i == "Jacobian" && $(i + 1) ~ /^[0-9.]+$/) g = $(i + 1)
      ratios[key] = ratios[key] " " r; gf[key] = gf[key] " " (peak > 0 ? sprintf("%.2f", g / peak) : g); order[key] = ++n
    }
    function range(list,   a, k, lo, hi) {
      k = split(list, a, " "); lo = a[1]; hi = a[1]
      for (i = 2; i <= k; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
      return lo "-" hi
    }
    END {
      print "spread over " forks " forks (each fork: the median of its rounds):"
      for (key in order) printf "  %-32s Jacobian/OpenBLAS %s; Jacobian against the measured peak %s\n", key, range(ratios[key]), range(gf[key])
    }' "$report" | tee -a "$report"
fi
