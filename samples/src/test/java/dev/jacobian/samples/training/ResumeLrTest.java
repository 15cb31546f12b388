package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.samples.CliRun;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --resume --lr X} goes on at the base rate X with every schedule, the plateau schedule (which keeps its own
 * rate in its state) included.
 */
class ResumeLrTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"constant", "plateau"})
    void resumeLrReplacesTheRate(String schedule) throws Exception {
        Path out = tmp.resolve(schedule);
        List<String> first = new ArrayList<>(ResumeTest.args(out, 2));
        int s = first.indexOf("--schedule");
        first.set(s + 1, schedule);
        assertEquals(0, CliRun.of(first.toArray(String[]::new)).code());
        List<String> resume = new ArrayList<>(ResumeTest.args(out, 3));
        resume.set(resume.indexOf("--schedule") + 1, schedule);
        resume.addAll(List.of("--resume", "--lr", "0.01"));
        int lr = resume.indexOf("--lr"); // the first, 0.05: the resumed run takes the last one given
        resume.subList(lr, lr + 2).clear();
        CliRun resumed = CliRun.of(resume.toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.err());
        var state = CheckpointStore.load(out, TrainingState.class).state();
        assertEquals(3, state.epoch());
        // two epochs cannot reduce a plateau rate of patience 2: the third runs at the rate given
        assertEquals(0.05, state.history().get(1).learningRate(), 1e-9);
        assertEquals(0.01, state.history().get(2).learningRate(), 1e-9, "epoch 3 runs at --lr");
    }
}
