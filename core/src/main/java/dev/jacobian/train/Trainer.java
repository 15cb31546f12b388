package dev.jacobian.train;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.Executor;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.StepReport;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * One training step: upload the batch, forward to the loss, backpropagate, update — all on the
 * model's backend — then read back, in one transfer, the numbers the step reports: the loss, the
 * gradient norm and (optionally) the batch's predicted classes.
 *
 * <pre>{@code
 * Trainer t = new Trainer(model, Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5).build());
 * StepResult r = t.step(x, model.encodeTargets(labels), 0, 128);
 * }</pre>
 *
 * A NaN or infinite loss or gradient norm throws {@link NonFiniteLossException}; when the gradients
 * were not finite, the optimizer's device-side guard has already left the weights as they were.
 * Owns a few small report tensors per batch size (freed by {@link #close()}). Not thread-safe.
 */
public final class Trainer implements AutoCloseable {
    private final Model model;
    private final Optimizer optimizer;
    private final Map<Integer, Tensor> reports = new HashMap<>();
    private final Map<Integer, Tensor> argmax = new HashMap<>();
    private boolean trackPredictions;
    private long steps;

    /** A trainer of {@code model} with any {@link Optimizer} (e.g. {@link dev.jacobian.optim.Sgd}). */
    public Trainer(Model model, Optimizer optimizer) {
        this.model = model;
        this.optimizer = optimizer;
    }

    /** The model this trainer updates. */
    public Model model() {
        return model;
    }

    /** The optimizer that updates the model's parameters each step. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /**
     * Whether each step also reports the batch's predicted classes (arg-max of the scores, computed on
     * the device and read back with the loss), e.g. for the training accuracy. Off by default.
     */
    public Trainer trackPredictions(boolean on) {
        this.trackPredictions = on;
        return this;
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
     * each, see {@link Model#encodeTargets}); class-index targets are checked first ({@link Model#checkTargets}).
     */
    public StepResult step(float[] x, float[] targets, int firstRow, int rows) {
        Executor exec = model.executor();
        Backend b = exec.backend();
        exec.feed(model.input(), x, firstRow, rows);
        model.checkTargets(targets, firstRow, rows); // a bad class index never reaches a kernel
        exec.feed(model.targets(), targets, firstRow, rows);
        Tensor loss = exec.forward(model.loss(), rows);
        int extra = 0;
        if (trackPredictions) {
            // the scores are overwritten by nothing until the next forward; take their arg-max now
            Tensor classes = argmax.computeIfAbsent(rows, r -> b.allocate(Shape.matrix(r, 1)));
            b.reduce(Reduction.ARGMAX, Axis.COLS, exec.value(model.logits()), classes, false);
            extra = rows;
        }
        exec.backward();
        StepReport report = optimizer.step(exec);
        steps++;
        int size = 2 + extra;
        Tensor out = reports.computeIfAbsent(size, s -> b.allocate(Shape.matrix(1, s)));
        b.copy(loss, 0, out, 0, 1);
        b.copy(report.gradNormSquared(), 0, out, 1, 1);
        if (extra > 0) {
            b.copy(argmax.get(rows), 0, out, 2, rows);
        }
        float[] host = out.download();
        float value = host[0];
        float norm = (float) Math.sqrt(host[1]);
        if (!Float.isFinite(value) || !Float.isFinite(norm)) {
            if (!Float.isFinite(norm)) {
                optimizer.stepSkipped(); // the device-side guard left the weights and the state as they were
            }
            throw new NonFiniteLossException(steps, value, norm, !Float.isFinite(norm));
        }
        int[] predictions = new int[extra];
        for (int i = 0; i < extra; i++) {
            predictions[i] = (int) host[2 + i];
        }
        boolean clipped = optimizer.clipNorm() > 0f && norm >= optimizer.clipNorm();
        return new StepResult(steps, value, norm, clipped, predictions);
    }

    @Override
    public void close() {
        reports.values().forEach(Tensor::close);
        reports.clear();
        argmax.values().forEach(Tensor::close);
        argmax.clear();
    }
}
