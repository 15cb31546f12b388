package dev.jacobian.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.Initializer;
import dev.jacobian.metrics.Evaluation;
import dev.jacobian.metrics.Evaluator;
import dev.jacobian.metrics.TopK;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Modules;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.optim.schedule.ClosedFormScheduler;
import dev.jacobian.optim.schedule.LrSchedule;
import dev.jacobian.optim.schedule.ReduceLrOnPlateau;
import dev.jacobian.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The training loop, its listeners and the device-side metrics on the backend under test: the evaluator's
 * arg-max, target ranks and loss against the host, one transfer per batch, early stopping that really puts
 * back the best epoch's parameters, the order of callbacks, periodic checkpoints and schedulers in the loop.
 * Each backend extends it.
 */
public abstract class TrainingLoopSuite {
    /** Relative tolerance of a loss accumulated on the device against the same loss batched differently. */
    public static final double LOSS_RTOL = 1e-5;

    /** A new backend for each test (the test closes it). */
    protected abstract Backend createBackend();

    private static final TrainingSuite.Spirals DATA = new TrainingSuite.Spirals(100, 7);

    private static Model spirals(Backend b, LossKind loss, long seed) {
        return Sequential.builder(2).hidden(32, "relu").output(2, loss).init(Sequential.Init.HE).seed(seed).build(b);
    }

    /** A 5-class model of 3 features (enough classes for ranks beyond 1). */
    private static Model fiveClasses(Backend b, LossKind loss) {
        return Sequential.builder(3).hidden(16, "tanh").output(5, loss).seed(11).build(b);
    }

    private static float[] features(int n, int f, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n * f];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = LossKind.class, names = {"SOFTMAX_CROSS_ENTROPY", "MSE"})
    void evaluatorMatchesTheHostAndReadsBackOncePerBatch(LossKind loss) {
        int n = 70;
        float[] x = features(n, 3, 3);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (i * 7) % 5;
        }
        try (Backend b = createBackend(); Model m = fiveClasses(b, loss); Evaluator ev = new Evaluator(m)) {
            float[] scores = m.predictScores(x, 0, n);
            int[] expectedRanks = TopK.ranks(scores, labels);
            int[] expectedClasses = m.predictClasses(x, n);
            TopK expectedTopK = new TopK(5);
            expectedTopK.addAll(expectedRanks);
            Evaluation whole = ev.evaluate(x, labels, n);
            long downloads = b.stats().downloads();
            long bytes = b.stats().downloadedBytes();
            Evaluation batched = ev.evaluate(x, labels, 32); // 32, 32, 6
            assertEquals(downloads + 3, b.stats().downloads(), "one read-back per batch");
            assertEquals(bytes + 4L * (2 * 32 + 1) * 2 + 4L * (2 * 6 + 1), b.stats().downloadedBytes(),
                    "the loss, and the class and rank of each sample");
            for (Evaluation e : List.of(whole, batched)) {
                assertEquals(n, e.samples());
                assertEquals(dev.jacobian.metrics.ConfusionMatrix.of(labels, expectedClasses, 5).accuracy(), e.accuracy());
                for (int k = 1; k <= 5; k++) {
                    assertEquals(expectedTopK.accuracy(k), e.topKAccuracy(k), "top-" + k + " on " + b.name());
                }
                assertEquals(1.0, e.topKAccuracy(5));
            }
            assertArrayEquals(whole.confusionMatrix().counts(), batched.confusionMatrix().counts());
            assertEquals(whole.loss(), batched.loss(), LOSS_RTOL * Math.abs(whole.loss()), "sample-weighted mean loss");
            m.executor().feed(m.input(), x, 0, n);
            m.executor().feed(m.targets(), m.encodeTargets(labels), 0, n);
            float direct = m.executor().forward(m.loss(), n).get(0);
            assertEquals(direct, whole.loss(), LOSS_RTOL * Math.abs(direct));
        }
    }

    /**
     * All-zero weights give every class the same score: every target ties for first place, so top-1 counts every
     * sample (ties in the target's favour) while the arg-max picks class 0.
     */
    @Test
    void tiedScoresCountForTheTarget() {
        var net = Modules.dense("out", 3, 4, Initializer.zeros());
        int n = 8;
        int[] labels = {0, 1, 2, 3, 0, 1, 2, 3};
        try (Backend b = createBackend();
             Model m = Model.of(net, Shape.of(3), LossKind.SOFTMAX_CROSS_ENTROPY, b, 1);
             Evaluator ev = new Evaluator(m)) {
            Evaluation e = ev.evaluate(features(n, 3, 1), labels, 5);
            assertEquals(1.0, e.topKAccuracy(1));
            assertEquals(0.25, e.accuracy());
            assertEquals(2, e.confusionMatrix().count(0, 0));
            assertEquals(2, e.confusionMatrix().count(3, 0));
            assertEquals(Math.log(4), e.loss(), 1e-6);
        }
    }

    /** Records events and the parameters after each epoch. */
    private static final class Recorder implements TrainingListener {
        final String name;
        final List<String> events;
        final List<float[]> weights = new ArrayList<>();

        Recorder(String name, List<String> events) {
            this.name = name;
            this.events = events;
        }

        @Override
        public void onTrainBegin(TrainingLoop loop) {
            events.add(name + ":begin");
        }

        @Override
        public void onEpochBegin(TrainingLoop loop, int epoch) {
            events.add(name + ":epoch" + epoch);
        }

        @Override
        public void onStep(TrainingLoop loop, int epoch, StepResult step) {
            events.add(name + ":step" + step.step());
        }

        @Override
        public void onEpochEnd(TrainingLoop loop, EpochMetrics metrics) {
            events.add(name + ":end" + metrics.epoch());
            weights.add(loop.model().executor().parameterArena().download());
        }

        @Override
        public void onTrainEnd(TrainingLoop loop, FitResult result) {
            events.add(name + ":done" + result.epochs());
        }
    }

    /**
     * Validated on the training points with flipped labels, the validation loss is lowest early and rises as the
     * model learns: early stopping stops after its patience and puts back exactly the best epoch's parameters.
     */
    @Test
    void earlyStoppingRestoresTheBestEpochsParameters() {
        int[] flipped = new int[DATA.y.length];
        for (int i = 0; i < flipped.length; i++) {
            flipped[i] = 1 - DATA.y[i];
        }
        try (Backend b = createBackend(); Model m = spirals(b, LossKind.SOFTMAX_CROSS_ENTROPY, 3);
             Sgd sgd = Sgd.builder().learningRate(0.1).momentum(0.9).build();
             Trainer t = new Trainer(m, sgd);
             EarlyStopping stop = new EarlyStopping(Monitor.VALIDATION_LOSS, 3)) {
            Recorder rec = new Recorder("r", new ArrayList<>());
            FitResult r;
            try (TrainingLoop loop = TrainingLoop.builder(t).epochs(40).batchSize(20).shuffleSeed(1)
                    .validation(DATA.x, flipped).listener(rec).listener(stop).build()) {
                r = loop.fit(DATA.x, DATA.y);
            }
            assertTrue(r.stoppedEarly(), "stopped early: " + r);
            assertTrue(r.stopReason().contains("VALIDATION_LOSS"), r.stopReason());
            int best = stop.bestEpoch();
            assertEquals(best + 3, r.epochs(), "stops after 3 epochs without improvement");
            double minLoss = r.history().stream().mapToDouble(EpochMetrics::validationLoss).min().orElseThrow();
            assertEquals(minLoss, r.history().get(best - 1).validationLoss());
            assertEquals(minLoss, stop.best());
            float[] now = m.executor().parameterArena().download();
            assertArrayEquals(rec.weights.get(best - 1), now, "the best epoch's parameters, bit for bit");
            assertFalse(java.util.Arrays.equals(rec.weights.get(r.epochs() - 1), now), "not the last epoch's");
            assertArrayEquals(now, stop.bestWeights());
        }
    }

    /** Batch norm's running statistics come back with the best epoch's weights (they were measured with them). */
    @Test
    void earlyStoppingRestoresBuffersWithTheParameters() {
        try (Backend b = createBackend();
             Model m = Sequential.builder(2).hidden(16, "relu").batchNorm().output(2, LossKind.SOFTMAX_CROSS_ENTROPY)
                     .init(Sequential.Init.HE).seed(3).build(b);
             Sgd sgd = Sgd.builder().learningRate(0.1).build();
             Trainer t = new Trainer(m, sgd);
             EarlyStopping stop = new EarlyStopping(Monitor.VALIDATION_LOSS, 2, 0, true)) {
            var exec = m.executor();
            float[] targets = m.encodeTargets(DATA.y);
            t.step(DATA.x, targets, 0, 40);
            stop.update(exec, 1, 0.5);
            float[] params = exec.parameterArena().download();
            float[] mean = m.read(m.buffer("bn1.running_mean"));
            float[] var = m.read(m.buffer("bn1.running_var"));
            for (int s = 1; s < 5; s++) {
                t.step(DATA.x, targets, 40 * s, 40);
            }
            stop.update(exec, 2, 0.7);
            assertFalse(java.util.Arrays.equals(mean, m.read(m.buffer("bn1.running_mean"))), "training moved them");
            assertTrue(stop.restoreBest(exec));
            assertArrayEquals(params, exec.parameterArena().download(), "the best epoch's parameters");
            assertArrayEquals(mean, m.read(m.buffer("bn1.running_mean")), "and its running mean");
            assertArrayEquals(var, m.read(m.buffer("bn1.running_var")), "and its running variance");
            assertEquals(params.length + 2 * 16 + 1, stop.bestWeights().length, "arena, then every buffer");
        }
    }

    @Test
    void earlyStoppingCountsPatienceWithMinDelta() {
        try (Backend b = createBackend(); Model m = spirals(b, LossKind.SOFTMAX_CROSS_ENTROPY, 3);
             EarlyStopping stop = new EarlyStopping(Monitor.VALIDATION_LOSS, 2, 0.01, true)) {
            var exec = m.executor();
            double[] values = {1.0, 0.95, 0.949, Double.NaN, 0.9};
            boolean[] expected = {false, false, false, true, false};
            for (int e = 0; e < 4; e++) {
                assertEquals(expected[e], stop.update(exec, e + 1, values[e]), "epoch " + (e + 1));
            }
            assertEquals(2, stop.bestEpoch());
            assertEquals(0.95, stop.best());
            assertEquals(2, stop.waited());
            EarlyStopping resumed = new EarlyStopping(Monitor.VALIDATION_LOSS, 2, 0.01, true);
            resumed.loadState(stop.state());
            assertEquals(stop.state(), resumed.state());
            assertTrue(resumed.shouldStop());
            assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(Monitor.VALIDATION_LOSS, 0));
            assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(Monitor.TRAIN_LOSS, 2, -1, true));
            assertThrows(IllegalArgumentException.class, () -> resumed.loadState(java.util.Map.of("wait", 1.0)));
            assertFalse(resumed.restoreBest(exec), "no weights kept by a state-only resume");
        }
    }

    @Test
    void callbacksRunInOrderAndAStopEndsTheLoop() {
        List<String> events = new ArrayList<>();
        try (Backend b = createBackend(); Model m = spirals(b, LossKind.SOFTMAX_CROSS_ENTROPY, 3);
             Sgd sgd = Sgd.builder().learningRate(0.05).build(); Trainer t = new Trainer(m, sgd)) {
            Recorder a = new Recorder("a", events);
            Recorder c = new Recorder("c", events);
            TrainingListener stopper = new TrainingListener() {
                @Override
                public void onEpochEnd(TrainingLoop loop, EpochMetrics metrics) {
                    if (metrics.epoch() == 2) {
                        loop.requestStop("enough");
                    }
                }
            };
            FitResult r;
            try (TrainingLoop loop = TrainingLoop.builder(t).epochs(5).batchSize(90).noShuffle()
                    .listener(a).listener(stopper).listener(c).build()) {
                r = loop.fit(DATA.x, DATA.y); // 200 samples: batches of 90, 90, 20
            }
            assertEquals(List.of("a:begin", "c:begin",
                    "a:epoch1", "c:epoch1", "a:step1", "c:step1", "a:step2", "c:step2", "a:step3", "c:step3", "a:end1", "c:end1",
                    "a:epoch2", "c:epoch2", "a:step4", "c:step4", "a:step5", "c:step5", "a:step6", "c:step6", "a:end2", "c:end2",
                    "a:done2", "c:done2"), events);
            assertEquals("enough", r.stopReason());
            assertEquals(3, r.history().get(0).steps());
            assertTrue(Double.isNaN(r.history().get(0).trainAccuracy()), "predictions are not tracked");
            assertTrue(Double.isNaN(r.history().get(0).validationLoss()), "no validation set");
        }
    }

    @Test
    void periodicCheckpointCallsTheSaverEveryNEpochsAndAtTheEnd() {
        List<Integer> saved = new ArrayList<>();
        try (Backend b = createBackend(); Model m = spirals(b, LossKind.SOFTMAX_CROSS_ENTROPY, 3);
             Sgd sgd = Sgd.builder().learningRate(0.05).build(); Trainer t = new Trainer(m, sgd).trackPredictions(true);
             TrainingLoop loop = TrainingLoop.builder(t).epochs(5).batchSize(50).dropLast(true)
                     .listener(new PeriodicCheckpoint(2, true, (l, metrics) -> saved.add(metrics.epoch()))).build()) {
            FitResult r = loop.fit(DATA.x, DATA.y);
            assertEquals(List.of(2, 4, 5), saved);
            assertEquals(4, r.history().get(0).steps());
            double acc = r.history().get(4).trainAccuracy();
            assertTrue(acc >= 0 && acc <= 1, "tracked training accuracy " + acc);
            java.io.IOException boom = new java.io.IOException("disk full");
            try (TrainingLoop failing = TrainingLoop.builder(t).epochs(1).batchSize(50)
                    .listener(new PeriodicCheckpoint(1, false, (l, metrics) -> {
                        throw boom;
                    })).build()) {
                var e = assertThrows(java.io.UncheckedIOException.class, () -> failing.fit(DATA.x, DATA.y));
                assertEquals(boom, e.getCause());
            }
        }
    }

    @Test
    void schedulersAreSteppedPerEpochOrPerStep() {
        try (Backend b = createBackend(); Model m = spirals(b, LossKind.SOFTMAX_CROSS_ENTROPY, 3);
             Sgd sgd = Sgd.builder().learningRate(0.1).build(); Trainer t = new Trainer(m, sgd)) {
            var perEpoch = new ClosedFormScheduler(sgd, LrSchedule.step(1, 0.5), 0.1);
            try (TrainingLoop loop = TrainingLoop.builder(t).epochs(3).batchSize(100)
                    .scheduler(perEpoch, TrainingLoop.Interval.EPOCH).build()) {
                FitResult r = loop.fit(DATA.x, DATA.y);
                assertEquals(0.1, r.history().get(0).learningRate(), 1e-7);
                assertEquals(0.05, r.history().get(1).learningRate(), 1e-7);
                assertEquals(0.025, r.history().get(2).learningRate(), 1e-7);
                assertEquals(3, perEpoch.lastEpoch());
            }
            var perStep = new ClosedFormScheduler(sgd, LrSchedule.exponential(0.9), 0.1);
            try (TrainingLoop loop = TrainingLoop.builder(t).epochs(2).batchSize(100)
                    .scheduler(perStep, TrainingLoop.Interval.STEP).build()) {
                loop.fit(DATA.x, DATA.y);
                assertEquals(4, perStep.lastEpoch(), "2 epochs of 2 steps");
                assertEquals(0.1 * Math.pow(0.9, 4), sgd.learningRate(), 1e-8);
            }
            var plateau = ReduceLrOnPlateau.builder(sgd).baseLr(0.1).patience(0).factor(0.5).build();
            assertThrows(IllegalArgumentException.class, () -> TrainingLoop.builder(t)
                    .scheduler(plateau, TrainingLoop.Interval.STEP).build(), "a plateau scheduler is stepped per epoch");
            assertThrows(IllegalArgumentException.class, () -> TrainingLoop.builder(t)
                    .schedulerMonitor(Monitor.VALIDATION_ACCURACY).build(), "a validation monitor needs a validation set");
            try (TrainingLoop loop = TrainingLoop.builder(t).epochs(2).batchSize(100).validation(DATA.x, DATA.y)
                    .scheduler(plateau, TrainingLoop.Interval.EPOCH).build()) {
                FitResult r = loop.fit(DATA.x, DATA.y);
                assertNotNull(r.history().get(1).validation());
                assertEquals(2, plateau.lastEpoch());
                assertEquals(Math.min(r.history().get(0).validationLoss(), r.history().get(1).validationLoss()),
                        plateau.best(), "the plateau scheduler was given the validation loss");
            }
        }
    }

    /**
     * A rate of 0 (where a cosine to {@code eta_min = 0} ends) is accepted, as in PyTorch: the fused update leaves
     * every weight as it was and still accumulates the momentum buffer.
     */
    @Test
    void zeroLearningRateKeepsTheWeightsAndUpdatesMomentum() {
        try (Backend b = createBackend(); Model m = spirals(b, LossKind.SOFTMAX_CROSS_ENTROPY, 3);
             Sgd sgd = Sgd.builder().learningRate(0.05).momentum(0.9).build(); Trainer t = new Trainer(m, sgd)) {
            float[] targets = m.encodeTargets(DATA.y);
            t.step(DATA.x, targets, 0, 40);
            sgd.setLearningRate(0f);
            float[] before = m.executor().parameterArena().download();
            var p = m.parameters().get(0);
            float[] velocityBefore = sgd.velocity(p).download();
            StepResult r = t.step(DATA.x, targets, 40, 40);
            assertTrue(Float.isFinite(r.loss()));
            assertArrayEquals(before, m.executor().parameterArena().download(), "lr 0: weights untouched");
            assertFalse(java.util.Arrays.equals(velocityBefore, sgd.velocity(p).download()), "momentum still accumulates");
        }
    }

    @Test
    void badArgumentsNameTheParameter() {
        try (Backend b = createBackend(); Model m = spirals(b, LossKind.SOFTMAX_CROSS_ENTROPY, 3);
             Sgd sgd = Sgd.builder().learningRate(0.05).build(); Trainer t = new Trainer(m, sgd)) {
            for (var build : List.<java.util.function.Supplier<TrainingLoop>>of(
                    () -> TrainingLoop.builder(t).epochs(0).build(),
                    () -> TrainingLoop.builder(t).batchSize(0).build(),
                    () -> TrainingLoop.builder(t).validationBatch(-3).build())) {
                var e = assertThrows(IllegalArgumentException.class, build::get);
                assertTrue(e.getMessage().matches("(epochs|batchSize|validationBatch) must be >= 1: -?\\d+"), e.getMessage());
            }
            var v = assertThrows(IllegalArgumentException.class,
                    () -> TrainingLoop.builder(t).validation(new float[5], new int[2]).build());
            assertTrue(v.getMessage().startsWith("validation x must have validation labels.length * 2 = 4 values: 5"),
                    v.getMessage());
            try (TrainingLoop loop = TrainingLoop.builder(t).build()) {
                var e = assertThrows(IllegalArgumentException.class, () -> loop.fit(new float[5], new int[2]));
                assertTrue(e.getMessage().startsWith("x must have"), e.getMessage());
            }
            try (Evaluator ev = new Evaluator(m)) {
                var e = assertThrows(IllegalArgumentException.class, () -> ev.evaluate(DATA.x, DATA.y, 0));
                assertEquals("batch must be >= 1: 0", e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> ev.add(DATA.x, DATA.y, 190, 20));
                assertTrue(e.getMessage().contains("[190, 210)"), e.getMessage());
            }
            try (Sgd other = Sgd.builder().build()) {
                assertThrows(IllegalArgumentException.class, () -> TrainingLoop.builder(t)
                        .scheduler(new ClosedFormScheduler(other, LrSchedule.constant()), TrainingLoop.Interval.EPOCH).build());
            }
        }
    }
}
