package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.JacobianCli;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --lr 50} with ReLU never gives a NaN: every unit of a layer dies in the first epoch and the run would end
 * "successfully" near chance. The dead-unit check stops it (exit 3, one line naming the layer, the last good
 * checkpoint and a lower rate), and {@code --resume --lr} goes on from that checkpoint with the lower rate.
 */
class DeadUnitsTest {
    /** Chance level of ten classes plus a clear margin. */
    private static final double LEARNS_ACCURACY = 0.3;

    @TempDir
    Path tmp;

    private static String[] args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--backend", "cpu", "--limit", "2000", "--layers", "32,16",
                "--batch", "50", "--epochs", "3", "--schedule", "constant", "--validation", "200", "--out", out.toString(),
                "--no-progress"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void aLearningRateThatKillsEveryUnitStopsTheRunAndResumeGoesOnWithALowerOne() throws Exception {
        Path out = tmp.resolve("dead");
        CliRun dead = CliRun.of(args(out, "--lr", "50"));
        assertEquals(JacobianCli.EXIT_DIVERGED, dead.code(), dead.err());
        assertEquals(1, dead.err().lines().count(), dead.err());
        assertTrue(dead.err().contains("training stopped after epoch 1") && dead.err().contains("are dead")
                && dead.err().contains("checkpoint-epoch-0000.json") && dead.err().contains("--resume --lr 0.05"),
                dead.err());
        assertFalse(dead.err().contains("\tat "), "no stack trace without --verbose");
        assertEquals(0, CheckpointStore.load(out, TrainingState.class).state().epoch(),
                "the dead epoch's weights are not checkpointed");
        JsonNode metrics = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertTrue(metrics.get("status").asText().startsWith("stopped: dead ReLU units"), metrics.get("status").asText());

        CliRun resumed = CliRun.of(args(out, "--resume", "--lr", "0.05"));
        assertEquals(0, resumed.code(), resumed.err());
        var last = CheckpointStore.load(out, TrainingState.class).state();
        assertEquals(3, last.epoch());
        assertEquals(0.05, last.config().learningRate(), 0.0, "the checkpoints now carry the new rate");
        metrics = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        assertEquals("completed", metrics.get("status").asText());
        for (JsonNode e : metrics.get("epochs")) {
            assertEquals(0.05, e.get("learning_rate").asDouble(), 1e-9, "every epoch ran at the new rate");
        }
        assertTrue(metrics.get("test_accuracy").asDouble() > LEARNS_ACCURACY, metrics.get("test_accuracy").toString());
    }

    @Test
    void theCheckCanBeTurnedOffAndIsAFraction() {
        CliRun off = CliRun.of(args(tmp.resolve("off"), "--lr", "50", "--stop-dead", "0"));
        assertEquals(0, off.code(), "with --stop-dead 0 the dead run ends 'successfully', as before: " + off.err());
        CliRun bad = CliRun.of(args(tmp.resolve("bad"), "--stop-dead", "1.5"));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--stop-dead must be a fraction in [0, 1]: 1.5"), bad.err());
    }
}
