package dev.jacobian.nn;

import dev.jacobian.backend.Activation;
import dev.jacobian.graph.Executor;
import java.util.ArrayList;
import java.util.List;

/**
 * The lecture's health checks of a network, per layer, from the last forward/backward pass:
 * weight-gradient norms (vanishing when tiny, exploding when huge), the fraction of dead ReLU units
 * (zero for every sample of the batch), and the fraction of saturated sigmoid/tanh outputs (where the
 * derivative is nearly zero). Reading them downloads the layers' activations: call once per epoch, not
 * every step.
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

    /** Per-layer health from the executor's last forward (activations) and backward (gradients). */
    public static List<LayerHealth> inspect(Model model) {
        Executor exec = model.executor();
        List<LayerHealth> out = new ArrayList<>();
        for (Layer l : model.layers()) {
            float[] g = exec.gradient(l.weight()).download();
            double sq = 0;
            for (float v : g) {
                sq += (double) v * v;
            }
            double dead = Double.NaN;
            double saturated = Double.NaN;
            boolean reluFamily = l.activation() == Activation.RELU;
            boolean squashing = l.activation() == Activation.SIGMOID || l.activation() == Activation.TANH;
            if (reluFamily || squashing) {
                float[] a = exec.value(l.output()).download();
                int units = l.units();
                int rows = a.length / units;
                if (reluFamily) {
                    int deadUnits = 0;
                    for (int j = 0; j < units; j++) {
                        boolean alive = false;
                        for (int i = 0; i < rows && !alive; i++) {
                            alive = a[i * units + j] > 0f;
                        }
                        deadUnits += alive ? 0 : 1;
                    }
                    dead = (double) deadUnits / units;
                } else {
                    float lo = l.activation() == Activation.SIGMOID ? 0.01f : -0.99f;
                    float hi = 0.99f;
                    int sat = 0;
                    for (float v : a) {
                        sat += v < lo || v > hi ? 1 : 0;
                    }
                    saturated = (double) sat / a.length;
                }
            }
            out.add(new LayerHealth(l.name(), Math.sqrt(sq), dead, saturated));
        }
        return out;
    }
}
