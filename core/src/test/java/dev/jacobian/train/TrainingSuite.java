package dev.jacobian.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.graph.Parameter;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.optim.StepReport;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End-to-end training behaviour on the backend under test: learning a non-linear task, determinism,
 * allocation-free steps, clipping as the formula says, and NaN detection. Each backend extends it.
 */
public abstract class TrainingSuite {
    /** Relative tolerance of a gradient norm read back from the device vs computed on the host. */
    public static final double NORM_RTOL = 1e-4;

    /** A new backend for each test (the suite closes it). */
    protected abstract Backend createBackend();

    /** Whether the backend promises bit-identical results for identical runs (the CPU backends do). */
    /**
     * The most kernel launches an SGD step over the parameter arena may take: 3 with a fused update (the norm in
     * at most two stages, one update); a backend that inherits the composed update allows more.
     */
    protected int maxOptimizerLaunches() {
        return 3;
    }

    protected boolean bitDeterministic() {
        return true;
    }

    /** Two interleaved spirals: {@code n} points per class, 2 features, labels 0/1. */
    public static final class Spirals {
        public final float[] x;
        public final int[] y;

        public Spirals(int n, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            x = new float[4 * n];
            y = new int[2 * n];
            for (int i = 0; i < n; i++) {
                double t = 0.25 + 3.0 * Math.PI * i / n;
                double rad = t / (3.0 * Math.PI);
                for (int c = 0; c < 2; c++) {
                    int k = 2 * i + c;
                    double a = t + c * Math.PI;
                    x[2 * k] = (float) (2 * rad * Math.cos(a) + 0.02 * r.nextGaussian());
                    x[2 * k + 1] = (float) (2 * rad * Math.sin(a) + 0.02 * r.nextGaussian());
                    y[k] = c;
                }
            }
        }
    }

    private static Model spiralModel(Backend b, long seed) {
        return spiralModel(b, seed, "relu");
    }

    private static Model spiralModel(Backend b, long seed, String activation) {
        return Sequential.builder(2).hidden(64, activation).hidden(64, activation)
                .output(2, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(seed).build(b);
    }

    /** ReLU (fused dense kernels) and GELU (composed in core from unary and binary primitives) both learn. */
    @ParameterizedTest
    @ValueSource(strings = {"relu", "gelu"})
    void learnsTwoSpirals(String activation) {
        Spirals data = new Spirals(200, 1);
        try (Backend b = createBackend(); Model mlp = spiralModel(b, 3, activation);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5).build()) {
            Trainer t = new Trainer(mlp, sgd);
            float[] targets = mlp.encodeTargets(data.y);
            int n = data.y.length;
            int batch = 40;
            float first = Float.NaN;
            float last = Float.NaN;
            for (int epoch = 0; epoch < 150; epoch++) {
                for (int s = 0; s < n; s += batch) {
                    last = t.step(data.x, targets, s, batch).loss();
                    if (Float.isNaN(first)) {
                        first = last;
                    }
                }
            }
            double acc = mlp.accuracy(data.x, data.y, 128);
            assertTrue(acc > 0.95, "two-spirals accuracy " + acc + " with " + activation + " on " + b.name() + " (loss "
                    + first + " -> " + last + ")");
        }
    }

    private List<float[]> trainAndRead(long seed, int steps) {
        Spirals data = new Spirals(64, 5);
        try (Backend b = createBackend(); Model mlp = spiralModel(b, seed);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).nesterov(true).weightDecay(1e-4).clipNorm(1).build()) {
            Trainer t = new Trainer(mlp, sgd);
            float[] targets = mlp.encodeTargets(data.y);
            for (int i = 0; i < steps; i++) {
                t.step(data.x, targets, (i * 32) % 128, 32);
            }
            List<float[]> out = new ArrayList<>();
            for (Parameter p : mlp.parameters()) {
                out.add(mlp.read(p));
            }
            return out;
        }
    }

    @Test
    void sameSeedSameWeights() {
        List<float[]> a = trainAndRead(17, 25);
        List<float[]> b = trainAndRead(17, 25);
        List<float[]> c = trainAndRead(18, 25);
        for (int i = 0; i < a.size(); i++) {
            if (bitDeterministic()) {
                assertArrayEquals(a.get(i), b.get(i), "same seed must give bit-identical weights (parameter " + i + ")");
            } else {
                TensorAssert.assertClose("same seed, parameter " + i, a.get(i), b.get(i), 1e-4, 1e-5);
            }
        }
        boolean differs = false;
        for (int i = 0; i < a.size(); i++) {
            differs |= !java.util.Arrays.equals(a.get(i), c.get(i));
        }
        assertTrue(differs, "another seed gives other weights");
    }

    @ParameterizedTest
    @ValueSource(strings = {"relu", "gelu"})
    void stepsAfterTheFirstAllocateNothingAndCopyOnlyTheBatchAndLoss(String activation) {
        Spirals data = new Spirals(64, 5);
        try (Backend b = createBackend(); Model mlp = spiralModel(b, 1, activation);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(1).build()) {
            Trainer t = new Trainer(mlp, sgd);
            float[] targets = mlp.encodeTargets(data.y);
            t.step(data.x, targets, 0, 32);
            long allocations = b.stats().allocations();
            long live = b.stats().liveBuffers();
            long uploads = b.stats().uploads();
            long downloads = b.stats().downloads();
            long downloadedBytes = b.stats().downloadedBytes();
            int steps = 20;
            for (int i = 0; i < steps; i++) {
                t.step(data.x, targets, (i * 32) % 128, 32);
            }
            assertEquals(allocations, b.stats().allocations(), "a step after the first allocates no device memory");
            assertEquals(live, b.stats().liveBuffers());
            assertEquals(uploads + 2L * steps, b.stats().uploads(), "only the input batch and its targets are uploaded");
            assertEquals(downloads + steps, b.stats().downloads(), "one read-back per step");
            assertEquals(downloadedBytes + 8L * steps, b.stats().downloadedBytes(), "the loss and the gradient norm");
        }
    }

    /**
     * A small CNN (conv, batch norm, ReLU, max pool, conv, flatten, dense) learns in which quadrant of a noisy 8x8
     * image a bright blob sits, and its steps after the first allocate nothing and copy only the batch and the loss.
     */
    @Test
    void aSmallCnnLearnsWhereTheBlobIsAndItsStepsAllocateNothing() {
        int n = 128;
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[n * 64];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int q = r.nextInt(4);
            y[i] = q;
            for (int p = 0; p < 64; p++) {
                x[i * 64 + p] = (float) (0.3 * r.nextDouble());
            }
            int top = (q / 2) * 4 + r.nextInt(2);
            int left = (q % 2) * 4 + r.nextInt(2);
            for (int dy = 0; dy < 3; dy++) {
                for (int dx = 0; dx < 3; dx++) {
                    x[i * 64 + (top + dy) * 8 + left + dx] += 1f;
                }
            }
        }
        dev.jacobian.nn.Module net = Sequential.of(
                dev.jacobian.nn.Modules.conv2d("c1", 1, 4, 3, 1, 1),
                dev.jacobian.nn.Modules.batchNorm("bn1", 4),
                dev.jacobian.nn.Modules.activation("relu"),
                dev.jacobian.nn.Modules.maxPool2d(2, 2, 0),
                dev.jacobian.nn.Modules.conv2d("c2", 4, 8, 3, 1, 1),
                dev.jacobian.nn.Modules.activation("relu"),
                dev.jacobian.nn.Modules.flatten(),
                dev.jacobian.nn.Modules.dense("out", 8 * 4 * 4, 4, dev.jacobian.graph.Initializer.xavierUniform()));
        try (Backend b = createBackend();
             Model cnn = Model.of(net, dev.jacobian.tensor.Shape.of(1, 8, 8), LossKind.SOFTMAX_CROSS_ENTROPY, b, 5);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build()) {
            Trainer t = new Trainer(cnn, sgd);
            float[] targets = cnn.encodeTargets(y);
            t.step(x, targets, 0, 32);
            long allocations = b.stats().allocations();
            long uploads = b.stats().uploads();
            long downloads = b.stats().downloads();
            int steps = 60;
            for (int i = 1; i <= steps; i++) {
                t.step(x, targets, (i * 32) % n, 32);
            }
            assertEquals(allocations, b.stats().allocations(), "a CNN step after the first allocates no device memory");
            assertEquals(uploads + 2L * steps, b.stats().uploads(), "only the input batch and its targets are uploaded");
            assertEquals(downloads + steps, b.stats().downloads(), "one read-back per step");
            double accuracy = cnn.accuracy(x, y, 64);
            assertTrue(accuracy > 0.95, "the CNN finds the blob's quadrant on " + b.name() + ": accuracy " + accuracy);
        }
    }

    @Test
    void trackedPredictionsComeBackWithTheLoss() {
        Spirals data = new Spirals(64, 5);
        try (Backend b = createBackend(); Model mlp = spiralModel(b, 1);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build();
             Trainer t = new Trainer(mlp, sgd).trackPredictions(true)) {
            float[] targets = mlp.encodeTargets(data.y);
            t.step(data.x, targets, 0, 32);
            int[] expected = mlp.predictClasses(data.x, 32, 32);
            long downloads = b.stats().downloads();
            StepResult r = t.step(data.x, targets, 32, 32);
            assertEquals(downloads + 1, b.stats().downloads(), "loss, norm and predictions in one transfer");
            assertArrayEquals(expected, r.predictions(), "predictions of the weights before the update");
            int[] labels = java.util.Arrays.copyOfRange(data.y, 32, 64);
            int hits = 0;
            for (int i = 0; i < 32; i++) {
                hits += expected[i] == labels[i] ? 1 : 0;
            }
            assertEquals(hits, r.correct(labels));
        }
    }

    @Test
    void clippingByGlobalNormFollowsTheFormula() {
        Spirals data = new Spirals(32, 2);
        for (double threshold : new double[] {1e-3, 1e6}) {
            try (Backend b = createBackend(); Model mlp = spiralModel(b, 4);
                 Sgd sgd = Sgd.builder().learningRate(0.5).clipNorm(threshold).build()) {
                float[] targets = mlp.encodeTargets(data.y);
                var exec = mlp.executor();
                exec.feed(mlp.input(), data.x, 0, 64);
                exec.feed(mlp.targets(), targets, 0, 64);
                exec.forward(mlp.loss(), 64);
                exec.backward();
                List<float[]> before = new ArrayList<>();
                List<float[]> grads = new ArrayList<>();
                double sq = 0;
                for (Parameter p : mlp.parameters()) {
                    before.add(mlp.read(p));
                    float[] g = exec.gradient(p).download();
                    grads.add(g);
                    for (float v : g) {
                        sq += (double) v * v;
                    }
                }
                double norm = Math.sqrt(sq);
                StepReport report = sgd.step(exec);
                assertEquals(norm, report.gradNorm(), NORM_RTOL * norm, "pre-clip global norm");
                double scale = norm >= threshold ? threshold / norm : 1.0;
                assertEquals(norm >= threshold, report.clipped());
                for (int i = 0; i < before.size(); i++) {
                    float[] w0 = before.get(i);
                    float[] g = grads.get(i);
                    float[] expected = new float[w0.length];
                    for (int j = 0; j < w0.length; j++) {
                        expected[j] = (float) (w0[j] - 0.5 * scale * g[j]);
                    }
                    TensorAssert.assertClose("clipped update (t=" + threshold + ")", expected,
                            mlp.read(mlp.parameters().get(i)), 1e-4, 1e-6);
                }
            }
        }
    }

    @Test
    void clippingByValueBoundsEachElement() {
        Spirals data = new Spirals(32, 2);
        try (Backend b = createBackend(); Model mlp = spiralModel(b, 4);
             Sgd sgd = Sgd.builder().learningRate(1.0).clipValue(1e-4).build()) {
            var exec = mlp.executor();
            exec.feed(mlp.input(), data.x, 0, 64);
            exec.feed(mlp.targets(), mlp.encodeTargets(data.y), 0, 64);
            exec.forward(mlp.loss(), 64);
            exec.backward();
            List<float[]> before = new ArrayList<>();
            for (Parameter p : mlp.parameters()) {
                before.add(mlp.read(p));
            }
            sgd.step(exec);
            for (int i = 0; i < before.size(); i++) {
                float[] after = mlp.read(mlp.parameters().get(i));
                for (int j = 0; j < after.length; j++) {
                    assertTrue(Math.abs(after[j] - before.get(i)[j]) <= 1e-4 * (1 + 1e-3), "each step element is within the clip value");
                }
            }
        }
    }

    @Test
    void nonFiniteLossIsReportedAndWeightsAreKept() {
        Spirals data = new Spirals(32, 2);
        try (Backend b = createBackend();
             Model mlp = Sequential.builder(2).hidden(16, "relu").output(2, LossKind.MSE).seed(4).build(b);
             Sgd sgd = Sgd.builder().learningRate(0.1).momentum(0.9).build()) {
            Trainer t = new Trainer(mlp, sgd);
            float[] targets = mlp.encodeTargets(data.y);
            t.step(data.x, targets, 0, 64);
            targets[5] = Float.NaN; // a corrupt target: the loss and every gradient become NaN
            List<float[]> before = new ArrayList<>();
            for (Parameter p : mlp.parameters()) {
                before.add(mlp.read(p));
            }
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> t.step(data.x, targets, 0, 64));
            assertTrue(e.weightsUntouched(), e.getMessage());
            assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("step 2"), e.getMessage());
            assertFalse(Float.isFinite(e.loss()));
            for (int i = 0; i < before.size(); i++) {
                assertArrayEquals(before.get(i), mlp.read(mlp.parameters().get(i)), "weights untouched after a NaN step");
            }
        }
    }

    /**
     * The optimizer step of a 6-parameter model (three weights, three biases) runs over the parameter arena: at
     * most 3 kernel launches (the global norm, at most two stages, and one fused update), whatever the depth.
     */
    @Test
    void optimizerStepIsAtMostThreeLaunches() {
        Spirals data = new Spirals(64, 5);
        // 2-256-128-2: 33,666 parameters, enough for the OpenCL norm to take its two-stage path
        try (Backend b = createBackend();
             Model mlp = Sequential.builder(2).hidden(256, "relu").hidden(128, "relu").output(2, LossKind.SOFTMAX_CROSS_ENTROPY)
                     .init(Sequential.Init.HE).seed(1).build(b);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).weightDecay(1e-3).clipNorm(1).build()) {
            assertEquals(6, mlp.parameters().size());
            assertTrue(mlp.parameterCount() > 1 << 15);
            Trainer t = new Trainer(mlp, sgd);
            float[] targets = mlp.encodeTargets(data.y);
            t.step(data.x, targets, 0, 32); // the first step allocates the optimizer state
            var exec = mlp.executor();
            exec.feed(mlp.input(), data.x, 32, 32);
            exec.feed(mlp.targets(), targets, 32, 32);
            exec.forward(mlp.loss(), 32);
            exec.backward();
            double expectedSq = 0;
            for (Parameter p : mlp.parameters()) {
                for (float g : exec.gradient(p).download()) {
                    expectedSq += (double) g * g;
                }
            }
            long launches = b.stats().launches();
            long allocations = b.stats().allocations();
            float norm = sgd.step(exec).gradNorm();
            long used = b.stats().launches() - launches;
            assertTrue(used >= 1 && used <= maxOptimizerLaunches(), "optimizer step launched " + used + " kernels on "
                    + b.name());
            assertEquals(allocations, b.stats().allocations(), "the step allocated nothing");
            assertEquals(Math.sqrt(expectedSq), norm, 1e-4 * Math.sqrt(expectedSq),
                    "the norm over the gradient arena is the norm over all parameters");
        }
    }

    /** A class index that names no class is rejected on the host, naming the sample, before anything changes. */
    @Test
    void invalidClassTargetsAreRejectedBeforeTheStep() {
        Spirals data = new Spirals(16, 5);
        try (Backend b = createBackend(); Model mlp = spiralModel(b, 1);
             Sgd sgd = Sgd.builder().learningRate(0.05).build(); Trainer t = new Trainer(mlp, sgd)) {
            float[] before = mlp.executor().parameterArena().download();
            for (float bad : new float[] {Float.NaN, -1f, 2f, 0.5f, Float.POSITIVE_INFINITY}) {
                float[] targets = mlp.encodeTargets(data.y);
                targets[7] = bad;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> t.step(data.x, targets, 4, 8));
                assertTrue(e.getMessage().contains("sample 7 is " + bad), e.getMessage());
            }
            assertEquals(0, t.steps(), "no step was taken");
            TensorAssert.assertClose("weights untouched", before, mlp.executor().parameterArena().download(), 0, 0);
        }
    }

    /** An operation whose output is a draw from the op context's random stream (what dropout will use). */
    private static final class Noise implements dev.jacobian.graph.Operation {
        @Override
        public String name() {
            return "noise";
        }

        @Override
        public dev.jacobian.tensor.Shape outputShape(List<dev.jacobian.tensor.Shape> in) {
            return in.get(0);
        }

        @Override
        public void forward(dev.jacobian.graph.OpContext ctx, dev.jacobian.tensor.Tensor[] in, dev.jacobian.tensor.Tensor out) {
            ctx.randomUniform(out);
        }

        @Override
        public void backward(dev.jacobian.graph.OpContext ctx, dev.jacobian.tensor.Tensor[] in, dev.jacobian.tensor.Tensor out,
                             dev.jacobian.tensor.Tensor dOut, dev.jacobian.tensor.Tensor[] dIn, boolean[] acc) {
        }
    }

    private static List<float[]> draws(Backend b, long seed) {
        var g = new dev.jacobian.graph.Graph();
        var x = g.input("x", 37);
        var a = g.apply(new Noise(), x);
        var c = g.apply(new Noise(), x);
        try (var exec = new dev.jacobian.graph.Executor(g, b, seed)) {
            exec.feed(x, new float[37 * 3], 0, 3);
            List<float[]> out = new ArrayList<>();
            out.add(exec.forward(a, 3).download());
            out.add(exec.forward(a, 3).download());
            out.add(exec.forward(c, 3).download());
            return out;
        }
    }

    /** The op context's counter-based stream gives the same bits on this backend as on the reference. */
    @Test
    void randomStreamIsTheSameOnEveryBackend() {
        try (Backend b = createBackend(); Backend ref = new dev.jacobian.reference.ReferenceBackend()) {
            List<float[]> mine = draws(b, 42);
            List<float[]> oracle = draws(ref, 42);
            for (int i = 0; i < mine.size(); i++) {
                // integer arithmetic (Philox4x32-10) and an exact float conversion: exact equality is right here
                assertArrayEquals(oracle.get(i), mine.get(i), "draw " + i + " on " + b.name());
                for (float v : mine.get(i)) {
                    assertTrue(v >= 0f && v < 1f, "uniform in [0, 1): " + v);
                }
            }
            assertFalse(java.util.Arrays.equals(mine.get(0), mine.get(1)), "each forward pass draws anew");
            assertFalse(java.util.Arrays.equals(mine.get(0), mine.get(2)), "each node has its own stream");
            assertFalse(java.util.Arrays.equals(mine.get(0), draws(b, 43).get(0)), "another seed, other numbers");
        }
    }

    /**
     * A model of modules on rank-3 samples: flatten (a view), a GELU dense layer (composed in core), an affine
     * output; it learns which half of a 4x4 image is brighter.
     */
    /**
     * A loader's batch of image bytes ({@code keepBytes}, uploaded by the backend as it converts them) trains the model
     * exactly as the same batch as floats: the same weights after every step; its steps after the first allocate no
     * device memory and upload two arrays; a batch whose images do not fit the model's input is refused, naming both.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 2})
    void aBatchOfImageBytesTrainsAsItsFloats(int prefetch) {
        SplittableRandom r = new SplittableRandom(4);
        int n = 300;
        byte[] pixels = new byte[n * 40];
        r.nextBytes(pixels);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
        }
        dev.jacobian.data.ImageDataset images = new dev.jacobian.data.ImageDataset("bytes", pixels, y, 1, 5, 8);
        try (Backend b = createBackend();
             Model floats = Sequential.builder(40).hidden(16, "relu").output(3, LossKind.SOFTMAX_CROSS_ENTROPY).seed(6)
                     .build(b);
             Model bytes = Sequential.builder(40).hidden(16, "relu").output(3, LossKind.SOFTMAX_CROSS_ENTROPY).seed(6)
                     .build(b);
             Sgd sgd1 = Sgd.builder().learningRate(0.1).momentum(0.9).clipNorm(1).build();
             Sgd sgd2 = Sgd.builder().learningRate(0.1).momentum(0.9).clipNorm(1).build();
             Trainer tf = new Trainer(floats, sgd1); Trainer tb = new Trainer(bytes, sgd2);
             dev.jacobian.data.DataLoader lf = dev.jacobian.data.DataLoader.builder(images).batchSize(64).shuffle(3).dropLast(true)
                     .prefetch(prefetch).targets(floats::encodeTargets).build();
             dev.jacobian.data.DataLoader lb = dev.jacobian.data.DataLoader.builder(images).batchSize(64).shuffle(3).dropLast(true)
                     .prefetch(prefetch).targets(bytes::encodeTargets).keepBytes(true).build()) {
            long allocations = -1;
            long uploads = 0;
            int steps = 0;
            for (int epoch = 1; epoch <= 3; epoch++) {
                try (var ef = lf.epoch(epoch); var eb = lb.epoch(epoch)) {
                    while (ef.hasNext()) {
                        dev.jacobian.data.Batch bf = ef.next();
                        dev.jacobian.data.Batch bb = eb.next();
                        assertTrue(bb.byteRows() != null, "keepBytes leaves the bytes");
                        float lossF = tf.step(bf).loss();
                        float lossB = tb.step(bb).loss();
                        assertEquals(lossF, lossB, bitDeterministic() ? 0f : 1e-5f, "loss of epoch " + epoch);
                        if (allocations < 0) {
                            allocations = b.stats().allocations();
                            uploads = b.stats().uploads();
                        } else {
                            steps++;
                        }
                    }
                }
            }
            assertEquals(allocations, b.stats().allocations(), "steps after the first allocate no device memory");
            assertEquals(uploads + 4L * steps, b.stats().uploads(), "each step uploads its batch and its targets");
            assertTrue(steps > 5);
            for (int i = 0; i < floats.parameters().size(); i++) {
                float[] wf = floats.read(floats.parameters().get(i));
                float[] wb = bytes.read(bytes.parameters().get(i));
                if (bitDeterministic()) {
                    assertArrayEquals(wf, wb, "parameter " + i);
                } else {
                    TensorAssert.assertClose("parameter " + i, wf, wb, 1e-4, 1e-5);
                }
            }
            dev.jacobian.data.ImageDataset wider = new dev.jacobian.data.ImageDataset("wider", new byte[10 * 42],
                    new int[10], 1, 6, 7);
            try (dev.jacobian.data.DataLoader lw = dev.jacobian.data.DataLoader.builder(wider).batchSize(5).prefetch(0)
                    .targets(bytes::encodeTargets).keepBytes(true).build(); var ew = lw.epoch(1)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tb.step(ew.next()));
                assertTrue(e.getMessage().contains("step") && e.getMessage().contains("42")
                        && e.getMessage().contains("40"), e.getMessage());
            }
        }
    }

    @Test
    void moduleModelOnImagesLearns() {
        SplittableRandom r = new SplittableRandom(9);
        int n = 256;
        float[] x = new float[n * 16];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            double top = 0;
            double bottom = 0;
            for (int p = 0; p < 16; p++) {
                float v = (float) r.nextDouble();
                x[i * 16 + p] = v;
                if (p < 8) {
                    top += v;
                } else {
                    bottom += v;
                }
            }
            y[i] = top > bottom ? 1 : 0;
        }
        var net = dev.jacobian.nn.Sequential.of(dev.jacobian.nn.Modules.flatten(),
                dev.jacobian.nn.Modules.dense("hidden", 16, 32, dev.jacobian.graph.Initializer.heNormal(), "gelu"),
                dev.jacobian.nn.Modules.dense("out", 32, 2, dev.jacobian.graph.Initializer.xavierUniform()));
        try (Backend b = createBackend();
             Model m = Model.of(net, dev.jacobian.tensor.Shape.of(1, 4, 4), LossKind.SOFTMAX_CROSS_ENTROPY, b, 5);
             Sgd sgd = Sgd.builder().learningRate(0.1).momentum(0.9).build()) {
            assertEquals(4, net.parameters().size());
            assertEquals(2, m.outputSize());
            Trainer t = new Trainer(m, sgd);
            float[] targets = m.encodeTargets(y);
            for (int epoch = 0; epoch < 60; epoch++) {
                for (int s = 0; s < n; s += 32) {
                    t.step(x, targets, s, 32);
                }
            }
            m.eval();
            assertFalse(m.executor().isTraining());
            double acc = m.accuracy(x, y, 64);
            m.train();
            assertTrue(m.executor().isTraining());
            assertTrue(acc > 0.9, "module model accuracy " + acc + " on " + b.name() + " (" + m.describe() + ")");
        }
    }
}
