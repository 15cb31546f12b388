package dev.jacobian.backend;

/**
 * The hyper-parameters of one fused adaptive update (Adam, AdamW or RMSprop), applied over a parameter (or a
 * whole parameter arena) by {@link Backend#adaptiveUpdate}. The rules follow {@code torch.optim} 1.13
 * operation by operation, so results agree with PyTorch to float32 rounding.
 *
 * <p>With {@code s = ||g||} the global gradient norm (read on the device from {@code gradNormSq}), the
 * kernel computes, elementwise, with {@code d = weightDecay} on the first {@code decayedPrefix} elements and
 * 0 after them:
 * <pre>
 *   if !finite(s^2): leave w, m and v untouched              (a NaN/Inf step never reaches the weights)
 *   c = clipNorm > 0 and s >= clipNorm ? clipNorm / s : 1    (as torch.nn.utils.clip_grad_norm_)
 *   g = c * grad;  if clipValue > 0: g = clamp(g, -clipValue, clipValue)
 *
 *   ADAM    (Kingma &amp; Ba 2015)          g = g + d w                        (coupled L2, as torch.optim.Adam)
 *   ADAMW   (Loshchilov &amp; Hutter 2019)  w = w * (1 - lr d)                 (decoupled weight decay)
 *     m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
 *     w = w - stepSize() * (m / (sqrt(v) / biasCorrection2Sqrt() + eps))
 *           with stepSize = lr / (1 - beta1^t), biasCorrection2Sqrt = sqrt(1 - beta2^t), t = step
 *
 *   RMSPROP (Hinton, lecture 6e)        g = g + d w;   v = beta2 v + (1 - beta2) g^2     (beta2 is alpha)
 *     a = sqrt(v) + eps
 *     beta1 > 0 (momentum):  m = beta1 m + g / a;  w = w - lr m
 *     beta1 = 0:             w = w - lr (g / a)
 *
 *   then any state value of magnitude below Float.MIN_NORMAL is flushed to 0
 * </pre>
 * The flush keeps geometrically decaying state (moments of gradients that stay 0, e.g. of dead units) out of
 * the subnormal range, where many CPUs compute in microcode at a hundredth of the speed; it changes no result
 * by more than {@code Float.MIN_NORMAL}.
 *
 * <p>Scalars are held in double and rounded to float once, where PyTorch rounds its Python floats, e.g.
 * {@code (float) (1 - beta1)} rather than {@code 1 - (float) beta1}.
 *
 * @param rule          the update rule
 * @param learningRate  step size, finite and &gt;= 0 (0 still updates the moments, as in PyTorch)
 * @param beta1         Adam's first-moment decay in [0, 1); RMSprop's momentum in [0, 1) (0: no momentum buffer)
 * @param beta2         Adam's second-moment decay in [0, 1); RMSprop's smoothing constant alpha in [0, 1)
 * @param eps           added to the denominator, &gt;= 0 and finite
 * @param weightDecay   coupled (ADAM, RMSPROP) or decoupled (ADAMW) weight decay, &gt;= 0
 * @param clipNorm      global-norm threshold; &lt;= 0 disables norm clipping
 * @param clipValue     per-element bound; &lt;= 0 disables value clipping
 * @param decayedPrefix weight decay applies to elements {@code [0, decayedPrefix)} only (a parameter arena
 *                      keeps its regularized parameters first)
 * @param step          the 1-based number of this step, for Adam's bias corrections
 */
public record AdaptiveUpdate(Rule rule, double learningRate, double beta1, double beta2, double eps,
                             double weightDecay, float clipNorm, float clipValue, int decayedPrefix, long step) {

    /** The update rules. */
    public enum Rule {
        /** Adam with coupled (L2) weight decay, as {@code torch.optim.Adam}. */
        ADAM,
        /** Adam with decoupled weight decay, as {@code torch.optim.AdamW}. */
        ADAMW,
        /** RMSprop (not centered) with optional momentum, as {@code torch.optim.RMSprop}. */
        RMSPROP;

        /** Whether the rule keeps a first-moment (or momentum) buffer for these hyper-parameters. */
        public boolean usesFirstMoment(double beta1) {
            return this != RMSPROP || beta1 != 0.0;
        }
    }

    /** Validates every hyper-parameter, naming it and its value. */
    public AdaptiveUpdate {
        if (rule == null) {
            throw new IllegalArgumentException("rule must not be null");
        }
        if (!(learningRate >= 0.0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0: " + learningRate);
        }
        String b1 = rule == Rule.RMSPROP ? "momentum" : "beta1";
        String b2 = rule == Rule.RMSPROP ? "alpha" : "beta2";
        if (!(beta1 >= 0.0 && beta1 < 1.0)) {
            throw new IllegalArgumentException(b1 + " must be in [0, 1): " + beta1);
        }
        if (!(beta2 >= 0.0 && beta2 < 1.0)) {
            throw new IllegalArgumentException(b2 + " must be in [0, 1): " + beta2);
        }
        if (!(eps >= 0.0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("eps must be >= 0 and finite: " + eps);
        }
        if (!(weightDecay >= 0.0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be >= 0 and finite: " + weightDecay);
        }
        if (decayedPrefix < 0) {
            throw new IllegalArgumentException("decayedPrefix must be >= 0: " + decayedPrefix);
        }
        if (step < 1) {
            throw new IllegalArgumentException("step must be >= 1: " + step);
        }
    }

    /** This update at another step (the optimizer advances it every step). */
    public AdaptiveUpdate atStep(long t) {
        return new AdaptiveUpdate(rule, learningRate, beta1, beta2, eps, weightDecay, clipNorm, clipValue,
                decayedPrefix, t);
    }

    /** Whether a first-moment (Adam) or momentum (RMSprop) buffer is read and written. */
    public boolean usesFirstMoment() {
        return rule.usesFirstMoment(beta1);
    }

    /** {@code (float) beta1}. */
    public float beta1f() {
        return (float) beta1;
    }

    /** {@code (float) (1 - beta1)}. */
    public float oneMinusBeta1() {
        return (float) (1.0 - beta1);
    }

    /** {@code (float) beta2}. */
    public float beta2f() {
        return (float) beta2;
    }

    /** {@code (float) (1 - beta2)}. */
    public float oneMinusBeta2() {
        return (float) (1.0 - beta2);
    }

    /** {@code (float) eps}. */
    public float epsf() {
        return (float) eps;
    }

    /** {@code (float) learningRate}. */
    public float learningRatef() {
        return (float) learningRate;
    }

    /** The coupled weight decay added to the gradient (0 for AdamW). */
    public float coupledDecay() {
        return rule == Rule.ADAMW ? 0f : (float) weightDecay;
    }

    /** AdamW's factor {@code (float) (1 - lr * weightDecay)} on decayed weights (1 for the other rules). */
    public float decoupledFactor() {
        return rule == Rule.ADAMW ? (float) (1.0 - learningRate * weightDecay) : 1f;
    }

    /** Adam's {@code lr / (1 - beta1^t)}; RMSprop's learning rate. */
    public float stepSize() {
        return rule == Rule.RMSPROP ? (float) learningRate : (float) (learningRate / (1.0 - Math.pow(beta1, step)));
    }

    /** Adam's {@code sqrt(1 - beta2^t)}; 1 for RMSprop. */
    public float biasCorrection2Sqrt() {
        return rule == Rule.RMSPROP ? 1f : (float) Math.sqrt(1.0 - Math.pow(beta2, step));
    }

    /** The clip scale {@code c} for a squared global norm (1 when not clipping). */
    public float clipScale(float normSq) {
        return SgdUpdate.clipScale(clipNorm, normSq);
    }

    /** The scalar update of element {@code i}: the reference definition, also the CPU kernels' scalar twin. */
    public static void applyScalar(AdaptiveUpdate u, float[] w, int wo, float[] grad, int go, float[] m, int mo,
                                   float[] v, int vo, int from, int to, float scale) {
        float clip = u.clipValue();
        float b1 = u.beta1f();
        float omb1 = u.oneMinusBeta1();
        float b2 = u.beta2f();
        float omb2 = u.oneMinusBeta2();
        float eps = u.epsf();
        float step = u.stepSize();
        float bc2 = u.biasCorrection2Sqrt();
        boolean first = u.usesFirstMoment();
        boolean rms = u.rule() == Rule.RMSPROP;
        for (int i = from; i < to; i++) {
            boolean decayed = i < u.decayedPrefix();
            float g = grad[go + i] * scale;
            if (clip > 0f) {
                g = Math.max(-clip, Math.min(clip, g));
            }
            float wi = w[wo + i];
            if (decayed) {
                g += u.coupledDecay() * wi;
                wi *= u.decoupledFactor();
            }
            float vi = flush(b2 * v[vo + i] + omb2 * (g * g));
            v[vo + i] = vi;
            if (rms) {
                float a = (float) Math.sqrt(vi) + eps;
                if (first) {
                    float mi = flush(b1 * m[mo + i] + g / a);
                    m[mo + i] = mi;
                    wi -= step * mi;
                } else {
                    wi -= step * (g / a);
                }
            } else {
                float mi = flush(b1 * m[mo + i] + omb1 * g);
                m[mo + i] = mi;
                wi -= step * (mi / ((float) Math.sqrt(vi) / bc2 + eps));
            }
            w[wo + i] = wi;
        }
    }

    /** {@code x}, or 0 when {@code |x| < Float.MIN_NORMAL} (the subnormal flush of state). */
    public static float flush(float x) {
        return Math.abs(x) < Float.MIN_NORMAL ? 0f : x;
    }
}
