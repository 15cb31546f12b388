package dev.jacobian.nn;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Input;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;

/**
 * A trainable network on a backend: its graph, the executor that owns its tensors, and the nodes a
 * training loop needs ({@link #input()}, {@link #targets()}, {@link #logits()}, {@link #loss()}).
 * Made by {@link Sequential}; closing it frees every tensor.
 */
public final class Model implements AutoCloseable {
    private final Graph graph;
    private final Executor executor;
    private final Input input;
    private final Input targets;
    private final Node logits;
    private final Node loss;
    private final Node predictedClass;
    private final LossKind lossKind;
    private final List<Layer> layers;
    private final int outputs;
    private final String description;
    private final ModuleSpec architecture;
    private boolean closed;

    /**
     * A model of any {@link Module}: an input of per-sample shape {@code sampleShape}, the module's output as
     * the scores, and the batch-mean {@code loss} on them (targets laid out as {@link #encodeTargets} says).
     * The parameters are created, initialized from {@code seed} and placed in the executor's arena.
     *
     * @throws IllegalArgumentException when the module's output is not a matrix {@code [batch, classes]} (its
     *     shape rules name the offending layer and shapes)
     */
    public static Model of(Module net, Shape sampleShape, LossKind loss, Backend backend, long seed) {
        java.util.Objects.requireNonNull(net, "net");
        java.util.Objects.requireNonNull(sampleShape, "sampleShape");
        java.util.Objects.requireNonNull(loss, "loss");
        java.util.Objects.requireNonNull(backend, "backend");
        Graph g = new Graph();
        Input x = g.input("x", sampleShape);
        Node logits = net.forward(x);
        Shape out = g.shapeOf(logits, 2);
        if (out.rank() != 2 || out.dim(0) != 2) {
            throw new IllegalArgumentException("model: " + net.describe() + " gives scores of shape " + out
                    + " for a batch of 2 samples of " + sampleShape + "; a loss needs [batch, classes]"
                    + " (flatten the samples first: Modules.flatten())");
        }
        int classes = out.cols();
        Input y = g.input("y", loss.classIndexTargets() ? 1 : classes);
        Node lossNode = g.loss(loss, logits, y);
        ModuleSpec options = ModuleSpec.of(MODEL, "sample_shape",
                java.util.Arrays.stream(sampleShape.dims()).boxed().toList(), "loss", loss.name(), "seed", seed);
        ModuleSpec arch = new ModuleSpec(MODEL, options.options(), List.of(net.spec())); // options in a fixed order
        return new Model(g, backend, seed, x, y, logits, lossNode, loss, List.of(), classes,
                net.describe() + " " + loss.name().toLowerCase(java.util.Locale.ROOT), arch);
    }

    /** The type of the architecture of a model made by {@link #of}: its one child is the module. */
    public static final String MODEL = "model";

    /**
     * Builds the model an {@link #architecture()} describes, on {@code backend}, its parameters initialized from the
     * architecture's seed (a model file then overwrites them: {@link dev.jacobian.io.ModelFile#load}).
     *
     * @throws IllegalArgumentException naming the option or module that is missing or wrong, or a module of the
     *     user's own ({@link ModuleSpec#CUSTOM}), which only its author can build
     */
    public static Model fromArchitecture(ModuleSpec architecture, Backend backend) {
        return switch (architecture.type()) {
            case MODEL -> {
                if (architecture.children().size() != 1) {
                    throw new IllegalArgumentException("model: needs exactly one module, got "
                            + architecture.children().size());
                }
                yield of(Modules.fromSpec(architecture.children().get(0)), Shape.of(architecture.integers("sample_shape")),
                        lossKind(architecture.text("loss")), backend, architecture.longInteger("seed"));
            }
            case Sequential.MLP -> Sequential.Builder.fromSpec(architecture).build(backend);
            default -> throw new IllegalArgumentException("unknown model architecture '" + architecture.type()
                    + "'; expected " + MODEL + " or " + Sequential.MLP);
        };
    }

    static LossKind lossKind(String name) {
        for (LossKind k : LossKind.values()) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown loss '" + name + "'; expected one of "
                + java.util.Arrays.toString(LossKind.values()));
    }

    Model(Graph graph, Backend backend, long seed, Input input, Input targets, Node logits, Node loss,
          LossKind lossKind, List<Layer> layers, String description, ModuleSpec architecture) {
        this(graph, backend, seed, input, targets, logits, loss, lossKind, layers,
                layers.get(layers.size() - 1).units(), description, architecture);
    }

    private Model(Graph graph, Backend backend, long seed, Input input, Input targets, Node logits, Node loss,
                  LossKind lossKind, List<Layer> layers, int outputs, String description, ModuleSpec architecture) {
        this.architecture = architecture;
        this.outputs = outputs;
        this.graph = graph;
        this.input = input;
        this.targets = targets;
        this.logits = logits;
        this.loss = loss;
        this.lossKind = lossKind;
        this.layers = List.copyOf(layers);
        this.description = description;
        this.predictedClass = graph.reduce(logits, Reduction.ARGMAX, Axis.COLS);
        this.executor = new Executor(graph, backend, seed);
    }

    /**
     * What this model is, as data: a {@value #MODEL} spec (the per-sample shape, the loss, the seed and the module
     * of {@link #of}) or an {@value Sequential#MLP} spec (the settings of {@link Sequential#builder}).
     * {@link #fromArchitecture} builds the same model again; a model file stores it
     * ({@link dev.jacobian.io.ModelFile}).
     */
    public ModuleSpec architecture() {
        return architecture;
    }

    /**
     * Saves this model's architecture, parameters and buffers to {@code file}, atomically, in safetensors with
     * PyTorch's names and layouts ({@link dev.jacobian.io.ModelFile#save(Model, Path)}).
     */
    public void save(Path file) throws java.io.IOException {
        dev.jacobian.io.ModelFile.save(this, file);
    }

    /**
     * Builds the model saved in {@code file} on {@code backend} with its weights
     * ({@link dev.jacobian.io.ModelFile#load(Path, Backend)}).
     *
     * @throws dev.jacobian.io.ModelFormatException naming the file and the problem, for any file that is not such a
     *     model
     */
    public static Model load(Path file, Backend backend) throws dev.jacobian.io.ModelFormatException {
        return dev.jacobian.io.ModelFile.load(file, backend);
    }

    /** The graph of the network, its loss and its predicted class. */
    public Graph graph() {
        return graph;
    }

    /**
     * The executor that owns this model's tensors (parameters, activations, gradients).
     *
     * @throws IllegalStateException when the model is closed
     */
    public Executor executor() {
        ensureOpen();
        return executor;
    }

    /** An {@link IllegalStateException} naming this model once it is closed. */
    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("model " + description + " is closed");
        }
    }

    /** The backend the executor runs on. */
    public Backend backend() {
        return executor.backend();
    }

    /** The fed input: tensors {@code [batch, ...]} of the per-sample shape. */
    public Input input() {
        return input;
    }

    /**
     * The fed targets, laid out as {@link #encodeTargets} says: {@code [batch, 1]} class indices or
     * {@code [batch, classes]} rows (see {@link #targetColumns()}).
     */
    public Input targets() {
        return targets;
    }

    /** The network's output scores {@code [batch, classes]}, before the loss (no softmax applied). */
    public Node logits() {
        return logits;
    }

    /** The scalar training objective: batch-mean loss plus the L2 penalty, if any. */
    public Node loss() {
        return loss;
    }

    /** The loss the model is trained with; it fixes the target layout. */
    public LossKind lossKind() {
        return lossKind;
    }

    /** Training mode (the default): operations such as dropout act; as PyTorch's {@code model.train()}. */
    public Model train() {
        executor.train(true);
        return this;
    }

    /** Evaluation mode: operations read {@code training() == false}; as PyTorch's {@code model.eval()}. */
    public Model eval() {
        executor.train(false);
        return this;
    }

    /** The layers made by {@link Sequential#builder} (for diagnostics); empty for a model made by {@link #of}. */
    public List<Layer> layers() {
        return layers;
    }

    /** Every learnable parameter of the graph, in creation order. */
    public List<Parameter> parameters() {
        return graph.parameters();
    }

    /** Values per input sample (the size of the per-sample shape). */
    public int inputSize() {
        return input.columns();
    }

    /** Number of output units (classes). */
    public int outputSize() {
        return outputs;
    }

    /** Total number of learnable scalars. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : graph.parameters()) {
            n += p.shape().size();
        }
        return n;
    }

    /** A one-line summary, e.g. {@code 784-256(relu)-128(relu)-10 softmax_cross_entropy}. */
    public String describe() {
        return description;
    }

    /** Columns of the target tensor: 1 (class indices) or the output size (dense targets). */
    public int targetColumns() {
        return lossKind.classIndexTargets() ? 1 : outputSize();
    }

    /**
     * Host targets for class labels in this model's target layout: the labels themselves for
     * cross-entropy and hinge, one-hot rows for MSE and binary cross-entropy.
     *
     * @throws IllegalArgumentException when a label is outside {@code [0, outputSize())}, or the one-hot rows need more
     *     floats than an array holds
     */
    public float[] encodeTargets(int[] labels) {
        int c = outputSize();
        if (lossKind.classIndexTargets()) {
            float[] t = new float[labels.length];
            for (int i = 0; i < labels.length; i++) {
                checkLabel(labels[i], i, c);
                t[i] = labels[i];
            }
            return t;
        }
        long size = (long) labels.length * c;
        if (size > Checks.MAX_ARRAY_LENGTH) { // labels.length * c overflowed int: a NegativeArraySizeException
            throw new IllegalArgumentException("encodeTargets: " + labels.length + " labels of " + c + " classes need "
                    + size + " floats, more than an array holds; encode them in smaller batches");
        }
        float[] t = new float[(int) size];
        for (int i = 0; i < labels.length; i++) {
            checkLabel(labels[i], i, c);
            t[i * c + labels[i]] = 1f;
        }
        return t;
    }

    /**
     * Checks {@code rows} samples of encoded targets starting at sample {@code firstRow} (as {@link #encodeTargets}
     * lays them out) before they reach the device: for class-index losses every value must be a whole number in
     * {@code [0, outputSize())} — a NaN or out-of-range index would otherwise give the step a NaN loss at best. One
     * pass over {@code rows} floats; other losses take any values.
     *
     * @throws IllegalArgumentException naming the sample and the value, or the rows when they do not fit in
     *     {@code targets}
     */
    public void checkTargets(float[] targets, int firstRow, int rows) {
        if (!lossKind.classIndexTargets()) {
            return;
        }
        int classes = outputSize();
        if (firstRow < 0 || rows < 0 || (long) firstRow + rows > targets.length) {
            throw new IllegalArgumentException("targets: rows [" + firstRow + ", " + ((long) firstRow + rows)
                    + ") of 1 value each do not fit in an array of " + targets.length);
        }
        for (int i = firstRow; i < firstRow + rows; i++) {
            if (LossKind.classIndex(targets[i], classes) < 0) {
                throw new IllegalArgumentException("target of sample " + i + " is " + targets[i]
                        + ", not a class index in [0, " + classes + ")");
            }
        }
    }

    /**
     * Checks, in constant time, that {@code x} and {@code targets} of a training step hold the same number of whole
     * samples: {@code inputSize()} values each in {@code x}, {@code targetColumns()} each in {@code targets}. This
     * catches targets of the other layout (one-hot rows given to a class-index loss would otherwise be read as class
     * indices, 0s and 1s being valid ones) and stray values; {@code op} names the caller in the message.
     *
     * @throws IllegalArgumentException naming both counts
     */
    public void checkSamples(String op, float[] x, float[] targets) {
        java.util.Objects.requireNonNull(x, "x");
        java.util.Objects.requireNonNull(targets, "targets");
        int columns = input.columns();
        if (x.length % columns != 0) {
            throw new IllegalArgumentException(op + ": " + x.length + " values of x are not a whole number of samples of "
                    + columns + " (" + x.length % columns + " left over)");
        }
        int tc = targetColumns();
        if (targets.length % tc != 0 || targets.length / tc != x.length / columns) {
            throw new IllegalArgumentException(op + ": x holds " + x.length / columns + " samples of " + columns
                    + " values but targets hold " + (targets.length % tc == 0 ? Integer.toString(targets.length / tc)
                    : targets.length + " values, not a whole number") + " of " + tc + (tc == 1 ? " value" : " values")
                    + " (model.targetColumns()); encode labels with model.encodeTargets");
        }
    }

    private static void checkLabel(int label, int i, int classes) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " of sample " + i + " is outside [0, " + classes + ")");
        }
    }

    /**
     * Raw scores {@code [rows, outputs]} for {@code rows} samples starting at {@code firstRow}. Inference runs in
     * evaluation mode whatever the model's mode (dropout off, batch norm on its running statistics, which it
     * leaves as they are); the mode is restored afterwards.
     *
     * @throws IllegalArgumentException when the rows do not fit in {@code x}, or an input value is NaN or infinite
     */
    public float[] predictScores(float[] x, int firstRow, int rows) {
        feedInputs("predictScores", x, firstRow, rows);
        return inEvaluation(() -> executor.forward(logits, rows).download());
    }

    /**
     * The arg-max class of each of {@code rows} samples (computed on the device; {@code rows} floats come back), in
     * evaluation mode as {@link #predictScores}.
     *
     * @throws IllegalArgumentException when the rows do not fit in {@code x}, or an input value is NaN or infinite
     *     (it would give no class: ReLU, for one, turns a NaN into 0, and the arg-max of what follows is some class)
     */
    public int[] predictClasses(float[] x, int firstRow, int rows) {
        return classes("predictClasses", x, firstRow, rows);
    }

    /**
     * Feeds rows {@code [firstRow, firstRow + rows)} of {@code x} to the input after checking that every value is
     * finite (one pass over the rows, which inference can afford): {@code op} names the caller in the message.
     */
    private void feedInputs(String op, float[] x, int firstRow, int rows) {
        ensureOpen();
        executor.feed(input, x, firstRow, rows); // checks the range first
        Checks.finiteSamples(op, x, firstRow, rows, input.columns(), firstRow);
    }

    private int[] classes(String op, float[] x, int firstRow, int rows) {
        feedInputs(op, x, firstRow, rows);
        float[] idx = inEvaluation(() -> executor.forward(predictedClass, rows).download());
        int[] out = new int[rows];
        for (int i = 0; i < rows; i++) {
            out[i] = (int) idx[i];
        }
        return out;
    }

    private <T> T inEvaluation(java.util.function.Supplier<T> inference) {
        boolean training = executor.isTraining();
        executor.train(false);
        try {
            return inference.get();
        } finally {
            executor.train(training);
        }
    }

    /**
     * Predicted classes of all {@code x.length / inputSize()} samples, in batches of {@code batch}.
     *
     * @throws IllegalArgumentException when {@code x} is not a whole number of samples or {@code batch < 1}
     */
    public int[] predictClasses(float[] x, int batch) {
        return allClasses("predictClasses", x, samplesIn(x, batch, "predictClasses"), batch);
    }

    /** The classes of all {@code n} samples of {@code x}, in batches of {@code batch}. */
    private int[] allClasses(String op, float[] x, int n, int batch) {
        int[] out = new int[n];
        for (int start = 0; start < n; start += batch) {
            int rows = Math.min(batch, n - start);
            System.arraycopy(classes(op, x, start, rows), 0, out, start, rows);
        }
        return out;
    }

    /**
     * Fraction of samples whose predicted class equals the label.
     *
     * @throws IllegalArgumentException when {@code x} is not a whole number of samples, there is not one label per
     *                                  sample, a label is outside {@code [0, outputSize())}, an input value is not
     *                                  finite, or {@code batch < 1}
     */
    public double accuracy(float[] x, int[] labels, int batch) {
        int n = samplesIn(x, batch, "accuracy");
        if (labels.length != n) {
            throw new IllegalArgumentException("accuracy: " + labels.length + " labels for " + n + " samples");
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= outputs) { // it would count as a wrong prediction, silently
                throw new IllegalArgumentException("accuracy: label " + labels[i] + " of sample " + i
                        + " is outside [0, " + outputs + ")");
            }
        }
        int[] p = allClasses("accuracy", x, n, batch);
        int hit = 0;
        for (int i = 0; i < p.length; i++) {
            hit += p[i] == labels[i] ? 1 : 0;
        }
        return p.length == 0 ? 0 : (double) hit / p.length;
    }

    /** The number of samples in {@code x}, which must hold whole samples; {@code batch} must be positive. */
    private int samplesIn(float[] x, int batch, String op) {
        java.util.Objects.requireNonNull(x, "x");
        int columns = input.columns();
        if (x.length % columns != 0) {
            throw new IllegalArgumentException(op + ": " + x.length + " values are not a whole number of samples of "
                    + columns + " (" + x.length % columns + " left over)");
        }
        if (batch < 1) {
            throw new IllegalArgumentException(op + ": batch must be at least 1: " + batch);
        }
        return x.length / columns;
    }

    /** Copies a parameter's values to the host. */
    public float[] read(Parameter p) {
        return executor().value(p).download();
    }

    /**
     * Overwrites a parameter's values from the host (checkpoint restore).
     *
     * @throws IllegalArgumentException when the count is not the parameter's size, or a value is NaN or infinite (a
     *     model's weights must be finite: every prediction from them would be NaN)
     */
    public void write(Parameter p, float[] values) {
        Tensor t = executor().value(p);
        checkWrite("parameter", p.name(), p.shape(), t.size(), values);
        t.upload(values);
    }

    private static void checkWrite(String what, String name, Shape shape, long size, float[] values) {
        if (values.length != size) {
            throw new IllegalArgumentException(what + " '" + name + "' " + shape + " needs " + size
                    + " values, got " + values.length);
        }
        int bad = dev.jacobian.backend.Checks.firstNonFinite(values);
        if (bad >= 0) {
            throw new IllegalArgumentException(what + " '" + name + "' " + shape + ": value " + bad + " is "
                    + values[bad] + "; a model's " + what + "s must be finite");
        }
    }

    /** The non-trainable buffers (batch norm's running statistics) in creation order. */
    public List<Buffer> buffers() {
        return graph.buffers();
    }

    /** Copies a buffer's values to the host (e.g. {@code bn1.running_mean}). */
    public float[] read(Buffer b) {
        return executor().buffer(b).download();
    }

    /**
     * Overwrites a buffer's values from the host (checkpoint restore).
     *
     * @throws IllegalArgumentException when the count is not the buffer's size, or a value is NaN or infinite
     */
    public void write(Buffer b, float[] values) {
        Tensor t = executor().buffer(b);
        checkWrite("buffer", b.name(), b.shape(), t.size(), values);
        t.upload(values);
    }

    /** The buffer called {@code name}, e.g. {@code bn1.running_var}. */
    public Buffer buffer(String name) {
        for (Buffer b : graph.buffers()) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("no buffer named '" + name + "' in " + description);
    }

    /** The parameter called {@code name}. */
    public Parameter parameter(String name) {
        for (Parameter p : graph.parameters()) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("no parameter named '" + name + "' in " + description);
    }

    /** Frees every tensor; afterwards the model refuses work with an {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        closed = true;
        executor.close();
    }
}
