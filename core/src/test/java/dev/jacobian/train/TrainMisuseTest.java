package dev.jacobian.train;

import static dev.jacobian.nn.MisuseAssertions.assertMessage;
import static dev.jacobian.nn.MisuseAssertions.mlp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.nn.Model;
import dev.jacobian.optim.Sgd;
import dev.jacobian.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** Issue 13: misuses of the trainer, the training loop and early stopping are clear errors naming what was wrong. */
class TrainMisuseTest {
    private static final float[] X = {1, 2, 3, 4, 4, 3, 2, 1};
    private static final float[] Y = {0, 1};

    /** Before: rows outside the targets were an IndexOutOfBoundsException "Range [-1, -1 + 1) out of bounds ...". */
    @Test
    void stepRowsOutsideTheTargetsAreAnIllegalArgument() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Sgd sgd = Sgd.builder().build();
             Trainer t = new Trainer(m, sgd)) {
            assertMessage(IllegalArgumentException.class,
                    "targets: rows [-1, 0) of 1 value each do not fit in an array of 2", () -> t.step(X, Y, -1, 1));
            assertMessage(IllegalArgumentException.class,
                    "targets: rows [1, 3) of 1 value each do not fit in an array of 2", () -> t.step(X, Y, 1, 2));
            assertEquals(0, t.steps());
        }
    }

    /** Before: a negative step count was accepted and reported back. */
    @Test
    void negativeStepCountIsRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Sgd sgd = Sgd.builder().build();
             Trainer t = new Trainer(m, sgd)) {
            assertMessage(IllegalArgumentException.class, "steps must be >= 0: -1", () -> t.setSteps(-1));
            assertEquals(0, t.steps());
        }
    }

    /** Before: a trainer took a null model or optimizer and failed at its first step. */
    @Test
    void nullModelOrOptimizerIsNamed() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Sgd sgd = Sgd.builder().build()) {
            assertMessage(NullPointerException.class, "model", () -> new Trainer(null, sgd));
            assertMessage(NullPointerException.class, "optimizer", () -> new Trainer(m, null));
        }
    }

    /** Before: "executor is closed", which named neither the model nor the trainer's part in it. */
    @Test
    void aTrainerOfAClosedModelSaysTheModelIsClosed() {
        try (ReferenceBackend b = new ReferenceBackend(); Sgd sgd = Sgd.builder().build()) {
            Model m = mlp(b);
            m.close();
            assertMessage(IllegalStateException.class, "model 4-3(relu)-2 softmax_cross_entropy is closed",
                    () -> new Trainer(m, sgd).step(X, Y, 0, 2));
        }
    }

    /** Before: NaN best weights were loaded silently, and restoring them made every prediction NaN. */
    @Test
    void nonFiniteBestWeightsAreRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b);
             EarlyStopping es = new EarlyStopping(Monitor.TRAIN_LOSS, 2)) {
            float[] best = new float[m.executor().layout().size()];
            best[3] = Float.NaN;
            float[] before = m.read(m.parameter("dense1.weight"));
            assertMessage(IllegalArgumentException.class,
                    "best weights: value 3 is NaN; weights must be finite", () -> es.loadBestWeights(m.executor(), best));
            assertEquals(false, es.restoreBest(m.executor()));
            assertArrayEquals(before, m.read(m.parameter("dense1.weight")));
        }
    }

    /**
     * Before: a null value was a NullPointerException from unboxing, and a best_epoch or wait beyond an int
     * saturated silently to 2147483647.
     */
    @Test
    void badEarlyStoppingStateNamesTheKeyAndValue() {
        try (EarlyStopping es = new EarlyStopping(Monitor.TRAIN_LOSS, 2)) {
            es.loadState(java.util.Map.of(EarlyStopping.BEST, 0.5, EarlyStopping.BEST_EPOCH, 3.0,
                    EarlyStopping.WAIT, 1.0));
            Object[][] bad = {
                {EarlyStopping.WAIT, null, "wait", "null"},
                {EarlyStopping.BEST_EPOCH, null, "best_epoch", "null"},
                {EarlyStopping.BEST, null, "best", "null"},
                {EarlyStopping.BEST_EPOCH, 3e9, "best_epoch", "3.0E9"},
                {EarlyStopping.WAIT, 1e10, "wait", "1.0E10"},
                {EarlyStopping.WAIT, Double.POSITIVE_INFINITY, "wait", "Infinity"},
                {EarlyStopping.BEST_EPOCH, -1.0, "best_epoch", "-1.0"},
                {EarlyStopping.WAIT, 1.5, "wait", "1.5"},
                {EarlyStopping.BEST, Double.NaN, "best", "NaN"},
            };
            for (Object[] c : bad) {
                java.util.Map<String, Double> state = new java.util.HashMap<>(java.util.Map.of(EarlyStopping.BEST, 0.25,
                        EarlyStopping.BEST_EPOCH, 1.0, EarlyStopping.WAIT, 0.0));
                state.put((String) c[0], (Double) c[1]);
                dev.jacobian.nn.MisuseAssertions.refused(IllegalArgumentException.class, () -> es.loadState(state),
                        "early stopping state " + c[2] + " ", (String) c[3]);
                assertEquals(0.5, es.best());
                assertEquals(3, es.bestEpoch());
                assertEquals(1, es.waited());
            }
        }
    }

    /** Before: an empty validation set gave a NaN validation loss every epoch (and fed it to the scheduler). */
    @Test
    void anEmptyValidationSetIsRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Sgd sgd = Sgd.builder().build();
             Trainer t = new Trainer(m, sgd)) {
            assertMessage(IllegalArgumentException.class, "the validation set has no samples",
                    () -> TrainingLoop.builder(t).validation(new float[0], new int[0]).build());
        }
    }

    /**
     * Before: one-hot rows given to a class-index loss were read as class indices (0s and 1s are valid ones), so
     * the step trained on wrong labels silently; stray values after the last sample were ignored.
     */
    @Test
    void targetsOfAnotherLayoutOrStrayValuesAreRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Sgd sgd = Sgd.builder().build();
             Trainer t = new Trainer(m, sgd)) {
            assertMessage(IllegalArgumentException.class,
                    "step: x holds 2 samples of 4 values but targets hold 4 of 1 value (model.targetColumns());"
                            + " encode labels with model.encodeTargets",
                    () -> t.step(X, new float[] {1, 0, 0, 1}, 0, 2));
            assertMessage(IllegalArgumentException.class,
                    "step: 9 values of x are not a whole number of samples of 4 (1 left over)",
                    () -> t.step(new float[9], Y, 0, 2));
            assertEquals(0, t.steps());
            assertEquals(2, t.step(X, m.encodeTargets(new int[] {0, 1}), 0, 2).step() + 1);
        }
    }

    /**
     * Before: the loop sized its batch arrays as {@code batchSize * inputSize} whatever the set's size, so a batch
     * size beyond the set ("everything in one batch") overflowed the int into a NegativeArraySizeException (or asked
     * for gigabytes for two samples), and {@code (n + batchSize - 1) / batchSize} overflowed to no step at all.
     */
    @Test
    void aBatchSizeBeyondTheSetIsOneBatchOfTheWholeSet() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Sgd sgd = Sgd.builder().build();
             Trainer t = new Trainer(m, sgd);
             TrainingLoop loop = TrainingLoop.builder(t).batchSize(Integer.MAX_VALUE).noShuffle().build()) {
            FitResult r = loop.fit(X, new int[] {0, 1});
            assertEquals(1, r.history().get(0).steps());
            assertEquals(1, t.steps());
        }
    }
}
