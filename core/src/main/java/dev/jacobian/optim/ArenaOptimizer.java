package dev.jacobian.optim;

import dev.jacobian.graph.Executor;
import dev.jacobian.tensor.Tensor;

/**
 * What {@link Sgd} and the adaptive optimizers ({@link Adam}, {@link RmsProp}) share: state arenas laid out like
 * the parameter arena ({@link ArenaStates}), the step count, clipping by global norm and by value, and a step of
 * one norm reduction and one fused update over the parameter arena.
 */
abstract sealed class ArenaOptimizer implements Optimizer permits Sgd, AdaptiveOptimizer {
    /** The norm scalar and the state arenas, allocated when first bound to an executor. */
    final ArenaStates states;
    private final float clipNorm;
    private final float clipValue;
    /** Steps taken so far. */
    long steps;

    /**
     * Checks the clipping thresholds: each {@code >= 0} (0 disables; infinity never clips, as
     * {@code torch.nn.utils.clip_grad_norm_} allows), never negative or NaN, which the kernels would read as "off".
     */
    ArenaOptimizer(ArenaStates states, double clipNorm, double clipValue) {
        if (!(clipNorm >= 0)) {
            throw new IllegalArgumentException("clipNorm must be >= 0 (0 disables): " + clipNorm);
        }
        if (!(clipValue >= 0)) {
            throw new IllegalArgumentException("clipValue must be >= 0 (0 disables): " + clipValue);
        }
        this.states = states;
        this.clipNorm = (float) clipNorm;
        this.clipValue = (float) clipValue;
    }

    /** {@code lr} if finite and &gt;= 0, otherwise an {@link IllegalArgumentException}. */
    static float checkLearningRate(float lr) {
        if (!(lr >= 0f) || !Float.isFinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0: " + lr);
        }
        return lr;
    }

    /**
     * The fused update of step {@code step} (counted from 1) over {@code exec}'s parameter arena, clipping by the
     * squared global norm {@code normSq} (a device scalar).
     */
    abstract void update(Executor exec, Tensor normSq, long step);

    /**
     * Updates every parameter of the executor's graph from the gradients of the last backward pass: one
     * reduction for the global norm, one fused update over the parameter arena. Weight decay applies to the
     * arena's regularized parameters (weights, not biases).
     *
     * @return a report whose gradient norm is read from the device only when asked, and only until the
     *     next step overwrites it
     */
    @Override
    public final StepReport step(Executor exec) {
        states.bind(exec); // fails once closed
        Tensor normSq = states.reduceNormSq(exec);
        update(exec, normSq, steps + 1);
        steps++;
        return new StepReport(this, steps, normSq, clipNorm);
    }

    @Override
    public final long steps() {
        return steps;
    }

    @Override
    public final float clipNorm() {
        return clipNorm;
    }

    /** The per-element clipping bound, 0 when off. */
    public final float clipValue() {
        return clipValue;
    }

    /** Frees the state; afterwards every call that needs it is an {@link IllegalStateException}. Idempotent. */
    @Override
    public final void close() {
        states.close();
    }
}
