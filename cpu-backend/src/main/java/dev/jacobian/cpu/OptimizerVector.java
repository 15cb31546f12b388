package dev.jacobian.cpu;

import dev.jacobian.backend.SgdUpdate;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Vector API version of {@link CpuOptimizer#sgd}; loaded only when the Vector API is available. */
final class OptimizerVector {
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;

    private OptimizerVector() {
    }

    static void sgd(float[] w, float[] grad, float[] v, int n, float scale, SgdUpdate u, int from) {
        float clip = u.clipValue();
        float decay = u.weightDecay();
        float mu = u.momentum();
        float lr = u.learningRate();
        boolean nesterov = u.nesterov();
        int i = from;
        int bound = from + S.loopBound(n - from);
        for (; i < bound; i += L) {
            FloatVector wv = FloatVector.fromArray(S, w, i);
            FloatVector g = FloatVector.fromArray(S, grad, i).mul(scale);
            if (clip > 0f) {
                g = g.max(-clip).min(clip);
            }
            g = g.add(wv.mul(decay));
            if (mu != 0f) {
                FloatVector vel = FloatVector.fromArray(S, v, i).mul(mu).add(g);
                vel.intoArray(v, i);
                g = nesterov ? g.add(vel.mul(mu)) : vel;
            }
            wv.sub(g.mul(lr)).intoArray(w, i);
        }
        CpuOptimizer.sgdScalar(w, grad, v, i, n, scale, u);
    }
}
