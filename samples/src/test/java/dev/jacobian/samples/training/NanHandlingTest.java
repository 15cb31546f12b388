package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.JacobianCli;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deep linear network with squared loss and a far too large learning rate overflows within a few
 * steps (deterministically on the CPU backend): {@code --on-nan stop} ends the run keeping the last good
 * checkpoint, {@code --on-nan rollback} restores it, halves the learning rate and goes on.
 */
class NanHandlingTest {
    /** Relative tolerance on learning rates that went through float and back. */
    private static final double LR_RTOL = 1e-6;
    /** Chance level of ten classes plus a clear margin: the run after the rollbacks really learns. */
    private static final double LEARNS_ACCURACY = 0.3;

    @TempDir
    Path tmp;

    private static String[] args(Path out, String lr, String... more) {
        // no clip and he init (mse's and linear's defaults clip at 5 and take xavier, which keep it from diverging)
        List<String> a = new ArrayList<>(List.of("train", "--backend", "cpu", "--limit", "2000", "--layers", "32,16",
                "--activation", "linear", "--loss", "mse", "--lr", lr, "--clip-norm", "0", "--init", "he", "--batch", "50",
                "--epochs", "2",
                "--schedule", "constant", "--validation", "200", "--out", out.toString(), "--no-progress"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void stopKeepsTheLastGoodCheckpoint() throws Exception {
        Path out = tmp.resolve("stop");
        CliRun run = CliRun.of(args(out, "1", "--on-nan", "stop"));
        assertEquals(JacobianCli.EXIT_DIVERGED, run.code());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("training stopped in epoch 1") && run.err().contains("checkpoint-epoch-0000.json"),
                run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace without --verbose");
        var good = CheckpointStore.load(out, TrainingState.class);
        assertEquals(0, good.state().epoch());
        assertTrue(good.tensors().values().stream().allMatch(e -> allFinite(e.data())), "the kept weights are finite");
        JsonNode metrics = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertTrue(metrics.get("status").asText().startsWith("stopped"), metrics.get("status").asText());
        assertTrue(metrics.get("test_accuracy").isNull());
    }

    @Test
    void aRunStoppedOnNanResumesWithALowerLearningRate() throws Exception {
        Path out = tmp.resolve("stop-resume");
        assertEquals(JacobianCli.EXIT_DIVERGED, CliRun.of(args(out, "1", "--on-nan", "stop")).code());
        CliRun resumed = CliRun.of(args(out, "0.001", "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        var last = CheckpointStore.load(out, TrainingState.class).state();
        assertEquals(2, last.epoch());
        assertEquals(0.001, last.config().learningRate(), 0.0);
        JsonNode metrics = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertEquals("completed", metrics.get("status").asText());
        assertTrue(metrics.get("test_accuracy").asDouble() > LEARNS_ACCURACY, metrics.get("test_accuracy").toString());
    }

    @Test
    void rollbackHalvesTheLearningRateAndGoesOn() throws Exception {
        Path out = tmp.resolve("rollback");
        double lr = 0.3;
        CliRun run = CliRun.of(args(out, Double.toString(lr), "--on-nan", "rollback", "--max-rollbacks", "12"));
        assertEquals(0, run.code(), run.err());
        JsonNode metrics = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertEquals("completed", metrics.get("status").asText());
        JsonNode rollbacks = metrics.get("rollbacks");
        assertTrue(rollbacks.size() >= 1, "the first learning rate diverges");
        double scale = 1;
        for (JsonNode r : rollbacks) {
            scale /= 2;
            assertEquals(scale, r.get("new_lr_scale").asDouble(), 0.0, "each rollback halves exactly");
            assertEquals(0, r.get("restored_epoch").asInt());
        }
        for (JsonNode e : metrics.get("epochs")) {
            assertEquals(lr * scale, e.get("learning_rate").asDouble(), lr * scale * LR_RTOL);
        }
        assertEquals(2, metrics.get("epochs").size());
        assertTrue(metrics.get("test_accuracy").asDouble() > LEARNS_ACCURACY, metrics.get("test_accuracy").toString());
        var last = CheckpointStore.load(out, TrainingState.class).state();
        assertEquals(scale, last.lrScale(), 0.0);
        assertEquals(rollbacks.size(), last.rollbacks().size());
        assertTrue(Files.exists(out.resolve(Plots.LOSS)));
    }

    private static boolean allFinite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }
}
