package dev.jacobian.nn;

import dev.jacobian.backend.Activation;
import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ops.Dropout;
import dev.jacobian.tensor.Shape;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

/**
 * The standard {@link Module}s: affine layers, activations (each a module), PReLU, Maxout, flatten, dropout,
 * batch norm and layer norm. Each factory validates its arguments and names its parameters and buffers as
 * PyTorch does: {@code <name>.weight}, {@code <name>.bias}, {@code <name>.slope}, {@code <name>.running_mean},
 * {@code <name>.running_var}, {@code <name>.num_batches_tracked}.
 */
public final class Modules {
    private Modules() {
    }

    /** A module that creates its parameters once, on its graph, then builds its nodes on every forward. */
    private static final class Simple implements Module {
        private final String description;
        private final java.util.function.Function<Graph, List<Parameter>> create;
        private final BiFunction<Node, List<Parameter>, Node> build;
        private List<Parameter> params = List.of();
        private Graph graph;

        Simple(String description, java.util.function.Function<Graph, List<Parameter>> create,
               BiFunction<Node, List<Parameter>, Node> build) {
            this.description = description;
            this.create = create;
            this.build = build;
        }

        @Override
        public Node forward(Node x) {
            if (graph == null) {
                graph = x.graph();
                params = List.copyOf(create.apply(graph));
            } else if (graph != x.graph()) {
                throw new IllegalArgumentException(description + " already belongs to another graph");
            }
            return build.apply(x, params);
        }

        @Override
        public List<Parameter> parameters() {
            return params;
        }

        @Override
        public String describe() {
            return description;
        }
    }

    private static void positive(String what, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
    }

    /**
     * An affine layer {@code y = x W + b} on rows of {@code in} features, {@code W: [in, out]} drawn from
     * {@code init} (regularized), {@code b: [out]} zeros.
     */
    public static Module dense(String name, int in, int out, Initializer init) {
        return affine(name, in, out, init, null, 0f);
    }

    /**
     * An affine layer followed by an activation (one of {@link Sequential#ACTIVATIONS} but {@code prelu} and
     * {@code maxout}), fused into one node when the activation's derivative is known from its output.
     */
    public static Module dense(String name, int in, int out, Initializer init, String activation) {
        Activation f = elementwise(activation);
        float param = parameterOf(f);
        if (f != null && f.derivativeFromOutput(param)) {
            return affine(name, in, out, init, f, param);
        }
        return Sequential.of(dense(name, in, out, init), activation(activation));
    }

    /** {@code x W + b}, then {@code f} fused into the same node when {@code f != null}. */
    private static Module affine(String name, int in, int out, Initializer init, Activation f, float param) {
        positive(name + ": input features", in);
        positive(name + ": output features", out);
        String what = f == null ? "" : ", " + f.name().toLowerCase(Locale.ROOT);
        return new Simple("dense " + name + "(" + in + "->" + out + what + ")",
                g -> List.of(g.parameter(name + ".weight", Shape.matrix(in, out), init, true),
                        g.parameter(name + ".bias", Shape.matrix(1, out), Initializer.zeros(), false)),
                (x, p) -> f == null ? x.graph().linear(x, p.get(0), p.get(1))
                        : x.graph().dense(x, p.get(0), p.get(1), f, param));
    }

    /**
     * An elementwise activation as a module: {@code relu}, {@code leaky-relu} (slope 0.01), {@code elu}
     * (alpha 1), {@code gelu} (tanh approximation, composed from primitives), {@code tanh}, {@code sigmoid}
     * or {@code linear}.
     */
    public static Module activation(String name) {
        String a = name.toLowerCase(Locale.ROOT);
        if (a.equals("gelu")) {
            return new Simple("gelu", g -> List.of(), (x, p) -> x.graph().gelu(x));
        }
        Activation f = elementwise(a);
        if (f == null) {
            throw new IllegalArgumentException("unknown activation '" + name + "'; choose one of relu, leaky-relu, elu, "
                    + "gelu, tanh, sigmoid, linear");
        }
        float param = parameterOf(f);
        return new Simple(a, g -> List.of(), (x, p) -> f == Activation.IDENTITY ? x : x.graph().activation(x, f, param));
    }

    /** The elementwise activation a name designates, or null (gelu, prelu, maxout and unknown names). */
    static Activation elementwise(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "relu" -> Activation.RELU;
            case "leaky-relu" -> Activation.LEAKY_RELU;
            case "elu" -> Activation.ELU;
            case "tanh" -> Activation.TANH;
            case "sigmoid" -> Activation.SIGMOID;
            case "linear" -> Activation.IDENTITY;
            default -> null;
        };
    }

    private static float parameterOf(Activation f) {
        return f == Activation.LEAKY_RELU ? 0.01f : f == Activation.ELU ? 1f : 0f;
    }

    /** PReLU with one learnable slope per unit (initially 0.25, not regularized). */
    public static Module prelu(String name, int units) {
        positive(name + ": units", units);
        return new Simple("prelu " + name + "(" + units + ")",
                g -> List.of(g.parameter(name + ".slope", Shape.matrix(1, units), Initializer.constant(0.25f), false)),
                (x, p) -> x.graph().prelu(x, p.get(0)));
    }

    /**
     * Maxout (Goodfellow et al. 2013): an affine map to {@code units * pieces} features, then the max over each
     * group of {@code pieces}.
     */
    public static Module maxout(String name, int in, int units, int pieces, Initializer init) {
        if (pieces < 2) {
            throw new IllegalArgumentException(name + ": maxout needs at least 2 pieces, got " + pieces);
        }
        positive(name + ": units", units);
        return Sequential.of(dense(name, in, units * pieces, init),
                new Simple("maxout(" + pieces + ")", g -> List.of(), (x, p) -> x.graph().maxout(x, pieces)));
    }

    /**
     * Inverted dropout ({@link dev.jacobian.graph.ops.Dropout}), as {@code torch.nn.Dropout(p)}: in training each
     * element is zeroed with probability {@code p} and the others scaled by {@code 1 / (1 - p)}; the identity in
     * evaluation ({@link Model#eval()}). No parameters.
     *
     * @throws IllegalArgumentException naming {@code p} and its value when it is outside {@code [0, 1)}
     */
    public static Module dropout(double p) {
        Dropout check = new Dropout((float) p);
        return new Simple("dropout(" + p + ")", g -> List.of(), (x, ps) -> x.graph().apply(check, x));
    }

    /** PyTorch's default {@code eps} of batch and layer norm. */
    public static final float NORM_EPS = 1e-5f;
    /** PyTorch's default {@code momentum} of batch norm's running statistics. */
    public static final float BATCH_NORM_MOMENTUM = 0.1f;

    /**
     * Batch normalization over {@code channels} ({@link dev.jacobian.graph.ops.BatchNorm}), as PyTorch's
     * {@code BatchNorm1d(channels)} on {@code [N, channels]} and {@code BatchNorm2d(channels)} on
     * {@code [N, channels, H, W]}: eps {@value #NORM_EPS}, momentum 0.1. Parameters {@code <name>.weight} (ones)
     * and {@code <name>.bias} (zeros), {@code [channels]}, not weight-decayed; buffers
     * {@code <name>.running_mean} (zeros), {@code <name>.running_var} (ones), {@code <name>.num_batches_tracked}
     * (a scalar, 0).
     */
    public static Module batchNorm(String name, int channels) {
        positive(name + ": channels", channels);
        return new BatchNormModule(name, channels);
    }

    /** A batch norm layer: two parameters and three buffers, created on the first forward. */
    private static final class BatchNormModule implements Module {
        private final String name;
        private final int channels;
        private List<Parameter> params = List.of();
        private List<Buffer> buffers = List.of();
        private Graph graph;

        BatchNormModule(String name, int channels) {
            this.name = name;
            this.channels = channels;
        }

        @Override
        public Node forward(Node x) {
            if (graph == null) {
                graph = x.graph();
                Shape c = Shape.of(channels);
                params = List.of(graph.parameter(name + ".weight", c, Initializer.constant(1f), false),
                        graph.parameter(name + ".bias", c, Initializer.zeros(), false));
                buffers = List.of(graph.buffer(name + ".running_mean", c, Initializer.zeros()),
                        graph.buffer(name + ".running_var", c, Initializer.constant(1f)),
                        graph.buffer(name + ".num_batches_tracked", Shape.scalar(), Initializer.zeros()));
            } else if (graph != x.graph()) {
                throw new IllegalArgumentException(describe() + " already belongs to another graph");
            }
            return graph.batchNorm(x, params.get(0), params.get(1), buffers.get(0), buffers.get(1), buffers.get(2),
                    NORM_EPS, BATCH_NORM_MOMENTUM);
        }

        @Override
        public List<Parameter> parameters() {
            return params;
        }

        @Override
        public List<Buffer> buffers() {
            return buffers;
        }

        @Override
        public String describe() {
            return "batch_norm " + name + "(" + channels + ")";
        }
    }

    /**
     * Layer normalization over the last dimension of {@code features} values
     * ({@link dev.jacobian.graph.ops.LayerNorm}), as {@code torch.nn.LayerNorm(features)}: eps {@value #NORM_EPS},
     * parameters {@code <name>.weight} (ones) and {@code <name>.bias} (zeros), {@code [features]}, not
     * weight-decayed.
     */
    public static Module layerNorm(String name, int features) {
        positive(name + ": features", features);
        return layerNorm(name, Shape.of(features));
    }

    /**
     * Layer normalization over the trailing dimensions {@code normalizedShape} (e.g. {@code [C, H, W]}), as
     * {@code torch.nn.LayerNorm(normalized_shape)}; parameters of that shape.
     */
    public static Module layerNorm(String name, Shape normalizedShape) {
        if (normalizedShape.rank() == 0) {
            throw new IllegalArgumentException(name + ": layer norm needs at least one normalized dimension, got "
                    + normalizedShape);
        }
        return new Simple("layer_norm " + name + normalizedShape,
                g -> List.of(g.parameter(name + ".weight", normalizedShape, Initializer.constant(1f), false),
                        g.parameter(name + ".bias", normalizedShape, Initializer.zeros(), false)),
                (x, p) -> x.graph().layerNorm(x, p.get(0), p.get(1), NORM_EPS));
    }

    /** Flattens every dimension after the batch into one: {@code [n, c, h, w] -> [n, c*h*w]}, a view (no copy). */
    public static Module flatten() {
        return new Simple("flatten", g -> List.of(), (x, p) -> x.graph().flatten(x, 1));
    }
}
