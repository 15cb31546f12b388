package dev.jacobian.cpu;

import dev.jacobian.backend.SgdUpdate;

/**
 * The fused SGD update of {@link SgdUpdate} (clip scale, value clipping, weight decay, momentum or
 * Nesterov momentum, step) in one pass over a parameter. The NaN guard (a non-finite squared norm leaves
 * the weights untouched) is applied by the caller before the pass. Dispatches to {@link OptimizerVector}
 * when the vector kernels are on; the loop here is the scalar twin.
 */
final class CpuOptimizer {
    private final boolean vector;

    CpuOptimizer(boolean vector) {
        this.vector = vector;
    }

    /**
     * Updates {@code w[0..n)} (and {@code v}, when momentum is on) from {@code grad} with the clip scale
     * {@code scale} already derived from the global norm.
     */
    void sgd(float[] w, float[] grad, float[] v, int n, float scale, SgdUpdate u) {
        if (vector) {
            OptimizerVector.sgd(w, grad, v, n, scale, u, 0);
            return;
        }
        sgdScalar(w, grad, v, 0, n, scale, u);
    }

    /** Scalar loop over {@code [from, to)}; also the vector kernel's tail. */
    static void sgdScalar(float[] w, float[] grad, float[] v, int from, int to, float scale, SgdUpdate u) {
        float clip = u.clipValue();
        float decay = u.weightDecay();
        float mu = u.momentum();
        float lr = u.learningRate();
        for (int i = from; i < to; i++) {
            float g = grad[i] * scale;
            if (clip > 0f) {
                g = Math.max(-clip, Math.min(clip, g));
            }
            g += decay * w[i];
            if (mu != 0f) {
                v[i] = mu * v[i] + g;
                g = u.nesterov() ? g + mu * v[i] : v[i];
            }
            w[i] -= lr * g;
        }
    }
}
