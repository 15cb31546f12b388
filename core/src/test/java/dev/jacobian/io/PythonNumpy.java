package dev.jacobian.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the checked-in Python scripts of {@code core/src/test/python} that need only numpy. CI installs Debian's
 * {@code python3-numpy} ({@code .ci/run}), so there a missing numpy fails the test instead of skipping it.
 */
final class PythonNumpy {
    private PythonNumpy() {
    }

    /** A python with numpy ({@code /usr/bin/python3} first: a pyenv python may lack it), or null. */
    static String find() {
        for (String p : new String[] {"/usr/bin/python3", "python3"}) {
            try {
                Process proc = new ProcessBuilder(p, "-c", "import numpy").redirectErrorStream(true).start();
                proc.getInputStream().readAllBytes();
                if (proc.waitFor(60, TimeUnit.SECONDS) && proc.exitValue() == 0) {
                    return p;
                }
            } catch (IOException e) {
                // not installed: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** Skips the calling test on a developer machine without numpy; fails it in CI. */
    static void skipOrFail(String script) {
        if ("true".equals(System.getenv("CI"))) {
            fail("CI needs python3 with numpy for " + script + " (.ci/run installs python3-numpy)");
        }
        Assumptions.abort("no python3 with numpy: " + script + " not run");
    }

    /** Runs {@code script MODEL INPUT ROWS OUTPUT} on float32 inputs and returns its float32 output. */
    static float[] run(String python, String script, Path model, float[] x, int rows, Path dir) throws Exception {
        Path in = Files.createTempFile(dir, "x", ".f32");
        Path out = Files.createTempFile(dir, "y", ".f32");
        ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(x);
        Files.write(in, b.array());
        Process proc = new ProcessBuilder(python, Path.of("src/test/python", script).toString(), model.toString(),
                in.toString(), Integer.toString(rows), out.toString()).redirectErrorStream(true).start();
        String log = new String(proc.getInputStream().readAllBytes());
        if (!proc.waitFor(120, TimeUnit.SECONDS)) {
            proc.destroyForcibly();
            fail(script + " did not finish in 120 s");
        }
        assertEquals(0, proc.exitValue(), script + " failed: " + log);
        ByteBuffer y = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        float[] result = new float[y.remaining() / 4];
        y.asFloatBuffer().get(result);
        return result;
    }
}
