package dev.jacobian.metrics;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.data.ByteRows;
import dev.jacobian.data.Dataset;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.graph.Executor;
import dev.jacobian.nn.Model;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * Evaluates a classifier batch by batch on its backend and accumulates the loss, the confusion matrix and the
 * target ranks ({@link Evaluation}). Per batch it uploads the samples and their targets, runs the forward pass
 * to the loss, and computes on the device, from the scores {@code S [rows, classes]}:
 * <ul>
 *   <li>the predicted class, {@code argmax_j S[i, j]} ({@link Reduction#ARGMAX});</li>
 *   <li>the target's rank, the count of classes scoring strictly above the target:
 *       {@code s_i = sum_j S[i, j] onehot[i, j]}, {@code rank_i = sum_j clamp(sign(S[i, j] - s_i), 0, 1)}, composed
 *       from broadcasting {@link BinaryOp}s, {@link UnaryOp#SIGN}, {@link UnaryOp#CLAMP} and {@code sumTo}; the
 *       one-hot rows are the targets themselves for dense-target losses, and
 *       {@code 1 - clamp(|j - y_i|, 0, 1)} from the class-index targets otherwise;</li>
 * </ul>
 * then reads back, in one transfer, the loss and two numbers per sample (class and rank): {@code 2 rows + 1}
 * floats. Ties count in the target's favour ({@link TopK}); a NaN target score gives {@link TopK#NO_RANK}.
 *
 * <p>Owns a few tensors per batch size (freed by {@link #close()}). Not thread-safe.
 */
public final class Evaluator implements AutoCloseable {
    private final Model model;
    private final int classes;
    private final Map<Integer, Buffers> buffers = new HashMap<>();
    private Tensor columnIndex;
    private MeanLoss loss = new MeanLoss();
    private ConfusionMatrix confusion;
    private TopK topK;

    /** The scratch tensors of one batch size. */
    private record Buffers(Tensor oneHot, Tensor work, Tensor targetScore, Tensor ranks, Tensor predicted, Tensor out) {
        void close() {
            oneHot.close();
            work.close();
            targetScore.close();
            ranks.close();
            predicted.close();
            out.close();
        }
    }

    /** An evaluator of {@code model}, a classifier over {@code model.outputSize()} classes. */
    public Evaluator(Model model) {
        this.model = java.util.Objects.requireNonNull(model, "model");
        this.classes = model.outputSize();
        this.confusion = new ConfusionMatrix(classes);
        this.topK = new TopK(classes);
    }

    /**
     * Evaluates all {@code labels.length} samples of {@code x} in batches of {@code batch} in evaluation mode
     * ({@link Model#eval()}; the model's mode is restored afterwards), from fresh accumulators.
     *
     * @throws IllegalArgumentException when {@code batch < 1}, there are no samples, {@code x} does not hold exactly
     *                                  {@code labels.length} samples, a label is outside the classes, or an input
     *                                  value is NaN or infinite
     */
    public Evaluation evaluate(float[] x, int[] labels, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1: " + batch);
        }
        if (labels.length == 0) { // the loss of nothing is NaN
            throw new IllegalArgumentException("evaluate: no samples to evaluate");
        }
        long values = (long) labels.length * model.inputSize();
        if (x.length != values) { // samples beyond the labels, or stray values, would be ignored silently
            throw new IllegalArgumentException("evaluate: x must have labels.length * " + model.inputSize() + " = "
                    + values + " values: " + x.length);
        }
        reset();
        Executor exec = model.executor();
        boolean training = exec.isTraining();
        exec.train(false);
        try {
            for (int start = 0; start < labels.length; start += batch) {
                add(x, labels, start, Math.min(batch, labels.length - start));
            }
        } finally {
            exec.train(training);
        }
        return result();
    }

    /**
     * Evaluates all samples of {@code data} in batches of {@code batch}, as {@link #evaluate(float[], int[], int)} does
     * on {@code data.floats(0, data.size())} and {@code data.labels()} (the same batches, the same numbers), but
     * gathering each batch's floats into one buffer instead of converting the whole set; an {@link ImageDataset} (or a
     * view of one) stays in bytes, and the backend converts each batch's images as it uploads them
     * ({@link ImageDataset#byteRows}, {@code Backend.uploadByteRows}): the same floats.
     *
     * @throws IllegalArgumentException when {@code batch < 1}, the set is empty, the samples do not have
     *                                  {@code model.inputSize()} values, a label is outside the classes, or an input
     *                                  value is NaN or infinite
     */
    public Evaluation evaluate(Dataset data, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1: " + batch);
        }
        int f = data.features();
        if (f != model.inputSize()) {
            throw new IllegalArgumentException(data.name() + ": samples of " + f + " values, but the model takes "
                    + model.inputSize());
        }
        int n = data.size();
        if (n == 0) {
            throw new IllegalArgumentException("evaluate: " + data.name() + " has no samples to evaluate");
        }
        int[] labels = data.labels();
        ImageDataset images = data instanceof ImageDataset i ? i : null;
        float[] x = images != null ? null : new float[Math.multiplyExact(Math.min(batch, n), f)];
        reset();
        Executor exec = model.executor();
        boolean training = exec.isTraining();
        exec.train(false);
        try {
            for (int start = 0; start < n; start += batch) {
                int rows = Math.min(batch, n - start);
                int[] batchLabels = java.util.Arrays.copyOfRange(labels, start, start + rows);
                if (images != null) { // bytes, always finite, converted by the backend as it uploads them
                    ByteRows bytes = images.byteRows(start, rows);
                    exec.feedBytes(model.input(), bytes.source(), bytes.offsets(), rows, bytes.divisor());
                    addFed(batchLabels, rows);
                    continue;
                }
                for (int i = 0; i < rows; i++) {
                    data.copyFeatures(start + i, x, i * f);
                }
                Checks.finiteSamples(data.name(), x, 0, rows, f, start);
                exec.feed(model.input(), x, 0, rows);
                addFed(batchLabels, rows);
            }
        } finally {
            exec.train(training);
        }
        return result();
    }

    /**
     * Adds one batch: samples {@code [firstRow, firstRow + rows)} of {@code x} (row-major,
     * {@code model.inputSize()} values each) with labels {@code labels[firstRow ..]}. Runs in the model's current
     * mode.
     *
     * @throws IllegalArgumentException when the rows do not fit, a label is outside the classes, or an input value
     *                                  is NaN or infinite (it would be counted as some class: ReLU turns a NaN into 0)
     */
    public void add(float[] x, int[] labels, int firstRow, int rows) {
        long end = (long) firstRow + rows; // in long: an int sum could overflow past the checks
        if (rows < 1 || firstRow < 0 || end > labels.length) {
            throw new IllegalArgumentException("rows [" + firstRow + ", " + end + ") do not fit in "
                    + labels.length + " labels");
        }
        int f = model.inputSize();
        if (end * f > x.length) {
            throw new IllegalArgumentException("evaluate: rows [" + firstRow + ", " + end + ") of " + f
                    + " values each do not fit in an array of " + x.length);
        }
        Checks.finiteSamples("evaluate", x, firstRow, rows, f, firstRow);
        addBatch(x, labels, firstRow, rows);
    }

    /** {@link #add} after its checks. */
    private void addBatch(float[] x, int[] labels, int firstRow, int rows) {
        int[] batchLabels = java.util.Arrays.copyOfRange(labels, firstRow, firstRow + rows);
        model.executor().feed(model.input(), x, firstRow, rows);
        addFed(batchLabels, rows);
    }

    /** Adds one batch whose {@code rows} samples are fed to the model's input, with their labels. */
    private void addFed(int[] batchLabels, int rows) {
        Executor exec = model.executor();
        Backend b = exec.backend();
        exec.feed(model.targets(), model.encodeTargets(batchLabels), 0, rows);
        Tensor lossValue = exec.forward(model.loss(), rows);
        Tensor scores = exec.value(model.logits());
        Tensor targets = exec.value(model.targets());
        Buffers buf = buffers.computeIfAbsent(rows, this::allocate);
        Tensor oneHot = targets;
        if (model.lossKind().classIndexTargets()) {
            if (columnIndex == null) {
                float[] idx = new float[classes];
                for (int j = 0; j < classes; j++) {
                    idx[j] = j;
                }
                columnIndex = b.fromHost(Shape.matrix(1, classes), idx);
            }
            oneHot = buf.oneHot();
            b.binary(BinaryOp.SUB, columnIndex, targets, oneHot);       // j - y_i
            b.unary(UnaryOp.ABS, 0f, 0f, oneHot, oneHot);
            b.unary(UnaryOp.CLAMP, 0f, 1f, oneHot, oneHot);             // 0 on the target, 1 elsewhere
            b.unary(UnaryOp.MUL_SCALAR, -1f, 0f, oneHot, oneHot);
            b.unary(UnaryOp.ADD_SCALAR, 1f, 0f, oneHot, oneHot);        // 1 on the target, 0 elsewhere
        }
        b.binary(BinaryOp.MUL, scores, oneHot, buf.work());
        b.sumTo(buf.work(), buf.targetScore(), false);                  // s_i
        b.binary(BinaryOp.SUB, scores, buf.targetScore(), buf.work());
        b.unary(UnaryOp.SIGN, 0f, 0f, buf.work(), buf.work());
        b.unary(UnaryOp.CLAMP, 0f, 1f, buf.work(), buf.work());         // 1 where S[i, j] > s_i
        b.sumTo(buf.work(), buf.ranks(), false);
        b.reduce(Reduction.ARGMAX, Axis.COLS, scores, buf.predicted(), false);
        b.copy(lossValue, 0, buf.out(), 0, 1);
        b.copy(buf.predicted(), 0, buf.out(), 1, rows);
        b.copy(buf.ranks(), 0, buf.out(), 1 + rows, rows);
        float[] host = buf.out().download();
        loss.add(host[0], rows);
        int[] predicted = new int[rows];
        for (int i = 0; i < rows; i++) {
            predicted[i] = (int) host[1 + i];
            float r = host[1 + rows + i];
            topK.add(Float.isNaN(r) ? TopK.NO_RANK : (int) r);
        }
        confusion.add(batchLabels, predicted);
    }

    private Buffers allocate(int rows) {
        Backend b = model.backend();
        Shape wide = Shape.matrix(rows, classes);
        Shape column = Shape.matrix(rows, 1);
        return new Buffers(b.allocate(wide), b.allocate(wide), b.allocate(column), b.allocate(column),
                b.allocate(column), b.allocate(Shape.matrix(1, 2 * rows + 1)));
    }

    /** What the batches added since the last {@link #reset()} measured; the next batches go to new accumulators. */
    public Evaluation result() {
        Evaluation e = new Evaluation(loss.value(), confusion, topK);
        reset();
        return e;
    }

    /** Starts new accumulators. */
    public void reset() {
        loss = new MeanLoss();
        confusion = new ConfusionMatrix(classes);
        topK = new TopK(classes);
    }

    @Override
    public void close() {
        buffers.values().forEach(Buffers::close);
        buffers.clear();
        if (columnIndex != null) {
            columnIndex.close();
            columnIndex = null;
        }
    }
}
