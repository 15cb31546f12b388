package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.graph.Parameter;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.checkpoint.SafeTensors;
import dev.jacobian.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the model and optimizer a {@link TrainConfig} describes, and moves their state to and from
 * checkpoint tensors: parameters under their own names ({@code dense1.weight}, …), momentum buffers
 * under {@value #MOMENTUM_PREFIX} plus the parameter's name.
 */
public final class Networks {
    /** Name prefix of momentum buffers in a checkpoint. */
    public static final String MOMENTUM_PREFIX = "optimizer.momentum.";
    /**
     * Name of the early-stopping copy of the best epoch's parameters in a checkpoint: the whole parameter arena
     * (every parameter in {@code ParameterLayout} order, with its alignment padding), one flat tensor.
     */
    public static final String BEST_PARAMETERS = "early_stopping.best_parameters";

    private Networks() {
    }

    /** The MLP of {@code config} with {@code inputs} inputs and {@code classes} outputs, on {@code backend}. */
    public static Model model(TrainConfig config, int inputs, int classes, Backend backend) {
        Sequential.Builder b = Sequential.builder(inputs);
        for (int units : config.layers()) {
            b.hidden(units, config.activation());
        }
        return b.output(classes, config.lossKind()).init(config.initScheme()).seed(config.seed()).l2(config.l2())
                .build(backend);
    }

    /** SGD with {@code config}'s hyper-parameters and learning rate {@code lr}. */
    public static Sgd optimizer(TrainConfig config, double lr) {
        return Sgd.builder().learningRate(lr).momentum(config.momentum()).nesterov(config.nesterov())
                .weightDecay(config.weightDecay()).clipNorm(config.clipNorm()).clipValue(config.clipValue()).build();
    }

    /** The parameters (and the optimizer's momentum buffers, when it has them) as checkpoint tensors. */
    public static Map<String, SafeTensors.Entry> tensors(Model model, Sgd optimizer) {
        Map<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            out.put(p.name(), new SafeTensors.Entry(p.shape().dims(), model.read(p)));
        }
        if (optimizer != null) {
            for (Parameter p : model.parameters()) {
                Tensor v = optimizer.velocity(p);
                if (v != null) {
                    out.put(MOMENTUM_PREFIX + p.name(), new SafeTensors.Entry(p.shape().dims(), v.download()));
                }
            }
        }
        return out;
    }

    /** Names of the momentum buffers among {@code tensors}. */
    public static List<String> momentumNames(Map<String, SafeTensors.Entry> tensors) {
        List<String> names = new ArrayList<>();
        for (String n : tensors.keySet()) {
            if (n.startsWith(MOMENTUM_PREFIX)) {
                names.add(n);
            }
        }
        return names;
    }

    /**
     * Writes checkpoint tensors into the model (and the momentum buffers into the optimizer, if given).
     *
     * @throws CheckpointFormatException naming {@code file} when a parameter is missing or has another shape
     */
    public static void restore(Path file, Map<String, SafeTensors.Entry> tensors, Model model, Sgd optimizer)
            throws CheckpointFormatException {
        for (Parameter p : model.parameters()) {
            SafeTensors.Entry e = tensors.get(p.name());
            if (e == null) {
                throw new CheckpointFormatException(file, "has no tensor '" + p.name() + "' for model " + model.describe());
            }
            if (!java.util.Arrays.equals(e.shape(), p.shape().dims())) {
                throw new CheckpointFormatException(file, "tensor '" + p.name() + "' has shape "
                        + java.util.Arrays.toString(e.shape()) + ", the model needs " + p.shape());
            }
            model.write(p, e.data());
            if (optimizer != null) {
                SafeTensors.Entry v = tensors.get(MOMENTUM_PREFIX + p.name());
                if (v != null) {
                    optimizer.setVelocity(model.executor(), p, v.data());
                }
            }
        }
    }
}
