package dev.jacobian.parallel;

import dev.jacobian.graph.Executor;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.StepReport;
import dev.jacobian.train.NonFiniteLossException;
import dev.jacobian.train.StepResult;
import java.util.Objects;

/**
 * The model that data-parallel training updates and the optimizer that updates it: it takes the sum of every
 * shard's gradient ({@link Shards#weightedSum}), runs the optimizer's step on it (the clipping norm is the
 * <em>summed</em> gradient's, so clipping acts as it would on one worker) and reports the step as
 * {@link dev.jacobian.train.Trainer#step} does. Its optimizer state is the only one; the replicas copy its
 * parameters before each step. One thread at a time.
 */
public final class Leader {
    private final Model model;
    private final Replica arenas;
    private final Optimizer optimizer;

    /** The leader {@code model}, updated by {@code optimizer} (neither is owned: their creator closes them). */
    public Leader(Model model, Optimizer optimizer) {
        this.model = Objects.requireNonNull(model, "model");
        this.arenas = new Replica(model);
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
    }

    /** The model this leader updates. */
    public Model model() {
        return model;
    }

    /** The number of parameter values the leader takes ({@link Replica#parameterCount()}). */
    public int parameterCount() {
        return arenas.parameterCount();
    }

    /** Downloads the leader's parameters, packed, into {@code out} ({@link Replica#parameters}). */
    public void parameters(float[] out) {
        arenas.parameters(out);
    }

    /**
     * Uploads packed parameters into the leader (e.g. a cluster's averaged parameters), each finite.
     *
     * @throws IllegalArgumentException when the count is wrong, or a value is NaN or infinite (naming the parameter
     *                                  and the index); nothing is uploaded then
     */
    public void setParameters(float[] values) {
        int bad = dev.jacobian.backend.Checks.firstNonFinite(values);
        if (bad >= 0) { // one pass per call: a cluster calls it once per round, not per step
            int at = bad;
            for (dev.jacobian.graph.Parameter p : model.executor().layout().order()) {
                long size = p.shape().size();
                if (at < size) {
                    throw new IllegalArgumentException("data parallel: parameter '" + p.name() + "' " + p.shape()
                            + ": value " + at + " is " + values[bad] + "; a model's parameters must be finite");
                }
                at -= (int) size;
            }
        }
        arenas.setParameters(values);
    }

    /**
     * The leader's buffers (batch norm's running statistics), packed ({@link Replica#buffers()}): what a cluster's
     * tasks start a step from.
     */
    public float[] buffers() {
        return arenas.buffers();
    }

    /**
     * Writes packed buffers into the leader: those a cluster's first shard's forward left, as they are (a step whose
     * loss is not finite may have left them so, as a forward on the leader itself would; the step then fails).
     *
     * @throws IllegalArgumentException when the count is wrong; nothing is written then
     */
    public void setBuffers(float[] values) {
        arenas.setBuffers(values);
    }

    /** The optimizer that updates it. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /**
     * One optimizer step from {@code gradient} (every parameter's gradient, packed as {@link Replica#parameterCount()}
     * says: the batch's gradient summed from its shards)
     * whose batch had mean loss {@code loss}.
     *
     * @throws NonFiniteLossException when the loss or the gradient norm is NaN or infinite; when the norm is, the
     *                                optimizer's device-side guard left the weights and state as they were
     */
    public StepResult apply(float[] gradient, float loss) {
        Executor exec = model.executor();
        if (gradient.length != arenas.parameterCount()) {
            throw new IllegalArgumentException("data parallel: " + gradient.length + " gradient values for a model of "
                    + arenas.parameterCount());
        }
        arenas.upload(gradient, exec.gradientArena());
        StepReport report = optimizer.step(exec);
        return StepResult.checked(optimizer, report.step(), loss, report.gradNorm(), new int[0]);
    }
}
