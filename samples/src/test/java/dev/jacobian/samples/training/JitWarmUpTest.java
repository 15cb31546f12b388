package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backends;
import dev.jacobian.samples.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CLI's JIT warm-up ({@link JitWarmUp}): what model it trains, that it trains it on the CPU backend for every kind
 * of run, that it stays out of the way of other backends, and that a configuration it cannot take only ends it early.
 * How much it saves is a benchmark's business ({@code benchmarks/run-epochs.sh}: epoch 1 against epoch 2), not a test's.
 */
class JitWarmUpTest {
    private static TrainConfig config(String model, List<Integer> layers, List<Integer> channels, String optimizer,
                                      String norm, double dropout) {
        return new TrainConfig(layers, "relu", "softmax-ce", "he", 3, 128, TrainConfig.defaultLearningRate(optimizer),
                "cosine", TrainConfig.defaultMomentum(optimizer), false, TrainConfig.defaultWeightDecay(optimizer), model.equals("cnn") ? 0 : 1e-4,
                5.0, 0, 42, 500, 0, "stop", 5, null, null, 0, optimizer, dropout, norm, model, channels,
                TrainConfig.defaultAugment(model));
    }

    @Test
    void narrowsWidthsChannelsAndBatchAndKeepsEverythingElse() {
        TrainConfig c = config("cnn", List.of(256, 16, 128), List.of(32, 4, 128), "adam", "batch", 0.25);
        TrainConfig s = JitWarmUp.small(c);
        assertEquals(List.of(JitWarmUp.WIDTH, 16, JitWarmUp.WIDTH), s.layers());
        assertEquals(List.of(JitWarmUp.CHANNELS, 4, JitWarmUp.CHANNELS), s.channels());
        assertEquals(JitWarmUp.BATCH, s.batch());
        assertEquals(c.withShape(s.layers(), s.channels(), s.batch()), s);
        assertEquals(c, s.withShape(c.layers(), c.channels(), c.batch()), "nothing but the shape changed");
    }

    @ParameterizedTest(name = "{0} {1} norm {2} dropout {3}")
    @CsvSource({"mlp, sgd, none, 0", "mlp, adam, batch, 0.2", "mlp, rmsprop, layer, 0", "cnn, sgd, none, 0.1",
        "cnn, adamw, batch, 0"})
    void trainsEveryStepOnTheCpuBackend(String model, String optimizer, String norm, double dropout)
            throws InterruptedException {
        TrainConfig c = config(model, List.of(256, 128), model.equals("cnn") ? List.of(16, 32) : null, optimizer, norm,
                dropout);
        JitWarmUp w = JitWarmUp.start(Backends.resolve("cpu"), c);
        int steps = w.await();
        assertNull(w.failure());
        // all of them (the narrowed copy's, then the model's), unless a machine slowed down by something else made it
        // stop at its time limit
        if (w.timedOut()) {
            assertTrue(steps < JitWarmUp.STEPS + JitWarmUp.FULL_STEPS, "steps " + steps);
        } else {
            assertEquals(JitWarmUp.STEPS + JitWarmUp.FULL_STEPS, steps);
            // and the run's work after an epoch, every EPOCH_END_EVERY epochs and after each model's last step
            assertEquals(epochEnds(JitWarmUp.STEPS) + epochEnds(JitWarmUp.FULL_STEPS), w.epochEnds());
        }
    }

    @Test
    void isSkippedOnOtherBackends() throws InterruptedException {
        TrainConfig c = config("mlp", List.of(64), null, "sgd", "none", 0);
        JitWarmUp w = JitWarmUp.start(Backends.resolve("reference"), c);
        assertEquals(0, w.await());
        assertNull(w.failure());
    }

    @Test
    void endsEarlyWithoutThrowingWhenItCannot() throws InterruptedException {
        // five 2x2 pools do not fit the warm-up's 28x28 images (28, 14, 7, 3, 1, then 0): it ends at once, quietly
        TrainConfig tooDeep = config("cnn", List.of(16), List.of(4, 4, 4, 4, 4), "sgd", "none", 0);
        JitWarmUp w = JitWarmUp.start(Backends.resolve("cpu"), tooDeep);
        assertEquals(0, w.await());
        assertTrue(w.failure() instanceof IllegalArgumentException, String.valueOf(w.failure()));
    }

    @Test
    void theRunWaitsForItAndReportsTheWait(@TempDir Path tmp) throws IOException {
        String[] args = {"train", "--backend", "cpu", "--epochs", "1", "--limit", "600", "--validation", "100",
            "--batch", "50", "--no-progress", "--out"};
        CliRun on = CliRun.of(concat(args, tmp.resolve("on").toString()));
        assertEquals(0, on.code(), on.err());
        assertTrue(Files.readString(tmp.resolve("on").resolve(TrainingRun.METRICS)).contains("\"JIT warm-up (waiting)\""));
        CliRun off = CliRun.of(concat(args, tmp.resolve("off").toString(), "--no-warm-up"));
        assertEquals(0, off.code(), off.err());
        assertFalse(Files.readString(tmp.resolve("off").resolve(TrainingRun.METRICS)).contains("JIT warm-up"));
        // another backend: no warm-up, no wait
        String[] reference = concat(args, tmp.resolve("ref").toString());
        reference[2] = "reference";
        CliRun ref = CliRun.of(reference);
        assertEquals(0, ref.code(), ref.err());
        assertFalse(Files.readString(tmp.resolve("ref").resolve(TrainingRun.METRICS)).contains("JIT warm-up"));
    }

    /** How many times the warm-up does the run's work after an epoch while a model trains {@code steps} steps. */
    private static int epochEnds(int steps) {
        int epochs = steps / JitWarmUp.BATCHES;
        return epochs / JitWarmUp.EPOCH_END_EVERY + (epochs % JitWarmUp.EPOCH_END_EVERY == 0 ? 0 : 1);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
