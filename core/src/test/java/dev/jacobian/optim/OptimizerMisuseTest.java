package dev.jacobian.optim;

import static dev.jacobian.nn.MisuseAssertions.assertMessage;
import static dev.jacobian.nn.MisuseAssertions.mlp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.nn.Model;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.train.Trainer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 13: optimizer misuses that were accepted silently (clipping thresholds out of range, non-finite state, a
 * closed optimizer, the state of another model) are clear errors naming what was wrong.
 */
class OptimizerMisuseTest {
    private static final float[] X = {1, 2, 3, 4, 4, 3, 2, 1};
    private static final float[] Y = {0, 1};

    /** Before: a negative or NaN threshold silently turned clipping off (the kernels read {@code <= 0} as off). */
    @Test
    void negativeOrNanClippingThresholdsAreRejected() {
        assertMessage(IllegalArgumentException.class, "clipNorm must be >= 0 (0 disables): -1.0",
                () -> Sgd.builder().clipNorm(-1).build());
        assertMessage(IllegalArgumentException.class, "clipNorm must be >= 0 (0 disables): NaN",
                () -> Sgd.builder().clipNorm(Double.NaN).build());
        assertMessage(IllegalArgumentException.class, "clipValue must be >= 0 (0 disables): -0.5",
                () -> Sgd.builder().clipValue(-0.5).build());
        assertMessage(IllegalArgumentException.class, "clipValue must be >= 0 (0 disables): NaN",
                () -> RmsProp.builder().clipValue(Double.NaN).build());
        assertMessage(IllegalArgumentException.class, "clipNorm must be >= 0 (0 disables): -1.0",
                () -> Adam.builder().clipNorm(-1).build());
        // an infinite threshold never clips, as torch.nn.utils.clip_grad_norm_(max_norm=inf): allowed
        assertEquals(Float.POSITIVE_INFINITY, Sgd.builder().clipNorm(Double.POSITIVE_INFINITY).build().clipNorm());
    }

    /** Before: SGD took an infinite weight decay, and the first step made every decayed weight NaN. */
    @Test
    void infiniteSgdWeightDecayIsRejected() {
        assertMessage(IllegalArgumentException.class, "weight decay must be >= 0 and finite: Infinity",
                () -> Sgd.builder().weightDecay(Double.POSITIVE_INFINITY).build());
    }

    /** Before: Adam took a rate beyond float range, and {@code learningRate()} then said Infinity. */
    @Test
    void adaptiveLearningRateBeyondFloatRangeIsRejected() {
        assertMessage(IllegalArgumentException.class, "learning rate must be finite and >= 0 as a float: 1.0E40",
                () -> Adam.builder().learningRate(1e40).build());
        assertMessage(IllegalArgumentException.class, "learning rate must be finite and >= 0 as a float: 1.0E39",
                () -> RmsProp.builder().learningRate(1e39).build());
    }

    /**
     * Before: a closed Adam failed its next step with a NullPointerException, and a closed SGD that had never stepped
     * allocated new state and went on silently.
     */
    @Test
    void aClosedOptimizerRefusesToStepOrReport() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b)) {
            Adam adam = Adam.builder().build();
            Trainer t = new Trainer(m, adam);
            t.step(X, Y, 0, 2);
            adam.close();
            assertMessage(IllegalStateException.class, "this Adam optimizer is closed", () -> t.step(X, Y, 0, 2));
            assertMessage(IllegalStateException.class, "this Adam optimizer is closed", () -> adam.state(m.executor()));
            assertMessage(IllegalStateException.class, "this Adam optimizer is closed",
                    () -> adam.loadState(m.executor(), Map.of()));
            adam.close(); // idempotent
            Sgd sgd = Sgd.builder().momentum(0.9).build();
            sgd.close();
            assertMessage(IllegalStateException.class, "this SGD optimizer is closed",
                    () -> new Trainer(m, sgd).step(X, Y, 0, 2));
            assertMessage(IllegalStateException.class, "this SGD optimizer is closed",
                    () -> sgd.setVelocity(m.executor(), m.parameter("dense1.weight"), new float[12]));
        }
    }

    /** Before: NaN momentum buffers were loaded silently, and the next step wrote NaN into the weights. */
    @Test
    void nonFiniteStateIsRejectedAndNothingIsWritten() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b);
             Sgd sgd = Sgd.builder().learningRate(0.1).momentum(0.9).build()) {
            Trainer t = new Trainer(m, sgd);
            t.step(X, Y, 0, 2);
            Map<String, float[]> state = sgd.state(m.executor());
            float[] before = state.get("dense1.weight.momentum_buffer").clone();
            state.get("dense1.weight.momentum_buffer")[4] = Float.NaN;
            assertMessage(IllegalArgumentException.class,
                    "SGD state 'dense1.weight.momentum_buffer': value 4 is NaN; optimizer state must be finite",
                    () -> sgd.loadState(m.executor(), state));
            assertArrayEquals(before, sgd.state(m.executor()).get("dense1.weight.momentum_buffer"));
            float[] v = new float[12];
            v[2] = Float.NEGATIVE_INFINITY;
            var w = m.parameter("dense1.weight");
            assertMessage(IllegalArgumentException.class,
                    "SGD state 'dense1.weight.momentum_buffer': value 2 is -Infinity; optimizer state must be finite",
                    () -> sgd.setVelocity(m.executor(), w, v));
            assertMessage(IllegalArgumentException.class,
                    "SGD state 'dense1.weight.momentum_buffer' needs 12 values, got 3",
                    () -> sgd.setVelocity(m.executor(), w, new float[3]));
        }
    }

    /** Before: a negative second moment was loaded silently; its square root made the next step's weights NaN. */
    @Test
    void negativeSecondMomentsAreRejected() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Adam adam = Adam.builder().build();
             RmsProp rms = RmsProp.builder().build(); Model m2 = mlp(b)) {
            new Trainer(m, adam).step(X, Y, 0, 2);
            Map<String, float[]> state = adam.state(m.executor());
            state.get("dense1.weight.exp_avg_sq")[0] = -1f;
            assertMessage(IllegalArgumentException.class,
                    "Adam state 'dense1.weight.exp_avg_sq': value 0 is -1.0; a second moment must be >= 0",
                    () -> adam.loadState(m.executor(), state));
            new Trainer(m2, rms).step(X, Y, 0, 2);
            Map<String, float[]> s2 = rms.state(m2.executor());
            s2.get("dense2.bias.square_avg")[1] = -0.5f;
            assertMessage(IllegalArgumentException.class,
                    "RMSprop state 'dense2.bias.square_avg': value 1 is -0.5; a second moment must be >= 0",
                    () -> rms.loadState(m2.executor(), s2));
        }
    }

    /**
     * Before: {@code state} of a model the optimizer does not update was empty, so saving a model with another
     * model's optimizer wrote a file that claimed optimizer state and held none.
     */
    @Test
    void theStateOfAnotherModelIsAnError() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Model other = mlp(b);
             Sgd sgd = Sgd.builder().momentum(0.9).build()) {
            assertTrue(sgd.state(other.executor()).isEmpty()); // not bound yet: empty before the first step
            new Trainer(m, sgd).step(X, Y, 0, 2);
            assertMessage(IllegalArgumentException.class,
                    "this SGD optimizer updates another executor's parameters; it has no state for this one",
                    () -> sgd.state(other.executor()));
        }
    }

    /** Before: a scheduler of a null optimizer failed inside with the NullPointerException of a dereference. */
    @Test
    void aSchedulerOfNoOptimizerIsNamed() {
        assertMessage(NullPointerException.class, "optimizer",
                () -> new dev.jacobian.optim.schedule.ClosedFormScheduler(null,
                        dev.jacobian.optim.schedule.LrSchedule.constant()));
    }

    /**
     * Before: a step count beyond a long (a corrupt checkpoint's {@code 1e30}) was loaded as Long.MAX_VALUE, and every
     * later step failed with "step must be &gt;= 1: -9223372036854775808" from the update, far from the bad state.
     */
    @Test
    void aStepCountBeyondALongIsRejectedWhenLoaded() {
        try (ReferenceBackend b = new ReferenceBackend(); Model m = mlp(b); Adam adam = Adam.builder().build();
             Trainer t = new Trainer(m, adam)) {
            t.step(X, Y, 0, 2);
            Map<String, float[]> state = new java.util.LinkedHashMap<>(adam.state(m.executor()));
            state.replaceAll((k, v) -> k.endsWith(".step") ? new float[] {1e30f} : v);
            assertMessage(IllegalArgumentException.class, "state 'dense1.weight.step' is not a step count: 1.0E30",
                    () -> adam.loadState(m.executor(), state));
            assertEquals(1, adam.steps());
            t.step(X, Y, 0, 2);
            assertEquals(2, adam.steps());
        }
    }
}
