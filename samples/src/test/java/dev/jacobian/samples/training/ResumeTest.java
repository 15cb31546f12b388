package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 3 epochs, then {@code --resume} to 5, gives the same weights bit for bit as 5 epochs straight (CPU backend). */
class ResumeTest {
    /** Relative tolerance of the epoch's mean loss (a reduction, see below). */
    private static final double LOSS_RTOL = 1e-6;

    @TempDir
    Path tmp;

    static List<String> args(Path out, int epochs, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--backend", "cpu", "--limit", "2000", "--layers", "32,16",
                "--batch", "50", "--lr", "0.05", "--momentum", "0.9", "--schedule", "constant", "--validation", "200",
                "--epochs", Integer.toString(epochs), "--out", out.toString(), "--no-progress"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void threePlusTwoEpochsEqualFiveStraight() throws Exception {
        Path straight = tmp.resolve("straight");
        Path split = tmp.resolve("split");
        assertEquals(0, CliRun.of(args(straight, 5).toArray(String[]::new)).code());
        assertEquals(0, CliRun.of(args(split, 3).toArray(String[]::new)).code());
        assertEquals(3, CheckpointStore.load(split, TrainingState.class).state().epoch());
        assertEquals(0, CliRun.of(args(split, 5, "--resume").toArray(String[]::new)).code());

        var a = CheckpointStore.load(straight, TrainingState.class);
        var b = CheckpointStore.load(split, TrainingState.class);
        assertEquals(5, a.state().epoch());
        assertEquals(5, b.state().epoch());
        assertEquals(a.state().steps(), b.state().steps());
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        assertTrue(a.tensors().keySet().stream().anyMatch(k -> k.startsWith(Networks.MOMENTUM_PREFIX)),
                "momentum buffers are checkpointed");
        for (String name : a.tensors().keySet()) {
            assertArrayEquals(a.tensors().get(name).shape(), b.tensors().get(name).shape(), name);
            // bit-identity is the claim: Arrays.equals compares the floats' bit patterns
            assertTrue(Arrays.equals(a.tensors().get(name).data(), b.tensors().get(name).data()),
                    name + " differs after resume");
        }
        // the resumed run's history covers all five epochs, the first three from the checkpoint
        assertEquals(List.of(1, 2, 3, 4, 5), b.state().history().stream().map(Reports.EpochRecord::epoch).toList());
        // the reported loss is a full reduction whose lane order the Vector API leaves open (it may differ
        // between interpreted and compiled code), so it agrees to rounding, not bit for bit
        double loss = a.state().history().get(4).trainLoss();
        assertEquals(loss, b.state().history().get(4).trainLoss(), loss * LOSS_RTOL);
    }
}
