package dev.jacobian.optim;

import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Tensor;

/**
 * Adam (Kingma &amp; Ba 2015, "Adam: A Method for Stochastic Optimization") as {@code torch.optim.Adam}, and
 * AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization") as {@code torch.optim.AdamW}:
 * bias-corrected first and second moments, epsilon added to the bias-corrected root of the second moment,
 * PyTorch's defaults ({@code lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8}; weight decay 0 for Adam, 0.01 for
 * AdamW). Adam's weight decay is coupled (added to the gradient); AdamW's multiplies the weights by
 * {@code 1 - lr * weightDecay} before the step. Weight decay touches the regularized parameters only (weights,
 * not biases). Gradient clipping by global norm and by value as {@link Sgd}.
 *
 * <pre>{@code
 * Adam adamw = Adam.adamW().learningRate(1e-3).weightDecay(0.01).clipNorm(5).build();
 * }</pre>
 *
 * <p>A step is one norm reduction and one fused kernel over the parameter arena, on every backend; the moments
 * are two arenas ({@code "<parameter>.exp_avg"}, {@code "<parameter>.exp_avg_sq"} in {@link #state}). Moments
 * below {@link Float#MIN_NORMAL} are flushed to 0 (see {@link AdaptiveUpdate}). A non-finite gradient norm
 * leaves weights and moments untouched; a caller that reads the norm back reports the skip through
 * {@link #stepSkipped()} ({@link dev.jacobian.train.Trainer} does), so the bias corrections count only applied
 * updates. Owns its arenas (freed by {@link #close()}).
 * Not thread-safe.
 */
public final class Adam extends AdaptiveOptimizer {
    /** The state name of the first moment, as in PyTorch. */
    public static final String EXP_AVG = "exp_avg";
    /** The state name of the second moment, as in PyTorch. */
    public static final String EXP_AVG_SQ = "exp_avg_sq";

    private final boolean decoupled;
    private final double beta1;
    private final double beta2;

    private Adam(Builder b) {
        super(b.decoupled ? "AdamW" : "Adam", b.decoupled ? AdaptiveUpdate.Rule.ADAMW : AdaptiveUpdate.Rule.ADAM, b,
                b.beta1, b.beta2, EXP_AVG, EXP_AVG_SQ);
        this.decoupled = b.decoupled;
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
    }

    /** A builder of Adam ({@code torch.optim.Adam}: coupled weight decay, default 0). */
    public static Builder builder() {
        return new Builder(false);
    }

    /** A builder of AdamW ({@code torch.optim.AdamW}: decoupled weight decay, default 0.01). */
    public static Builder adamW() {
        return new Builder(true);
    }

    /** Whether the weight decay is decoupled (AdamW). */
    public boolean decoupled() {
        return decoupled;
    }

    /** The first-moment decay. */
    public double beta1() {
        return beta1;
    }

    /** The second-moment decay. */
    public double beta2() {
        return beta2;
    }

    /** The first moment of {@code p} (a view into its arena), or null before the first step. */
    public Tensor firstMoment(Parameter p) {
        return stateOf(EXP_AVG, p);
    }

    /** The second moment of {@code p} (a view into its arena), or null before the first step. */
    public Tensor secondMoment(Parameter p) {
        return stateOf(EXP_AVG_SQ, p);
    }

    /** Hyper-parameters, PyTorch's defaults; each is validated by {@link #build()}, naming it and its value. */
    public static final class Builder extends AdaptiveOptimizer.Builder<Builder> {
        private final boolean decoupled;
        private double beta1 = 0.9;
        private double beta2 = 0.999;

        private Builder(boolean decoupled) {
            super(1e-3, decoupled ? 0.01 : 0.0);
            this.decoupled = decoupled;
        }

        /** Step size, &gt;= 0 (default 1e-3). */
        public Builder learningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        /** The moments' decay rates, each in [0, 1) (default 0.9, 0.999). */
        public Builder betas(double beta1, double beta2) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        /** Weight decay on weights, &gt;= 0: coupled L2 for Adam (default 0), decoupled for AdamW (default 0.01). */
        public Builder weightDecay(double wd) {
            this.weightDecay = wd;
            return this;
        }

        /** The optimizer; an {@link IllegalArgumentException} names any hyper-parameter out of range. */
        public Adam build() {
            return new Adam(this);
        }
    }
}
