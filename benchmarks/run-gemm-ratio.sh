#!/usr/bin/env bash
# Jacobian's CPU SGEMM against OpenBLAS, alternating in one process (GemmRatio: the median of per-round ratios, robust
# where the machine's speed drifts), for 1 and 2 threads, with the CPU model and its measured SGEMM peak beside it.
#
#   benchmarks/run-gemm-ratio.sh                      # squares and the MLP's products, 1 and 2 threads
#   SHAPES="1024 128x256x784:NN" THREADS=1 ROUNDS=40 benchmarks/run-gemm-ratio.sh
#
# OpenBLAS runs its right kernel: OPENBLAS_CORETYPE as given, else SkylakeX on AVX-512 and Haswell on AVX2 (Debian's
# 0.3.21 picks slow generic kernels on newer Intel CPUs). OpenBLAS's idle threads spin for about 2^28 cycles (a tenth of
# a second) after each call, which would take a core from Jacobian's half of the next round: OPENBLAS_THREAD_TIMEOUT=4
# (its least) makes them sleep at once; Jacobian's workers spin 1 ms before they park (-Djacobian.cpu.spinMicros=1000; by
# default 200 ms, which would take a core from OpenBLAS's half), and GemmRatio pauses 5 ms before each half, so each half
# starts with the other's threads asleep. Needs libopenblas0 (and numpy for the peak). About a minute
# per thread count. Nothing else may run meanwhile. Results: benchmarks/target/gemm-ratio.md.
set -euo pipefail
# shellcheck source=benchmarks/lib.sh
. "$(dirname "$0")/lib.sh"
build_jar -pl benchmarks -am
shapes="${SHAPES:-512 1024 128x256x784:NN 128x128x256:NN 784x256x128:TN 256x128x128:TN 128x784x256:NT 128x256x128:NT}"
pick_coretype
report="$out/gemm-ratio.md"
{
  machine_header
  for t in ${THREADS:-1 2}; do
    # shellcheck disable=SC2086
    OPENBLAS_NUM_THREADS="$t" OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-4}" "$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
        -Ddev.ludovic.netlib.blas.nativeLib=libopenblas.so.0 -Xms2g -Xmx2g -Djacobian.cpu.spinMicros=1000 -Dthreads="$t" -Drounds="${ROUNDS:-25}" \
        -cp "$jar" dev.jacobian.bench.GemmRatio $shapes 2>&1 | grep -v -E "WARN|INFO"
  done
} | tee "$report"
