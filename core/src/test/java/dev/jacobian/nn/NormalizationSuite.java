package dev.jacobian.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.SharedBackendSuite;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.check.GradientCheck;
import dev.jacobian.check.GradientCheckSuite;
import dev.jacobian.graph.Buffer;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Input;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.train.Trainer;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dropout, batch norm and layer norm on the backend under test: gradient checks (dropout with a fixed mask, batch
 * norm in training and in evaluation, layer norm), dropout masks bit-identical to the reference's, PyTorch 1.13's
 * values ({@code core/src/test/python/golden_norm.py}), the running statistics, and a model with batch norm and
 * dropout that learns. Each backend module extends it once.
 */
public abstract class NormalizationSuite extends SharedBackendSuite {
    /** Relative tolerance against PyTorch's float32 results. */
    public static final double NORM_GOLDEN_RTOL = 1e-4;
    /**
     * Absolute tolerance against PyTorch's float32 results: a gradient through the batch statistics is a sum of
     * O(1) terms that cancel, so its float32 rounding is absolute, a few 1e-6 per term.
     */
    public static final double NORM_GOLDEN_ATOL = 3e-5;
    /** How far the kept fraction of a large dropout mask may be from {@code 1 - p} (about 7 standard deviations). */
    public static final double KEPT_FRACTION_TOL = 0.01;

    private static Initializer copyOf(float[] v) {
        return (out, fanIn, fanOut, r) -> System.arraycopy(v, 0, out, 0, v.length);
    }

    private static float[] uniform(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    private void assertChecks(String what, Executor exec, Node loss, int batch) {
        assertChecks(what, exec, loss, batch, GradientCheckSuite.LOSS_TINY);
    }

    /**
     * A gradient check with denominator floor {@code tiny}: in training, perturbing one element of batch norm's
     * input moves its channel's statistics and so every output of the channel, and the float32 rounding of the
     * summed loss (summed in another order on each backend) is then numeric noise of about 1e-4 in the gradient:
     * batch norm's checks compare gradients below {@link GradientCheckSuite#MLP_TINY} absolutely, as the MLP checks do.
     */
    private void assertChecks(String what, Executor exec, Node loss, int batch, double tiny) {
        GradientCheck.Result res = new GradientCheck().tiny(tiny).check(exec, loss, batch);
        assertTrue(res.maxRelativeError() < GradientCheckSuite.GRADCHECK_MAX_REL, what + " on " + backend.name() + ": " + res);
    }

    // ------------------------------------------------------------------ dropout

    @Test
    void dropoutGradientWithAFixedMask() {
        int n = 6;
        int f = 7;
        Graph g = new Graph();
        Input noise = g.input("noise", f);
        Parameter x = g.parameter("x", Shape.matrix(n, f), Initializer.normal(1.0), true);
        Parameter r = g.parameter("r", Shape.matrix(n, f), Initializer.normal(1.0), false);
        Node y = g.dropout(x, noise, 0.4f);
        Node loss = g.sum(g.mul(y, r));
        float[] u = uniform(n * f, 3, 0, 1);
        try (Executor exec = new Executor(g, backend, 7)) {
            exec.feed(noise, u, 0, n);
            assertChecks("dropout, fixed mask", exec, loss, n);
            float[] xs = exec.value(x).download();
            float[] ys = exec.value(y).download();
            float[] dx = exec.gradient(x).download();
            float[] rs = exec.value(r).download();
            for (int i = 0; i < u.length; i++) {
                float mask = u[i] >= 0.4f ? 1f / 0.6f : 0f;
                assertEquals(xs[i] * mask, ys[i], 1e-6, "y = x * mask at " + i);
                assertEquals(rs[i] * mask, dx[i], 1e-6, "dx = dy * mask at " + i);
            }
        }
    }

    /** With the random stream, backward uses the mask of the forward it follows (kept in workspace). */
    @Test
    void dropoutBackwardUsesTheForwardsMask() {
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(3, 50), Initializer.constant(1f), true);
        Node y = g.dropout(x, 0.5f);
        Node loss = g.sum(y);
        try (Executor exec = new Executor(g, backend, 11)) {
            for (int step = 0; step < 2; step++) {
                exec.forward(loss, 1);
                exec.backward();
                assertArrayEquals(exec.value(y).download(), exec.gradient(x).download(), "step " + step
                        + ": with x = 1, dx = mask = y");
            }
        }
    }

    private static List<float[]> dropoutDraws(Backend b, long seed) {
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(4, 333), Initializer.constant(1f), true);
        Node first = g.dropout(x, 0.3f);
        Node second = g.dropout(first, 0.5f);
        try (Executor exec = new Executor(g, b, seed)) {
            float[] a = exec.forward(second, 1, List.of(first)).download(); // keep the first mask's output readable
            float[] c = exec.value(first).download();
            float[] again = exec.forward(second, 1).download();
            return List.of(c, a, again);
        }
    }

    /** Counter-based draws and an exact scale: the masks are bit-identical to the reference backend's. */
    @Test
    void dropoutMasksAreTheSameOnEveryBackend() {
        try (Backend ref = new ReferenceBackend()) {
            List<float[]> mine = dropoutDraws(backend, 42);
            List<float[]> oracle = dropoutDraws(ref, 42);
            for (int i = 0; i < mine.size(); i++) {
                assertArrayEquals(oracle.get(i), mine.get(i), "draw " + i + " on " + backend.name());
            }
            assertFalse(java.util.Arrays.equals(mine.get(1), mine.get(2)), "each forward pass draws a new mask");
            assertFalse(java.util.Arrays.equals(mine.get(1), dropoutDraws(backend, 43).get(1)), "another seed, other masks");
        }
    }

    @ParameterizedTest
    @ValueSource(floats = {0.1f, 0.5f, 0.8f})
    void dropoutKeepsAboutOneMinusPAndScalesByItsInverse(float p) {
        int n = 100_000;
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(n), Initializer.constant(1f), true);
        Node y = g.dropout(x, p);
        try (Executor exec = new Executor(g, backend, 5)) {
            float[] v = exec.forward(y, 1).download();
            int kept = 0;
            for (float e : v) {
                if (e != 0f) {
                    kept++;
                    assertEquals(1f / (1f - p), e, 0f, "a kept element is scaled by exactly 1 / (1 - p)");
                }
            }
            assertEquals(1 - p, (double) kept / n, KEPT_FRACTION_TOL, "kept fraction for p = " + p);
        }
    }

    @Test
    void dropoutIsTheIdentityInEvaluationAndForZero() {
        float[] xs = uniform(2 * 9, 1, -2, 2);
        Graph g = new Graph();
        Input in = g.input("in", 9);
        Parameter w = g.parameter("w", Shape.of(9), Initializer.constant(1f), true);
        Node x = g.mul(in, w);
        Node y = g.dropout(x, 0.5f);
        Node zero = g.dropout(x, 0f);
        Node predicted = g.dropout(in, 0.5f);
        try (Executor exec = new Executor(g, backend, 3)) {
            exec.feed(in, xs, 0, 2);
            assertArrayEquals(xs, exec.forward(zero, 2).download(), "p = 0 is the identity");
            assertArrayEquals(xs, exec.forward(predicted, 2).download(), "a prediction plan never drops");
            assertFalse(java.util.Arrays.equals(xs, exec.forward(y, 2).download()), "training drops");
            exec.train(false);
            assertArrayEquals(xs, exec.forward(y, 2).download(), "evaluation is the identity");
            exec.backward(); // d y = 1 everywhere: d w_j = sum over the batch of in_j
            float[] dw = new float[9];
            for (int j = 0; j < 9; j++) {
                dw[j] = xs[j] + xs[9 + j];
            }
            assertArrayEquals(dw, exec.gradient(w).download(), 1e-6f, "and so is its gradient");
        }
    }

    @Test
    void dropoutRejectsProbabilitiesOutsideZeroToOne() {
        for (double p : new double[] {-0.1, 1.0, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Modules.dropout(p));
            assertTrue(e.getMessage().contains("p = " + (float) p), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Sequential.builder(3).dropout(p));
        }
    }

    // ------------------------------------------------------------------ batch norm

    private record Bn(Graph g, Parameter x, Parameter w, Parameter b, Parameter r, Buffer mean, Buffer var,
                      Buffer count, Node y, Node loss) {
    }

    private static Bn batchNormGraph(Shape shape, Initializer xs, Initializer ws, Initializer bs, Initializer rs) {
        Graph g = new Graph();
        int c = shape.dim(1);
        Parameter x = g.parameter("x", shape, xs, true);
        Parameter w = g.parameter("bn.weight", Shape.of(c), ws, false);
        Parameter b = g.parameter("bn.bias", Shape.of(c), bs, false);
        Parameter r = g.parameter("r", shape, rs, false);
        Buffer mean = g.buffer("bn.running_mean", Shape.of(c), Initializer.zeros());
        Buffer var = g.buffer("bn.running_var", Shape.of(c), Initializer.constant(1f));
        Buffer count = g.buffer("bn.num_batches_tracked", Shape.scalar(), Initializer.zeros());
        Node y = g.batchNorm(x, w, b, mean, var, count, 1e-5f, 0.1f);
        return new Bn(g, x, w, b, r, mean, var, count, y, g.sum(g.mul(y, r)));
    }

    private static Initializer around(double center, double spread) {
        return (out, fanIn, fanOut, r) -> {
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) (center + spread * (2 * r.nextDouble() - 1));
            }
        };
    }

    static final int[][] BN_SHAPES = {{5, 4}, {3, 2, 2, 3}};

    @Test
    void batchNormGradientInTraining() {
        for (int[] s : BN_SHAPES) {
            Bn bn = batchNormGraph(Shape.of(s), Initializer.normal(1.5), around(1, 0.5), Initializer.normal(1),
                    Initializer.normal(1));
            try (Executor exec = new Executor(bn.g(), backend, 3)) {
                assertChecks("batch norm (training) " + Shape.of(s), exec, bn.loss(), 1, GradientCheckSuite.MLP_TINY);
            }
        }
    }

    @Test
    void batchNormGradientInEvaluation() {
        for (int[] s : BN_SHAPES) {
            Bn bn = batchNormGraph(Shape.of(s), Initializer.normal(1.5), around(1, 0.5), Initializer.normal(1),
                    Initializer.normal(1));
            try (Executor exec = new Executor(bn.g(), backend, 3)) {
                for (int i = 0; i < 3; i++) {
                    exec.forward(bn.loss(), 1); // moves the running statistics away from (0, 1)
                }
                exec.train(false);
                float[] mean = exec.buffer(bn.mean()).download();
                assertChecks("batch norm (evaluation) " + Shape.of(s), exec, bn.loss(), 1, GradientCheckSuite.MLP_TINY);
                assertArrayEquals(mean, exec.buffer(bn.mean()).download(), "evaluation leaves the running mean alone");
            }
        }
    }

    @Test
    void batchNormNeedsMoreThanOneValuePerChannelToTrain() {
        Graph g = new Graph();
        Input in = g.input("in", 3);
        Module bn = Modules.batchNorm("bn1", 3);
        Module net = Sequential.of(Modules.dense("d", 3, 3, Initializer.heNormal()), bn);
        Node y = net.forward(in);
        try (Executor exec = new Executor(g, backend, 1)) {
            exec.feed(in, new float[] {1, 2, 3}, 0, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> exec.forward(g.sum(y), 1));
            assertTrue(e.getMessage().contains("batch_norm") && e.getMessage().contains("[1, 3]"), e.getMessage());
            exec.train(false);
            exec.forward(g.sum(y), 1); // evaluation normalizes one sample with the running statistics
        }
    }

    /** Three passes as golden_norm.py runs them: two in training, then one in evaluation. */
    @ParameterizedTest
    @ValueSource(strings = {"bn1d", "bn2d"})
    void batchNormMatchesPyTorch(String name) {
        Map<String, float[]> gold = golden();
        Shape shape = name.equals("bn1d") ? Shape.of(4, 3) : Shape.of(2, 3, 2, 3);
        Bn bn = batchNormGraph(shape, copyOf(gold.get(name + ".x1")), copyOf(gold.get(name + ".w")),
                copyOf(gold.get(name + ".b")), copyOf(gold.get(name + ".r1")));
        try (Executor exec = new Executor(bn.g(), backend, 0)) {
            for (int k = 1; k <= 3; k++) {
                exec.train(k < 3);
                exec.value(bn.x()).upload(gold.get(name + ".x" + k));
                exec.value(bn.r()).upload(gold.get(name + ".r" + k));
                exec.forward(bn.loss(), 1);
                exec.backward();
                String at = name + " pass " + k + " on " + backend.name();
                assertGolden(at + ": y", gold.get(name + ".y" + k), exec.value(bn.y()).download());
                assertGolden(at + ": dx", gold.get(name + ".dx" + k), exec.gradient(bn.x()).download());
                assertGolden(at + ": d weight", gold.get(name + ".dw" + k), exec.gradient(bn.w()).download());
                assertGolden(at + ": d bias", gold.get(name + ".db" + k), exec.gradient(bn.b()).download());
                if (k == 2) {
                    assertGolden(at + ": running_mean", gold.get(name + ".running_mean"),
                            exec.buffer(bn.mean()).download());
                    assertGolden(at + ": running_var (unbiased)", gold.get(name + ".running_var"),
                            exec.buffer(bn.var()).download());
                    assertGolden(at + ": num_batches_tracked", gold.get(name + ".num_batches_tracked"),
                            exec.buffer(bn.count()).download());
                }
            }
        }
    }

    // ------------------------------------------------------------------ layer norm

    @Test
    void layerNormGradient() {
        int[][][] cases = {{{4, 6}, {6}}, {{2, 3, 4}, {3, 4}}};
        for (int[][] c : cases) {
            Shape s = Shape.of(c[0]);
            Shape normalized = Shape.of(c[1]);
            Graph g = new Graph();
            Parameter x = g.parameter("x", s, Initializer.normal(1.5), true);
            Parameter w = g.parameter("ln.weight", normalized, around(1, 0.5), false);
            Parameter b = g.parameter("ln.bias", normalized, Initializer.normal(1), false);
            Parameter r = g.parameter("r", s, Initializer.normal(1), false);
            Node loss = g.sum(g.mul(g.layerNorm(x, w, b, 1e-5f), r));
            try (Executor exec = new Executor(g, backend, 3)) {
                assertChecks("layer norm " + s + " over " + normalized, exec, loss, 1);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ln_last", "ln_2d"})
    void layerNormMatchesPyTorch(String name) {
        Map<String, float[]> gold = golden();
        Shape shape = name.equals("ln_last") ? Shape.of(4, 5) : Shape.of(2, 3, 4);
        Shape normalized = name.equals("ln_last") ? Shape.of(5) : Shape.of(3, 4);
        Graph g = new Graph();
        Parameter x = g.parameter("x", shape, copyOf(gold.get(name + ".x")), true);
        Module ln = Modules.layerNorm("ln", normalized);
        Parameter r = g.parameter("r", shape, copyOf(gold.get(name + ".r")), false);
        Node y = ln.forward(x);
        Node loss = g.sum(g.mul(y, r));
        assertEquals(List.of("ln.weight", "ln.bias"), ln.parameters().stream().map(Parameter::name).toList());
        try (Executor exec = new Executor(g, backend, 0)) {
            exec.value(ln.parameters().get(0)).upload(gold.get(name + ".w"));
            exec.value(ln.parameters().get(1)).upload(gold.get(name + ".b"));
            exec.forward(loss, 1);
            exec.backward();
            String at = name + " on " + backend.name();
            assertGolden(at + ": y", gold.get(name + ".y"), exec.value(y).download());
            assertGolden(at + ": dx", gold.get(name + ".dx"), exec.gradient(x).download());
            assertGolden(at + ": d weight", gold.get(name + ".dw"), exec.gradient(ln.parameters().get(0)).download());
            assertGolden(at + ": d bias", gold.get(name + ".db"), exec.gradient(ln.parameters().get(1)).download());
        }
    }

    private static void assertGolden(String what, float[] expected, float[] actual) {
        TensorAssert.assertClose(what, expected, actual, NORM_GOLDEN_RTOL, NORM_GOLDEN_ATOL);
    }

    /** Records of {@code golden/norm.txt}, written by {@code core/src/test/python/golden_norm.py}. */
    static Map<String, float[]> golden() {
        return dev.jacobian.check.Golden.read("norm.txt");
    }

    // ------------------------------------------------------------------ modules and training

    /** Which half of a 4x4 image is brighter: {@code n} images and labels. */
    private static float[] images(int n, int[] labels) {
        SplittableRandom r = new SplittableRandom(9);
        float[] x = new float[n * 16];
        for (int i = 0; i < n; i++) {
            double top = 0;
            for (int p = 0; p < 16; p++) {
                float v = (float) r.nextDouble();
                x[i * 16 + p] = v;
                top += p < 8 ? v : -v;
            }
            labels[i] = top > 0 ? 1 : 0;
        }
        return x;
    }

    /**
     * An MLP with batch norm and dropout trains through {@link Model} and {@link Trainer}: the loss goes down, the
     * running statistics follow, the norm's parameters stay out of weight decay and the buffers out of the arena.
     */
    @Test
    void mlpWithBatchNormAndDropoutLearns() {
        int n = 256;
        int[] y = new int[n];
        float[] x = images(n, y);
        Module net = Sequential.of(Modules.flatten(), Modules.dense("fc1", 16, 32, Initializer.heNormal()),
                Modules.batchNorm("bn1", 32), Modules.activation("relu"), Modules.dropout(0.2),
                Modules.dense("out", 32, 2, Initializer.xavierUniform()));
        try (Model m = Model.of(net, Shape.of(1, 4, 4), LossKind.SOFTMAX_CROSS_ENTROPY, backend, 5);
             Sgd sgd = Sgd.builder().learningRate(0.1).momentum(0.9).weightDecay(1e-4).build()) {
            assertEquals(List.of("bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"),
                    net.buffers().stream().map(Buffer::name).toList());
            assertEquals(net.buffers(), m.buffers());
            Executor exec = m.executor();
            for (String p : List.of("bn1.weight", "bn1.bias")) {
                assertTrue(exec.layout().offset(m.parameter(p)) >= exec.layout().regularizedEnd(), p + " is not decayed");
            }
            assertEquals(32 * 16 + 32 + 32 * 2 + 32 * 2 + 2, m.parameterCount(), "buffers are not parameters");
            Trainer t = new Trainer(m, sgd);
            float[] targets = m.encodeTargets(y);
            double first = 0;
            double last = 0;
            int epochs = 30;
            long allocations = -1;
            for (int epoch = 0; epoch < epochs; epoch++) {
                double sum = 0;
                for (int s = 0; s < n; s += 32) {
                    sum += t.step(x, targets, s, 32).loss();
                    if (allocations < 0) {
                        allocations = backend.stats().allocations();
                    }
                }
                if (epoch == 0) {
                    first = sum;
                }
                last = sum;
            }
            assertEquals(allocations, backend.stats().allocations(), "steps after the first allocate nothing");
            assertTrue(last < 0.5 * first, "the loss went down: " + first + " -> " + last + " on " + backend.name());
            assertEquals((float) (epochs * n / 32), m.read(m.buffer("bn1.num_batches_tracked"))[0], 0f);
            float[] var = m.read(m.buffer("bn1.running_var"));
            assertFalse(java.util.Arrays.equals(new float[32], m.read(m.buffer("bn1.running_mean"))), "running mean moved");
            for (float v : var) {
                assertTrue(v > 0f && v != 1f, "running variance moved and stays positive: " + v);
            }
            m.eval();
            double acc = m.accuracy(x, y, 64);
            assertTrue(acc > 0.85, "accuracy " + acc + " on " + backend.name() + " (" + m.describe() + ")");
            m.train();
        }
    }

    /** The builder's per-layer options: affine, norm, activation, dropout; names bn1, ln1, … */
    @ParameterizedTest
    @ValueSource(strings = {"batch", "layer"})
    void builderAddsNormAndDropoutToEveryHiddenLayer(String norm) {
        Sequential.Builder builder = Sequential.builder(16).hidden(24, "relu").hidden(12, "tanh")
                .output(2, LossKind.SOFTMAX_CROSS_ENTROPY).dropout(0.1).seed(3);
        builder = norm.equals("batch") ? builder.batchNorm() : builder.layerNorm();
        int n = 128;
        int[] y = new int[n];
        float[] x = images(n, y);
        try (Model m = builder.build(backend); Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
            String prefix = norm.equals("batch") ? "bn" : "ln";
            for (String p : List.of(prefix + "1.weight", prefix + "1.bias", prefix + "2.weight", prefix + "2.bias")) {
                m.parameter(p);
            }
            assertEquals(norm.equals("batch") ? 6 : 0, m.buffers().size());
            assertTrue(m.describe().contains("dropout"), m.describe());
            Trainer t = new Trainer(m, sgd);
            float[] targets = m.encodeTargets(y);
            double first = 0;
            double last = 0;
            for (int epoch = 0; epoch < 20; epoch++) {
                double sum = 0;
                for (int s = 0; s < n; s += 32) {
                    sum += t.step(x, targets, s, 32).loss();
                }
                first = epoch == 0 ? sum : first;
                last = sum;
            }
            assertTrue(last < 0.7 * first, norm + " norm: the loss went down: " + first + " -> " + last + " on "
                    + backend.name());
        }
    }
}
