package dev.jacobian.cpu;

import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.SgdUpdate;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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
                FloatVector vel = flush(FloatVector.fromArray(S, v, vo + i).mul(mu).add(g));
                vel.intoArray(v, vo + i);
                g = nesterov ? g.add(vel.mul(mu)) : vel;
            }
            wv.sub(g.mul(lr)).intoArray(w, wo + i);
        }
        CpuOptimizer.sgdScalar(w, wo, grad, go, v, vo, i, n, scale, u);
    }

    /**
     * {@link AdaptiveUpdate#applyScalar} over the elements {@code [from, to)}, which lie either all inside or
     * all outside the update's decayed prefix.
     */
    static void adaptive(AdaptiveUpdate u, float[] w, int wo, float[] grad, int go, float[] m, int mo, float[] v,
                         int vo, int from, int to, float scale) {
        if (from >= to) {
            return;
        }
        boolean decayed = from < u.decayedPrefix();
        float clip = u.clipValue();
        float coupled = u.coupledDecay();
        float factor = u.decoupledFactor();
        float b1 = u.beta1f();
        float omb1 = u.oneMinusBeta1();
        float b2 = u.beta2f();
        float omb2 = u.oneMinusBeta2();
        float eps = u.epsf();
        float step = u.stepSize();
        float bc2 = u.biasCorrection2Sqrt();
        boolean first = u.usesFirstMoment();
        boolean rms = u.rule() == AdaptiveUpdate.Rule.RMSPROP;
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(S, grad, go + i).mul(scale);
            if (clip > 0f) {
                g = g.max(-clip).min(clip);
            }
            FloatVector wv = FloatVector.fromArray(S, w, wo + i);
            if (decayed) {
                g = g.add(wv.mul(coupled));
                wv = wv.mul(factor);
            }
            FloatVector vv = flush(FloatVector.fromArray(S, v, vo + i).mul(b2).add(g.mul(g).mul(omb2)));
            vv.intoArray(v, vo + i);
            FloatVector root = vv.lanewise(VectorOperators.SQRT);
            if (rms) {
                FloatVector q = g.div(root.add(eps));
                if (first) {
                    FloatVector mv = flush(FloatVector.fromArray(S, m, mo + i).mul(b1).add(q));
                    mv.intoArray(m, mo + i);
                    q = mv;
                }
                wv = wv.sub(q.mul(step));
            } else {
                FloatVector mv = flush(FloatVector.fromArray(S, m, mo + i).mul(b1).add(g.mul(omb1)));
                mv.intoArray(m, mo + i);
                wv = wv.sub(mv.div(root.div(bc2).add(eps)).mul(step));
            }
            wv.intoArray(w, wo + i);
        }
        AdaptiveUpdate.applyScalar(u, w, wo, grad, go, m, mo, v, vo, i, to, scale);
    }

    /** Lanes of magnitude below {@link Float#MIN_NORMAL} set to 0. */
    private static FloatVector flush(FloatVector x) {
        return x.blend(0f, x.abs().lt(Float.MIN_NORMAL));
    }
}
