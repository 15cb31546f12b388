package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.training.TrainingRun;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.io.TempDir;

/** The command line's rough edges of issue 8, each as users met it. */
class CliRoughEdgesTest {
    @TempDir
    Path tmp;

    /** An unknown backend is a bad option value: exit 2, a line naming it and the backends there are, no exception name. */
    @Test
    void unknownBackendIsABadOptionValue() {
        // the backends found on the class path (tests may add some), then 'auto'
        java.util.regex.Pattern line = java.util.regex.Pattern.compile(
                "--backend: unknown backend 'nope'; found: [a-z-]+(, [a-z-]+)* \\(or 'auto'\\)");
        CliRun train = CliRun.of("train", "--backend", "nope", "--limit", "200", "--epochs", "1", "--out",
                tmp.resolve("run").toString(), "--no-progress");
        assertEquals(JacobianCli.EXIT_BAD_INPUT, train.code(), train.err());
        assertTrue(line.matcher(train.err().lines().findFirst().orElse("")).matches(), train.err());
        assertTrue(train.err().contains(" cpu, "), train.err());
        assertFalse(train.err().contains("Exception"), train.err());
        assertFalse(tmp.resolve("run").toFile().exists(), "nothing is written before the options are checked");
        for (String command : new String[] {"eval", "predict"}) {
            CliRun run = CliRun.of(command, "--backend", "nope", "--checkpoint", tmp.resolve("nowhere").toString());
            assertEquals(JacobianCli.EXIT_BAD_INPUT, run.code(), command + ": " + run.err());
            assertTrue(line.matcher(run.err().lines().findFirst().orElse("")).matches(), command + ": " + run.err());
            assertFalse(run.err().contains("Exception"), run.err());
        }
    }

    /**
     * {@code --validation 0}: there is no validation accuracy, so the epoch line says n/a and metrics.json has no
     * {@code val_accuracy} (nor {@code val_loss}) instead of 0 (the plot leaves the series out: PlotsTest).
     */
    @Test
    void noValidationSetReportsNoValidationAccuracy() throws Exception {
        Path out = tmp.resolve("noval");
        Logger log = (Logger) LoggerFactory.getLogger(TrainingRun.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        log.addAppender(lines);
        CliRun train;
        try {
            train = CliRun.of("train", "--validation", "0", "--limit", "640", "--epochs", "1", "--layers", "16",
                    "--backend", "cpu", "--out", out.toString(), "--no-progress");
        } finally {
            log.detachAppender(lines);
        }
        assertEquals(0, train.code(), train.err());
        List<String> epochLines = lines.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.startsWith("epoch 1/1")).toList();
        assertEquals(1, epochLines.size(), lines.list.toString());
        assertTrue(epochLines.get(0).contains("val acc n/a  val loss n/a"), epochLines.get(0));
        JsonNode epoch = CheckpointStore.mapper().readTree(out.resolve(TrainingRun.METRICS).toFile()).get("epochs").get(0);
        assertTrue(epoch.has("train_accuracy"), epoch.toString());
        assertFalse(epoch.has("val_accuracy"), epoch.toString());
        assertFalse(epoch.has("val_loss"), epoch.toString());
    }
}
