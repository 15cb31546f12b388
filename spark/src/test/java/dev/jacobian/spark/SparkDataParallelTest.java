package dev.jacobian.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.Sgd;
import dev.jacobian.parallel.DataParallel;
import dev.jacobian.parallel.DataParallelSuite;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Data-parallel training on Spark in local mode ({@code local[2,4]}: two task slots, a task retried up to 4 times),
 * against {@link DataParallel} on one machine: the same shards give the same parameters bit for bit, a failed task's
 * retry changes nothing, and a task Spark gives up on fails the step clearly.
 */
class SparkDataParallelTest {
    private static final int STEPS = 20;
    private static final int BATCH = 48;
    /** Averaging every step with plain SGD against per-step SGD: the same update up to rounding, over 20 steps. */
    private static final float AVERAGING_RTOL = 1e-5f;
    /** Backends the executors' replica pools opened (all tasks run in this JVM in local mode). */
    private static final AtomicInteger OPENED = new AtomicInteger();
    /** Failures the hook injected (the hook's copy in the task reaches this JVM's static). */
    private static final AtomicInteger INJECTED = new AtomicInteger();

    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2,4]").setAppName("jacobian-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.close();
        }
    }

    /** The 24-32-16-3 MLP of the core suite (seed 7), serializable. */
    static Model mlp(Backend b) {
        return Sequential.builder(24).hidden(32, "relu").hidden(16, "tanh").output(3, LossKind.SOFTMAX_CROSS_ENTROPY)
                .init(Sequential.Init.HE).seed(7).build(b);
    }

    static Optimizer sgd(double momentum, double clip) {
        return Sgd.builder().learningRate(0.1).momentum(momentum).clipNorm(clip).build();
    }

    static Backend countedCpu() {
        OPENED.incrementAndGet();
        return new CpuBackend(1);
    }

    /** 20 steps of batches of 48 from the driver on 2 tasks; the leader's final parameters. */
    private static float[] sparkSteps(TaskHook hook) {
        float[] x = DataParallelSuite.features(8 * BATCH, 11);
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0.5);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, SparkDataParallelTest::countedCpu,
                     SparkDataParallelTest::mlp, hook)) {
            float[] t = leader.encodeTargets(DataParallelSuite.labels(x));
            for (int s = 0; s < STEPS; s++) {
                sdp.step(x, t, (s % 8) * BATCH, BATCH);
            }
            return leader.executor().parameterArena().download();
        }
    }

    /** The same on one machine: DataParallel with one CPU backend and 2 shards. */
    private static float[] localSteps() {
        float[] x = DataParallelSuite.features(8 * BATCH, 11);
        try (CpuBackend b = new CpuBackend(1); Optimizer opt = sgd(0.9, 0.5);
             DataParallel dp = DataParallel.create(List.of(b), 2, SparkDataParallelTest::mlp, opt)) {
            float[] t = dp.model().encodeTargets(DataParallelSuite.labels(x));
            for (int s = 0; s < STEPS; s++) {
                dp.step(x, t, (s % 8) * BATCH, BATCH);
            }
            return dp.model().executor().parameterArena().download();
        }
    }

    @Test
    @Timeout(300)
    void twoTasksPerStepMatchDataParallelOnOneMachineBitForBit() {
        int before = OPENED.get();
        float[] spark = sparkSteps(null);
        assertArrayEquals(localSteps(), spark, "2 Spark tasks against 1 worker with the same 2 shards");
        assertEquals(2, OPENED.get() - before, "each task's replica is kept from step to step: 2 backends in 20 steps");
    }

    @Test
    @Timeout(300)
    void aFailedTaskIsRetriedAndChangesNothing() {
        int before = INJECTED.get();
        float[] spark = sparkSteps((exchange, partition, attempt) -> {
            if (exchange == 5 && partition == 1 && attempt == 0) {
                INJECTED.incrementAndGet();
                throw new IllegalStateException("injected failure of step 5's task 1");
            }
        });
        assertEquals(1, INJECTED.get() - before, "the failure was injected once");
        assertArrayEquals(localSteps(), spark, "the retried run ends where the unbroken one does");
    }

    @Test
    @Timeout(300)
    void whenSparkGivesUpTheStepFailsClearlyAndTheLeaderKeepsThePreviousStep() {
        float[] x = DataParallelSuite.features(4 * BATCH, 3);
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0.5);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp, (exchange, partition, attempt) -> {
                         if (exchange == 3 && partition == 0) {
                             throw new IllegalStateException("executor lost (injected)");
                         }
                     })) {
            float[] t = leader.encodeTargets(DataParallelSuite.labels(x));
            sdp.step(x, t, 0, BATCH);
            sdp.step(x, t, BATCH, BATCH);
            float[] afterTwo = leader.executor().parameterArena().download();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> sdp.step(x, t, 2 * BATCH, BATCH));
            assertTrue(e.getMessage().startsWith("spark data parallel: exchange 3 failed on the cluster"), e.getMessage());
            assertTrue(e.getMessage().contains("executor lost (injected)"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
            assertArrayEquals(afterTwo, leader.executor().parameterArena().download());
        }
    }

    /** Concatenates each partition's local batch of {@code step}: the global batch of a per-step fit. */
    private static float[][] globalBatch(float[] x, float[] t, int n, int partitions, long seed, int epoch, int step,
                                         int local) {
        float[] gx = new float[partitions * local * 24];
        float[] gt = new float[partitions * local];
        int at = 0;
        for (int p = 0; p < partitions; p++) {
            int from = dev.jacobian.parallel.Shards.start(n, partitions, p);
            int rows = dev.jacobian.parallel.Shards.start(n, partitions, p + 1) - from;
            int[] order = Shard.order(seed, epoch, p, rows);
            for (int i = 0; i < local; i++) {
                int src = from + order[step * local + i];
                System.arraycopy(x, src * 24, gx, at * 24, 24);
                gt[at++] = t[src];
            }
        }
        return new float[][] {gx, gt};
    }

    @Test
    @Timeout(300)
    void aFitOnDataTheExecutorsHoldMatchesDataParallelOnTheSameGlobalBatches() {
        int n = 200;
        int local = 24;
        long seed = 5;
        float[] x = DataParallelSuite.features(n, 13);
        float[] expected;
        try (CpuBackend b = new CpuBackend(1); Optimizer opt = sgd(0.9, 0.5);
             DataParallel dp = DataParallel.create(List.of(b), 2, SparkDataParallelTest::mlp, opt)) {
            float[] t = dp.model().encodeTargets(DataParallelSuite.labels(x));
            for (int epoch = 1; epoch <= 2; epoch++) {
                for (int s = 0; s < (n / 2) / local; s++) {
                    float[][] g = globalBatch(x, t, n, 2, seed, epoch, s, local);
                    dp.step(g[0], g[1], 0, 2 * local);
                }
            }
            expected = dp.model().executor().parameterArena().download();
        }
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0.5);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp);
             ShardedData data = ShardedData.of(sc, x, leader.encodeTargets(DataParallelSuite.labels(x)), 24, 1, 2)) {
            List<Float> losses = new ArrayList<>();
            sdp.fitPerStep(data, 2, local, seed, (epoch, exchange, loss) -> losses.add(loss));
            assertEquals(8, losses.size(), "2 epochs of 100 / 24 = 4 steps");
            assertArrayEquals(expected, leader.executor().parameterArena().download());
        }
    }

    @Test
    @Timeout(300)
    void averagingEveryStepIsPerStepSgdAndLongerRoundsStillLearn() {
        int n = 400;
        float[] x = DataParallelSuite.features(n, 17);
        float[] perStep;
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp);
             ShardedData data = ShardedData.of(sc, x, leader.encodeTargets(DataParallelSuite.labels(x)), 24, 1, 2)) {
            sdp.fitPerStep(data, 2, 20, 3, null);
            perStep = leader.executor().parameterArena().download();
        }
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp);
             ShardedData data = ShardedData.of(sc, x, leader.encodeTargets(DataParallelSuite.labels(x)), 24, 1, 2)) {
            // momentum is linear too: the average of the replicas' buffers is the buffer of the average gradient
            sdp.fitAveraging(data, 2, 20, 1, 3, () -> sgd(0.9, 0), null);
            assertEquals(20, sdp.exchanges(), "2 epochs of 10 rounds of 1 step");
            DataParallelSuite.assertCloseTo(perStep, leader.executor().parameterArena().download(), AVERAGING_RTOL,
                    "averaging every step against per-step SGD");
        }
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 5);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp);
             ShardedData data = ShardedData.of(sc, x, leader.encodeTargets(DataParallelSuite.labels(x)), 24, 1, 2)) {
            List<Float> losses = new ArrayList<>();
            sdp.fitAveraging(data, 6, 20, 5, 3, () -> sgd(0.9, 5), (epoch, exchange, loss) -> losses.add(loss));
            assertEquals(12, sdp.exchanges(), "6 epochs of 2 rounds of 5 steps");
            assertTrue(losses.get(losses.size() - 1) < 0.7f * losses.get(0), "the loss falls: " + losses);
        }
    }

    /** The 24-16-3 MLP with batch norm (running statistics: the model's buffers), serializable. */
    static Model bnMlp(Backend b) {
        return Sequential.builder(24).hidden(16, "relu").batchNorm().output(3, LossKind.SOFTMAX_CROSS_ENTROPY)
                .init(Sequential.Init.HE).seed(7).build(b);
    }

    /**
     * Batch norm's running statistics reach the leader: per step those of shard 0's forward, as {@code DataParallel}
     * keeps them (bit for bit, parameters and buffers); averaging, the tasks' average. Before, the driver's leader ran
     * no forward and kept its initial statistics, so a model trained on a cluster evaluated with mean 0 and variance 1.
     */
    @Test
    @Timeout(300)
    void batchNormRunningStatisticsReachTheLeader() {
        float[] x = DataParallelSuite.features(8 * BATCH, 11);
        float[] expectedParams;
        float[] expectedBuffers;
        float[] initial;
        try (CpuBackend b = new CpuBackend(1); Optimizer opt = sgd(0.9, 0.5);
             DataParallel dp = DataParallel.create(List.of(b), 2, SparkDataParallelTest::bnMlp, opt)) {
            try (Model fresh = bnMlp(b)) {
                initial = new dev.jacobian.parallel.Leader(fresh, opt).buffers();
            }
            float[] t = dp.model().encodeTargets(DataParallelSuite.labels(x));
            for (int s = 0; s < 6; s++) {
                dp.step(x, t, (s % 8) * BATCH, BATCH);
            }
            expectedParams = dp.model().executor().parameterArena().download();
            expectedBuffers = new dev.jacobian.parallel.Leader(dp.model(), opt).buffers();
        }
        assertTrue(initial.length > 0 && !java.util.Arrays.equals(initial, expectedBuffers), "the statistics moved");
        try (CpuBackend driver = new CpuBackend(1); Model leader = bnMlp(driver); Optimizer opt = sgd(0.9, 0.5);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::bnMlp)) {
            float[] t = leader.encodeTargets(DataParallelSuite.labels(x));
            for (int s = 0; s < 6; s++) {
                sdp.step(x, t, (s % 8) * BATCH, BATCH);
            }
            assertArrayEquals(expectedParams, leader.executor().parameterArena().download());
            assertArrayEquals(expectedBuffers, new dev.jacobian.parallel.Leader(leader, opt).buffers(),
                    "the leader's running statistics: shard 0's, as on one machine");
        }
        try (CpuBackend driver = new CpuBackend(1); Model leader = bnMlp(driver); Optimizer opt = sgd(0.9, 0);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::bnMlp);
             ShardedData data = ShardedData.of(sc, x, leader.encodeTargets(DataParallelSuite.labels(x)), 24, 1, 2)) {
            sdp.fitAveraging(data, 1, 24, 2, 3, () -> sgd(0.9, 0), null);
            float[] averaged = new dev.jacobian.parallel.Leader(leader, opt).buffers();
            assertTrue(!java.util.Arrays.equals(initial, averaged), "averaging moves the statistics too");
            for (float v : averaged) {
                assertTrue(Float.isFinite(v), java.util.Arrays.toString(averaged));
            }
        }
    }

    /**
     * A batch whose inputs and targets disagree is refused on the driver, as {@code DataParallel} refuses it, with the
     * leader untouched. Before, the driver cut the shards with {@code Arrays.copyOfRange}, which pads past the end with
     * zeros: inputs one sample short trained on a sample of zeros, and one-hot targets given to a class-index loss
     * trained on their first values read as class indices (0 and 1 being valid ones).
     */
    @Test
    @Timeout(120)
    void aBatchWhoseInputsAndTargetsDisagreeIsRefusedBeforeAnyTask() {
        float[] x = DataParallelSuite.features(BATCH, 3);
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0.5);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp)) {
            float[] t = leader.encodeTargets(DataParallelSuite.labels(x));
            float[] before = leader.executor().parameterArena().download();
            float[] shortX = java.util.Arrays.copyOf(x, (BATCH - 1) * 24);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sdp.step(shortX, t, 0, BATCH));
            assertTrue(e.getMessage().contains("47 samples"), e.getMessage());
            float[] oneHot = new float[BATCH * 3];
            for (int i = 0; i < BATCH; i++) {
                oneHot[i * 3 + (int) t[i]] = 1;
            }
            assertThrows(IllegalArgumentException.class, () -> sdp.step(x, oneHot, 0, BATCH));
            assertThrows(IllegalArgumentException.class, () -> sdp.step(x, t, BATCH / 2, BATCH));
            assertThrows(IllegalArgumentException.class, () -> sdp.step(x, t, -1, BATCH));
            assertEquals(0, sdp.exchanges(), "no step was taken");
            assertArrayEquals(before, leader.executor().parameterArena().download());
        }
    }

    /**
     * A round whose tasks' optimizer state does not fit the leader's optimizer (an {@link OptimizerFactory} of another
     * kind) fails without touching the leader. Before, the leader took the averaged parameters and buffers first and
     * then failed to load the state: its parameters were the round's while its optimizer state, its random stream and
     * {@link SparkDataParallel#exchanges()} were the previous round's.
     */
    @Test
    @Timeout(120)
    void aRoundWhoseStateDoesNotFitTheLeaderLeavesTheLeaderAsItWas() {
        int n = 96;
        float[] x = DataParallelSuite.features(n, 19);
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0);
             SparkDataParallel sdp = SparkDataParallel.create(sc, 2, leader, opt, () -> new CpuBackend(1),
                     SparkDataParallelTest::mlp);
             ShardedData data = ShardedData.of(sc, x, leader.encodeTargets(DataParallelSuite.labels(x)), 24, 1, 2)) {
            float[] before = leader.executor().parameterArena().download();
            long stream = leader.executor().forwardCount();
            RuntimeException e = assertThrows(RuntimeException.class, () -> sdp.fitAveraging(data, 1, 12, 2, 3,
                    () -> dev.jacobian.optim.Adam.builder().learningRate(0.01).build(), null));
            assertArrayEquals(before, leader.executor().parameterArena().download(), "the leader's parameters");
            assertEquals(stream, leader.executor().forwardCount(), "the leader's random stream");
            assertEquals(0, sdp.exchanges());
            assertTrue(e.getMessage().startsWith("spark data parallel: exchange 1"), e.getMessage());
            assertTrue(e.getMessage().contains("SGD has no state"), e.getMessage());
        }
    }

    /** Something no Spark serializer can ship. */
    private static final class NotSerializable {
        Model build(Backend b) {
            return mlp(b);
        }
    }

    /**
     * A factory Spark cannot serialize is a clear {@link IllegalArgumentException} from {@code create}. Before, the
     * broadcast's {@code java.io.NotSerializableException} escaped as it was: a checked exception that {@code create}
     * does not declare (a Java caller cannot even catch it by its type).
     */
    @Test
    @Timeout(120)
    void aFactorySparkCannotShipIsAClearError() {
        NotSerializable builder = new NotSerializable();
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0.5)) {
            Throwable e = assertThrows(Throwable.class, () -> SparkDataParallel.create(sc, 2, leader, opt,
                    () -> new CpuBackend(1), builder::build).close());
            assertTrue(e instanceof IllegalArgumentException, e.toString());
            assertTrue(e.getMessage().startsWith("spark data parallel: the backend or model factory cannot be"
                    + " serialized"), e.getMessage());
            assertTrue(e.getMessage().contains("NotSerializable"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    @Test
    void misuseIsAClearError() {
        try (CpuBackend driver = new CpuBackend(1); Model leader = mlp(driver); Optimizer opt = sgd(0.9, 0.5)) {
            assertThrows(IllegalArgumentException.class, () -> SparkDataParallel.create(sc, 0, leader, opt,
                    () -> new CpuBackend(1), SparkDataParallelTest::mlp));
            float[] x = DataParallelSuite.features(10, 1);
            float[] t = leader.encodeTargets(DataParallelSuite.labels(x));
            try (SparkDataParallel sdp = SparkDataParallel.create(sc, 3, leader, opt, () -> new CpuBackend(1),
                    SparkDataParallelTest::mlp); ShardedData data = ShardedData.of(sc, x, t, 24, 1, 2)) {
                IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> sdp.step(x, t, 0, 2));
                assertTrue(small.getMessage().contains("a batch of 2 samples cannot be cut into 3 shards"),
                        small.getMessage());
                IllegalArgumentException parts = assertThrows(IllegalArgumentException.class,
                        () -> sdp.fitPerStep(data, 1, 2, 1, null));
                assertTrue(parts.getMessage().contains("data in 2 partitions for 3 workers"), parts.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> ShardedData.of(sc, x, t, 24, 1, 11));
        }
    }
}
