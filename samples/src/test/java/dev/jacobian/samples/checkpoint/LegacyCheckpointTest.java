package dev.jacobian.samples.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Backends;
import dev.jacobian.io.ModelFile;
import dev.jacobian.nn.Model;
import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.training.SavedModel;
import dev.jacobian.samples.training.TrainingState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of the format before the tensor file became a library model file (format 1, written by Jacobian up to
 * this change: {@code src/test/resources/checkpoints-v1}, an MLP with batch norm, dropout and Adam, and a small CNN,
 * one epoch each) still evaluate to the accuracy they had, resume, and the resumed run writes format-2 checkpoints
 * that the library loads as models ({@link Model#load}).
 */
class LegacyCheckpointTest {
    /** Test accuracies {@code jacobian eval} printed for the fixtures when the old code wrote them. */
    private static final String MLP_ACCURACY = "test accuracy 50.49%";
    private static final String CNN_ACCURACY = "test accuracy 44.54%";
    private static final Path FIXTURES = Path.of("src/test/resources/checkpoints-v1");

    @TempDir
    Path tmp;

    @Test
    void legacyCheckpointsEvaluateAsBefore() throws Exception {
        for (String[] c : new String[][] {{"mlp", MLP_ACCURACY}, {"cnn", CNN_ACCURACY}}) {
            Path json = FIXTURES.resolve(c[0]).resolve("checkpoint-epoch-0001.json");
            assertNull(CheckpointStore.load(json, TrainingState.class).model(), "a legacy checkpoint");
            CliRun eval = CliRun.of("eval", "--checkpoint", json.toString(), "--backend", "cpu");
            assertEquals(0, eval.code(), eval.err());
            assertTrue(eval.out().contains(c[1]), c[0] + ": " + eval.out());
        }
    }

    @Test
    void aLegacyRunResumesIntoModelFiles() throws Exception {
        Path run = tmp.resolve("run");
        Files.createDirectories(run);
        for (String f : new String[] {"checkpoint-epoch-0001.json", "checkpoint-epoch-0001.safetensors"}) {
            Files.copy(FIXTURES.resolve("mlp").resolve(f), run.resolve(f));
        }
        CliRun resume = CliRun.of("train", "--resume", "--out", run.toString(), "--epochs", "2", "--backend", "cpu",
                "--no-progress");
        assertEquals(0, resume.code(), resume.err());
        Path json = run.resolve("checkpoint-epoch-0002.json");
        CheckpointStore.Loaded<TrainingState> loaded = CheckpointStore.load(json, TrainingState.class);
        assertNotNull(loaded.model(), "the resumed run writes the library's format");
        assertEquals(1 / 255.0, loaded.model().inputScale().orElseThrow());
        float[] x = new float[3 * 784];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        try (SavedModel cli = SavedModel.open(json, "cpu"); Backend b = Backends.create("cpu");
             Model lib = Model.load(run.resolve("checkpoint-epoch-0002.safetensors"), b)) {
            assertEquals(cli.model().describe(), lib.describe());
            assertArrayEquals(cli.model().predictScores(x, 0, 3), lib.predictScores(x, 0, 3));
            assertTrue(ModelFile.read(run.resolve("checkpoint-epoch-0002.safetensors")).hasOptimizerState());
        }
    }
}
