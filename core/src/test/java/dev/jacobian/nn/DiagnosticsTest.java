package dev.jacobian.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.LossKind;
import dev.jacobian.metrics.Evaluator;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.train.Trainer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Diagnostics} reads the activations it means: those of the pass the gradients come from, whatever ran since
 * (issue 8: after {@code accuracy}, a tanh layer's saturated fraction was read from a buffer a forward-only pass had
 * handed to another layer).
 */
class DiagnosticsTest {
    /** Hidden width: three tanh layers of one width, so a forward-only pass hands the first one's buffer on. */
    private static final int WIDTH = 16;
    private static final int FEATURES = 6;
    private static final int CLASSES = 3;
    private static final int BATCH = 32;
    private static final int TEST_SAMPLES = 100;
    private static final int TEST_BATCH = 50;
    private static final int STEPS = 5;
    /** Inputs this large saturate part of the first tanh layer. */
    private static final double INPUT_SCALE = 2.5;
    /** Host and backend may round a tanh near the saturation bound differently: one output's share either way. */
    private static final double ONE_OUTPUT = 1.0 / (BATCH * WIDTH);
    /** A weight gradient's norm reduced on the backend in floats against the host's sum in double. */
    private static final double NORM_RTOL = 1e-5;
    /** ReLU units of the first layer killed on purpose. */
    private static final int[] KILLED = {0, 5, 11};

    private static float[] gaussian(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (INPUT_SCALE * r.nextGaussian());
        }
        return a;
    }

    private static int[] labels(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextInt(CLASSES);
        }
        return a;
    }

    private static Model tanhMlp(ReferenceBackend backend) {
        return Sequential.builder(FEATURES).hidden(WIDTH, "tanh").hidden(WIDTH, "tanh").hidden(WIDTH, "tanh")
                .output(CLASSES, LossKind.SOFTMAX_CROSS_ENTROPY).seed(3).build(backend);
    }

    /** The saturated share of {@code tanh(x W + b)} computed on the host in double, as Diagnostics defines it. */
    private static double saturatedFirstLayer(Model m, float[] x, int rows) {
        float[] w = m.read(m.parameter("dense1.weight"));
        float[] b = m.read(m.parameter("dense1.bias"));
        int saturated = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < WIDTH; j++) {
                double z = b[j];
                for (int k = 0; k < FEATURES; k++) {
                    z += (double) x[i * FEATURES + k] * w[k * WIDTH + j];
                }
                double y = Math.tanh(z);
                saturated += y < -0.99 || y > 0.99 ? 1 : 0;
            }
        }
        return (double) saturated / (rows * WIDTH);
    }

    @Test
    void inspectAfterAccuracyReadsTheTrainingStepsActivations() {
        float[] x = gaussian(BATCH * FEATURES, 1);
        int[] y = labels(BATCH, 2);
        float[] testX = gaussian(TEST_SAMPLES * FEATURES, 3);
        int[] testY = labels(TEST_SAMPLES, 4);
        try (ReferenceBackend backend = new ReferenceBackend(); Model m = tanhMlp(backend);
             Trainer trainer = new Trainer(m, Sgd.builder().learningRate(0.05).build())) {
            float[] targets = m.encodeTargets(y);
            for (int s = 0; s < STEPS - 1; s++) {
                trainer.step(x, targets, 0, BATCH);
            }
            double expected = saturatedFirstLayer(m, x, BATCH); // the weights the last step's forward pass sees
            trainer.step(x, targets, 0, BATCH);
            List<Diagnostics.LayerHealth> afterStep = Diagnostics.inspect(m);
            assertEquals(expected, afterStep.get(0).saturatedFraction(), ONE_OUTPUT, "dense1 right after the step");
            assertTrue(expected > 0 && expected < Diagnostics.SATURATED_FRACTION_WARNING,
                    "the first layer is partly saturated: " + expected);

            m.accuracy(testX, testY, TEST_BATCH);
            List<Diagnostics.LayerHealth> afterAccuracy = Diagnostics.inspect(m);
            assertEquals(afterStep, afterAccuracy, "inspect after accuracy reads the training step's activations");
        }
    }

    /**
     * An evaluation at the training batch size runs the training step's plan forward again without a backward: the
     * step's activations are gone, and inspect says so instead of reading the evaluation's against the step's
     * gradients; a batch given to inspect still works.
     */
    @Test
    void inspectRefusesWhenTheStepsActivationsAreGoneAndReadsAGivenBatch() {
        float[] x = gaussian(BATCH * FEATURES, 1);
        int[] y = labels(BATCH, 2);
        float[] testX = gaussian(TEST_SAMPLES * FEATURES, 3);
        int[] testY = labels(TEST_SAMPLES, 4);
        try (ReferenceBackend backend = new ReferenceBackend(); Model m = tanhMlp(backend);
             Trainer trainer = new Trainer(m, Sgd.builder().learningRate(0.05).build());
             Evaluator evaluator = new Evaluator(m)) {
            IllegalStateException none = assertThrows(IllegalStateException.class, () -> Diagnostics.inspect(m));
            assertTrue(none.getMessage().startsWith("Diagnostics.inspect: no backward pass has run yet"), none.getMessage());
            trainer.step(x, m.encodeTargets(y), 0, BATCH);
            m.train();
            evaluator.evaluate(testX, testY, BATCH);
            IllegalStateException gone = assertThrows(IllegalStateException.class, () -> Diagnostics.inspect(m));
            assertTrue(gone.getMessage().contains("the values of the last backward pass are gone"), gone.getMessage());
            assertTrue(gone.getMessage().contains("inspect(model, x, firstRow, rows)"), gone.getMessage());

            long stream = m.executor().forwardCount();
            m.accuracy(testX, testY, TEST_BATCH);
            List<Diagnostics.LayerHealth> batch = Diagnostics.inspect(m, x, 0, BATCH);
            assertEquals(saturatedFirstLayer(m, x, BATCH), batch.get(0).saturatedFraction(), ONE_OUTPUT,
                    "dense1 on the given batch, with the current weights");
            assertEquals(stream + (TEST_SAMPLES / TEST_BATCH), m.executor().forwardCount(),
                    "inspect leaves the random stream where accuracy left it");
            assertTrue(m.executor().isTraining(), "inspect leaves the model in training mode");
            for (Diagnostics.LayerHealth h : batch.subList(0, 3)) {
                assertTrue(h.saturatedFraction() >= 0 && h.saturatedFraction() <= 1, h.toString());
            }
        }
    }
    /**
     * The backend's reductions give what the host would compute from the downloaded tensors: each weight gradient's L2
     * norm (summed in double on the host) and each ReLU layer's dead share, with units killed on purpose (weights of 0
     * and a negative bias: 0 for every sample) and every other unit alive on some sample.
     */
    @Test
    void gradientNormsAndDeadUnitsMatchTheHostsOwnCount() {
        float[] x = gaussian(BATCH * FEATURES, 5);
        int[] y = labels(BATCH, 6);
        try (ReferenceBackend backend = new ReferenceBackend();
             Model m = Sequential.builder(FEATURES).hidden(WIDTH, "relu").hidden(WIDTH, "relu")
                     .output(CLASSES, LossKind.SOFTMAX_CROSS_ENTROPY).seed(3).build(backend);
             Trainer trainer = new Trainer(m, Sgd.builder().learningRate(0.05).build())) {
            float[] w = m.read(m.parameter("dense1.weight"));
            float[] b = m.read(m.parameter("dense1.bias"));
            for (int j : KILLED) {
                for (int k = 0; k < FEATURES; k++) {
                    w[k * WIDTH + j] = 0f;
                }
                b[j] = -1f;
            }
            m.write(m.parameter("dense1.weight"), w);
            m.write(m.parameter("dense1.bias"), b);
            trainer.step(x, m.encodeTargets(y), 0, BATCH);
            List<Diagnostics.LayerHealth> health = Diagnostics.inspect(m);
            assertEquals(3, health.size());
            for (int i = 0; i < health.size(); i++) {
                Layer layer = m.layers().get(i);
                float[] g = m.executor().gradient(layer.weight()).download();
                double sq = 0;
                for (float v : g) {
                    sq += (double) v * v;
                }
                assertEquals(Math.sqrt(sq), health.get(i).gradNorm(), NORM_RTOL * Math.sqrt(sq), layer.name());
                assertTrue(health.get(i).gradNorm() > 0, layer.name());
            }
            float[] a1 = m.executor().valueAtLastBackward(m.layers().get(0).output()).download();
            int dead = 0;
            for (int j = 0; j < WIDTH; j++) {
                boolean alive = false;
                for (int r = 0; r < BATCH; r++) {
                    alive |= a1[r * WIDTH + j] > 0f;
                }
                dead += alive ? 0 : 1;
            }
            assertTrue(dead >= KILLED.length, "the killed units are dead: " + dead);
            assertEquals((double) dead / WIDTH, health.get(0).deadFraction(), 0.0, "dense1");
            assertTrue(health.get(1).deadFraction() >= 0 && health.get(1).deadFraction() < 1, "dense2");
            assertTrue(Double.isNaN(health.get(2).deadFraction()), "the output layer has no ReLU");
            assertTrue(Double.isNaN(health.get(0).saturatedFraction()), "a ReLU layer has no saturated share");
        }
    }
}
