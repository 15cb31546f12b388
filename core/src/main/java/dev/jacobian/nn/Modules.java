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
 * batch norm and layer norm, 2-D convolution, max and average pooling, global average pooling. Each factory
 * validates its arguments and names its parameters and buffers as PyTorch does: {@code <name>.weight},
 * {@code <name>.bias}, {@code <name>.slope}, {@code <name>.running_mean}, {@code <name>.running_var},
 * {@code <name>.num_batches_tracked}.
 */
public final class Modules {
    private Modules() {
    }

    /** A module that creates its parameters once, on its graph, then builds its nodes on every forward. */
    private static final class Simple implements Module {
        private final String description;
        private final ModuleSpec spec;
        private final java.util.function.Function<Graph, List<Parameter>> create;
        private final BiFunction<Node, List<Parameter>, Node> build;
        private List<Parameter> params = List.of();
        private Graph graph;

        Simple(String description, ModuleSpec spec, java.util.function.Function<Graph, List<Parameter>> create,
               BiFunction<Node, List<Parameter>, Node> build) {
            this.description = description;
            this.spec = spec;
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

        @Override
        public ModuleSpec spec() {
            return spec;
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
        return affine(name, in, out, init, null, 0f, null);
    }

    /**
     * An affine layer followed by an activation (one of {@link Sequential#ACTIVATIONS} but {@code prelu} and
     * {@code maxout}), fused into one node when the activation's derivative is known from its output.
     */
    public static Module dense(String name, int in, int out, Initializer init, String activation) {
        Activation f = elementwise(java.util.Objects.requireNonNull(activation, "activation"));
        float param = parameterOf(f);
        if (f != null && f.derivativeFromOutput(param)) {
            return affine(name, in, out, init, f, param, activation.toLowerCase(Locale.ROOT));
        }
        return Sequential.of(dense(name, in, out, init), activation(activation));
    }

    /** {@code x W + b}, then {@code f} fused into the same node when {@code f != null}. */
    private static Module affine(String name, int in, int out, Initializer init, Activation f, float param,
                                 String activation) {
        java.util.Objects.requireNonNull(name, "name");
        java.util.Objects.requireNonNull(init, "init");
        positive(name + ": input features", in);
        positive(name + ": output features", out);
        String what = f == null ? "" : ", " + f.name().toLowerCase(Locale.ROOT);
        ModuleSpec spec = activation == null ? ModuleSpec.of("dense", "name", name, "in", in, "out", out)
                : ModuleSpec.of("dense", "name", name, "in", in, "out", out, "activation", activation);
        return new Simple("dense " + name + "(" + in + "->" + out + what + ")", spec,
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
        String a = java.util.Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT);
        if (a.equals("gelu")) {
            return new Simple("gelu", ModuleSpec.of("activation", "name", a), g -> List.of(), (x, p) -> x.graph().gelu(x));
        }
        Activation f = elementwise(a);
        if (f == null) {
            throw new IllegalArgumentException("unknown activation '" + name + "'; choose one of relu, leaky-relu, elu, "
                    + "gelu, tanh, sigmoid, linear");
        }
        float param = parameterOf(f);
        return new Simple(a, ModuleSpec.of("activation", "name", a), g -> List.of(),
                (x, p) -> f == Activation.IDENTITY ? x : x.graph().activation(x, f, param));
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
        return new Simple("prelu " + name + "(" + units + ")", ModuleSpec.of("prelu", "name", name, "units", units),
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
        return Sequential.of(dense(name, in, maxoutWidth(name, units, pieces), init), maxoutMax(pieces));
    }

    /**
     * The width of a maxout layer's affine map, {@code units * pieces}.
     *
     * @throws IllegalArgumentException naming the layer, its units and pieces when the product is beyond an int
     */
    static int maxoutWidth(String layer, int units, int pieces) {
        long width = (long) units * pieces;
        if (width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(layer + ": maxout of " + units + " units x " + pieces + " pieces has "
                    + width + " features, more than " + Integer.MAX_VALUE);
        }
        return (int) width;
    }

    /** The max over each group of {@code pieces} features, Maxout's second half. */
    private static Module maxoutMax(int pieces) {
        if (pieces < 2) {
            throw new IllegalArgumentException("maxout needs at least 2 pieces, got " + pieces);
        }
        return new Simple("maxout(" + pieces + ")", ModuleSpec.of("maxout", "pieces", pieces), g -> List.of(),
                (x, p) -> x.graph().maxout(x, pieces));
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
        return new Simple("dropout(" + p + ")", ModuleSpec.of("dropout", "p", p), g -> List.of(),
                (x, ps) -> x.graph().apply(check, x));
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

        @Override
        public ModuleSpec spec() {
            return ModuleSpec.of("batch_norm", "name", name, "channels", channels);
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
        List<Integer> dims = java.util.Arrays.stream(normalizedShape.dims()).boxed().toList();
        return new Simple("layer_norm " + name + normalizedShape,
                ModuleSpec.of("layer_norm", "name", name, "shape", dims),
                g -> List.of(g.parameter(name + ".weight", normalizedShape, Initializer.constant(1f), false),
                        g.parameter(name + ".bias", normalizedShape, Initializer.zeros(), false)),
                (x, p) -> x.graph().layerNorm(x, p.get(0), p.get(1), NORM_EPS));
    }

    /** Flattens every dimension after the batch into one: {@code [n, c, h, w] -> [n, c*h*w]}, a view (no copy). */
    public static Module flatten() {
        return new Simple("flatten", ModuleSpec.of("flatten"), g -> List.of(), (x, p) -> x.graph().flatten(x, 1));
    }

    /**
     * A 2-D convolution layer, as {@code torch.nn.Conv2d(in, out, kernel, stride, padding, dilation, groups, bias)}
     * ({@link dev.jacobian.graph.ops.Conv2d}) on {@code [N, in, H, W]}: parameters {@code <name>.weight}
     * {@code [out, in/groups, kH, kW]} (PyTorch's layout; drawn from {@code init} with PyTorch's fans,
     * {@code fanIn = in/groups kH kW}, {@code fanOut = out kH kW}; weight-decayed) and, when {@code bias} holds,
     * {@code <name>.bias} {@code [out]} (zeros, not decayed).
     *
     * @throws IllegalArgumentException naming the layer when a channel count is not positive or not divisible by the
     *     groups
     */
    public static Module conv2d(String name, int in, int out, dev.jacobian.backend.Conv2dSpec spec, boolean bias,
                                Initializer init) {
        if (spec == null || init == null) {
            throw new IllegalArgumentException(name + ": conv2d needs a spec and an initializer");
        }
        positive(name + ": input channels", in);
        positive(name + ": output channels", out);
        if (in % spec.groups() != 0 || out % spec.groups() != 0) {
            throw new IllegalArgumentException(name + ": " + in + " input and " + out + " output channels must both be "
                    + "divisible by " + spec.groups() + " groups");
        }
        int receptive = spec.kernelH() * spec.kernelW();
        int fanIn = in / spec.groups() * receptive;
        int fanOut = out * receptive;
        Initializer withFans = (values, rows, cols, r) -> init.fill(values, fanIn, fanOut, r);
        Shape w = Shape.of(out, in / spec.groups(), spec.kernelH(), spec.kernelW());
        String what = "conv2d " + name + "(" + in + "->" + out + ", " + spec + (bias ? "" : ", no bias") + ")";
        ModuleSpec s = ModuleSpec.of("conv2d", "name", name, "in", in, "out", out,
                "kernel", List.of(spec.kernelH(), spec.kernelW()), "stride", List.of(spec.strideH(), spec.strideW()),
                "padding", List.of(spec.padH(), spec.padW()), "dilation", List.of(spec.dilationH(), spec.dilationW()),
                "groups", spec.groups(), "bias", bias);
        return new Simple(what, s,
                g -> bias ? List.of(g.parameter(name + ".weight", w, withFans, true),
                        g.parameter(name + ".bias", Shape.of(out), Initializer.zeros(), false))
                        : List.of(g.parameter(name + ".weight", w, withFans, true)),
                (x, p) -> x.graph().conv2d(x, p.get(0), bias ? p.get(1) : null, spec));
    }

    /**
     * A square 2-D convolution with bias: {@code kernel x kernel}, the given stride and padding, dilation 1, one
     * group, He-normal weights (for ReLU-family activations).
     */
    public static Module conv2d(String name, int in, int out, int kernel, int stride, int padding) {
        return conv2d(name, in, out, dev.jacobian.backend.Conv2dSpec.of(kernel, stride, padding), true,
                Initializer.heNormal());
    }

    /** 2-D pooling ({@link dev.jacobian.graph.ops.Pool2d}) with the window {@code spec}. No parameters. */
    public static Module pool2d(dev.jacobian.backend.Pool2dSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("pool2d: spec must not be null");
        }
        ModuleSpec s = ModuleSpec.of("pool2d", "kind", spec.kind().name().toLowerCase(Locale.ROOT),
                "kernel", List.of(spec.kernelH(), spec.kernelW()), "stride", List.of(spec.strideH(), spec.strideW()),
                "padding", List.of(spec.padH(), spec.padW()), "count_include_pad", spec.countIncludePad());
        return new Simple(spec.toString(), s, g -> List.of(), (x, p) -> x.graph().pool2d(x, spec));
    }

    /** {@code torch.nn.MaxPool2d(kernel, stride, padding)}. */
    public static Module maxPool2d(int kernel, int stride, int padding) {
        return pool2d(dev.jacobian.backend.Pool2dSpec.max(kernel, stride, padding));
    }

    /** {@code torch.nn.AvgPool2d(kernel, stride, padding)} (padding counted in the average, PyTorch's default). */
    public static Module avgPool2d(int kernel, int stride, int padding) {
        return pool2d(dev.jacobian.backend.Pool2dSpec.avg(kernel, stride, padding));
    }

    /**
     * Global average pooling, {@code [N, C, H, W] -> [N, C]} ({@link dev.jacobian.graph.ops.GlobalAvgPool}):
     * {@code torch.nn.AdaptiveAvgPool2d(1)} then a flatten. No parameters.
     */
    public static Module globalAvgPool() {
        return new Simple("global_avg_pool", ModuleSpec.of("global_avg_pool"), g -> List.of(),
                (x, p) -> x.graph().globalAvgPool(x));
    }

    /**
     * Builds the module a {@link ModuleSpec} describes (one of this class's, or a {@code sequential} of them), with
     * every parameter initialized to zeros: the caller loads the weights (a model file does,
     * {@link dev.jacobian.io.ModelFile}). The options are checked as the factories check their arguments.
     *
     * @throws IllegalArgumentException naming the type and the option that is missing or wrong, or a
     *     {@value ModuleSpec#CUSTOM} module (which only its author can build)
     */
    public static Module fromSpec(ModuleSpec s) {
        Initializer zeros = Initializer.zeros();
        return switch (s.type()) {
            case "dense" -> s.options().containsKey("activation")
                    ? dense(s.text("name"), s.integer("in"), s.integer("out"), zeros, s.text("activation"))
                    : dense(s.text("name"), s.integer("in"), s.integer("out"), zeros);
            case "activation" -> activation(s.text("name"));
            case "prelu" -> prelu(s.text("name"), s.integer("units"));
            case "maxout" -> maxoutMax(s.integer("pieces"));
            case "dropout" -> dropout(s.number("p"));
            case "batch_norm" -> batchNorm(s.text("name"), s.integer("channels"));
            case "layer_norm" -> layerNorm(s.text("name"), Shape.of(s.integers("shape")));
            case "flatten" -> flatten();
            case "conv2d" -> {
                int[] k = pair(s, "kernel");
                int[] st = pair(s, "stride");
                int[] p = pair(s, "padding");
                int[] d = pair(s, "dilation");
                yield conv2d(s.text("name"), s.integer("in"), s.integer("out"),
                        new dev.jacobian.backend.Conv2dSpec(k[0], k[1], st[0], st[1], p[0], p[1], d[0], d[1],
                                s.integer("groups")), s.flag("bias"), zeros);
            }
            case "pool2d" -> {
                int[] k = pair(s, "kernel");
                int[] st = pair(s, "stride");
                int[] p = pair(s, "padding");
                dev.jacobian.backend.Pool2dSpec.Kind kind = switch (s.text("kind")) {
                    case "max" -> dev.jacobian.backend.Pool2dSpec.Kind.MAX;
                    case "avg" -> dev.jacobian.backend.Pool2dSpec.Kind.AVG;
                    default -> throw new IllegalArgumentException("pool2d: kind must be max or avg, got '"
                            + s.text("kind") + "'");
                };
                yield pool2d(new dev.jacobian.backend.Pool2dSpec(kind, k[0], k[1], st[0], st[1], p[0], p[1],
                        s.flag("count_include_pad")));
            }
            case "global_avg_pool" -> globalAvgPool();
            case "sequential" -> {
                if (s.children().isEmpty()) {
                    throw new IllegalArgumentException("sequential: no modules");
                }
                yield Sequential.of(s.children().stream().map(Modules::fromSpec).toArray(Module[]::new));
            }
            case ModuleSpec.CUSTOM -> throw new IllegalArgumentException("a module of the user's own ("
                    + s.options().get("description") + ") cannot be built from its spec; build the model yourself and "
                    + "load its weights (ModelFile.loadWeights)");
            default -> throw new IllegalArgumentException("unknown module type '" + s.type() + "'");
        };
    }

    private static int[] pair(ModuleSpec s, String name) {
        int[] v = s.integers(name);
        if (v.length != 2) {
            throw new IllegalArgumentException(s.type() + ": option '" + name + "' needs 2 values, got " + v.length);
        }
        return v;
    }
}
