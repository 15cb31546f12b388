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

    ArenaOptimizer(ArenaStates states, float clipNorm, float clipValue) {
        this.states = states;
        this.clipNorm = clipNorm;
        this.clipValue = clipValue;
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
        states.bind(exec);
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

    @Override
    public final void close() {
        states.close();
    }
}
