package dev.jacobian.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.NonFiniteLossException;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Data-parallel training on one machine ({@link DataParallel}): sharded steps against the plain {@link Trainer},
 * the same result whatever the number of workers, clipping on the summed gradient, and clear errors. Each backend
 * extends it with its {@link #createBackend()}.
 */
public abstract class DataParallelSuite {
    /** Steps each comparison trains (the bar: 20, with momentum and clipping). */
    protected static final int STEPS = 20;
    /** The global batch: 48 samples, cut into 6 shards of 8 or 2 of 24. */
    protected static final int BATCH = 48;
    /**
     * Relative tolerance between K shards and one unsharded batch after {@link #STEPS} steps: the only difference is
     * where the weight gradients' sums over samples are rounded (in K parts, then in double on the host).
     */
    protected static final float SHARDED_VS_WHOLE_RTOL = 1e-5f;

    private final List<Backend> opened = new ArrayList<>();

    /** A new backend for each call (the suite closes it). */
    protected abstract Backend createBackend();

    /** {@code n} backends from {@link #createBackend()}, closed after the test. */
    protected final List<Backend> backends(int n) {
        List<Backend> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Backend b = createBackend();
            opened.add(b);
            out.add(b);
        }
        return out;
    }

    @AfterEach
    void closeBackends() {
        opened.forEach(Backend::close);
        opened.clear();
    }

    /** Synthetic 3-class data: 24 features per sample. */
    public static float[] features(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * 24];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** Labels of {@link #features}: from the first two features. */
    public static int[] labels(float[] x) {
        int[] y = new int[x.length / 24];
        for (int i = 0; i < y.length; i++) {
            y[i] = (x[i * 24] > 0 ? 1 : 0) + (x[i * 24 + 1] > 0.5f ? 1 : 0);
        }
        return y;
    }

    /** A 24-32-16-3 MLP with seed 7, optionally with dropout. */
    protected static Function<Backend, Model> mlp(double dropout) {
        return b -> {
            Sequential.Builder builder = Sequential.builder(24).hidden(32, "relu").hidden(16, "tanh");
            if (dropout > 0) {
                builder.dropout(dropout);
            }
            return builder.output(3, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(7).build(b);
        };
    }

    /** SGD with momentum, and a clipping threshold low enough to fire on most steps. */
    protected static Optimizer sgd() {
        return Sgd.builder().learningRate(0.1).momentum(0.9).clipNorm(0.5).build();
    }

    /** What {@link #train} returns: the final parameters and every step's result. */
    protected record Run(float[] parameters, List<StepResult> steps) {
    }

    /** {@link #STEPS} steps of {@code dp} on 8 batches of {@link #BATCH} in turn. */
    protected static Run train(DataParallel dp) {
        float[] x = features(8 * BATCH, 11);
        float[] t = dp.model().encodeTargets(labels(x));
        List<StepResult> results = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            results.add(dp.step(x, t, (s % 8) * BATCH, BATCH));
        }
        return new Run(dp.model().executor().parameterArena().download(), results);
    }

    /** The same steps with the plain {@link Trainer} on one backend. */
    protected static Run trainAlone(Backend b, Function<Backend, Model> factory) {
        float[] x = features(8 * BATCH, 11);
        try (Model m = factory.apply(b); Optimizer opt = sgd(); Trainer tr = new Trainer(m, opt)) {
            float[] t = m.encodeTargets(labels(x));
            List<StepResult> results = new ArrayList<>();
            for (int s = 0; s < STEPS; s++) {
                results.add(tr.step(x, t, (s % 8) * BATCH, BATCH));
            }
            return new Run(m.executor().parameterArena().download(), results);
        }
    }

    /** {@code workers} backends, {@code shards} shards: the run's parameters and results. */
    protected final Run trainParallel(int workers, int shards, Function<Backend, Model> factory) {
        try (Optimizer opt = sgd(); DataParallel dp = DataParallel.create(backends(workers), shards, factory, opt)) {
            return train(dp);
        }
    }

    @Test
    @Timeout(300)
    void oneShardOnOneWorkerIsExactlyTheTrainer() {
        Run alone = trainAlone(backends(1).get(0), mlp(0.2));
        Run dp = trainParallel(1, 1, mlp(0.2));
        assertArrayEquals(alone.parameters(), dp.parameters(), "1 worker, 1 shard: bit-identical to Trainer.step");
        for (int s = 0; s < STEPS; s++) {
            assertEquals(alone.steps().get(s).loss(), dp.steps().get(s).loss(), "loss of step " + s);
            assertEquals(alone.steps().get(s).gradNorm(), dp.steps().get(s).gradNorm(), "norm of step " + s);
            assertEquals(alone.steps().get(s).clipped(), dp.steps().get(s).clipped(), "clipped, step " + s);
        }
    }

    @Test
    @Timeout(300)
    void theResultDependsOnTheShardsNotOnTheWorkers() {
        // dropout included: shard s of step t draws the same mask whichever replica computes it
        Run one = trainParallel(1, 6, mlp(0.2));
        Run two = trainParallel(2, 6, mlp(0.2));
        Run three = trainParallel(3, 6, mlp(0.2));
        assertArrayEquals(one.parameters(), two.parameters(), "6 shards: 2 workers against 1");
        assertArrayEquals(one.parameters(), three.parameters(), "6 shards: 3 workers against 1");
        for (int s = 0; s < STEPS; s++) {
            assertEquals(one.steps().get(s).loss(), three.steps().get(s).loss(), "loss of step " + s);
            assertEquals(one.steps().get(s).gradNorm(), three.steps().get(s).gradNorm(), "norm of step " + s);
        }
    }

    /**
     * The leader's batch-norm running statistics were updated by every shard the leader computed: one worker on 2
     * shards updated them twice a step (from both shards), two workers once (from shard 0), so the trained model
     * evaluated differently with the number of workers. They now come from shard 0 alone whatever the workers, as the
     * rank-0 model of PyTorch's DistributedDataParallel without SyncBatchNorm.
     */
    @Test
    @Timeout(300)
    void batchNormRunningStatisticsDoNotDependOnTheWorkers() {
        Function<Backend, Model> bn = b -> Sequential.builder(24).hidden(16, "relu").batchNorm()
                .output(3, LossKind.SOFTMAX_CROSS_ENTROPY).seed(7).build(b);
        float[][] one = trainedBuffers(1, 2, bn);
        float[][] two = trainedBuffers(2, 2, bn);
        assertTrue(one.length > 0, "the model has batch-norm buffers");
        for (int i = 0; i < one.length; i++) {
            assertArrayEquals(one[i], two[i], "buffer " + i + ": 2 shards on 1 worker against 2 workers");
        }
    }

    /** The leader's buffers after {@link #train} with {@code workers} backends and {@code shards} shards. */
    private float[][] trainedBuffers(int workers, int shards, Function<Backend, Model> factory) {
        try (Optimizer opt = sgd(); DataParallel dp = DataParallel.create(backends(workers), shards, factory, opt)) {
            train(dp);
            var exec = dp.model().executor();
            return exec.buffers().stream().map(b -> exec.buffer(b).download()).toArray(float[][]::new);
        }
    }

    @Test
    @Timeout(300)
    void shardsOnSeveralWorkersMatchOneWorkerOnTheWholeBatch() {
        Run alone = trainAlone(backends(1).get(0), mlp(0));
        for (int workers : new int[] {2, 3}) {
            Run dp = trainParallel(workers, workers, mlp(0));
            assertClose(alone.parameters(), dp.parameters(), SHARDED_VS_WHOLE_RTOL, workers + " workers");
            int clipped = 0;
            for (int s = 0; s < STEPS; s++) {
                StepResult a = alone.steps().get(s);
                StepResult b = dp.steps().get(s);
                assertEquals(a.loss(), b.loss(), 1e-4f * Math.abs(a.loss()), "loss of step " + s);
                // the clipping norm is the summed gradient's: the whole batch's, not a shard's
                assertEquals(a.gradNorm(), b.gradNorm(), 1e-3f * a.gradNorm(), "norm of step " + s);
                assertEquals(a.clipped(), b.clipped(), "clipped, step " + s);
                clipped += b.clipped() ? 1 : 0;
            }
            assertTrue(clipped >= STEPS / 2, "clipping fired on " + clipped + " of " + STEPS + " steps");
        }
    }

    @Test
    @Timeout(120)
    void predictionsAreTheWholeBatchsInOrder() {
        float[] x = features(BATCH, 5);
        int[] expected;
        try (Model m = mlp(0).apply(backends(1).get(0)); Optimizer opt = sgd();
             Trainer tr = new Trainer(m, opt).trackPredictions(true)) {
            expected = tr.step(x, m.encodeTargets(labels(x)), 0, BATCH).predictions();
        }
        try (Optimizer opt = sgd(); DataParallel dp = DataParallel.create(backends(2), 3, mlp(0), opt)) {
            dp.trackPredictions(true);
            int[] got = dp.step(x, dp.model().encodeTargets(labels(x)), 0, BATCH).predictions();
            assertArrayEquals(expected, got, "the first step's predictions, shard by shard in batch order");
            dp.trackPredictions(false);
            assertEquals(0, dp.step(x, dp.model().encodeTargets(labels(x)), 0, BATCH).predictions().length);
        }
    }

    /** {@code |a - b| <= rtol * max(|a|, |b|, 1)} element-wise, naming the first element that is not. */
    protected static void assertClose(float[] expected, float[] actual, float rtol, String what) {
        assertCloseTo(expected, actual, rtol, what);
    }

    /** {@link #assertClose}, for tests outside the suite's subclasses. */
    public static void assertCloseTo(float[] expected, float[] actual, float rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        int worst = -1;
        float worstError = 0;
        for (int i = 0; i < expected.length; i++) {
            float scale = Math.max(1f, Math.max(Math.abs(expected[i]), Math.abs(actual[i])));
            float error = Math.abs(expected[i] - actual[i]) / scale;
            if (!(error <= worstError)) {
                worst = i;
                worstError = error;
            }
        }
        if (worst >= 0 && !(worstError <= rtol)) {
            throw new AssertionError(what + ": parameter " + worst + " is " + actual[worst] + ", expected "
                    + expected[worst] + ": relative error " + worstError + " > " + rtol);
        }
    }

    @Test
    @Timeout(120)
    void aNonFiniteBatchLeavesTheWeightsAsTheyWere() {
        try (Optimizer opt = sgd(); DataParallel dp = DataParallel.create(backends(2), mlp(0), opt)) {
            float[] x = features(BATCH, 3);
            float[] t = dp.model().encodeTargets(labels(x));
            dp.step(x, t, 0, BATCH);
            float[] before = dp.model().executor().parameterArena().download();
            x[BATCH * 24 - 5] = Float.NaN; // in the second shard only
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> dp.step(x, t, 0, BATCH));
            assertTrue(e.weightsUntouched());
            assertArrayEquals(before, dp.model().executor().parameterArena().download());
        }
    }

    @Test
    @Timeout(120)
    void aLeaderModelOfTheCallersStaysOpenAndTrained() {
        List<Backend> two = backends(2);
        float[] x = features(BATCH, 9);
        try (Model leader = mlp(0).apply(two.get(0)); Optimizer opt = sgd()) {
            float[] before = leader.executor().parameterArena().download();
            try (DataParallel dp = DataParallel.create(leader, opt, two.subList(1, 2), 2, mlp(0))) {
                dp.step(x, leader.encodeTargets(labels(x)), 0, BATCH);
                assertTrue(dp.model() == leader);
            }
            float[] after = leader.executor().parameterArena().download(); // still open: the caller's
            assertFalse(java.util.Arrays.equals(before, after), "the step updated the caller's model");
        }
    }

    @Test
    @Timeout(120)
    void misuseIsAClearError() {
        List<Backend> two = backends(2);
        try (Optimizer opt = sgd()) {
            IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                    () -> DataParallel.create(two, 1, mlp(0), opt));
            assertTrue(few.getMessage().contains("1 shards for 2 backends"), few.getMessage());
            assertThrows(IllegalArgumentException.class, () -> DataParallel.create(List.of(), mlp(0), opt));
            IllegalArgumentException differ = assertThrows(IllegalArgumentException.class, () -> DataParallel.create(two,
                    b -> Sequential.builder(24).hidden(b == two.get(0) ? 32 : 33, "relu")
                            .output(3, LossKind.SOFTMAX_CROSS_ENTROPY).build(b), opt));
            assertTrue(differ.getMessage().contains("replicas differ"), differ.getMessage());
            DataParallel dp = DataParallel.create(two, 2, mlp(0), opt);
            float[] x = features(4, 1);
            float[] t = dp.model().encodeTargets(labels(x));
            IllegalArgumentException tiny = assertThrows(IllegalArgumentException.class, () -> dp.step(x, t, 0, 1));
            assertTrue(tiny.getMessage().contains("a batch of 1 samples cannot be cut into 2 shards"), tiny.getMessage());
            t[3] = 7; // no class 7
            IllegalArgumentException target = assertThrows(IllegalArgumentException.class, () -> dp.step(x, t, 0, 4));
            assertFalse(target.getMessage().isBlank());
            dp.close();
            assertThrows(IllegalStateException.class, () -> dp.step(x, t, 0, 4));
        }
    }
}
