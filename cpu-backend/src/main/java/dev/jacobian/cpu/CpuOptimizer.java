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
    private final boolean vector;

    CpuOptimizer(boolean vector) {
        this.vector = vector;
    }

    /**
     * Updates the {@code n} parameters at {@code w[wo..]} (and the velocities at {@code v[vo..]}, when momentum
     * is on; {@code v} may then be null) from the gradients at {@code grad[go..]}, with the clip scale
     * {@code scale} already derived from the global norm.
     */
    void sgd(float[] w, int wo, float[] grad, int go, float[] v, int vo, int n, float scale, SgdUpdate u) {
        int decayed = Math.min(n, u.decayedPrefix());
        if (decayed < n && u.weightDecay() != 0f) {
            // the arena's regularized prefix with weight decay, the rest without: two runs of the same kernel
            SgdUpdate noDecay = new SgdUpdate(u.learningRate(), u.momentum(), u.nesterov(), 0f, u.clipNorm(),
                    u.clipValue());
            run(w, wo, grad, go, v, vo, decayed, scale, u);
            run(w, wo + decayed, grad, go + decayed, v, vo + decayed, n - decayed, scale, noDecay);
            return;
        }
        run(w, wo, grad, go, v, vo, n, scale, u);
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
        OptimizerVector.adaptive(u, w, wo, grad, go, m, mo, v, vo, 0, decayed, scale);
        OptimizerVector.adaptive(u, w, wo, grad, go, m, mo, v, vo, decayed, n, scale);
    }
}
