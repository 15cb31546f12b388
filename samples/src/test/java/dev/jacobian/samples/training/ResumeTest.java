package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
        if (List.of(more).contains("--optimizer")) {
            for (String sgdOnly : new String[] {"--momentum", "--lr"}) { // SGD's; the adaptive ones have their own
                int m = a.indexOf(sgdOnly);
                a.subList(m, m + 2).clear();
            }
        }
        a.addAll(List.of(more));
        return a;
    }

    /**
     * With SGD (momentum buffers), with data-parallel training on two CPU backends, with a CNN (convolutions, BatchNorm2d, pooling), and with AdamW, dropout and batch norm (moments and step counts, running
     * statistics, and the dropout stream's position all come back from the checkpoint).
     */
    @ParameterizedTest
    @ValueSource(strings = {"", "--optimizer adamw --dropout 0.2 --batch-norm --lr 0.002",
        "--workers 2 --optimizer adamw --dropout 0.2 --batch-norm --lr 0.002",
        "--model cnn --channels 4,8 --optimizer adamw --dropout 0.2 --lr 0.002"})
    void threePlusTwoEpochsEqualFiveStraight(String options) throws Exception {
        String[] more = options.isEmpty() ? new String[0] : options.split(" ");
        String[] resume = java.util.stream.Stream.concat(java.util.Arrays.stream(more), java.util.stream.Stream.of("--resume"))
                .toArray(String[]::new);
        Path straight = tmp.resolve("straight");
        Path split = tmp.resolve("split");
        for (CliRun run : new CliRun[] {CliRun.of(args(straight, 5, more).toArray(String[]::new)),
                CliRun.of(args(split, 3, more).toArray(String[]::new))}) {
            assertEquals(0, run.code(), run.err());
        }
        assertEquals(3, CheckpointStore.load(split, TrainingState.class).state().epoch());
        CliRun resumed = CliRun.of(args(split, 5, resume).toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.err());

        var a = CheckpointStore.load(straight, TrainingState.class);
        var b = CheckpointStore.load(split, TrainingState.class);
        assertEquals(5, a.state().epoch());
        assertEquals(5, b.state().epoch());
        assertEquals(a.state().steps(), b.state().steps());
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        String state = options.isEmpty() ? "optimizer.dense1.weight.momentum_buffer" : "optimizer.dense1.weight.exp_avg_sq";
        assertTrue(a.tensors().containsKey(state), "the optimizer's state is checkpointed: " + a.tensors().keySet());
        if (!options.isEmpty()) {
            assertTrue(a.tensors().containsKey("bn1.running_var"), "batch norm's statistics are checkpointed");
            assertEquals("adamw", a.state().config().optimizer());
        }
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
