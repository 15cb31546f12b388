package dev.jacobian.check;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Input;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ops.Elementwise;
import dev.jacobian.nn.Initializer;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.tensor.Shape;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference gradient checks of every differentiable operation, every activation, every loss,
 * L2 regularization, fan-out and residual graphs, and small MLPs — run on the backend under test.
 * Each backend module extends this class once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class GradientCheckSuite {
    /** Largest relative error accepted, |a-n| / max(|a|, |n|, tiny), with float32 tensors. */
    public static final double GRADCHECK_MAX_REL = 1e-2;
    /**
     * Denominator floors for checks whose loss is a float32 sum of many terms: its rounding (about 1e-6
     * of the loss) divided by 2h is numeric noise of about 5e-5 times the loss, so gradients smaller than
     * this are compared absolutely ({@code |a - n| < GRADCHECK_MAX_REL * tiny}).
     */
    public static final double LOSS_TINY = 1e-2;
    public static final double MLP_TINY = 3e-2;

    protected Backend backend;

    protected abstract Backend createBackend();

    @BeforeAll
    void open() {
        backend = createBackend();
    }

    @AfterAll
    void close() {
        if (backend != null) {
            backend.close();
        }
    }

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
            int[] perm = new int[out.length];
            for (int i = 0; i < perm.length; i++) {
                perm[i] = i;
            }
            for (int i = perm.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) ((perm[i] - out.length / 2.0) * 0.1 + 0.02 * r.nextDouble());
            }
        };
    }

    /** Builds {@code loss = sum(op(params) * R)} with a random weighting parameter R, and checks it. */
    private void checkOp(String what, Shape[] shapes, Initializer init, Shape outShape,
                         BiFunction<Graph, Parameter[], Node> op) {
        Graph g = new Graph();
        Parameter[] ps = new Parameter[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            ps[i] = g.parameter("p" + i, shapes[i], init, true);
        }
        Node out = op.apply(g, ps);
        Parameter r = g.parameter("r", outShape, Initializer.normal(1.0), false);
        Node loss = g.sum(g.mul(out, r));
        assertGradients(what, g, loss, 1, 0);
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
    @ValueSource(strings = {"relu", "leaky-relu", "prelu", "elu", "tanh", "sigmoid", "maxout"})
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
}
