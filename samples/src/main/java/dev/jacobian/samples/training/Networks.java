package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
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

    /**
     * The MLP of {@code config} with {@code inputs} inputs and {@code classes} outputs, on {@code backend}: each
     * hidden layer is affine, then batch or layer norm if asked, the activation, then dropout if asked.
     */
    public static Model model(TrainConfig config, int inputs, int classes, Backend backend) {
        Sequential.Builder b = Sequential.builder(inputs);
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
     * Checks, before any model is built, that the checkpoint's dense layers fit {@code config}: for each of its
     * hidden layers and the output layer, {@code denseK.weight} is {@code [in, out]} and {@code denseK.bias}
     * {@code [1, out]}, chaining from {@code inputs} to {@code classes}. The model of {@code config} is then no
     * larger than the tensors already read, so a checkpoint whose configuration claims huge layers is reported
     * instead of exhausting memory; {@link #restore} checks everything else.
     *
     * @throws CheckpointFormatException naming {@code file} and the first tensor that is missing or does not fit
     */
    public static void checkShapes(Path file, TrainConfig config, int inputs, int classes,
                                   Map<String, SafeTensors.Entry> tensors) throws CheckpointFormatException {
        if (inputs < 1 || classes < 1) {
            throw new CheckpointFormatException(file, "its tensors give the model " + inputs + " inputs and " + classes
                    + " outputs; both must be at least 1");
        }
        int in = inputs;
        int layers = config.layers().size();
        for (int k = 1; k <= layers + 1; k++) {
            int out = k <= layers ? config.layers().get(k - 1) : classes;
            for (String suffix : new String[] {".weight", ".bias"}) {
                String name = "dense" + k + suffix;
                int[] want = suffix.equals(".weight") ? new int[] {in, out} : new int[] {1, out};
                SafeTensors.Entry e = tensors.get(name);
                if (e == null) {
                    throw new CheckpointFormatException(file, "has no tensor '" + name + "' for the " + layers
                            + " hidden layers its config names");
                }
                if (!java.util.Arrays.equals(e.shape(), want)) {
                    throw new CheckpointFormatException(file, "tensor '" + name + "' has shape "
                            + java.util.Arrays.toString(e.shape()) + ", its config (layers " + config.layers()
                            + ") needs " + java.util.Arrays.toString(want));
                }
            }
            in = out;
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
