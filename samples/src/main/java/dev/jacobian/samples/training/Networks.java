package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Parameter;
import dev.jacobian.io.ModelFile;
import dev.jacobian.io.ModelFormatException;
import dev.jacobian.io.SafeTensors;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Module;
import dev.jacobian.nn.Modules;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.Sgd;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.tensor.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the model and optimizer a {@link TrainConfig} describes, and moves their state to and from
 * checkpoints. A checkpoint's tensor file is a library model file ({@link ModelFile}: PyTorch's names and layouts, the
 * architecture, the optimizer's state, the early-stopping weights as {@value #BEST_PARAMETERS}). Checkpoints of the
 * legacy format ({@link CheckpointStore#LEGACY_FORMAT}) hold the tensors under the model's own names and layouts
 * ({@code dense1.weight} {@code [in, out]}), the optimizer's state under {@value #OPTIMIZER_PREFIX} plus its name,
 * and, in those of 0.1 and the first Core v2 runs, SGD's momentum buffers as
 * {@value #MOMENTUM_PREFIX}{@code <parameter>}; they still load.
 */
public final class Networks {
    /** Name prefix of the optimizer's state in a checkpoint. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";
    /** Name prefix of SGD's momentum buffers in checkpoints written before {@link #OPTIMIZER_PREFIX} named all state. */
    public static final String MOMENTUM_PREFIX = "optimizer.momentum.";
    /**
     * Name of the early-stopping copy of the best epoch's parameters in a checkpoint: the whole parameter arena
     * (every parameter in {@code ParameterLayout} order, with its alignment padding), one flat tensor.
     */
    public static final String BEST_PARAMETERS = ModelFile.EXTRA_PREFIX + "early_stopping.best_parameters";
    /** The name of {@link #BEST_PARAMETERS} in legacy checkpoints. */
    public static final String LEGACY_BEST_PARAMETERS = "early_stopping.best_parameters";

    private Networks() {
    }

    /** The convolution of every CNN block: 3x3, stride 1, padding 1 (the image keeps its size until the pool). */
    public static final Conv2dSpec CNN_CONV = Conv2dSpec.of(3, 1, 1);

    /**
     * The model of {@code config} for samples of {@code sample = [channels, height, width]} and {@code classes}
     * outputs, on {@code backend}.
     * <ul>
     *   <li>{@code mlp}: the samples flattened; each hidden layer is affine ({@code denseK}), then batch or layer
     *       norm if asked, the activation, then dropout if asked.</li>
     *   <li>{@code cnn}: for each of {@code channels}, a block {@code convK} (3x3, padding 1, no bias) &rarr;
     *       {@code bnK} (BatchNorm2d) &rarr; activation &rarr; 2x2 max pool (halving the image); then flatten, dropout
     *       if asked, and the dense layers of {@code layers} as in the MLP ({@code denseK}, activation, dropout),
     *       and the output layer. With the defaults on 28x28 images: conv 32 &rarr; pool &rarr; conv 64 &rarr; pool
     *       &rarr; conv 128 &rarr; pool (7x7 to 3x3) &rarr; dense 1152-128 &rarr; 10.</li>
     * </ul>
     *
     * @throws IllegalArgumentException when the image is too small for the CNN's pooling stages
     */
    public static Model model(TrainConfig config, Shape sample, int classes, Backend backend) {
        if (config.model().equals("cnn")) {
            return Model.of(cnn(config, sample, classes), sample, config.lossKind(), backend, config.seed());
        }
        Sequential.Builder b = Sequential.builder(sample.size());
        for (int units : config.layers()) {
            b.hidden(units, config.activation());
        }
        switch (config.norm()) {
            case "batch" -> b.batchNorm();
            case "layer" -> b.layerNorm();
            default -> { }
        }
        if (config.dropout() > 0) {
            b.dropout(config.dropout());
        }
        return b.output(classes, config.lossKind()).init(config.initScheme()).seed(config.seed()).l2(config.l2())
                .build(backend);
    }

    private static Initializer init(TrainConfig config) {
        return config.initScheme() == Sequential.Init.XAVIER ? Initializer.xavierUniform() : Initializer.heNormal();
    }

    /**
     * The image size after the CNN's pooling stages, {@code [height, width]}; an {@link IllegalArgumentException} when
     * one would be empty or the flattened features ({@code last channels x height x width}) exceed 2^31 - 1.
     */
    private static int[] pooledSize(TrainConfig config, Shape sample) {
        int h = sample.dim(1);
        int w = sample.dim(2);
        for (int k = 0; k < config.channels().size(); k++) {
            if (h < 2 || w < 2) {
                throw new IllegalArgumentException("--model cnn: images of " + sample.dim(1) + "x" + sample.dim(2)
                        + " are too small for " + config.channels().size() + " 2x2 pooling stages");
            }
            h /= 2;
            w /= 2;
        }
        long features = (long) config.channels().get(config.channels().size() - 1) * h * w;
        if (features > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--model cnn: " + config.channels().get(config.channels().size() - 1)
                    + " channels of " + h + "x" + w + " give " + features + " features, more than 2^31 - 1");
        }
        return new int[] {h, w};
    }

    private static Module cnn(TrainConfig config, Shape sample, int classes) {
        List<Module> m = new ArrayList<>();
        Initializer init = init(config);
        int[] pooled = pooledSize(config, sample);
        int in = sample.dim(0);
        int k = 1;
        for (int out : config.channels()) {
            m.add(Modules.conv2d("conv" + k, in, out, CNN_CONV, false, init));
            m.add(Modules.batchNorm("bn" + k, out));
            m.add(Modules.activation(config.activation()));
            m.add(Modules.maxPool2d(2, 2, 0));
            in = out;
            k++;
        }
        m.add(Modules.flatten());
        if (config.dropout() > 0) {
            m.add(Modules.dropout(config.dropout()));
        }
        int features = in * pooled[0] * pooled[1];
        int d = 1;
        for (int units : config.layers()) {
            m.add(Modules.dense("dense" + d, features, units, init));
            switch (config.norm()) {
                case "batch" -> m.add(Modules.batchNorm("dbn" + d, units));
                case "layer" -> m.add(Modules.layerNorm("dln" + d, units));
                default -> { }
            }
            m.add(Modules.activation(config.activation()));
            if (config.dropout() > 0) {
                m.add(Modules.dropout(config.dropout()));
            }
            features = units;
            d++;
        }
        m.add(Modules.dense("dense" + d, features, classes, Initializer.xavierUniform()));
        return Sequential.of(m.toArray(Module[]::new));
    }

    /**
     * Checks that the network of {@code config} fits samples of {@code sample}: a CNN needs images large enough for its
     * pooling stages.
     *
     * @throws IllegalArgumentException naming the option and the image size when it does not
     */
    public static void checkFits(TrainConfig config, Shape sample) {
        if (config.model().equals("cnn")) {
            pooledSize(config, sample);
        }
    }

    /** The optimizer of {@code config} (SGD, Adam, AdamW or RMSprop) at learning rate {@code lr}. */
    public static Optimizer optimizer(TrainConfig config, double lr) {
        return config.newOptimizer(lr);
    }

    /**
     * The checkpoint tensors of {@code model} and {@code optimizer}: a model file's ({@link ModelFile#tensors}), plus
     * the early-stopping weights when {@code best} is not null.
     */
    public static Map<String, SafeTensors.Entry> tensors(Model model, Optimizer optimizer, float[] best) {
        Map<String, SafeTensors.Entry> out = ModelFile.tensors(model, optimizer);
        if (best != null) {
            out.put(BEST_PARAMETERS, new SafeTensors.Entry(new int[] {best.length}, best));
        }
        return out;
    }

    /** Names of the optimizer's state tensors among {@code tensors} (the current and the earlier naming). */
    public static List<String> optimizerStateNames(Map<String, SafeTensors.Entry> tensors) {
        List<String> names = new ArrayList<>();
        for (String n : tensors.keySet()) {
            if (n.startsWith(OPTIMIZER_PREFIX)) {
                names.add(n);
            }
        }
        return names;
    }

    /** The early-stopping weights a checkpoint holds, or null. */
    public static SafeTensors.Entry bestParameters(CheckpointStore.Loaded<?> loaded) {
        return loaded.tensors().get(loaded.model() != null ? BEST_PARAMETERS : LEGACY_BEST_PARAMETERS);
    }

    /**
     * Writes a checkpoint's parameters and buffers into the model and, if given, the optimizer's state into the
     * optimizer (the learning rate and the random stream are the caller's: its schedule and state restore them).
     *
     * @throws ModelFormatException naming the file when a parameter or buffer is missing or has another shape, or the
     *     optimizer's state does not fit the optimizer
     */
    public static void restore(CheckpointStore.Loaded<?> loaded, Model model, Optimizer optimizer)
            throws ModelFormatException {
        if (loaded.model() == null) {
            restoreLegacy(loaded.file(), loaded.tensors(), model, optimizer);
            return;
        }
        ModelFile file = loaded.model();
        file.loadWeights(model);
        if (optimizer != null) {
            try {
                optimizer.loadState(model.executor(), file.optimizerState(model));
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(file.file(), "optimizer state does not fit --optimizer "
                        + optimizer.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }

    /** {@link #restore} of a legacy checkpoint: the model's own names and layouts. */
    private static void restoreLegacy(Path file, Map<String, SafeTensors.Entry> tensors, Model model, Optimizer optimizer)
            throws CheckpointFormatException {
        for (Parameter p : model.parameters()) {
            model.write(p, entry(file, tensors, p.name(), p.shape(), model));
        }
        for (Buffer b : model.buffers()) {
            model.write(b, entry(file, tensors, b.name(), b.shape(), model));
        }
        if (optimizer != null) {
            Map<String, float[]> state = new LinkedHashMap<>();
            for (Map.Entry<String, SafeTensors.Entry> e : tensors.entrySet()) {
                String name = e.getKey();
                if (name.startsWith(MOMENTUM_PREFIX)) {
                    state.put(name.substring(MOMENTUM_PREFIX.length()) + "." + Sgd.MOMENTUM_BUFFER, e.getValue().data());
                } else if (name.startsWith(OPTIMIZER_PREFIX)) {
                    state.put(name.substring(OPTIMIZER_PREFIX.length()), e.getValue().data());
                }
            }
            try {
                optimizer.loadState(model.executor(), state);
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(file, "optimizer state does not fit --optimizer "
                        + optimizer.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Checks, before any model is built, that the checkpoint's layers fit {@code config}: each CNN block's
     * {@code convK.weight} is {@code [out, in, 3, 3]}, and for each hidden dense layer and the output layer
     * {@code denseK.weight} is {@code [out, in]} and {@code denseK.bias} {@code [out]} ({@code [in, out]} and
     * {@code [1, out]} in a legacy checkpoint; {@code out} doubled for maxout's two pieces), chaining from the
     * {@code sample} (or the CNN's pooled features) to {@code classes}. The model of {@code config} is then no
     * larger than the tensors already read, so a checkpoint whose configuration claims huge layers is reported
     * instead of exhausting memory; {@link #restore} checks everything else.
     *
     * @throws CheckpointFormatException naming the file and the first tensor that is missing or does not fit
     */
    public static void checkShapes(CheckpointStore.Loaded<?> loaded, TrainConfig config, Shape sample, int classes)
            throws CheckpointFormatException {
        Path file = loaded.model() != null ? loaded.model().file() : loaded.file();
        Map<String, SafeTensors.Entry> tensors = loaded.tensors();
        boolean torch = loaded.model() != null;
        int inputs = sample.size();
        if (inputs < 1 || classes < 1) {
            throw new CheckpointFormatException(file, "its tensors give the model " + inputs + " inputs and " + classes
                    + " outputs; both must be at least 1");
        }
        int in = inputs;
        if (config.model().equals("cnn")) {
            int[] pooled;
            try {
                pooled = pooledSize(config, sample);
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(file, e.getMessage());
            }
            int channels = sample.dim(0);
            for (int k = 1; k <= config.channels().size(); k++) {
                int out = config.channels().get(k - 1);
                expect(file, config, tensors, "conv" + k + ".weight", new int[] {out, channels, 3, 3});
                channels = out;
            }
            in = channels * pooled[0] * pooled[1];
        }
        int layers = config.layers().size();
        for (int k = 1; k <= layers + 1; k++) {
            int out = k <= layers ? config.layers().get(k - 1) : classes;
            int width = k <= layers && config.model().equals("mlp") && config.activation().equals("maxout")
                    ? out * Sequential.MAXOUT_PIECES : out;
            for (String suffix : new String[] {".weight", ".bias"}) {
                String name = "dense" + k + suffix;
                int[] want = suffix.equals(".weight") ? torch ? new int[] {width, in} : new int[] {in, width}
                        : torch ? new int[] {width} : new int[] {1, width};
                expect(file, config, tensors, name, want);
            }
            in = out;
        }
    }

    private static void expect(Path file, TrainConfig config, Map<String, SafeTensors.Entry> tensors, String name,
                               int[] want) throws CheckpointFormatException {
        SafeTensors.Entry e = tensors.get(name);
        String layout = config.model().equals("cnn") ? "channels " + config.channels() + ", layers " + config.layers()
                : "layers " + config.layers();
        if (e == null) {
            throw new CheckpointFormatException(file, "has no tensor '" + name + "' for the " + config.model() + " its config ("
                    + layout + ") names");
        }
        if (!java.util.Arrays.equals(e.shape(), want)) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' has shape "
                    + java.util.Arrays.toString(e.shape()) + ", its config (" + layout + ") needs "
                    + java.util.Arrays.toString(want));
        }
    }

    private static float[] entry(Path file, Map<String, SafeTensors.Entry> tensors, String name, Shape shape,
                                 Model model) throws CheckpointFormatException {
        SafeTensors.Entry e = tensors.get(name);
        if (e == null) {
            throw new CheckpointFormatException(file, "has no tensor '" + name + "' for model " + model.describe());
        }
        if (!java.util.Arrays.equals(e.shape(), shape.dims())) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' has shape "
                    + java.util.Arrays.toString(e.shape()) + ", the model needs " + shape);
        }
        int bad = Checks.firstNonFinite(e.data());
        if (bad >= 0) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' holds " + e.data()[bad] + " at index " + bad
                    + "; weights must be finite");
        }
        return e.data();
    }
}
