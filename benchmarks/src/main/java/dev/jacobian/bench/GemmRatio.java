package dev.jacobian.bench;

import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;

/**
 * Jacobian's CPU SGEMM against OpenBLAS in one process, alternating: each round times a batch of Jacobian products
 * (about 10 ms) and then the same batch of OpenBLAS products on the same shape, and the figure is the median over the
 * rounds of the per-round ratio (Jacobian's GFLOP/s over OpenBLAS's). On a machine whose speed drifts by tens of
 * percent within a minute (a shared cloud vCPU), the two halves of a round see nearly the same machine, so the ratio
 * holds where JMH's separate, minute-long runs of each library disagree by more than the difference being measured.
 *
 * <p>Arguments: shapes as {@link GemmShape} spells them ({@code 1024}, {@code 128x256x784:NN}). System properties:
 * {@code threads} (both libraries; OpenBLAS's must match {@code OPENBLAS_NUM_THREADS}, which {@link OpenBlas} checks),
 * {@code rounds} (default 25), {@code pauseMillis} (default 5: a pause before each half, long enough for the other
 * library's idle threads to stop spinning and sleep, so that they do not take a core from this half; the script runs
 * Jacobian's workers with a 1 ms spin for this). Prints one line per shape: median ratio and quartiles, both libraries' median and best
 * GFLOP/s. {@code benchmarks/run-gemm-ratio.sh} runs it for one and two threads with the machine's peak beside it.
 */
public final class GemmRatio {
    /** Nanoseconds of products per library and round. */
    private static final double ROUND_NANOS = 10e6;
    /** Warm-up: nanoseconds of products per library before the rounds (the JIT compiles the kernels meanwhile). */
    private static final double WARM_NANOS = 2e9;

    private GemmRatio() {
    }

    /**
     * Runs the comparison.
     *
     * @param args the shapes
     */
    public static void main(String[] args) {
        int threads = Integer.getInteger("threads", 1);
        int rounds = Integer.getInteger("rounds", 25);
        long pause = Long.getLong("pauseMillis", 5);
        OpenBlas blas = OpenBlas.load(threads);
        try (CpuBackend be = new CpuBackend(threads)) {
            for (String spec : args) {
                GemmShape g = GemmShape.parse(spec);
                float[] a = BenchSupport.uniform(1, g.m() * g.k(), -1f, 1f);
                float[] b = BenchSupport.uniform(2, g.k() * g.n(), -1f, 1f);
                float[] c = new float[g.m() * g.n()];
                Tensor ta = be.fromHost(g.a(), a);
                Tensor tb = be.fromHost(g.b(), b);
                Tensor tc = be.allocate(g.c());
                Runnable jacobian = () -> be.gemm(g.transA(), g.transB(), 1f, ta, tb, 0f, tc);
                Runnable openblas = () -> blas.sgemmRowMajor(g.transA(), g.transB(), g.m(), g.n(), g.k(), 1f, a, b, 0f,
                        c);
                double flop = 2.0 * g.m() * g.n() * g.k();
                int reps = (int) Math.max(2, ROUND_NANOS / (flop / 100.0)); // about 10 ms at 100 GFLOP/s
                int warm = (int) Math.max(20, WARM_NANOS / (flop / 100.0));
                for (int i = 0; i < warm; i++) {
                    jacobian.run();
                    openblas.run();
                }
                double[] gj = new double[rounds];
                double[] go = new double[rounds];
                double[] ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    gj[r] = flop * reps / time(jacobian, reps, pause);
                    go[r] = flop * reps / time(openblas, reps, pause);
                    ratio[r] = gj[r] / go[r];
                }
                Arrays.sort(gj);
                Arrays.sort(go);
                Arrays.sort(ratio);
                System.out.printf(Locale.ROOT, "%-20s threads %d: Jacobian/OpenBLAS %.2fx [%.2f-%.2f]; GFLOP/s median "
                                + "(best): Jacobian %.1f (%.1f), OpenBLAS %.1f (%.1f); %d rounds of %d products%n", spec,
                        threads, ratio[rounds / 2], ratio[rounds / 4], ratio[3 * rounds / 4], gj[rounds / 2],
                        gj[rounds - 1], go[rounds / 2], go[rounds - 1], rounds, reps);
                ta.close();
                tb.close();
                tc.close();
            }
        }
    }

    private static double time(Runnable product, int reps, long pauseMillis) {
        BenchSupport.sleep(pauseMillis * 1_000_000L);
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            product.run();
        }
        return System.nanoTime() - t0;
    }
}
