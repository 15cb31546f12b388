package dev.jacobian.cpu;

import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.SgdUpdate;

/**
 * The fused SGD update of {@link SgdUpdate} (clip scale, value clipping, weight decay, momentum or
 * Nesterov momentum, step) in one pass over a parameter. The NaN guard (a non-finite squared norm leaves
 * the weights untouched) is applied by the caller before the pass. Dispatches to {@link OptimizerVector}
 * when the vector kernels are on; the loop here is the scalar twin.
 */
final class CpuOptimizer {
    /**
     * Parameters from which an update is shared by the workers, each updating contiguous ranges (the halves of a
     * layer's weights that the products gave it, or a multiple of {@link #ALIGN} elements): every element's arithmetic
     * is its own, so the split changes no bit.
     */
    static final int PARALLEL_MIN = 1 << 15;
    /** Alignment of the ranges of a shared update (whole vectors of any species up to 512 bits, twice over). */
    static final int ALIGN = 32;

    private final boolean vector;
    private final Parallel parallel;

    CpuOptimizer(boolean vector, Parallel parallel) {
        this.vector = vector;
        this.parallel = parallel;
    }

    /** Body of a shared update over the elements {@code [from, to)}. */
    @FunctionalInterface
    private interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over {@code [0, n)} of the parameters at {@code w[wo..]}, split among the workers when n is
     * large: the halves of a layer's weights that the products gave to a thread ({@link Homes}) to that thread, the
     * rest in pieces to the threads with the fewest elements; with no such halves, into aligned contiguous ranges.
     */
    private void split(float[] w, int wo, int n, Range body) {
        int tasks = n < PARALLEL_MIN ? 1 : parallel.threads();
        if (tasks == 1) {
            body.run(0, n);
            return;
        }
        int[][] homes = parallel.homes.split(w, wo, n, tasks, PARALLEL_MIN / tasks);
        if (homes != null) {
            parallel.runHomed(tasks, t -> {
                int[] ranges = homes[t];
                for (int i = 0; i < ranges.length; i += 2) {
                    body.run(ranges[i], ranges[i + 1]);
                }
            });
            return;
        }
        int chunk = ((n + tasks - 1) / tasks + ALIGN - 1) / ALIGN * ALIGN;
        parallel.run(tasks, t -> {
            int from = Math.min(n, t * chunk);
            int to = Math.min(n, from + chunk);
            if (from < to) {
                body.run(from, to);
            }
        });
    }

    /**
     * Updates the {@code n} parameters at {@code w[wo..]} (and the velocities at {@code v[vo..]}, when momentum
     * is on; {@code v} may then be null) from the gradients at {@code grad[go..]}, with the clip scale
     * {@code scale} already derived from the global norm.
     */
    void sgd(float[] w, int wo, float[] grad, int go, float[] v, int vo, int n, float scale, SgdUpdate u) {
        int decayed = Math.min(n, u.decayedPrefix());
        // the arena's regularized prefix with weight decay, the rest without: two runs of the same kernel
        SgdUpdate noDecay = decayed < n && u.weightDecay() != 0f ? new SgdUpdate(u.learningRate(), u.momentum(),
                u.nesterov(), 0f, u.clipNorm(), u.clipValue()) : u;
        split(w, wo, n, (from, to) -> {
            int mid = Math.max(from, Math.min(to, decayed));
            if (from < mid) {
                run(w, wo + from, grad, go + from, v, vo + from, mid - from, scale, u);
            }
            if (mid < to) {
                run(w, wo + mid, grad, go + mid, v, vo + mid, to - mid, scale, noDecay);
            }
        });
    }

    private void run(float[] w, int wo, float[] grad, int go, float[] v, int vo, int n, float scale, SgdUpdate u) {
        if (vector) {
            OptimizerVector.sgd(w, wo, grad, go, v, vo, n, scale, u);
            return;
        }
        sgdScalar(w, wo, grad, go, v, vo, 0, n, scale, u);
    }

    /** Scalar loop over the elements {@code [from, to)} of the tensors; also the vector kernel's tail. */
    static void sgdScalar(float[] w, int wo, float[] grad, int go, float[] v, int vo, int from, int to, float scale,
                          SgdUpdate u) {
        float clip = u.clipValue();
        float decay = u.weightDecay();
        float mu = u.momentum();
        float lr = u.learningRate();
        for (int i = from; i < to; i++) {
            float g = grad[go + i] * scale;
            if (clip > 0f) {
                g = Math.max(-clip, Math.min(clip, g));
            }
            g += decay * w[wo + i];
            if (mu != 0f) {
                v[vo + i] = AdaptiveUpdate.flush(mu * v[vo + i] + g);
                g = u.nesterov() ? g + mu * v[vo + i] : v[vo + i];
            }
            w[wo + i] -= lr * g;
        }
    }

    /**
     * The fused update of {@link AdaptiveUpdate} (Adam, AdamW, RMSprop) over the {@code n} parameters at
     * {@code w[wo..]} with their moments at {@code m[mo..]} (null when the rule keeps no first moment) and
     * {@code v[vo..]}, the clip scale already derived from the global norm. The vector kernel and the scalar
     * definition ({@link AdaptiveUpdate#applyScalar}) give the same bits: the same operations in the same
     * order, no fused multiply-add, a correctly rounded square root.
     */
    void adaptive(AdaptiveUpdate u, float[] w, int wo, float[] grad, int go, float[] m, int mo, float[] v, int vo,
                  int n, float scale) {
        if (!vector) {
            AdaptiveUpdate.applyScalar(u, w, wo, grad, go, m, mo, v, vo, 0, n, scale);
            return;
        }
        int decayed = (int) Math.min(n, u.decayedPrefix());
        split(w, wo, n, (from, to) -> {
            int mid = Math.max(from, Math.min(to, decayed));
            OptimizerVector.adaptive(u, w, wo, grad, go, m, mo, v, vo, from, mid, scale);
            OptimizerVector.adaptive(u, w, wo, grad, go, m, mo, v, vo, mid, to, scale);
        });
    }
}
