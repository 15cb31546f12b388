package dev.jacobian.optim;

import dev.jacobian.graph.Executor;
import java.util.Map;

/**
 * Updates the parameters of an {@link Executor}'s graph from the gradients of its last backward pass, with
 * its state (momentum buffers, moment estimates, ...) kept on the executor's backend in arenas laid out like
 * the parameters ({@link dev.jacobian.graph.ParameterLayout}), so that one step is a few fused kernels
 * whatever the number of layers.
 *
 * <h2>Gradients and {@code zeroGrad}</h2>
 * Unlike PyTorch, gradients do not accumulate across backward passes: {@link Executor#backward()} writes
 * every parameter's gradient afresh (the first contribution overwrites, fan-out adds). So a training loop
 * needs no {@code zeroGrad()}; {@link #zeroGrad(Executor)} exists for loops that read gradients before any
 * backward and fills them with zeros.
 *
 * <h2>State</h2>
 * {@link #state(Executor)} copies the state to the host under PyTorch-like names
 * ({@code "<parameter>.<state>"}, e.g. {@code "dense1.weight.momentum_buffer"}) for a checkpoint, and
 * {@link #loadState(Executor, Map)} puts it back. An optimizer is bound to the first executor it steps; it
 * owns its device state and frees it on {@link #close()}. Not thread-safe.
 */
public interface Optimizer extends AutoCloseable {
    /**
     * One update of every parameter of {@code exec}'s graph from the gradients of the last backward pass,
     * run on the device (the global gradient norm included).
     *
     * @return the step's report; its gradient norm is read from the device only when asked
     */
    StepReport step(Executor exec);

    /** Steps taken so far. */
    long steps();

    /**
     * Tells the optimizer that its last {@link #step} was skipped by the device-side guard (the gradient norm was
     * NaN or infinite, so no weight or state changed), as a caller learns when it reads the norm back
     * ({@link dev.jacobian.train.Trainer#step} does, and calls this). Optimizers whose update depends on the
     * number of updates applied take that step back: Adam's bias corrections then count only the updates that
     * happened, as PyTorch's would when a skipped step never calls {@code step()}. The default does nothing.
     */
    default void stepSkipped() {
    }

    /** The current learning rate. */
    float learningRate();

    /**
     * Changes the learning rate (schedules; halving after a rollback): finite and &gt;= 0, as PyTorch allows (a
     * cosine schedule with {@code eta_min = 0} ends at 0); otherwise {@link IllegalArgumentException}.
     */
    void setLearningRate(float lr);

    /** The global-norm clipping threshold, 0 when clipping by norm is off. */
    float clipNorm();

    /** Fills every gradient of {@code exec} with zeros (one kernel over the gradient arena). */
    default void zeroGrad(Executor exec) {
        exec.backend().fill(exec.gradientArena(), 0f);
    }

    /** Host copies of the optimizer's state, keyed {@code "<parameter>.<state>"}; empty before the first step. */
    Map<String, float[]> state(Executor exec);

    /** Restores state written by {@link #state}; unknown keys or wrong sizes are an {@link IllegalArgumentException}. */
    void loadState(Executor exec, Map<String, float[]> state);

    /** Frees the device state. */
    @Override
    void close();
}
