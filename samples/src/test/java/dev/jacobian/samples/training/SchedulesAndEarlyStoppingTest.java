package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jacobian.optim.Sgd;
import dev.jacobian.optim.schedule.ClosedFormScheduler;
import dev.jacobian.optim.schedule.LrScheduler;
import dev.jacobian.optim.schedule.ReduceLrOnPlateau;
import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --schedule} through the library's schedulers, and {@code --early-stopping}, end to end on the CPU backend. */
class SchedulesAndEarlyStoppingTest {
    @TempDir
    Path tmp;

    static TrainConfig config(String schedule, int epochs) {
        return new TrainConfig(List.of(8), "relu", "softmax-ce", "he", epochs, 64, 0.05, schedule, 0.9, false, 0, 0, 0, 0,
                42, 5000, 0, "stop", 5, null, null, 0, null, 0, null, null, null, null);
    }

    /** The default {@code cosine} gives the rates the CLI's own formula gave before the library had schedules, bit for bit. */
    @Test
    void cosineIsTheCommandLinesCosineOfBefore() {
        for (int epochs : new int[] {1, 2, 3, 10, 37}) {
            try (Sgd sgd = Sgd.builder().learningRate(0.05).build()) {
                LrScheduler s = config("cosine", epochs).scheduler(sgd, 0.05);
                for (int epoch = 1; epoch <= epochs; epoch++) {
                    double before = 0.05 * 0.5 * (1 + Math.cos(Math.PI * (epoch - 1) / epochs));
                    assertEquals(before, s.learningRate(), "epoch " + epoch + " of " + epochs);
                    assertEquals((float) before, sgd.learningRate());
                    s.step(Double.NaN);
                }
            }
        }
    }

    @Test
    void eachScheduleNameMakesItsLibraryScheduler() {
        try (Sgd sgd = Sgd.builder().learningRate(0.05).build()) {
            assertInstanceOf(ReduceLrOnPlateau.class, config("plateau", 5).scheduler(sgd, 0.05));
            LrScheduler step = config("step", 10).scheduler(sgd, 0.08);
            assertInstanceOf(ClosedFormScheduler.class, step);
            double[] rates = new double[7];
            for (int i = 0; i < rates.length; i++) {
                rates[i] = step.learningRate();
                step.step();
            }
            assertEquals(List.of(0.08, 0.08, 0.08, 0.04, 0.04, 0.04, 0.02), Arrays.stream(rates).boxed().toList());
            LrScheduler warm = config("warmup-cosine", 5).scheduler(sgd, 0.1);
            assertEquals(0.01, warm.learningRate(), 1e-15, "start factor 0.1 in the first epoch");
            warm.step();
            assertEquals(0.1, warm.learningRate(), 1e-15, "then cosine over the 4 epochs left, from the full rate");
        }
    }

    /** Checkpoint JSON keeps a best of +Infinity (early stopping and plateau before their first epoch). */
    @Test
    void stateWithInfinityRoundTripsThroughCheckpointJson() throws Exception {
        var mapper = CheckpointStore.mapper();
        Map<String, Double> state = Map.of("best", Double.POSITIVE_INFINITY, "wait", 0.0);
        Map<String, Double> back = mapper.readValue(mapper.writeValueAsString(state), new TypeReference<Map<String, Double>>() { });
        assertEquals(state, back);
    }

    /**
     * With a rate far too high and patience 1, validation accuracy soon fails to improve: the run stops, tests
     * the best epoch's weights, and its last checkpoint holds them (eval reports the same accuracy).
     */
    @Test
    void earlyStoppingEndsTheRunAndTestsTheBestEpoch() throws Exception {
        Path out = tmp.resolve("run");
        CliRun train = CliRun.of("train", "--backend", "cpu", "--limit", "1500", "--layers", "32", "--batch", "50",
                "--lr", "0.3", "--schedule", "constant", "--validation", "300", "--epochs", "12", "--early-stopping", "1",
                "--monitor", "val-accuracy", "--out", out.toString(), "--no-progress");
        assertEquals(0, train.code(), train.err());
        JsonNode m = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile());
        JsonNode es = m.get("early_stopping");
        assertTrue(es != null && !es.isNull(), "stopped early: " + m);
        int last = es.get("last_epoch").asInt();
        int best = es.get("best_epoch").asInt();
        assertEquals(best + 1, last, "patience 1");
        assertEquals(last, m.get("epochs").size());
        double bestAccuracy = m.get("epochs").get(best - 1).get("val_accuracy").asDouble();
        for (JsonNode e : m.get("epochs")) {
            assertTrue(e.get("val_accuracy").asDouble() <= bestAccuracy, "the best epoch has the highest val accuracy");
            assertTrue(e.get("val_loss").isNumber(), "validation loss is recorded");
        }
        var checkpoint = CheckpointStore.load(out, TrainingState.class);
        assertEquals(last, checkpoint.state().epoch());
        assertEquals(Integer.toString(best), checkpoint.metadata().get("weights_of_epoch"));
        assertTrue(checkpoint.tensors().containsKey(Networks.BEST_PARAMETERS));
        CliRun eval = CliRun.of("eval", "--checkpoint", out.toString(), "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        String expected = String.format("test accuracy %.2f%%", 100 * m.get("test_accuracy").asDouble());
        assertTrue(eval.out().contains(expected), expected + " in " + eval.out());
    }

    /** The plateau scheduler and early stopping resume from their checkpointed state: 2 + 2 epochs equal 4 straight. */
    @Test
    void plateauAndEarlyStoppingResumeBitForBit() throws Exception {
        Path straight = tmp.resolve("straight");
        Path split = tmp.resolve("split");
        String[] more = {"--schedule", "plateau", "--plateau-patience", "0", "--early-stopping", "3"};
        assertEquals(0, CliRun.of(args(straight, 4, more)).code());
        assertEquals(0, CliRun.of(args(split, 2, more)).code());
        assertEquals(0, CliRun.of(args(split, 4, more, "--resume")).code());
        var a = CheckpointStore.load(straight, TrainingState.class);
        var b = CheckpointStore.load(split, TrainingState.class);
        assertEquals(4, b.state().epoch());
        assertEquals(a.state().scheduler(), b.state().scheduler());
        assertEquals(a.state().earlyStopping(), b.state().earlyStopping());
        assertEquals(4.0, a.state().scheduler().get(LrScheduler.LAST_EPOCH));
        for (String name : a.tensors().keySet()) {
            assertTrue(Arrays.equals(a.tensors().get(name).data(), b.tensors().get(name).data()), name + " differs after resume");
        }
        List<Double> rates = a.state().history().stream().map(Reports.EpochRecord::learningRate).toList();
        assertEquals(rates, b.state().history().stream().map(Reports.EpochRecord::learningRate).toList());
        assertNotEquals(rates.get(0), rates.get(3), "patience 0 halves the rate at the first epoch without improvement: " + rates);
    }

    private static String[] args(Path out, int epochs, String[] more, String... extra) {
        List<String> a = new java.util.ArrayList<>(ResumeTest.args(out, epochs));
        a.remove("--schedule");
        a.remove("constant");
        a.addAll(List.of(more));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }
}
