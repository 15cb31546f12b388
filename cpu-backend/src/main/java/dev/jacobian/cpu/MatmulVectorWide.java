package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The wide SGEMM micro-kernel on the Vector API, for 16-float vectors (AVX-512): a {@code 12 x 2L} tile of C
 * held in 24 of the 32 vector registers; per step of k, two vector loads of the packed B row, twelve broadcasts of
 * the packed A column and 24 FMAs, so the loop's dozen scalar instructions (indices, bounds, the branch) come once
 * per 24 FMAs instead of once per 12 as in {@link MatmulVector}. On 16 registers (AVX2) the tile would spill, so
 * {@link MatmulVector#widest} picks it only for 16 lanes. Loaded only when the Vector API is available.
 *
 * <p>Measured against {@link MatmulVector} in the same SGEMM driver, runs alternating, one thread, ratio of each to
 * OpenBLAS 0.3.21 (SkylakeX kernels) in the same process (Intel Xeon family 6 model 207, AVX-512, 2 vCPUs, OpenBLAS at
 * 1024^3 160-180 GFLOP/s there): 1024^3 from 0.76x to 0.84x OpenBLAS, 128x256x784 from 0.86x to 0.92x, the weight
 * gradient 784x256x128 (A transposed) from 0.72x to 0.95x.
 *
 * <p>The update of C is written out row by row on purpose: in a method this large C2 stops inlining
 * ({@code NodeCountInliningCutoff}), and a helper that is not inlined receives its vectors boxed.
 */
final class MatmulVectorWide implements CpuMatmul.MicroKernel {
    /** Rows of the tile. */
    static final int MR = 12;
    /** Lanes a vector must hold for this kernel to be chosen. */
    static final int MIN_LANES = 16;
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;
    private static final int NR = 2 * L;
    /** Sixteen lanes, for copying the twelve floats of a transposed A panel's row. */
    private static final VectorSpecies<Float> S16 = FloatVector.SPECIES_512;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void run(int kc, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int ldc,
                    float alpha, boolean overwrite, int rows, int cols, float[] tmp) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        FloatVector c80 = c00;
        FloatVector c81 = c00;
        FloatVector c90 = c00;
        FloatVector c91 = c00;
        FloatVector ca0 = c00;
        FloatVector ca1 = c00;
        FloatVector cb0 = c00;
        FloatVector cb1 = c00;
        for (int ap = aOff, bp = bOff, end = aOff + kc * MR; ap < end; ap += MR, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector a0 = FloatVector.broadcast(S, a[ap]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ap + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ap + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ap + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ap + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ap + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[ap + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[ap + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(S, a[ap + 8]);
            c80 = a8.fma(b0, c80);
            c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(S, a[ap + 9]);
            c90 = a9.fma(b0, c90);
            c91 = a9.fma(b1, c91);
            FloatVector aa = FloatVector.broadcast(S, a[ap + 10]);
            ca0 = aa.fma(b0, ca0);
            ca1 = aa.fma(b1, ca1);
            FloatVector ab = FloatVector.broadcast(S, a[ap + 11]);
            cb0 = ab.fma(b0, cb0);
            cb1 = ab.fma(b1, cb1);
        }
        if (rows == MR && cols == NR) {
            // written out, not a helper per row: C2 stops inlining in a method this large, and a helper that
            // is not inlined takes its vectors boxed (ten times slower)
            FloatVector av = FloatVector.broadcast(S, alpha);
            if (overwrite) {
                c00.mul(av).intoArray(c, cOff);
                c01.mul(av).intoArray(c, cOff + L);
                c10.mul(av).intoArray(c, cOff + ldc);
                c11.mul(av).intoArray(c, cOff + ldc + L);
                c20.mul(av).intoArray(c, cOff + 2 * ldc);
                c21.mul(av).intoArray(c, cOff + 2 * ldc + L);
                c30.mul(av).intoArray(c, cOff + 3 * ldc);
                c31.mul(av).intoArray(c, cOff + 3 * ldc + L);
                c40.mul(av).intoArray(c, cOff + 4 * ldc);
                c41.mul(av).intoArray(c, cOff + 4 * ldc + L);
                c50.mul(av).intoArray(c, cOff + 5 * ldc);
                c51.mul(av).intoArray(c, cOff + 5 * ldc + L);
                c60.mul(av).intoArray(c, cOff + 6 * ldc);
                c61.mul(av).intoArray(c, cOff + 6 * ldc + L);
                c70.mul(av).intoArray(c, cOff + 7 * ldc);
                c71.mul(av).intoArray(c, cOff + 7 * ldc + L);
                c80.mul(av).intoArray(c, cOff + 8 * ldc);
                c81.mul(av).intoArray(c, cOff + 8 * ldc + L);
                c90.mul(av).intoArray(c, cOff + 9 * ldc);
                c91.mul(av).intoArray(c, cOff + 9 * ldc + L);
                ca0.mul(av).intoArray(c, cOff + 10 * ldc);
                ca1.mul(av).intoArray(c, cOff + 10 * ldc + L);
                cb0.mul(av).intoArray(c, cOff + 11 * ldc);
                cb1.mul(av).intoArray(c, cOff + 11 * ldc + L);
                return;
            }
            c00.fma(av, FloatVector.fromArray(S, c, cOff)).intoArray(c, cOff);
            c01.fma(av, FloatVector.fromArray(S, c, cOff + L)).intoArray(c, cOff + L);
            c10.fma(av, FloatVector.fromArray(S, c, cOff + ldc)).intoArray(c, cOff + ldc);
            c11.fma(av, FloatVector.fromArray(S, c, cOff + ldc + L)).intoArray(c, cOff + ldc + L);
            c20.fma(av, FloatVector.fromArray(S, c, cOff + 2 * ldc)).intoArray(c, cOff + 2 * ldc);
            c21.fma(av, FloatVector.fromArray(S, c, cOff + 2 * ldc + L)).intoArray(c, cOff + 2 * ldc + L);
            c30.fma(av, FloatVector.fromArray(S, c, cOff + 3 * ldc)).intoArray(c, cOff + 3 * ldc);
            c31.fma(av, FloatVector.fromArray(S, c, cOff + 3 * ldc + L)).intoArray(c, cOff + 3 * ldc + L);
            c40.fma(av, FloatVector.fromArray(S, c, cOff + 4 * ldc)).intoArray(c, cOff + 4 * ldc);
            c41.fma(av, FloatVector.fromArray(S, c, cOff + 4 * ldc + L)).intoArray(c, cOff + 4 * ldc + L);
            c50.fma(av, FloatVector.fromArray(S, c, cOff + 5 * ldc)).intoArray(c, cOff + 5 * ldc);
            c51.fma(av, FloatVector.fromArray(S, c, cOff + 5 * ldc + L)).intoArray(c, cOff + 5 * ldc + L);
            c60.fma(av, FloatVector.fromArray(S, c, cOff + 6 * ldc)).intoArray(c, cOff + 6 * ldc);
            c61.fma(av, FloatVector.fromArray(S, c, cOff + 6 * ldc + L)).intoArray(c, cOff + 6 * ldc + L);
            c70.fma(av, FloatVector.fromArray(S, c, cOff + 7 * ldc)).intoArray(c, cOff + 7 * ldc);
            c71.fma(av, FloatVector.fromArray(S, c, cOff + 7 * ldc + L)).intoArray(c, cOff + 7 * ldc + L);
            c80.fma(av, FloatVector.fromArray(S, c, cOff + 8 * ldc)).intoArray(c, cOff + 8 * ldc);
            c81.fma(av, FloatVector.fromArray(S, c, cOff + 8 * ldc + L)).intoArray(c, cOff + 8 * ldc + L);
            c90.fma(av, FloatVector.fromArray(S, c, cOff + 9 * ldc)).intoArray(c, cOff + 9 * ldc);
            c91.fma(av, FloatVector.fromArray(S, c, cOff + 9 * ldc + L)).intoArray(c, cOff + 9 * ldc + L);
            ca0.fma(av, FloatVector.fromArray(S, c, cOff + 10 * ldc)).intoArray(c, cOff + 10 * ldc);
            ca1.fma(av, FloatVector.fromArray(S, c, cOff + 10 * ldc + L)).intoArray(c, cOff + 10 * ldc + L);
            cb0.fma(av, FloatVector.fromArray(S, c, cOff + 11 * ldc)).intoArray(c, cOff + 11 * ldc);
            cb1.fma(av, FloatVector.fromArray(S, c, cOff + 11 * ldc + L)).intoArray(c, cOff + 11 * ldc + L);
            return;
        }
        c00.intoArray(tmp, 0);
        c01.intoArray(tmp, L);
        c10.intoArray(tmp, NR);
        c11.intoArray(tmp, NR + L);
        c20.intoArray(tmp, 2 * NR);
        c21.intoArray(tmp, 2 * NR + L);
        c30.intoArray(tmp, 3 * NR);
        c31.intoArray(tmp, 3 * NR + L);
        c40.intoArray(tmp, 4 * NR);
        c41.intoArray(tmp, 4 * NR + L);
        c50.intoArray(tmp, 5 * NR);
        c51.intoArray(tmp, 5 * NR + L);
        c60.intoArray(tmp, 6 * NR);
        c61.intoArray(tmp, 6 * NR + L);
        c70.intoArray(tmp, 7 * NR);
        c71.intoArray(tmp, 7 * NR + L);
        c80.intoArray(tmp, 8 * NR);
        c81.intoArray(tmp, 8 * NR + L);
        c90.intoArray(tmp, 9 * NR);
        c91.intoArray(tmp, 9 * NR + L);
        ca0.intoArray(tmp, 10 * NR);
        ca1.intoArray(tmp, 10 * NR + L);
        cb0.intoArray(tmp, 11 * NR);
        cb1.intoArray(tmp, 11 * NR + L);
        CpuMatmul.addTile(tmp, NR, c, cOff, ldc, alpha, overwrite, rows, cols);
    }

    @Override
    public void packPanel(float[] b, int src, int ldb, int kc, float[] bp, int dst) {
        for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
            FloatVector.fromArray(S, b, src).intoArray(bp, dst);
            FloatVector.fromArray(S, b, src + L).intoArray(bp, dst + L);
        }
    }

    /**
     * One vector load and one store of 16 lanes per {@code p} (the scalar copy makes twelve of each): each store
     * also writes four floats past the {@code p}-th group of {@link #MR}, which the next {@code p} overwrites; the
     * last {@code p}, and a panel whose last load would read past A, are copied one by one.
     */
    @Override
    public void packTransposedPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
        int vectored = src + (kc - 2) * lda + 16 <= a.length ? kc - 1 : 0;
        for (int p = 0, s = src, d = dst; p < vectored; p++, s += lda, d += MR) {
            FloatVector.fromArray(S16, a, s).intoArray(ap, d);
        }
        CpuMatmul.packTransposedScalar(MR, a, src, lda, vectored, kc, ap, dst);
    }
}
