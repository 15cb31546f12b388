package dev.jacobian.cpu;

import dev.jacobian.backend.SgdUpdate;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API version of {@link CpuOptimizer#sgd} (arrays with their tensors' offsets); loaded only when the
 * Vector API is available.
 */
final class OptimizerVector {
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;

    private OptimizerVector() {
    }

    static void sgd(float[] w, int wo, float[] grad, int go, float[] v, int vo, int n, float scale, SgdUpdate u) {
        float clip = u.clipValue();
        float decay = u.weightDecay();
        float mu = u.momentum();
        float lr = u.learningRate();
        boolean nesterov = u.nesterov();
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector wv = FloatVector.fromArray(S, w, wo + i);
            FloatVector g = FloatVector.fromArray(S, grad, go + i).mul(scale);
            if (clip > 0f) {
                g = g.max(-clip).min(clip);
            }
            g = g.add(wv.mul(decay));
            if (mu != 0f) {
                FloatVector vel = FloatVector.fromArray(S, v, vo + i).mul(mu).add(g);
                vel.intoArray(v, vo + i);
                g = nesterov ? g.add(vel.mul(mu)) : vel;
            }
            wv.sub(g.mul(lr)).intoArray(w, wo + i);
        }
        CpuOptimizer.sgdScalar(w, wo, grad, go, v, vo, i, n, scale, u);
    }
}
