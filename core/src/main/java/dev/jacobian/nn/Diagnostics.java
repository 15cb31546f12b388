package dev.jacobian.nn;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Node;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The lecture's health checks of a network, per layer, from the last training step (or from a batch given):
 * weight-gradient norms (vanishing when tiny, exploding when huge), the fraction of dead ReLU units
 * (zero for every sample of the batch), and the fraction of saturated sigmoid/tanh outputs (where the
 * derivative is nearly zero). The backend reduces the gradients and the ReLU activations, and a number per layer and
 * per ReLU unit comes to the host (a sigmoid or tanh layer's activations come whole): call once per epoch, not every
 * step.
 */
public final class Diagnostics {
    /** Below this weight-gradient norm a layer is said to have vanishing gradients. */
    public static final double VANISHING_NORM = 1e-6;
    /** Above this weight-gradient norm a layer is said to have exploding gradients. */
    public static final double EXPLODING_NORM = 1e3;
    /** Warn when more than this fraction of a ReLU layer's units is dead. */
    public static final double DEAD_FRACTION_WARNING = 0.5;
    /** Warn when more than this fraction of a sigmoid/tanh layer's outputs is saturated. */
    public static final double SATURATED_FRACTION_WARNING = 0.5;

    /**
     * Health of one layer.
     *
     * @param layer          layer name
     * @param gradNorm       L2 norm of its weight gradient
     * @param deadFraction   fraction of units that output 0 for every sample (ReLU family; NaN otherwise)
     * @param saturatedFraction fraction of outputs within 1% of the bounds (sigmoid, tanh; NaN otherwise)
     */
    public record LayerHealth(String layer, double gradNorm, double deadFraction, double saturatedFraction) {
        /** Human-readable warnings, each saying what it means and what to try; empty when healthy. */
        public List<String> warnings() {
            List<String> w = new ArrayList<>();
            if (gradNorm < VANISHING_NORM) {
                w.add(layer + ": gradient norm " + String.format("%.2e", gradNorm)
                        + " is vanishing - the layer barely learns; try ReLU-family activations, He init, or fewer layers");
            } else if (gradNorm > EXPLODING_NORM || !Double.isFinite(gradNorm)) {
                w.add(layer + ": gradient norm " + String.format("%.2e", gradNorm)
                        + " is exploding - lower the learning rate or clip gradients (--clip-norm)");
            }
            if (deadFraction > DEAD_FRACTION_WARNING) {
                w.add(layer + ": " + Math.round(100 * deadFraction) + "% of ReLU units are dead (never active) - "
                        + "lower the learning rate, use He init, or try leaky-relu / prelu / elu");
            }
            if (saturatedFraction > SATURATED_FRACTION_WARNING) {
                w.add(layer + ": " + Math.round(100 * saturatedFraction) + "% of outputs are saturated - gradients "
                        + "vanish there; use Xavier init, smaller inputs, or ReLU-family activations");
            }
            return w;
        }
    }

    private Diagnostics() {
    }

    /**
     * Per-layer health from the last training step: the weight gradients in the executor's gradient arena, and the
     * activations of the forward pass the last backward followed ({@link Executor#valueAtLastBackward}), so that
     * predictions, {@code accuracy} or evaluation at other batch sizes since then change nothing.
     *
     * @throws IllegalStateException when those activations are gone: no step ran yet, or a forward pass of the same
     *                               loss and batch size without a backward (an evaluation) ran since; inspect right
     *                               after a step, or pass a batch ({@link #inspect(Model, float[], int, int)})
     */
    public static List<LayerHealth> inspect(Model model) {
        Executor exec = model.executor();
        return inspect(model, l -> {
            try {
                return exec.valueAtLastBackward(l.output());
            } catch (IllegalStateException e) {
                throw new IllegalStateException("Diagnostics.inspect: " + e.getMessage() + "; inspect right after a"
                        + " training step, or pass a batch: inspect(model, x, firstRow, rows)", e);
            }
        });
    }

    /**
     * Per-layer health with the activations of one evaluation-mode forward pass of {@code rows} samples of {@code x}
     * from sample {@code firstRow} (dropout off, batch norm on its running statistics), and the weight gradients as
     * they are in the executor's gradient arena: for a model whose steps ran elsewhere (on other backends or
     * machines), or a look at other data. The model's mode and random stream are left as they were.
     *
     * @throws IllegalArgumentException when the rows do not fit in {@code x}
     */
    public static List<LayerHealth> inspect(Model model, float[] x, int firstRow, int rows) {
        Executor exec = model.executor();
        List<Node> outputs = new ArrayList<>();
        for (Layer l : model.layers()) {
            if (readsActivations(l)) {
                outputs.add(l.output());
            }
        }
        exec.feed(model.input(), x, firstRow, rows);
        boolean training = exec.isTraining();
        long stream = exec.forwardCount();
        exec.train(false);
        try {
            exec.forward(model.logits(), rows, outputs);
        } finally {
            exec.train(training);
            exec.setForwardCount(stream);
        }
        return inspect(model, l -> exec.value(l.output()));
    }

    private static boolean readsActivations(Layer l) {
        return l.activation() == Activation.RELU || l.activation() == Activation.SIGMOID
                || l.activation() == Activation.TANH;
    }

    /**
     * The health of every layer, with each layer's activations from {@code activations}. The backend reduces what it
     * can ({@link Reduction#SUM_SQUARES} of each weight gradient, {@link Reduction#MAX} down each ReLU unit's column):
     * only a number per layer and a number per unit come to the host, not the gradients and activations themselves,
     * and no loop over them runs in Java (which the JIT would compile mid-run, once per epoch being enough to make it
     * hot). Sigmoid and tanh layers' saturated share, which no reduction counts, still reads their activations.
     */
    private static List<LayerHealth> inspect(Model model, Function<Layer, Tensor> activations) {
        Executor exec = model.executor();
        Backend backend = exec.backend();
        List<LayerHealth> out = new ArrayList<>();
        try (Tensor scalar = backend.allocate(Shape.of(1, 1))) {
            for (Layer l : model.layers()) {
                backend.reduce(Reduction.SUM_SQUARES, Axis.ALL, exec.gradient(l.weight()), scalar, false);
                double gradNorm = Math.sqrt(scalar.download()[0]);
                double dead = Double.NaN;
                double saturated = Double.NaN;
                if (l.activation() == Activation.RELU) {
                    dead = deadFraction(backend, activations.apply(l), l.units());
                } else if (readsActivations(l)) {
                    saturated = saturatedFraction(activations.apply(l).download(), l.activation());
                }
                out.add(new LayerHealth(l.name(), gradNorm, dead, saturated));
            }
        }
        return out;
    }

    /**
     * The share of a ReLU layer's {@code units} whose output is not positive for any sample of {@code a} (its rows):
     * the column maxima, reduced on the backend, that are not above 0 (a NaN maximum counts as dead).
     */
    private static double deadFraction(Backend backend, Tensor a, int units) {
        if (a.shape().rank() != 2 || a.shape().dim(1) != units) {
            try (Tensor matrix = a.reshape(Shape.of(a.size() / units, units))) {
                return deadFraction(backend, matrix, units);
            }
        }
        try (Tensor max = backend.allocate(Shape.of(1, units))) {
            backend.reduce(Reduction.MAX, Axis.ROWS, a, max, false);
            int deadUnits = 0;
            for (float v : max.download()) {
                deadUnits += v > 0f ? 0 : 1;
            }
            return (double) deadUnits / units;
        }
    }

    /** The share of a sigmoid or tanh layer's outputs {@code a} within 1% of its bounds. */
    private static double saturatedFraction(float[] a, Activation f) {
        float lo = f == Activation.SIGMOID ? 0.01f : -0.99f;
        float hi = 0.99f;
        int sat = 0;
        for (float v : a) {
            sat += v < lo || v > hi ? 1 : 0;
        }
        return (double) sat / a.length;
    }
}
