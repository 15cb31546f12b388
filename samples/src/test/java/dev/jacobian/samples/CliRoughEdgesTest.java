package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
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
}
