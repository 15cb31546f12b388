package dev.jacobian.optim;

import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Tensor;

/**
 * RMSprop (Hinton, Srivastava &amp; Swersky, Neural Networks for Machine Learning, lecture 6e) as
 * {@code torch.optim.RMSprop} (not centered): a running average of squared gradients with smoothing constant
 * {@code alpha}, the step {@code lr * g / (sqrt(avg) + eps)}, optional momentum on that step and coupled weight
 * decay on weights; PyTorch's defaults ({@code lr = 0.01, alpha = 0.99, eps = 1e-8}, no momentum, no decay).
 * Gradient clipping by global norm and by value as {@link Sgd}.
 *
 * <p>A step is one norm reduction and one fused kernel over the parameter arena, on every backend; the state is
 * {@code "<parameter>.square_avg"} and, with momentum, {@code "<parameter>.momentum_buffer"} in {@link #state}.
 * Owns its arenas (freed by {@link #close()}). Not thread-safe.
 */
public final class RmsProp extends AdaptiveOptimizer {
    /** The state name of the average of squared gradients, as in PyTorch. */
    public static final String SQUARE_AVG = "square_avg";
    /** The state name of the momentum buffer, as in PyTorch. */
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    private final double alpha;
    private final double momentum;

    private RmsProp(Builder b) {
        super("RMSprop", AdaptiveUpdate.Rule.RMSPROP, b, b.momentum, b.alpha, MOMENTUM_BUFFER, SQUARE_AVG);
        this.alpha = b.alpha;
        this.momentum = b.momentum;
    }

    /** A builder with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The smoothing constant of the squared-gradient average. */
    public double alpha() {
        return alpha;
    }

    /** The momentum, 0 when off. */
    public double momentum() {
        return momentum;
    }

    /** The average of squared gradients of {@code p} (a view into its arena), or null before the first step. */
    public Tensor squareAverage(Parameter p) {
        return stateOf(SQUARE_AVG, p);
    }

    /** Hyper-parameters, PyTorch's defaults; each is validated by {@link #build()}, naming it and its value. */
    public static final class Builder extends AdaptiveOptimizer.Builder<Builder> {
        private double alpha = 0.99;
        private double momentum;

        private Builder() {
            super(0.01, 0.0);
        }

        /** Step size, &gt;= 0 (default 0.01). */
        public Builder learningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        /** Smoothing constant in [0, 1) (default 0.99). */
        public Builder alpha(double alpha) {
            this.alpha = alpha;
            return this;
        }

        /** Momentum in [0, 1) (default 0: none, and no buffer). */
        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        /** Coupled L2 weight decay on weights, &gt;= 0 (default 0). */
        public Builder weightDecay(double wd) {
            this.weightDecay = wd;
            return this;
        }

        /** The optimizer; an {@link IllegalArgumentException} names any hyper-parameter out of range. */
        public RmsProp build() {
            return new RmsProp(this);
        }
    }
}
