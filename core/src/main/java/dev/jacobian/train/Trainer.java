package dev.jacobian.train;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.PendingRead;
import dev.jacobian.backend.Reduction;
import dev.jacobian.data.Batch;
import dev.jacobian.data.ByteRows;
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
 * {@link #submit} enqueues a step without waiting for it. Owns a small arg-max tensor per batch size when
 * predictions are tracked (freed by {@link #close()}). Not thread-safe.
 */
public final class Trainer implements AutoCloseable {
    private final Model model;
    private final Optimizer optimizer;
    private final Map<Integer, Tensor> argmax = new HashMap<>();
    private boolean trackPredictions;
    private long steps;

    /** A trainer of {@code model} with any {@link Optimizer} (e.g. {@link dev.jacobian.optim.Sgd}). */
    public Trainer(Model model, Optimizer optimizer) {
        this.model = java.util.Objects.requireNonNull(model, "model");
        this.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
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

    /** Sets the step counter (after restoring a checkpoint): {@code >= 0}, else an {@link IllegalArgumentException}. */
    public void setSteps(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0: " + steps);
        }
        this.steps = steps;
    }

    /**
     * Trains on {@code rows} samples starting at sample {@code firstRow} of {@code x} (row-major,
     * {@code model.inputSize()} values each) and {@code targets} ({@code model.targetColumns()} values
     * each, see {@link Model#encodeTargets}); both arrays must hold the same number of samples
     * ({@link Model#checkSamples}), and class-index targets are checked first ({@link Model#checkTargets}).
     * Waits for the step's numbers: {@code submit(...).result()}.
     *
     * @throws NonFiniteLossException when the loss or the gradient norm is NaN or infinite
     */
    public StepResult step(float[] x, float[] targets, int firstRow, int rows) {
        return submit(x, targets, firstRow, rows).result();
    }

    /**
     * Enqueues one training step (as {@link #step}) and returns without waiting for the device: its numbers (loss,
     * gradient norm, predictions) come back in one non-blocking read ({@link Backend#readLater}) that
     * {@link PendingStep#result()} collects. A loop that submits step {@code N + 1} before it reads step {@code N},
     * or that reads every k-th step only, keeps the device busy while the host prepares the next batch; on OpenCL
     * such a step makes no blocking call at all. The weights are protected without the host: a step whose gradients
     * are not finite changes nothing on the device. Reading a step reports it as {@link #step} would; with an
     * adaptive optimizer, a skipped step found only after later steps were submitted has had those steps use a bias
     * correction one step ahead (see {@link Optimizer#stepSkipped}).
     */
    public PendingStep submit(float[] x, float[] targets, int firstRow, int rows) {
        Executor exec = model.executor();
        model.checkSamples("step", x, targets); // targets of the other layout would train on wrong labels
        model.checkTargets(targets, firstRow, rows); // a bad class index never reaches a kernel
        exec.feed(model.input(), x, firstRow, rows);
        exec.feed(model.targets(), targets, firstRow, rows);
        return run(exec, rows);
    }

    /**
     * Trains on a data loader's batch: its {@link Batch#rows()} samples and its encoded {@link Batch#targets()}. When
     * the loader left the images as bytes ({@link dev.jacobian.data.DataLoader.Builder#keepBytes}), the backend
     * gathers and converts them as it uploads them ({@link Backend#uploadByteRows}), else their floats are uploaded
     * ({@link #step(float[], float[], int, int)}); the step is the same, to the bit.
     *
     * @throws IllegalArgumentException when the batch's samples do not have the model's input size
     * @throws IllegalStateException    when the loader encodes no targets
     * @throws NonFiniteLossException   when the loss or the gradient norm is NaN or infinite
     */
    public StepResult step(Batch batch) {
        return submit(batch).result();
    }

    /** Enqueues a step on a data loader's batch ({@link #step(Batch)}), as {@link #submit(float[], float[], int, int)}. */
    public PendingStep submit(Batch batch) {
        ByteRows bytes = batch.byteRows();
        if (bytes == null) {
            return submit(batch.features(), batch.targets(), 0, batch.rows());
        }
        Executor exec = model.executor();
        float[] targets = batch.targets();
        int rows = batch.rows();
        int columns = model.inputSize();
        int tc = model.targetColumns();
        if (bytes.rowLength() != columns) {
            throw new IllegalArgumentException("step: the batch's samples have " + bytes.rowLength()
                    + " values but the model's input has " + columns);
        }
        if (targets.length % tc != 0 || targets.length / tc < rows) {
            throw new IllegalArgumentException("step: the batch holds " + rows + " samples but its targets "
                    + targets.length + " values, not " + rows + " of " + tc + (tc == 1 ? " value" : " values")
                    + " (model.targetColumns()); encode labels with model.encodeTargets");
        }
        model.checkTargets(targets, 0, rows);
        exec.feedBytes(model.input(), bytes.source(), bytes.offsets(), rows, bytes.divisor());
        exec.feed(model.targets(), targets, 0, rows);
        return run(exec, rows);
    }

    /** The step once its inputs are fed: forward, backward, update, and the read of its numbers. */
    private PendingStep run(Executor exec, int rows) {
        Backend b = exec.backend();
        Tensor loss = exec.forward(model.loss(), rows);
        Tensor classes = null;
        if (trackPredictions) {
            // the scores are overwritten by nothing until the next forward; take their arg-max now
            classes = argmax.computeIfAbsent(rows, r -> b.allocate(Shape.matrix(r, 1)));
            b.reduce(Reduction.ARGMAX, Axis.COLS, exec.value(model.logits()), classes, false);
        }
        exec.backward();
        StepReport report = optimizer.step(exec);
        steps++;
        PendingRead read = classes == null ? b.readLater(loss, report.gradNormSquared())
                : b.readLater(loss, report.gradNormSquared(), classes);
        return new PendingStep(steps, read, classes == null ? 0 : rows);
    }

    /** A submitted step whose numbers are on their way to the host ({@link #submit}). */
    public final class PendingStep {
        private final long step;
        private final PendingRead read;
        private final int predictions;
        private StepResult result;

        private PendingStep(long step, PendingRead read, int predictions) {
            this.step = step;
            this.read = read;
            this.predictions = predictions;
        }

        /** The step's number, counted from 1. */
        public long step() {
            return step;
        }

        /** Whether the step's numbers have arrived (never waits). */
        public boolean done() {
            return result != null || read.done();
        }

        /**
         * The step's numbers, waiting for the device if they have not arrived.
         *
         * @throws NonFiniteLossException when the loss or the gradient norm is NaN or infinite (on the first call; the
         *                                optimizer is then told the step was skipped)
         */
        public StepResult result() {
            if (result == null) {
                float[] host = read.await();
                float value = host[0];
                float norm = (float) Math.sqrt(host[1]);
                int[] classes = new int[predictions];
                for (int i = 0; i < predictions; i++) {
                    classes[i] = (int) host[2 + i];
                }
                try {
                    result = StepResult.checked(optimizer, step, value, norm, classes);
                } catch (NonFiniteLossException e) {
                    result = new StepResult(step, value, norm, false, new int[0]); // reported once
                    throw e;
                }
            }
            return result;
        }
    }

    @Override
    public void close() {
        argmax.values().forEach(Tensor::close);
        argmax.clear();
    }
}
