package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The kernels the workers share beside SGEMM, on tensors large enough to be split: a whole-tensor sum (the
 * gradient norm) in fixed chunks, and the SGD and adaptive updates in aligned ranges. Each gives the same bits
 * on 1, 2 and 3 threads, and the sums match a double-accumulated reference.
 */
class CpuSharedKernelsTest {
    /** Relative tolerance of a float sum of many positive terms against the double sum. */
    private static final double SUM_RTOL = 1e-5;
    /** Elements: over CHUNKED_MIN and PARALLEL_MIN, and no multiple of a chunk or of the alignment. */
    private static final int N = 235_146;
    /** A decayed prefix that is not aligned either (the weights of an arena before its biases). */
    private static final int DECAYED = 200_703;

    @Test
    void aWholeTensorSumIsTheSameOnEveryThreadCountAndMatchesTheDoubleSum() {
        float[] x = CpuMatmulTest.random(5, N);
        double sum = 0;
        double abs = 0;
        double squares = 0;
        for (float v : x) {
            sum += v;
            abs += Math.abs(v);
            squares += (double) v * v;
        }
        for (Reduction op : new Reduction[] {Reduction.SUM, Reduction.MEAN, Reduction.SUM_SQUARES}) {
            List<Float> results = new ArrayList<>();
            for (int threads = 1; threads <= 3; threads++) {
                try (CpuBackend be = new CpuBackend(threads); Tensor t = be.fromHost(Shape.matrix(1, N), x);
                     Tensor y = be.fromHost(Shape.matrix(1, 1), new float[1])) {
                    be.reduce(op, Axis.ALL, t, y, false);
                    results.add(y.download()[0]);
                }
            }
            assertEquals(results.get(0), results.get(1), op + ": 2 threads");
            assertEquals(results.get(0), results.get(2), op + ": 3 threads");
            double expected = op == Reduction.SUM_SQUARES ? squares : op == Reduction.MEAN ? sum / N : sum;
            // relative to the sum of magnitudes: the terms of SUM cancel, their rounding errors do not
            double tol = SUM_RTOL * (op == Reduction.SUM_SQUARES ? squares : op == Reduction.MEAN ? abs / N : abs);
            assertEquals(expected, results.get(0), tol, op.toString());
        }
    }

    /**
     * A dense layer's backward whose input and weight gradients two threads compute side by side
     * ({@link CpuMatmul#sharesAlone}: 256 inputs, 128 outputs, at batch 128 and 64; ten inputs, whose input gradient
     * takes the pair path, with 1024 outputs at batch 128, and with 64 at batch 2048, where it would otherwise split
     * into row halves), written and accumulated: the same bits as on one thread, which computes them one after the
     * other, for each gradient; also with the worker asleep, when the caller computes the pieces of the input gradient
     * that were the worker's.
     */
    @Test
    void aDenseBackwardsGradientsAreTheSameOnEveryThreadCount() throws InterruptedException {
        for (int[] shape : new int[][] {{256, 128, 128}, {256, 128, 64}, {10, 1024, 128}, {10, 64, 2048}}) {
            int in = shape[0];
            int out = shape[1];
            int n = shape[2];
            float[] x = CpuMatmulTest.random(61, n * in);
            float[] w = CpuMatmulTest.random(62, in * out);
            float[] y = CpuMatmulTest.random(63, n * out);
            float[] dy = CpuMatmulTest.random(64, n * out);
            float[][] start = {CpuMatmulTest.random(65, n * in), CpuMatmulTest.random(66, in * out),
                CpuMatmulTest.random(67, out)};
            for (boolean acc : new boolean[] {false, true}) {
                List<float[][]> results = new ArrayList<>();
                for (int threads = 1; threads <= 3; threads++) {
                    results.add(denseBackward(threads, false, n, in, out, x, w, y, dy, start, acc));
                }
                // the 2-thread backend again with its worker asleep: the caller takes the worker's pieces too
                results.add(denseBackward(2, true, n, in, out, x, w, y, dy, start, acc));
                String[] names = {"input gradient", "weight gradient", "bias gradient"};
                for (int r = 1; r < results.size(); r++) {
                    String run = r < 3 ? (r + 1) + " threads" : "2 threads, the worker asleep";
                    for (int g = 0; g < names.length; g++) {
                        assertArrayEquals(results.get(0)[g], results.get(r)[g], names[g] + ", " + in + " inputs, "
                                + out + " outputs, batch " + n + ", accumulate " + acc + ", " + run);
                    }
                }
            }
        }
    }

    /**
     * A ReLU dense layer's gradients {@code dx, dw, db} (starting from {@code start}, accumulated when {@code acc}) on a
     * backend of {@code threads}, its workers asleep when {@code asleep}.
     */
    private static float[][] denseBackward(int threads, boolean asleep, int n, int in, int out, float[] x, float[] w,
                                           float[] y, float[] dy, float[][] start, boolean acc)
            throws InterruptedException {
        try (CpuBackend be = new CpuBackend(threads)) {
            Tensor tx = be.fromHost(Shape.matrix(n, in), x);
            Tensor tw = be.fromHost(Shape.matrix(in, out), w);
            Tensor ty = be.fromHost(Shape.matrix(n, out), y);
            Tensor tdy = be.fromHost(Shape.matrix(n, out), dy);
            Tensor dx = be.fromHost(Shape.matrix(n, in), start[0]);
            Tensor dw = be.fromHost(Shape.matrix(in, out), start[1]);
            Tensor db = be.fromHost(Shape.matrix(1, out), start[2]);
            be.activation(Activation.RELU, 0f, ty, ty);
            if (asleep) {
                ParallelTest.sleepThroughCalls(be.parallel());
            }
            be.denseBackward(Activation.RELU, 0f, tx, tw, ty, tdy, dx, acc, dw, acc, db, acc);
            be.parallel().wakeWorkers(true);
            return new float[][] {dx.download(), dw.download(), db.download()};
        }
    }

    @Test
    void sgdUpdatesAreTheSameOnEveryThreadCount() {
        for (SgdUpdate u : new SgdUpdate[] {
            new SgdUpdate(0.05f, 0.9f, false, 1e-3f, 0f, 0f, DECAYED),
            new SgdUpdate(0.05f, 0.9f, true, 1e-3f, 0f, 0.01f, DECAYED),
            new SgdUpdate(0.05f, 0f, false, 0f, 0f, 0f),
        }) {
            assertSameOnEveryThreadCount(u.toString(), threads -> sgd(threads, u)); // weights, velocity
        }
    }

    @Test
    void adaptiveUpdatesAreTheSameOnEveryThreadCount() {
        for (AdaptiveUpdate u : new AdaptiveUpdate[] {
            new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 1e-3, 0.9, 0.999, 1e-8, 1e-2, 0f, 0f, DECAYED, 3),
            new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAMW, 1e-3, 0.9, 0.999, 1e-8, 1e-2, 0f, 0f, DECAYED, 3),
            new AdaptiveUpdate(AdaptiveUpdate.Rule.RMSPROP, 1e-3, 0.5, 0.99, 1e-8, 0, 0f, 0f, DECAYED, 3),
        }) {
            assertSameOnEveryThreadCount(u.rule().toString(), threads -> adaptive(threads, u)); // weights, m, v
        }
    }

    /**
     * With halves of the arena recorded by products ({@link Homes}: a first layer's weights and a second's, as
     * {@link CpuMatmul}'s depth halves record them), the updates and the squared norm run each half on its home
     * thread and the rest in pieces, and still give the same bits as one thread; with the workers asleep, the caller
     * does it all.
     */
    @Test
    void updatesAndNormsSplitByRecordedHalvesAreTheSameAsOneThread() throws InterruptedException {
        SgdUpdate sgd = new SgdUpdate(0.05f, 0.9f, true, 1e-3f, 0f, 0.01f, DECAYED);
        AdaptiveUpdate adam = new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 1e-3, 0.9, 0.999, 1e-8, 1e-2, 0f, 0f,
                DECAYED, 3);
        float[][] expected;
        try (Parallel one = new Parallel(1)) {
            expected = updateAndNorm(one, sgd, adam, false);
        }
        for (int threads = 2; threads <= 3; threads++) {
            try (Parallel parallel = new Parallel(threads, 1_000_000)) {
                float[][] got = updateAndNorm(parallel, sgd, adam, true);
                for (int i = 0; i < got.length; i++) {
                    assertArrayEquals(expected[i], got[i], "array " + i + ", " + threads + " threads");
                }
                ParallelTest.sleepThroughCalls(parallel);
                got = updateAndNorm(parallel, sgd, adam, true);
                for (int i = 0; i < got.length; i++) {
                    assertArrayEquals(expected[i], got[i], "array " + i + ", " + threads + " threads asleep");
                }
                parallel.wakeWorkers(true);
            }
        }
    }

    /**
     * An SGD and an Adam update of an arena of N elements at offset 100 of its arrays, and the squared norm of its
     * gradient, on {@code parallel}; with {@code record}, halves of the weights (and of the gradient) recorded first.
     */
    private static float[][] updateAndNorm(Parallel parallel, SgdUpdate sgd, AdaptiveUpdate adam, boolean record) {
        int off = 100;
        float[] w = CpuMatmulTest.random(1, off + N);
        float[] g = CpuMatmulTest.random(2, off + N);
        float[] v = CpuMatmulTest.random(3, off + N);
        float[] m = CpuMatmulTest.random(4, off + N);
        float[] v2 = CpuMatmulTest.random(5, off + N);
        for (int i = 0; i < v2.length; i++) {
            v2[i] = Math.abs(v2[i]);
        }
        if (record) {
            for (float[] a : new float[][] {w, g}) {
                parallel.homes.record(a, off, off + 400 * 256, off + 784 * 256);
                parallel.homes.record(a, off + 200_704, off + 200_704 + 128 * 128, off + 200_704 + 256 * 128);
            }
        }
        CpuOptimizer optimizer = new CpuOptimizer(true, parallel);
        optimizer.sgd(w, off, g, off, v, off, N, 0.5f, sgd);
        optimizer.adaptive(adam, w, off, g, off, m, off, v2, off, N, 0.5f);
        float[] norm = new float[1];
        new CpuReduce(true, parallel).reduce(Reduction.SUM_SQUARES, Axis.ALL, g, off, norm, 0, 1, N, false);
        return new float[][] {w, v, m, v2, norm};
    }

    /** {@code update(threads)}'s arrays on 2 and 3 threads equal, bit for bit, those on 1 thread. */
    private static void assertSameOnEveryThreadCount(String what, IntFunction<float[][]> update) {
        float[][] first = update.apply(1);
        for (int threads = 2; threads <= 3; threads++) {
            float[][] got = update.apply(threads);
            for (int i = 0; i < got.length; i++) {
                assertArrayEquals(first[i], got[i], what + ": array " + i + ", " + threads + " threads");
            }
        }
    }

    private static float[][] sgd(int threads, SgdUpdate u) {
        Shape s = Shape.matrix(1, N);
        try (CpuBackend be = new CpuBackend(threads); Tensor w = be.fromHost(s, CpuMatmulTest.random(1, N));
             Tensor g = be.fromHost(s, CpuMatmulTest.random(2, N)); Tensor v = be.fromHost(s, CpuMatmulTest.random(3, N));
             Tensor norm = be.fromHost(Shape.matrix(1, 1), new float[] {4f})) {
            be.sgdUpdate(w, g, u.momentum() == 0f ? null : v, norm, u);
            return new float[][] {w.download(), v.download()};
        }
    }

    private static float[][] adaptive(int threads, AdaptiveUpdate u) {
        Shape s = Shape.matrix(1, N);
        float[] v0 = CpuMatmulTest.random(4, N);
        for (int i = 0; i < N; i++) {
            v0[i] = Math.abs(v0[i]);
        }
        try (CpuBackend be = new CpuBackend(threads); Tensor w = be.fromHost(s, CpuMatmulTest.random(1, N));
             Tensor g = be.fromHost(s, CpuMatmulTest.random(2, N)); Tensor m = be.fromHost(s, CpuMatmulTest.random(3, N));
             Tensor v = be.fromHost(s, v0); Tensor norm = be.fromHost(Shape.matrix(1, 1), new float[] {4f})) {
            be.adaptiveUpdate(w, g, m, v, norm, u);
            return new float[][] {w.download(), m.download(), v.download()};
        }
    }
}
