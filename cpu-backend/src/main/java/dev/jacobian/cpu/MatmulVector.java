package dev.jacobian.cpu;

import static dev.jacobian.cpu.CpuMatmul.MR;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SGEMM micro-kernel on the Vector API: a {@code 6 x 2L} tile of C ({@code L} = lanes of
 * {@link Simd#F}) held in 12 vector registers; per step of k, two vector loads of the packed B row, six
 * broadcasts of the packed A column and twelve FMAs. Loaded only when the Vector API is available.
 *
 * <p>C2 (JDK 25) compiles the k loop to what it says: memory-operand broadcasts ({@code vbroadcastss zmm, [mem]},
 * a load, not a shuffle on an FMA port), two loads and twelve FMAs per trip, plus about nine scalar instructions of
 * index arithmetic and loop control. Unrolling the loop by two by hand made the whole product about four times slower
 * (0.26x the rolled loop's speed at 1024^3, 0.23x at 128x256x784, one thread, runs alternating; Intel Xeon family 6
 * model 207, AVX-512, measured SGEMM peak 178-181 GFLOP/s), so it stays rolled.
 */
final class MatmulVector implements CpuMatmul.MicroKernel {
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;
    private static final int NR = 2 * L;

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void run(int kc, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int ldc,
                    float alpha, int rows, int cols, float[] tmp) {
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
        for (int p = 0; p < kc; p++) {
            int ap = aOff + p * MR;
            int bp = bOff + p * NR;
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
        }
        if (rows == MR && cols == NR) {
            FloatVector av = FloatVector.broadcast(S, alpha);
            update(c00, c01, av, c, cOff);
            update(c10, c11, av, c, cOff + ldc);
            update(c20, c21, av, c, cOff + 2 * ldc);
            update(c30, c31, av, c, cOff + 3 * ldc);
            update(c40, c41, av, c, cOff + 4 * ldc);
            update(c50, c51, av, c, cOff + 5 * ldc);
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
        CpuMatmul.addTile(tmp, NR, c, cOff, ldc, alpha, rows, cols);
    }

    @Override
    public void packPanel(float[] b, int src, int ldb, int kc, float[] bp, int dst) {
        for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
            FloatVector.fromArray(S, b, src).intoArray(bp, dst);
            FloatVector.fromArray(S, b, src + L).intoArray(bp, dst + L);
        }
    }

    /**
     * {@code C[row, 0:2L] += alpha * (x0, x1)}. One straight-line path on purpose: a branch on beta here
     * made C2 keep the accumulators in memory and cost 10x (beta is applied by {@link CpuMatmul}).
     */
    private static void update(FloatVector x0, FloatVector x1, FloatVector alpha, float[] c, int off) {
        x0.fma(alpha, FloatVector.fromArray(S, c, off)).intoArray(c, off);
        x1.fma(alpha, FloatVector.fromArray(S, c, off + L)).intoArray(c, off + L);
    }
}
