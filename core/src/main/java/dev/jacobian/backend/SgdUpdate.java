package dev.jacobian.backend;

/**
 * The hyper-parameters of one fused SGD update, applied per parameter by {@link Backend#sgdUpdate}.
 *
 * <p>With {@code s = ||g||} the global gradient norm (read on the device from {@code gradNormSq}), the
 * kernel computes, elementwise:
 * <pre>
 *   if !finite(s^2): leave w and v untouched                    (a NaN/Inf step never reaches the weights)
 *   c = clipNorm > 0 and s >= clipNorm ? clipNorm / s : 1      (Pascanu, Mikolov, Bengio 2013, alg. 1)
 *   g = c * grad
 *   if clipValue > 0: g = clamp(g, -clipValue, clipValue)      (clipping by value)
 *   g = g + weightDecay * w                                    (only for the first decayedPrefix elements)
 *   if momentum != 0: v = flush(momentum * v + g);  g = nesterov ? g + momentum * v : v   (Sutskever et al. 2013)
 *   w = w - learningRate * g
 * </pre>
 * {@code flush} sets a velocity of magnitude below {@code Float.MIN_NORMAL} to 0 ({@link AdaptiveUpdate#flush}): a
 * gradient that stays 0 (a dead unit, a border pixel) decays the velocity geometrically into the subnormal range,
 * where it sticks ({@code 0.9 * 2^-149} rounds back to {@code 2^-149}) and where many CPUs compute in microcode at a
 * fraction of their speed. No velocity, and so no weight, changes by more than {@code Float.MIN_NORMAL}.
 *
 * @param learningRate step size, &gt;= 0 (0 leaves the weights as they are but still updates the momentum
 *                     buffer, as in PyTorch; a schedule such as cosine annealing to 0 reaches it)
 * @param momentum     heavy-ball coefficient in [0, 1); 0 disables the velocity buffer
 * @param nesterov     Nesterov momentum (needs momentum &gt; 0)
 * @param weightDecay  L2 coefficient added to the gradient before momentum (coupled, as {@code torch.optim.SGD}), &gt;= 0
 * @param clipNorm     global-norm threshold; &lt;= 0 disables norm clipping
 * @param clipValue    per-element bound; &lt;= 0 disables value clipping
 * @param decayedPrefix weight decay applies to elements {@code [0, decayedPrefix)} only: a parameter arena
 *                     keeps its regularized parameters (weights) first, so one update covers weights and
 *                     biases; {@link Integer#MAX_VALUE} (the 6-argument constructor) decays every element
 */
public record SgdUpdate(float learningRate, float momentum, boolean nesterov, float weightDecay,
                        float clipNorm, float clipValue, int decayedPrefix) {
    /** An update whose weight decay, if any, applies to every element. */
    public SgdUpdate(float learningRate, float momentum, boolean nesterov, float weightDecay, float clipNorm,
                     float clipValue) {
        this(learningRate, momentum, nesterov, weightDecay, clipNorm, clipValue, Integer.MAX_VALUE);
    }

    /**
     * Validates the hyper-parameters, naming each bad one and its value in an {@link IllegalArgumentException}:
     * {@code learningRate} finite and &gt;= 0, {@code momentum} in [0, 1), Nesterov only with momentum &gt; 0,
     * {@code weightDecay} &gt;= 0 and {@code decayedPrefix} &gt;= 0 (the clip thresholds are not checked).
     */
    public SgdUpdate {
        if (decayedPrefix < 0) {
            throw new IllegalArgumentException("decayedPrefix must be >= 0: " + decayedPrefix);
        }
        if (!(learningRate >= 0f) || !Float.isFinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0: " + learningRate);
        }
        if (!(momentum >= 0f && momentum < 1f)) {
            throw new IllegalArgumentException("momentum must be in [0, 1): " + momentum);
        }
        if (nesterov && momentum == 0f) {
            throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        }
        if (!(weightDecay >= 0f)) {
            throw new IllegalArgumentException("weight decay must be >= 0: " + weightDecay);
        }
    }

    /** The clip scale {@code c} for a squared global norm (1 when not clipping). */
    public float clipScale(float normSq) {
        return clipScale(clipNorm, normSq);
    }

    /**
     * The clip scale {@code c} for a squared global norm and the threshold {@code clipNorm} (1 when not
     * clipping): the one definition behind {@link #clipScale(float)} and {@link AdaptiveUpdate#clipScale}.
     */
    static float clipScale(float clipNorm, float normSq) {
        if (clipNorm > 0f) {
            float norm = (float) Math.sqrt(normSq);
            if (norm >= clipNorm && norm > 0f) {
                return clipNorm / norm;
            }
        }
        return 1f;
    }
}
