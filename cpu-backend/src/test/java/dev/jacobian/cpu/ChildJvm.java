package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a class's {@code main} in a child JVM with the test class path, for what one JVM can be started with only. */
final class ChildJvm {
    /** How long a child may run. */
    private static final long TIMEOUT_SECONDS = 120;

    private ChildJvm() {
    }

    /**
     * Runs {@code main} with the JVM options {@code jvmOptions}; asserts that it finished in time and exited with 0, and
     * returns its output (stdout and stderr together).
     */
    static String run(Class<?> main, String... jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        // the output goes to a file, not a pipe: reading a pipe to its end would wait for a hung child for ever
        Path log = Files.createTempFile("child-jvm", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean finished = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly().waitFor();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(finished, "child JVM finished within " + TIMEOUT_SECONDS + " s:\n" + out);
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
