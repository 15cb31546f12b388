package dev.jacobian.check;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SharedBackendSuite;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Input;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ops.Elementwise;
import dev.jacobian.graph.ops.Unary;
import dev.jacobian.graph.Initializer;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference gradient checks of every differentiable operation, every activation, every loss,
 * L2 regularization, fan-out and residual graphs, and small MLPs — run on the backend under test.
 * Each backend module extends this class once.
 */
public abstract class GradientCheckSuite extends SharedBackendSuite {
    /** Largest relative error accepted, |a-n| / max(|a|, |n|, tiny), with float32 tensors. */
    public static final double GRADCHECK_MAX_REL = 1e-2;
    /**
     * Denominator floors for checks whose loss is a float32 sum of many terms: its rounding (about 1e-6
     * of the loss) divided by 2h is numeric noise of about 5e-5 times the loss, so gradients smaller than
     * this are compared absolutely ({@code |a - n| < GRADCHECK_MAX_REL * tiny}).
     */
    public static final double LOSS_TINY = 1e-2;
    public static final double MLP_TINY = 3e-2;

    /** Values at least {@code 0.2} away from zero (and from each other's kinks), random sign. */
    protected static Initializer awayFromZero() {
        return (out, fanIn, fanOut, r) -> {
            for (int i = 0; i < out.length; i++) {
                double v = 0.2 + 0.8 * r.nextDouble();
                out[i] = (float) (r.nextBoolean() ? v : -v);
            }
        };
    }

    /** Distinct values on a grid (spacing 0.1 + jitter), so max and maxout never face near-ties. */
    protected static Initializer distinct() {
        return (out, fanIn, fanOut, r) -> {
            int[] perm = shuffled(out.length, r);
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) ((perm[i] - out.length / 2.0) * 0.1 + 0.02 * r.nextDouble());
            }
        };
    }

    /** {@code 0 .. n-1} in a random order (Fisher–Yates on {@code r}). */
    private static int[] shuffled(int n, SplittableRandom r) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    /** Builds {@code loss = sum(op(params) * R)} with a random weighting parameter R, and checks it. */
    private void checkOp(String what, Shape[] shapes, Initializer init, Shape outShape,
                         BiFunction<Graph, Parameter[], Node> op) {
        checkOp(what, shapes, init, outShape, op, new GradientCheck());
    }

    /** As above with a configured check (e.g. {@code tiny(LOSS_TINY)} where float32 rounding of the sum dominates). */
    private void checkOp(String what, Shape[] shapes, Initializer init, Shape outShape,
                         BiFunction<Graph, Parameter[], Node> op, GradientCheck check) {
        Graph g = new Graph();
        Parameter[] ps = new Parameter[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            ps[i] = g.parameter("p" + i, shapes[i], init, true);
        }
        Node out = op.apply(g, ps);
        Parameter r = g.parameter("r", outShape, Initializer.normal(1.0), false);
        Node loss = g.sum(g.mul(out, r));
        try (Executor exec = new Executor(g, backend, 7)) {
            GradientCheck.Result res = check.check(exec, loss, 1);
            assertTrue(res.maxRelativeError() < GRADCHECK_MAX_REL, what + " on " + backend.name() + ": " + res);
        }
    }

    private void assertGradients(String what, Graph g, Node loss, int batch, int dummyCols) {
        try (Executor exec = new Executor(g, backend, 7)) {
            GradientCheck.Result r = new GradientCheck().check(exec, loss, batch);
            assertTrue(r.maxRelativeError() < GRADCHECK_MAX_REL, what + " on " + backend.name() + ": " + r);
        }
    }

    private static Shape m(int r, int c) {
        return Shape.matrix(r, c);
    }

    @Test
    void linear() {
        checkOp("linear", new Shape[] {m(5, 7), m(7, 3), m(1, 3)}, Initializer.normal(1), m(5, 3),
                (g, p) -> g.linear(p[0], p[1], p[2]));
    }

    @Test
    void matmulAndBias() {
        checkOp("matmul", new Shape[] {m(4, 6), m(6, 5)}, Initializer.normal(1), m(4, 5), (g, p) -> g.matmul(p[0], p[1]));
        checkOp("addBias", new Shape[] {m(4, 6), m(1, 6)}, Initializer.normal(1), m(4, 6), (g, p) -> g.addBias(p[0], p[1]));
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binary(BinaryOp op) {
        checkOp("binary " + op, new Shape[] {m(3, 5), m(3, 5)}, distinct(), m(3, 5),
                (g, p) -> g.apply(new Elementwise(op), p[0], p[1]));
    }

    @Test
    void scale() {
        checkOp("scale", new Shape[] {m(3, 4)}, Initializer.normal(1), m(3, 4), (g, p) -> g.scale(p[0], -2.5f));
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void activation(Activation f) {
        float param = f == Activation.LEAKY_RELU ? 0.1f : f == Activation.ELU ? 0.8f : 0f;
        checkOp("activation " + f, new Shape[] {m(4, 6)}, awayFromZero(), m(4, 6), (g, p) -> g.activation(p[0], f, param));
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void dense(Activation f) {
        float param = f == Activation.LEAKY_RELU ? 0.1f : f == Activation.ELU ? 0.8f : 0f;
        checkOp("dense " + f, new Shape[] {m(5, 7), m(7, 3), m(1, 3)}, awayFromZero(), m(5, 3),
                (g, p) -> g.dense(p[0], (Parameter) p[1], (Parameter) p[2], f, param));
    }

    @Test
    void prelu() {
        checkOp("prelu", new Shape[] {m(5, 4), m(1, 4)}, awayFromZero(), m(5, 4), (g, p) -> g.prelu(p[0], p[1]));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void maxout(int pieces) {
        checkOp("maxout " + pieces, new Shape[] {m(4, 3 * pieces)}, distinct(), m(4, 3), (g, p) -> g.maxout(p[0], pieces));
    }

    @Test
    void softmax() {
        checkOp("softmax", new Shape[] {m(4, 5)}, Initializer.normal(1), m(4, 5), (g, p) -> g.softmax(p[0]));
    }

    @ParameterizedTest
    @EnumSource(value = Reduction.class, names = {"SUM", "MEAN", "MAX", "SUM_SQUARES"})
    void reductions(Reduction red) {
        for (Axis axis : Axis.values()) {
            Shape out = switch (axis) {
                case ROWS -> m(1, 5);
                case COLS -> m(4, 1);
                case ALL -> m(1, 1);
            };
            checkOp("reduce " + red + " " + axis, new Shape[] {m(4, 5)}, distinct(), out, (g, p) -> g.reduce(p[0], red, axis));
        }
    }

    @ParameterizedTest
    @EnumSource(LossKind.class)
    void losses(LossKind kind) {
        int n = 6;
        int c = 4;
        Graph g = new Graph();
        Input y = g.input("y", kind.classIndexTargets() ? 1 : c);
        Parameter scores = g.parameter("scores", m(n, c), Initializer.normal(1.5), true);
        Node loss = g.loss(kind, scores, y);
        SplittableRandom r = new SplittableRandom(3);
        float[] t = new float[n * (kind.classIndexTargets() ? 1 : c)];
        for (int i = 0; i < t.length; i++) {
            t[i] = kind.classIndexTargets() ? r.nextInt(c) : kind == LossKind.MSE ? (float) r.nextGaussian() : (float) r.nextDouble();
        }
        try (Executor exec = new Executor(g, backend, 5)) {
            exec.feed(y, t, 0, n);
            GradientCheck.Result res = new GradientCheck().tiny(LOSS_TINY).check(exec, loss, n);
            assertTrue(res.maxRelativeError() < GRADCHECK_MAX_REL, "loss " + kind + " on " + backend.name() + ": " + res);
        }
    }

    @Test
    void l2Regularization() {
        Graph g = new Graph();
        Parameter w = g.parameter("w", m(3, 4), Initializer.normal(1), true);
        Parameter b = g.parameter("b", m(1, 4), Initializer.normal(1), false);
        Node base = g.sum(g.addBias(w, b));
        Node loss = g.l2Regularized(base, 0.3f, List.of(w));
        assertGradients("l2", g, loss, 1, 0);
    }

    @Test
    void fanOutAndResidual() {
        // h = tanh(x W1 + b1); out = h + tanh(h W2 + b2) (residual); h also feeds a second head (fan-out)
        Graph g = new Graph();
        Input x = g.input("x", 5);
        Input y = g.input("y", 1);
        Parameter w1 = g.parameter("w1", m(5, 6), Initializer.xavierUniform(), true);
        Parameter b1 = g.parameter("b1", m(1, 6), Initializer.normal(0.1), false);
        Parameter w2 = g.parameter("w2", m(6, 6), Initializer.xavierUniform(), true);
        Parameter b2 = g.parameter("b2", m(1, 6), Initializer.normal(0.1), false);
        Parameter w3 = g.parameter("w3", m(6, 3), Initializer.xavierUniform(), true);
        Parameter b3 = g.parameter("b3", m(1, 3), Initializer.zeros(), false);
        Node h = g.tanh(g.linear(x, w1, b1));
        Node res = g.add(h, g.tanh(g.linear(h, w2, b2)));
        Node prod = g.mul(res, h);
        Node logits = g.linear(g.add(prod, h), w3, b3);
        Node loss = g.add(g.loss(LossKind.SOFTMAX_CROSS_ENTROPY, logits, y), g.scale(g.mean(g.mul(h, h)), 0.5f));
        int n = 7;
        SplittableRandom r = new SplittableRandom(11);
        float[] xs = new float[n * 5];
        float[] ys = new float[n];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            ys[i] = r.nextInt(3);
        }
        try (Executor exec = new Executor(g, backend, 9)) {
            exec.feed(x, xs, 0, n);
            exec.feed(y, ys, 0, n);
            GradientCheck.Result res2 = new GradientCheck().check(exec, loss, n);
            assertTrue(res2.maxRelativeError() < GRADCHECK_MAX_REL, "fan-out/residual on " + backend.name() + ": " + res2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "leaky-relu", "prelu", "elu", "gelu", "tanh", "sigmoid", "maxout"})
    void smallMlp(String activation) {
        for (LossKind loss : LossKind.values()) {
            try (Model mlp = Sequential.builder(6).hidden(8, activation).hidden(5, activation).output(3, loss)
                    .init(activation.equals("tanh") || activation.equals("sigmoid") ? Sequential.Init.XAVIER : Sequential.Init.HE)
                    .l2(0.01).seed(21).build(backend)) {
                int n = 9;
                SplittableRandom r = new SplittableRandom(4);
                float[] xs = new float[n * 6];
                int[] labels = new int[n];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = (float) r.nextGaussian();
                }
                for (int i = 0; i < n; i++) {
                    labels[i] = r.nextInt(3);
                }
                mlp.executor().feed(mlp.input(), xs, 0, n);
                mlp.executor().feed(mlp.targets(), mlp.encodeTargets(labels), 0, n);
                GradientCheck.Result res = new GradientCheck().tiny(MLP_TINY).maxElementsPerParameter(24)
                        .check(mlp.executor(), mlp.loss(), n);
                assertTrue(res.maxRelativeError() < GRADCHECK_MAX_REL,
                        "MLP " + activation + " / " + loss + " on " + backend.name() + ": " + res);
            }
        }
    }

    // ------------------------------------------------------------------ kinks: ReLU and max DAGs, wrong gradients

    /** Seeds of the random ReLU + max DAGs checked with the default {@link GradientCheck}. */
    public static final int DAG_SEEDS = 16;
    /** Largest share of a DAG's elements the check may skip at kinks (most differences must still be compared). */
    public static final double MAX_SKIPPED_AT_KINKS = 0.25;
    /** Smallest worst relative error a deliberately wrong backward rule must show (well above GRADCHECK_MAX_REL). */
    public static final double WRONG_GRADIENT_MIN_REL = 0.05;
    /** Seeds of the DAGs each wrong backward rule is checked on. */
    public static final int WRONG_GRADIENT_SEEDS = 4;

    /** A ReLU + max DAG and the loss to check; {@code relu} and {@code max} build those two operations. */
    private record Dag(Graph graph, Input x, Input y, Node loss) {
        static final int ROWS = 8;
        static final int FEATURES = 6;

        static Dag build(BiFunction<Graph, Node, Node> relu, BinaryOperator<Node> max, Graph g) {
            Input x = g.input("x", FEATURES);
            Input y = g.input("y", 1);
            Parameter w1 = g.parameter("w1", m(FEATURES, 12), Initializer.heNormal(), true);
            Parameter b1 = g.parameter("b1", m(1, 12), Initializer.normal(0.1), false);
            Parameter w2 = g.parameter("w2", m(12, 16), Initializer.heNormal(), true);
            Parameter b2 = g.parameter("b2", m(1, 16), Initializer.normal(0.1), false);
            Parameter w3 = g.parameter("w3", m(12, 8), Initializer.heNormal(), true);
            Parameter w4 = g.parameter("w4", m(8, 8), Initializer.heNormal(), true);
            Parameter b4 = g.parameter("b4", m(1, 8), Initializer.normal(0.1), false);
            Parameter w5 = g.parameter("w5", m(8, 3), Initializer.xavierUniform(), true);
            Parameter b5 = g.parameter("b5", m(1, 3), Initializer.zeros(), false);
            Node h1 = relu.apply(g, g.linear(x, w1, b1));
            Node h2 = g.maxout(g.linear(h1, w2, b2), 2);               // h1 fans out: maxout branch ...
            Node a = relu.apply(g, g.matmul(h1, w3));                  // ... and a matmul without bias (exact zeros)
            Node m = max.apply(h2, a);
            Node r = g.add(m, relu.apply(g, g.linear(m, w4, b4)));     // residual
            Node logits = g.linear(g.add(r, h2), w5, b5);              // h2 fans out again
            return new Dag(g, x, y, g.loss(LossKind.SOFTMAX_CROSS_ENTROPY, logits, y));
        }

        static Dag build() {
            Graph g = new Graph();
            return build((gr, z) -> gr.activation(z, Activation.RELU, 0f), g::max, g);
        }

        /** Feeds random inputs and labels of {@code seed}. */
        void feed(Executor exec, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] xs = new float[ROWS * FEATURES];
            float[] ys = new float[ROWS];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < ys.length; i++) {
                ys[i] = r.nextInt(3);
            }
            exec.feed(x, xs, 0, ROWS);
            exec.feed(y, ys, 0, ROWS);
        }
    }

    /**
     * The class comment's example holds on random DAGs of matmuls, ReLUs, maxout, an elementwise max, fan-out and a
     * residual add, with the default step: centered differences across a kink (PyTorch in float64 confirms
     * backprop's gradients; the check used to report relative errors up to 2 here) are skipped, the rest compared.
     */
    @Test
    void reluMaxDagsCheckWithTheDefaults() {
        for (int seed = 0; seed < DAG_SEEDS; seed++) {
            Dag dag = Dag.build();
            try (Executor exec = new Executor(dag.graph(), backend, seed)) {
                dag.feed(exec, seed);
                GradientCheck.Result r = new GradientCheck().check(exec, dag.loss(), Dag.ROWS);
                String what = "ReLU/max DAG seed " + seed + " on " + backend.name() + ": " + r;
                assertTrue(r.maxRelativeError() < GRADCHECK_MAX_REL, what);
                assertTrue(r.skippedFraction() < MAX_SKIPPED_AT_KINKS, what);
            }
        }
    }

    /** ReLU whose backward rule is wrong in one of three ways; its forward is ReLU's. */
    private record WrongRelu(String how) implements Operation {
        @Override
        public String name() {
            return "wrong-relu-" + how;
        }

        @Override
        public Shape outputShape(List<Shape> in) {
            return in.get(0);
        }

        @Override
        public void forward(OpContext ctx, Tensor[] in, Tensor out) {
            ctx.backend().activation(Activation.RELU, 0f, in[0], out);
        }

        @Override
        public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
            Backend b = ctx.backend();
            float keep = acc[0] ? 1f : 0f;
            switch (how) {
                case "identity" -> b.axpby(1f, dOut, keep, dIn[0]); // the gradient passes where the unit is off too
                case "leaky" -> { // a slope of 0.1 where ReLU has none
                    Tensor t = ctx.workspace(dOut.shape());
                    b.activationBackward(Activation.LEAKY_RELU, 0.1f, in[0], out, dOut, t, false);
                    b.axpby(1f, t, keep, dIn[0]);
                }
                default -> { // 10% too large
                    Tensor t = ctx.workspace(dOut.shape());
                    b.activationBackward(Activation.RELU, 0f, in[0], out, dOut, t, false);
                    b.axpby(1.1f, t, keep, dIn[0]);
                }
            }
        }
    }

    /** Elementwise max whose backward sends the gradient to the smaller operand. */
    private record WrongMax() implements Operation {
        @Override
        public String name() {
            return "wrong-max";
        }

        @Override
        public Shape outputShape(List<Shape> in) {
            return in.get(0);
        }

        @Override
        public void forward(OpContext ctx, Tensor[] in, Tensor out) {
            ctx.backend().binary(BinaryOp.MAX, in[0], in[1], out);
        }

        @Override
        public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
            for (int i = 0; i < 2; i++) {
                if (dIn[i] != null) { // operand i gets what max would give the other one
                    ctx.backend().binaryBackward(BinaryOp.MAX, 1 - i, in[0], in[1], dOut, dIn[i], acc[i]);
                }
            }
        }
    }

    /**
     * A check that cannot fail is worthless: the same DAGs with a deliberately wrong backward rule (ReLU's gradient
     * passed everywhere, leaking, or 10% too large; max's gradient sent to the smaller operand) fail it clearly,
     * kinks or not.
     */
    @ParameterizedTest
    @ValueSource(strings = {"relu identity", "relu leaky", "relu scaled", "max swapped"})
    void wrongBackwardRulesAreCaught(String wrong) {
        for (int seed = 0; seed < WRONG_GRADIENT_SEEDS; seed++) {
            Graph g = new Graph();
            Dag dag = wrong.startsWith("relu")
                    ? Dag.build((gr, z) -> gr.apply(new WrongRelu(wrong.substring(5)), z), g::max, g)
                    : Dag.build((gr, z) -> gr.activation(z, Activation.RELU, 0f), (a, b) -> g.apply(new WrongMax(), a, b), g);
            try (Executor exec = new Executor(dag.graph(), backend, seed)) {
                dag.feed(exec, seed);
                GradientCheck.Result r = new GradientCheck().check(exec, dag.loss(), Dag.ROWS);
                assertTrue(r.maxRelativeError() > WRONG_GRADIENT_MIN_REL,
                        wrong + ", seed " + seed + " on " + backend.name() + " passed: " + r);
            }
        }
    }

    // ------------------------------------------------------------------ composed ops: unary math, broadcasting, views

    /** Positive values in [0.3, 1.3] (log, sqrt, reciprocal). */
    private static Initializer positive() {
        return (out, fanIn, fanOut, r) -> {
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (0.3 + r.nextDouble());
            }
        };
    }

    /**
     * Distinct values {@code k * 0.1 + offset + [0, 0.02)} (k a shuffled integer): two parameters with offsets
     * 0 and 0.05 never come within 0.03 of each other, so max never faces a near-tie.
     */
    private static Initializer grid(double offset) {
        return (out, fanIn, fanOut, r) -> {
            int[] perm = shuffled(out.length, r);
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) ((perm[i] - out.length / 2) * 0.1 + offset + 0.02 * r.nextDouble());
            }
        };
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unary(UnaryOp op) {
        Initializer init = switch (op) {
            case LOG, SQRT, RECIPROCAL -> positive();
            case ABS, CLAMP, SIGN, STEP -> distinct();
            default -> awayFromZero();
        };
        float p = switch (op) {
            case ADD_SCALAR -> 0.7f;
            case MUL_SCALAR -> -1.5f;
            case CLAMP -> -0.55f;
            case STEP -> 0.05f; // at least 0.03 from every grid value: no finite difference crosses the step
            default -> 0f;
        };
        float q = op == UnaryOp.CLAMP ? 0.45f : op == UnaryOp.STEP ? 2f : 0f;
        Shape s = Shape.of(3, 2, 5);
        // a float32 sum of 30 terms: its rounding over 2h is ~2e-5, so tiny gradients are compared absolutely
        checkOp("unary " + op, new Shape[] {s}, init, s, (g, ps) -> g.apply(new Unary(op, p, q), ps[0]),
                new GradientCheck().tiny(LOSS_TINY));
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void broadcastingBinary(BinaryOp op) {
        int[][][] pairs = {{{3, 4}, {4}}, {{3, 4}, {3, 1}}, {{2, 3, 4}, {3, 1}}, {{}, {2, 3}}, {{2, 1, 4}, {1, 3, 1}}};
        for (int[][] pair : pairs) {
            Shape sa = Shape.of(pair[0]);
            Shape sb = Shape.of(pair[1]);
            Shape out = Shape.broadcast("test", sa, sb);
            Graph g = new Graph();
            Parameter a = g.parameter("a", sa, grid(0), true);
            Parameter b = g.parameter("b", sb, op == BinaryOp.MAX ? grid(0.05) : awayFromZero(), true);
            Parameter r = g.parameter("r", out, Initializer.normal(1.0), false);
            Node loss = g.sum(g.mul(g.apply(new Elementwise(op), a, b), r));
            assertGradients("broadcast " + op + " " + sa + " with " + sb, g, loss, 1, 0);
        }
    }

    @Test
    void reshapeAndFlattenAreViews() {
        Shape s = Shape.of(2, 3, 4);
        checkOp("reshape", new Shape[] {s}, awayFromZero(), Shape.of(4, 6), (g, ps) -> g.reshape(ps[0], 4, -1));
        checkOp("flatten", new Shape[] {s}, awayFromZero(), Shape.of(2, 12), (g, ps) -> g.flatten(ps[0], 1));
        // a view feeding a product: the gradient of the weights flows back through the view
        checkOp("flatten then matmul", new Shape[] {s, Shape.of(12, 3)}, awayFromZero(), Shape.of(2, 3),
                (g, ps) -> g.matmul(g.flatten(ps[0], 1), ps[1]));
    }

    /** GELU (tanh approximation) is one class in core composed from primitives; its gradient checks here. */
    @Test
    void geluComposedFromPrimitives() {
        // the loss is a float32 sum of 60 terms and GELU's third derivative is O(1): compare tiny gradients
        // absolutely (LOSS_TINY), as for the other sum losses
        Graph one = new Graph();
        Parameter p = one.parameter("p", Shape.of(3, 4, 5), awayFromZero(), true);
        Parameter weights = one.parameter("r", Shape.of(3, 4, 5), Initializer.normal(1.0), false);
        Node sum = one.sum(one.mul(one.gelu(p), weights));
        try (Executor exec = new Executor(one, backend, 7)) {
            GradientCheck.Result res = new GradientCheck().tiny(LOSS_TINY).check(exec, sum, 1);
            assertTrue(res.maxRelativeError() < GRADCHECK_MAX_REL, "gelu on " + backend.name() + ": " + res);
        }
        Graph g = new Graph();
        Input x = g.input("x", 6);
        Parameter w = g.parameter("w", m(6, 5), Initializer.xavierUniform(), true);
        Parameter b = g.parameter("b", m(1, 5), Initializer.normal(0.1), false);
        Parameter r = g.parameter("r", m(4, 5), Initializer.normal(1.0), false);
        Node loss = g.sum(g.mul(g.gelu(g.linear(x, w, b)), r));
        try (Executor exec = new Executor(g, backend, 3)) {
            exec.feed(x, randomInputs(4 * 6), 0, 4);
            GradientCheck.Result res = new GradientCheck().tiny(LOSS_TINY).check(exec, loss, 4);
            assertTrue(res.maxRelativeError() < GRADCHECK_MAX_REL, "gelu layer on " + backend.name() + ": " + res);
        }
    }

    private static float[] randomInputs(int n) {
        SplittableRandom r = new SplittableRandom(11);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (2 * r.nextDouble() - 1);
        }
        return a;
    }

    // ------------------------------------------------------------------ golden values from PyTorch

    /** Relative tolerance against PyTorch's float32 results (a composed op runs several roundings). */
    public static final double GOLDEN_RTOL = 1e-4;
    /** Absolute tolerance against PyTorch's float32 results near zero. */
    public static final double GOLDEN_ATOL = 1e-5;

    /** Records of {@code core/src/test/resources/golden/composed_ops.txt}, written by the checked-in PyTorch script. */
    private static java.util.Map<String, float[]> golden() {
        return Golden.read("composed_ops.txt");
    }

    private static Initializer copyOf(float[] v) {
        return (out, fanIn, fanOut, r) -> System.arraycopy(v, 0, out, 0, v.length);
    }

    /** Forward values and gradients of the composed ops match PyTorch 1.13 (gelu tanh, unary math, broadcasting). */
    @Test
    void goldenValuesFromPyTorch() {
        java.util.Map<String, float[]> gold = golden();
        Shape s = Shape.of(3, 4, 5);
        java.util.Map<String, java.util.function.BiFunction<Graph, Node, Node>> unary = new java.util.LinkedHashMap<>();
        unary.put("gelu_tanh", Graph::gelu);
        unary.put("exp", (g, x) -> g.unary(x, UnaryOp.EXP));
        unary.put("log", (g, x) -> g.unary(x, UnaryOp.LOG));
        unary.put("sqrt", (g, x) -> g.unary(x, UnaryOp.SQRT));
        unary.put("reciprocal", (g, x) -> g.unary(x, UnaryOp.RECIPROCAL));
        unary.put("square", (g, x) -> g.unary(x, UnaryOp.SQUARE));
        unary.put("abs", (g, x) -> g.unary(x, UnaryOp.ABS));
        unary.put("tanh", (g, x) -> g.unary(x, UnaryOp.TANH));
        unary.put("sigmoid", (g, x) -> g.unary(x, UnaryOp.SIGMOID));
        unary.put("clamp", (g, x) -> g.clamp(x, -0.55f, 0.45f));
        for (var e : unary.entrySet()) {
            String name = e.getKey();
            Graph g = new Graph();
            Parameter x = g.parameter("x", s, copyOf(gold.get(name + ".x")), false);
            Parameter r = g.parameter("r", s, copyOf(gold.get(name + ".r")), false);
            Node y = e.getValue().apply(g, x);
            Node loss = g.sum(g.mul(y, r));
            assertGolden(g, loss, name, gold, java.util.Map.of("y", y), java.util.Map.of("dx", x));
        }
        for (BinaryOp op : new BinaryOp[] {BinaryOp.MUL, BinaryOp.ADD, BinaryOp.MAX}) {
            String name = "bcast_" + op.name().toLowerCase(java.util.Locale.ROOT);
            Graph g = new Graph();
            Parameter a = g.parameter("a", s, copyOf(gold.get(name + ".a")), false);
            Parameter b = g.parameter("b", Shape.of(4, 1), copyOf(gold.get(name + ".b")), false);
            Parameter r = g.parameter("r", s, copyOf(gold.get(name + ".r")), false);
            Node y = g.apply(new Elementwise(op), a, b);
            Node loss = g.sum(g.mul(y, r));
            assertGolden(g, loss, name, gold, java.util.Map.of("y", y), java.util.Map.of("da", a, "db", b));
        }
    }

    /** Runs one step of {@code loss} and compares the named values and parameter gradients with the golden records. */
    private void assertGolden(Graph g, Node loss, String name, java.util.Map<String, float[]> gold,
                              java.util.Map<String, Node> values, java.util.Map<String, Parameter> gradients) {
        try (Executor exec = new Executor(g, backend, 0)) {
            exec.forward(loss, 1);
            exec.backward();
            for (var v : values.entrySet()) {
                dev.jacobian.backend.TensorAssert.assertClose(name + "." + v.getKey() + " on " + backend.name(),
                        gold.get(name + "." + v.getKey()), exec.value(v.getValue()).download(), GOLDEN_RTOL, GOLDEN_ATOL);
            }
            for (var p : gradients.entrySet()) {
                dev.jacobian.backend.TensorAssert.assertClose(name + "." + p.getKey() + " on " + backend.name(),
                        gold.get(name + "." + p.getKey()), exec.gradient(p.getValue()).download(), GOLDEN_RTOL, GOLDEN_ATOL);
            }
        }
    }

    /** Modules (dense, PReLU, Maxout, activations, Sequential) build graphs whose gradients check. */
    @ParameterizedTest
    @ValueSource(strings = {"prelu", "maxout", "elu", "gelu"})
    void modules(String kind) {
        dev.jacobian.nn.Module hidden = switch (kind) {
            case "prelu" -> dev.jacobian.nn.Sequential.of(
                    dev.jacobian.nn.Modules.dense("h", 4, 6, Initializer.xavierUniform()), dev.jacobian.nn.Modules.prelu("p", 6));
            case "maxout" -> dev.jacobian.nn.Modules.maxout("h", 4, 6, 3, Initializer.xavierUniform());
            default -> dev.jacobian.nn.Modules.dense("h", 4, 6, Initializer.xavierUniform(), kind);
        };
        var net = dev.jacobian.nn.Sequential.of(hidden, dev.jacobian.nn.Modules.dense("out", 6, 3, Initializer.xavierUniform()));
        Graph g = new Graph();
        Input x = g.input("x", 4);
        Input y = g.input("y", 1);
        Node loss = g.loss(LossKind.SOFTMAX_CROSS_ENTROPY, net.forward(x), y);
        assertTrue(net.parameters().size() >= 4, net.describe());
        try (Executor exec = new Executor(g, backend, 5)) {
            exec.feed(x, randomInputs(5 * 4), 0, 5);
            exec.feed(y, new float[] {0, 2, 1, 1, 0}, 0, 5);
            GradientCheck.Result res = new GradientCheck().tiny(MLP_TINY).check(exec, loss, 5);
            assertTrue(res.maxRelativeError() < GRADCHECK_MAX_REL, net.describe() + " on " + backend.name() + ": " + res);
        }
    }

    // ------------------------------------------------------------------ convolution and pooling

    /**
     * Conv2d on odd geometries (stride, padding, dilation, groups, depthwise, no bias): gradients for x, w and b.
     * {@code winograd}: a 3x3 stride-1 layer of 8 channels in and out, which the CPU backend computes by Winograd.
     */
    @ParameterizedTest
    @ValueSource(strings = {"basic", "stride-pad", "dilated", "groups", "depthwise", "no-bias", "kernel-is-image",
        "winograd"})
    void conv2d(String kind) {
        int n = 2;
        boolean wide = kind.equals("winograd");
        int c = kind.equals("depthwise") ? 3 : wide ? 8 : 4;
        int oc = kind.equals("depthwise") ? 3 : wide ? 8 : 6;
        Conv2dSpec spec = switch (kind) {
            case "stride-pad" -> new Conv2dSpec(3, 2, 2, 1, 1, 1, 1, 1, 1);
            case "dilated" -> Conv2dSpec.of(2, 1, 1).withDilation(2);
            case "groups" -> Conv2dSpec.of(3, 1, 1).withGroups(2);
            case "depthwise" -> Conv2dSpec.of(3, 1, 1).withGroups(3);
            case "kernel-is-image" -> Conv2dSpec.of(5, 1, 0);
            case "winograd" -> Conv2dSpec.of(3, 1, 1);
            default -> Conv2dSpec.of(3, 1, 0);
        };
        Shape x = Shape.of(n, c, 5, 6);
        Shape w = Shape.of(oc, c / spec.groups(), spec.kernelH(), spec.kernelW());
        Shape y = spec.outputShape("conv2d", x, oc);
        boolean bias = !kind.equals("no-bias");
        Shape[] shapes = bias ? new Shape[] {x, w, Shape.of(oc)} : new Shape[] {x, w};
        // weights of 0.5: a float32 output of ~50 products rounds by about 1e-6 of itself, noise the difference quotient
        // amplifies by 1/(2h); smaller values keep it well under the gradients, and MLP_TINY floors the denominator
        checkOp("conv2d " + kind, shapes, Initializer.normal(0.5), y,
                (g, p) -> g.conv2d(p[0], p[1], bias ? p[2] : null, spec), new GradientCheck().tiny(MLP_TINY));
    }

    @ParameterizedTest
    @ValueSource(strings = {"max 2x2", "max 3s2p1", "avg 2x2", "avg 3s2p1", "avg 3s2p1 no-pad-count", "avg 2s3"})
    void pool2d(String kind) {
        Pool2dSpec spec = switch (kind) {
            case "max 2x2" -> Pool2dSpec.max(2, 2, 0);
            case "max 3s2p1" -> Pool2dSpec.max(3, 2, 1);
            case "avg 2x2" -> Pool2dSpec.avg(2, 2, 0);
            case "avg 3s2p1" -> Pool2dSpec.avg(3, 2, 1);
            case "avg 3s2p1 no-pad-count" -> Pool2dSpec.avg(3, 2, 1).withCountIncludePad(false);
            default -> Pool2dSpec.avg(2, 3, 0);
        };
        // one small plane: distinct() spaces values 0.1 apart (no window faces a near-tie), so a large input spans a
        // large range and its float32 loss rounds too coarsely for the difference quotient; kernels see larger
        // inputs in the conformance suite
        Shape x = Shape.of(1, 1, 7, 6);
        checkOp("pool2d " + kind, new Shape[] {x}, distinct(), spec.outputShape("pool2d", x), (g, p) -> g.pool2d(p[0], spec),
                new GradientCheck().tiny(MLP_TINY));
    }

    @Test
    void globalAvgPoolAndPermute() {
        checkOp("global_avg_pool", new Shape[] {Shape.of(2, 3, 4, 5)}, Initializer.normal(1), m(2, 3),
                (g, p) -> g.globalAvgPool(p[0]), new GradientCheck().tiny(LOSS_TINY));
        checkOp("permute", new Shape[] {Shape.of(2, 3, 4, 5)}, Initializer.normal(1), Shape.of(4, 2, 5, 3),
                (g, p) -> g.permute(p[0], 2, 0, 3, 1), new GradientCheck().tiny(LOSS_TINY));
        // permute's gradient accumulates where its input fans out
        checkOp("permute fan-out", new Shape[] {Shape.of(3, 3)}, Initializer.normal(1), m(3, 3),
                (g, p) -> g.add(g.permute(p[0], 1, 0), p[0]));
    }

    /** A small CNN of modules (conv, batch norm, ReLU, max pool, conv with groups, global pool, dense) checks. */
    @Test
    void convolutionalModules() {
        var net = dev.jacobian.nn.Sequential.of(
                dev.jacobian.nn.Modules.conv2d("c1", 2, 4, 3, 1, 1),
                dev.jacobian.nn.Modules.batchNorm("bn", 4),
                dev.jacobian.nn.Modules.activation("tanh"),
                dev.jacobian.nn.Modules.maxPool2d(2, 2, 0),
                dev.jacobian.nn.Modules.conv2d("c2", 4, 4, Conv2dSpec.of(3, 1, 1).withGroups(2), true, Initializer.heNormal()),
                dev.jacobian.nn.Modules.avgPool2d(2, 1, 0),
                dev.jacobian.nn.Modules.globalAvgPool(),
                dev.jacobian.nn.Modules.dense("out", 4, 3, Initializer.xavierUniform()));
        Graph g = new Graph();
        Input x = g.input("x", Shape.of(2, 6, 6));
        Input y = g.input("y", 1);
        Node loss = g.loss(LossKind.SOFTMAX_CROSS_ENTROPY, net.forward(x), y);
        try (Executor exec = new Executor(g, backend, 5)) {
            exec.feed(x, randomInputs(4 * 72), 0, 4);
            exec.feed(y, new float[] {0, 2, 1, 1}, 0, 4);
            // a step of 1e-3: with 1e-2 a perturbed weight moves some 2x2 window's maximum to another element
            GradientCheck.Result res = new GradientCheck().epsilon(1e-3).tiny(MLP_TINY).check(exec, loss, 4);
            assertTrue(res.maxRelativeError() < GRADCHECK_MAX_REL, net.describe() + " on " + backend.name() + ": " + res);
        }
    }

    /**
     * The convolution records of {@code golden/conv.txt} and their geometries: odd strides, padding, dilation, groups,
     * and 3x3 stride-1 layers of 8 or more channels (the CPU backend's Winograd path).
     */
    public static final Object[][] GOLDEN_CONVS = {
        {"conv_basic", new Conv2dSpec(3, 3, 1, 1, 0, 0, 1, 1, 1)},
        {"conv_pad_stride", new Conv2dSpec(3, 3, 2, 2, 1, 1, 1, 1, 1)},
        {"conv_rect", new Conv2dSpec(2, 3, 1, 2, 1, 0, 1, 1, 1)},
        {"conv_dilated", new Conv2dSpec(3, 2, 1, 1, 2, 1, 2, 3, 1)},
        {"conv_groups", new Conv2dSpec(3, 3, 1, 1, 1, 1, 1, 1, 2)},
        {"conv_depthwise", new Conv2dSpec(3, 3, 1, 1, 1, 1, 1, 1, 3)},
        {"conv_1x1", new Conv2dSpec(1, 1, 1, 1, 0, 0, 1, 1, 1)},
        {"conv_kernel_is_image", new Conv2dSpec(4, 4, 1, 1, 0, 0, 1, 1, 1)},
        // 3x3 stride 1 with 8 or more channels: the CPU backend's Winograd path
        {"conv_winograd", Conv2dSpec.of(3, 1, 1)},
        {"conv_winograd_pad0_odd", Conv2dSpec.of(3, 1, 0)},
        {"conv_winograd_pad2_rect", new Conv2dSpec(3, 3, 1, 1, 2, 1, 1, 1, 1)},
    };

    /** Conv2d, max and average pooling and global average pooling match PyTorch 1.13 (values and gradients). */
    @Test
    void convolutionGoldenValuesFromPyTorch() {
        java.util.Map<String, float[]> gold = Golden.read("conv.txt");
        for (Object[] c : GOLDEN_CONVS) {
            String name = (String) c[0];
            Conv2dSpec spec = (Conv2dSpec) c[1];
            boolean bias = gold.containsKey(name + ".b");
            Graph g = new Graph();
            Parameter x = g.parameter("x", Golden.shape(gold, name + ".x"), copyOf(gold.get(name + ".x")), false);
            Parameter w = g.parameter("w", Golden.shape(gold, name + ".w"), copyOf(gold.get(name + ".w")), false);
            Parameter b = bias ? g.parameter("b", Golden.shape(gold, name + ".b"), copyOf(gold.get(name + ".b")), false) : null;
            Parameter r = g.parameter("r", Golden.shape(gold, name + ".r"), copyOf(gold.get(name + ".r")), false);
            Node y = g.conv2d(x, w, b, spec);
            java.util.Map<String, Parameter> grads = new java.util.HashMap<>(java.util.Map.of("dx", x, "dw", w));
            if (bias) {
                grads.put("db", b);
            }
            assertGolden(g, g.sum(g.mul(y, r)), name, gold, java.util.Map.of("y", y), grads);
        }
        Object[][] pools = {
            {"max_2x2", Pool2dSpec.max(2, 2, 0)},
            {"max_3s2p1", Pool2dSpec.max(3, 2, 1)},
            {"max_overlap", new Pool2dSpec(Pool2dSpec.Kind.MAX, 3, 2, 1, 1, 1, 0, true)},
            {"avg_2x2", Pool2dSpec.avg(2, 2, 0)},
            {"avg_pad_counted", Pool2dSpec.avg(3, 2, 1)},
            {"avg_pad_not_counted", Pool2dSpec.avg(3, 2, 1).withCountIncludePad(false)},
            {"avg_stride_gt_kernel", Pool2dSpec.avg(2, 3, 0)},
        };
        for (Object[] c : pools) {
            String name = (String) c[0];
            Graph g = new Graph();
            Parameter x = g.parameter("x", Golden.shape(gold, name + ".x"), copyOf(gold.get(name + ".x")), false);
            Parameter r = g.parameter("r", Golden.shape(gold, name + ".r"), copyOf(gold.get(name + ".r")), false);
            Node y = g.pool2d(x, (Pool2dSpec) c[1]);
            assertGolden(g, g.sum(g.mul(y, r)), name, gold, java.util.Map.of("y", y), java.util.Map.of("dx", x));
        }
        Graph g = new Graph();
        Parameter x = g.parameter("x", Golden.shape(gold, "global_avg.x"), copyOf(gold.get("global_avg.x")), false);
        Parameter r = g.parameter("r", Golden.shape(gold, "global_avg.r"), copyOf(gold.get("global_avg.r")), false);
        Node y = g.globalAvgPool(x);
        assertGolden(g, g.sum(g.mul(y, r)), "global_avg", gold, java.util.Map.of("y", y), java.util.Map.of("dx", x));
    }
}
