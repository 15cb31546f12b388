package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.graph.Initializer;
import dev.jacobian.nn.Module;
import dev.jacobian.nn.Modules;
import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Parameter;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.Sgd;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.checkpoint.SafeTensors;
import dev.jacobian.tensor.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the model and optimizer a {@link TrainConfig} describes, and moves their state to and from
 * checkpoint tensors: parameters and buffers (batch norm's running statistics) under their own names
 * ({@code dense1.weight}, {@code bn1.running_mean}, …), the optimizer's state under {@value #OPTIMIZER_PREFIX}
 * plus its PyTorch-style name ({@code optimizer.dense1.weight.exp_avg}, {@code optimizer.dense1.weight.step}).
 * Checkpoints of 0.1 and of the first Core v2 runs kept SGD's momentum buffers as
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
    public static final String BEST_PARAMETERS = "early_stopping.best_parameters";

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

    /** The parameters, the buffers and (when given) the optimizer's state as checkpoint tensors. */
    public static Map<String, SafeTensors.Entry> tensors(Model model, Optimizer optimizer) {
        Map<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            out.put(p.name(), new SafeTensors.Entry(p.shape().dims(), model.read(p)));
        }
        for (Buffer b : model.buffers()) {
            out.put(b.name(), new SafeTensors.Entry(b.shape().dims(), model.read(b)));
        }
        if (optimizer != null) {
            Map<String, Shape> shapes = new HashMap<>();
            for (Parameter p : model.parameters()) {
                shapes.put(p.name(), p.shape());
            }
            for (Map.Entry<String, float[]> e : optimizer.state(model.executor()).entrySet()) {
                // "<parameter>.<state>": a buffer of the parameter's shape, or a count such as "step"
                float[] v = e.getValue();
                Shape param = shapes.get(e.getKey().substring(0, e.getKey().lastIndexOf('.')));
                int[] shape = param != null && param.size() == v.length ? param.dims() : new int[] {v.length};
                out.put(OPTIMIZER_PREFIX + e.getKey(), new SafeTensors.Entry(shape, v));
            }
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

    /**
     * Writes checkpoint tensors into the model (parameters and buffers) and, if given, the optimizer's state
     * into the optimizer.
     *
     * @throws CheckpointFormatException naming {@code file} when a parameter or buffer is missing or has another
     *     shape, or the optimizer's state does not fit the optimizer
     */
    public static void restore(Path file, Map<String, SafeTensors.Entry> tensors, Model model, Optimizer optimizer)
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
     * {@code denseK.weight} is {@code [in, out]} and {@code denseK.bias} {@code [1, out]}, chaining from the
     * {@code sample} (or the CNN's pooled features) to {@code classes}. The model of {@code config} is then no
     * larger than the tensors already read, so a checkpoint whose configuration claims huge layers is reported
     * instead of exhausting memory; {@link #restore} checks everything else.
     *
     * @throws CheckpointFormatException naming {@code file} and the first tensor that is missing or does not fit
     */
    public static void checkShapes(Path file, TrainConfig config, Shape sample, int classes,
                                   Map<String, SafeTensors.Entry> tensors) throws CheckpointFormatException {
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
            for (String suffix : new String[] {".weight", ".bias"}) {
                String name = "dense" + k + suffix;
                int[] want = suffix.equals(".weight") ? new int[] {in, out} : new int[] {1, out};
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
        return e.data();
    }
}
