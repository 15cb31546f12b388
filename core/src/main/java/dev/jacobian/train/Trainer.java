package dev.jacobian.train;

import dev.jacobian.nn.Model;
import dev.jacobian.optim.Sgd;
import dev.jacobian.optim.StepReport;

/**
 * One training step: upload the batch, forward to the loss, backpropagate, update, then read the loss
 * (the one number every step reports). The whole step runs on the model's backend.
 *
 * <pre>{@code
 * Trainer t = new Trainer(model, Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5).build());
 * StepResult r = t.step(x, model.encodeTargets(labels), 0, 128);
 * }</pre>
 *
 * A NaN or infinite loss throws {@link NonFiniteLossException}; when the gradients were not finite
 * either, the optimizer's device-side guard already left the weights as they were.
 */
public final class Trainer {
    private final Model model;
    private final Sgd optimizer;
    private long steps;

    public Trainer(Model model, Sgd optimizer) {
        this.model = model;
        this.optimizer = optimizer;
    }

    public Model model() {
        return model;
    }

    public Sgd optimizer() {
        return optimizer;
    }

    /** Steps taken so far. */
    public long steps() {
        return steps;
    }

    /** Sets the step counter (after restoring a checkpoint). */
    public void setSteps(long steps) {
        this.steps = steps;
    }

    /**
     * Trains on {@code rows} samples starting at sample {@code firstRow} of {@code x} (row-major,
     * {@code model.inputSize()} values each) and {@code targets} ({@code model.targetColumns()} values
     * each, see {@link Model#encodeTargets}).
     */
    public StepResult step(float[] x, float[] targets, int firstRow, int rows) {
        var exec = model.executor();
        exec.feed(model.input(), x, firstRow, rows);
        exec.feed(model.targets(), targets, firstRow, rows);
        var loss = exec.forward(model.loss(), rows);
        exec.backward();
        StepReport report = optimizer.step(exec);
        steps++;
        float value = loss.get(0);
        if (!Float.isFinite(value)) {
            throw new NonFiniteLossException(steps, value, report.gradNorm(), !report.finite());
        }
        return new StepResult(steps, value, report);
    }
}
