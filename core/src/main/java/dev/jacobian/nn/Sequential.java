package dev.jacobian.nn;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Input;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds a multi-layer perceptron as a graph:
 *
 * <pre>{@code
 * try (Backend backend = Backends.create();
 *      Model mlp = Sequential.builder(784)
 *              .hidden(256, "relu").hidden(128, "relu")
 *              .output(10, LossKind.SOFTMAX_CROSS_ENTROPY)
 *              .init(Sequential.Init.HE).seed(42)
 *              .build(backend)) { ... }
 * }</pre>
 *
 * Each hidden layer is {@code act(x W + b)} with {@code W: [in, units]}; {@code "maxout"} layers use
 * {@code W: [in, units*pieces]} followed by the max over each group of pieces; {@code "prelu"} layers
 * learn one slope per unit (starting at 0.25). The output layer is affine, and the loss is the batch
 * mean of {@link LossKind}, plus {@code lambda * sum W^2} over the weights when {@link Builder#l2} is set.
 *
 * <p>Every hidden layer may also be normalized ({@link Builder#batchNorm()} or {@link Builder#layerNorm()}) and
 * followed by dropout ({@link Builder#dropout(double)}), in the usual order
 * <em>affine, normalization, activation, dropout</em>: e.g. {@code dense1 -> bn1 -> relu -> dropout}. The norm
 * layers are named {@code bn1}, {@code bn2}, … or {@code ln1}, {@code ln2}, … after their hidden layer.
 */
public final class Sequential implements Module {
    /** Names accepted by {@link Builder#hidden(int, String)}. */
    public static final List<String> ACTIVATIONS =
            List.of("relu", "leaky-relu", "prelu", "elu", "gelu", "tanh", "sigmoid", "maxout", "linear");

    /** Weight initialization schemes. */
    public enum Init {
        /** He et al. 2015, normal: for the ReLU family. */
        HE,
        /** Glorot &amp; Bengio 2010, uniform: for tanh and sigmoid. */
        XAVIER;

        Initializer initializer() {
            return this == HE ? Initializer.heNormal() : Initializer.xavierUniform();
        }
    }

    /** Pieces per unit of a {@code maxout} hidden layer unless {@link Builder#maxoutPieces} says otherwise. */
    public static final int MAXOUT_PIECES = 2;

    /** The type of the architecture ({@link Model#architecture()}) of a model made by {@link #builder}. */
    public static final String MLP = "mlp";

    private final List<Module> modules;

    private Sequential(List<Module> modules) {
        this.modules = List.copyOf(modules);
    }

    /**
     * Any modules in a chain, itself a {@link Module}: {@code forward} feeds each module's output to the next.
     * E.g. {@code Sequential.of(Modules.flatten(), Modules.dense("d1", 784, 256, Initializer.heNormal(), "relu"),
     * Modules.dense("out", 256, 10, Initializer.xavierUniform()))}; train it with {@link Model#of}.
     */
    public static Sequential of(Module... modules) {
        if (modules.length == 0) {
            throw new IllegalArgumentException("Sequential.of needs at least one module");
        }
        for (int i = 0; i < modules.length; i++) {
            java.util.Objects.requireNonNull(modules[i], "modules[" + i + "]");
        }
        return new Sequential(List.of(modules));
    }

    /** The modules in order. */
    public List<Module> modules() {
        return modules;
    }

    @Override
    public Node forward(Node x) {
        Node h = x;
        for (Module m : modules) {
            h = m.forward(h);
        }
        return h;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>();
        for (Module m : modules) {
            all.addAll(m.parameters());
        }
        return all;
    }

    @Override
    public List<Buffer> buffers() {
        List<Buffer> all = new ArrayList<>();
        for (Module m : modules) {
            all.addAll(m.buffers());
        }
        return all;
    }

    /** A {@code sequential} spec whose children are the modules' specs, in order. */
    @Override
    public ModuleSpec spec() {
        return new ModuleSpec("sequential", java.util.Map.of(), modules.stream().map(Module::spec).toList());
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder("sequential(");
        for (int i = 0; i < modules.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(modules.get(i).describe());
        }
        return sb.append(')').toString();
    }

    /**
     * A builder for a multilayer perceptron on inputs of {@code inputSize} values per sample; an
     * {@link IllegalArgumentException} when {@code inputSize <= 0}.
     */
    public static Builder builder(int inputSize) {
        return new Builder(inputSize);
    }

    private record HiddenSpec(int units, String activation) {
    }

    /** Collects the architecture, then {@link #build(Backend)} makes the graph and its parameters. */
    public static final class Builder {
        private final int inputSize;
        private final List<HiddenSpec> hidden = new ArrayList<>();
        private int outputs = -1;
        private LossKind loss = LossKind.SOFTMAX_CROSS_ENTROPY;
        private Init init = Init.HE;
        private long seed = 42;
        private float l2;
        private float leakySlope = 0.01f;
        private float eluAlpha = 1f;
        private int maxoutPieces = MAXOUT_PIECES;
        private float dropout;
        private String norm = "";

        private Builder(int inputSize) {
            if (inputSize <= 0) {
                throw new IllegalArgumentException("input size must be positive: " + inputSize);
            }
            this.inputSize = inputSize;
        }

        /** A hidden layer of {@code units} with one of {@link #ACTIVATIONS}. */
        public Builder hidden(int units, String activation) {
            String a = java.util.Objects.requireNonNull(activation, "activation").toLowerCase(Locale.ROOT);
            if (!ACTIVATIONS.contains(a)) {
                throw new IllegalArgumentException("unknown activation '" + activation + "'; choose one of " + ACTIVATIONS);
            }
            if (units <= 0) {
                throw new IllegalArgumentException("a layer needs at least one unit, got " + units);
            }
            hidden.add(new HiddenSpec(units, a));
            return this;
        }

        /** The affine output layer and the loss on its scores. */
        public Builder output(int units, LossKind lossKind) {
            if (units <= 0) {
                throw new IllegalArgumentException("output layer needs at least one unit, got " + units);
            }
            this.outputs = units;
            this.loss = java.util.Objects.requireNonNull(lossKind, "lossKind");
            return this;
        }

        /**
         * Initialization of the weight matrices (default {@link Init#HE}); biases start at 0, PReLU slopes at
         * 0.25. A network without hidden layers initializes its output weights with Xavier whatever the scheme.
         */
        public Builder init(Init scheme) {
            this.init = java.util.Objects.requireNonNull(scheme, "scheme");
            return this;
        }

        /** Seed of every random draw of the initialization. */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /**
         * L2 regularization {@code lambda * sum W^2} added to the loss (weights only, not biases); an
         * {@link IllegalArgumentException} unless {@code lambda} is finite and {@code >= 0}.
         */
        public Builder l2(double lambda) {
            if (!(lambda >= 0) || Double.isInfinite(lambda)) {
                throw new IllegalArgumentException("L2 lambda must be finite and >= 0: " + lambda);
            }
            this.l2 = (float) lambda;
            return this;
        }

        /**
         * Negative-side slope of every {@code leaky-relu} hidden layer (default 0.01); any finite value, as
         * {@code torch.nn.LeakyReLU}'s {@code negative_slope}, otherwise an {@link IllegalArgumentException}.
         */
        public Builder leakySlope(double slope) {
            this.leakySlope = finite("leaky-relu slope", slope);
            return this;
        }

        /**
         * The {@code alpha} of every {@code elu} hidden layer (default 1); any finite value, as {@code torch.nn.ELU},
         * otherwise an {@link IllegalArgumentException}.
         */
        public Builder eluAlpha(double alpha) {
            this.eluAlpha = finite("elu alpha", alpha);
            return this;
        }

        /** {@code v} as a float, or an {@link IllegalArgumentException} naming {@code what} when it is not finite. */
        private static float finite(String what, double v) {
            if (!Float.isFinite((float) v)) {
                throw new IllegalArgumentException(what + " must be finite: " + v);
            }
            return (float) v;
        }

        /**
         * Pieces per unit of every {@code maxout} hidden layer (default 2): its affine map has {@code units * pieces}
         * columns. An {@link IllegalArgumentException} when {@code pieces < 2}.
         */
        public Builder maxoutPieces(int pieces) {
            if (pieces < 2) {
                throw new IllegalArgumentException("maxout needs at least 2 pieces, got " + pieces);
            }
            this.maxoutPieces = pieces;
            return this;
        }

        /**
         * Dropout with probability {@code p} after the activation of every hidden layer (none by default, or
         * with {@code p = 0}); active in training only.
         *
         * @throws IllegalArgumentException naming {@code p} and its value when it is outside {@code [0, 1)}
         */
        public Builder dropout(double p) {
            this.dropout = new dev.jacobian.graph.ops.Dropout((float) p).p();
            return this;
        }

        /**
         * Batch normalization ({@link Modules#batchNorm}) between the affine map and the activation of every hidden
         * layer (instead of layer norm, if that was asked for).
         */
        public Builder batchNorm() {
            this.norm = "bn";
            return this;
        }

        /**
         * Layer normalization ({@link Modules#layerNorm}) between the affine map and the activation of every hidden
         * layer (instead of batch norm, if that was asked for).
         */
        public Builder layerNorm() {
            this.norm = "ln";
            return this;
        }

        /** This builder's settings as an {@value #MLP} spec (what {@link #fromSpec} reads back). */
        ModuleSpec spec() {
            List<Object> layers = new ArrayList<>();
            for (HiddenSpec h : hidden) {
                java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("units", h.units());
                m.put("activation", h.activation());
                layers.add(m);
            }
            return ModuleSpec.of(MLP, "input", inputSize, "hidden", layers, "outputs", outputs, "loss", loss.name(),
                    "init", init.name(), "seed", seed, "l2", l2, "leaky_slope", leakySlope, "elu_alpha", eluAlpha,
                    "maxout_pieces", maxoutPieces, "dropout", dropout, "norm", norm);
        }

        /**
         * A builder with the settings of an {@value #MLP} spec ({@link Model#architecture()} of a built model).
         *
         * @throws IllegalArgumentException naming the option that is missing or out of range
         */
        static Builder fromSpec(ModuleSpec s) {
            Builder b = new Builder(s.integer("input"));
            for (ModuleSpec h : s.list("hidden")) {
                b.hidden(h.integer("units"), h.text("activation"));
            }
            String init = s.text("init");
            if (!init.equals("HE") && !init.equals("XAVIER")) {
                throw new IllegalArgumentException(MLP + ": init must be HE or XAVIER, got '" + init + "'");
            }
            b.output(s.integer("outputs"), Model.lossKind(s.text("loss"))).init(Init.valueOf(init))
                    .seed(s.longInteger("seed")).l2(s.number("l2")).leakySlope(s.number("leaky_slope"))
                    .eluAlpha(s.number("elu_alpha")).maxoutPieces(s.integer("maxout_pieces")).dropout(s.number("dropout"));
            switch (s.text("norm")) {
                case "bn" -> b.batchNorm();
                case "ln" -> b.layerNorm();
                case "" -> { }
                default -> throw new IllegalArgumentException(MLP + ": norm must be bn, ln or empty, got '"
                        + s.text("norm") + "'");
            }
            return b;
        }

        /** Builds the graph and allocates/initializes its parameters on {@code backend}. */
        public Model build(Backend backend) {
            java.util.Objects.requireNonNull(backend, "backend");
            if (outputs < 0) {
                throw new IllegalStateException("call output(units, loss) before build()");
            }
            Graph g = new Graph();
            Input x = g.input("x", inputSize);
            Input y = g.input("y", loss.classIndexTargets() ? 1 : outputs);
            List<Layer> layers = new ArrayList<>();
            List<Parameter> weights = new ArrayList<>();
            Initializer wInit = init.initializer();
            Node h = x;
            int in = inputSize;
            StringBuilder desc = new StringBuilder().append(inputSize);
            for (int i = 0; i < hidden.size(); i++) {
                HiddenSpec s = hidden.get(i);
                String name = "dense" + (i + 1);
                boolean maxout = s.activation().equals("maxout");
                int width = maxout ? Modules.maxoutWidth(name, s.units(), maxoutPieces) : s.units();
                Parameter w = g.parameter(name + ".weight", Shape.matrix(in, width), wInit, true);
                Parameter b = g.parameter(name + ".bias", Shape.matrix(1, width), Initializer.zeros(), false);
                weights.add(w);
                Parameter slopes = null;
                Activation act = Modules.elementwise(s.activation());
                float param = act == Activation.LEAKY_RELU ? leakySlope : act == Activation.ELU ? eluAlpha : 0f;
                // the affine map (normalized when asked), or null where it fuses with an activation whose
                // derivative is known from its output into one dense node
                Node z = null;
                if (!norm.isEmpty()) {
                    Module nm = norm.equals("bn") ? Modules.batchNorm("bn" + (i + 1), width)
                            : Modules.layerNorm("ln" + (i + 1), width);
                    z = nm.forward(g.linear(h, w, b));
                } else if (act == null || !act.derivativeFromOutput(param)) {
                    z = g.linear(h, w, b);
                }
                if (act != null) {
                    h = z == null ? g.dense(h, w, b, act, param) : g.activation(z, act, param);
                } else if (maxout) {
                    h = g.maxout(z, maxoutPieces);
                } else if (s.activation().equals("gelu")) {
                    h = g.gelu(z); // composed from primitives in core (dev.jacobian.graph.ops.Gelu)
                } else {
                    slopes = g.parameter(name + ".slope", Shape.matrix(1, width), Initializer.constant(0.25f), false);
                    h = g.prelu(z, slopes);
                }
                layers.add(new Layer(name, s.activation(), act, w, b, slopes, h, s.units()));
                if (dropout > 0f) {
                    h = g.dropout(h, dropout);
                }
                in = s.units();
                desc.append('-').append(s.units()).append('(').append(s.activation()).append(')');
            }
            String name = "dense" + (hidden.size() + 1);
            Parameter w = g.parameter(name + ".weight", Shape.matrix(in, outputs),
                    hidden.isEmpty() ? Initializer.xavierUniform() : wInit, true);
            Parameter b = g.parameter(name + ".bias", Shape.matrix(1, outputs), Initializer.zeros(), false);
            weights.add(w);
            Node logits = g.linear(h, w, b);
            layers.add(new Layer(name, "linear", null, w, b, null, logits, outputs));
            Node lossNode = g.l2Regularized(g.loss(loss, logits, y), l2, weights);
            desc.append('-').append(outputs).append(' ').append(loss.name().toLowerCase(Locale.ROOT));
            if (!norm.isEmpty()) {
                desc.append(norm.equals("bn") ? " + batch norm" : " + layer norm");
            }
            if (dropout > 0f) {
                desc.append(" + dropout ").append(dropout);
            }
            if (l2 > 0f) {
                desc.append(" + l2 ").append(l2);
            }
            return new Model(g, backend, seed, x, y, logits, lossNode, loss, layers, desc.toString(), spec());
        }
    }
}
