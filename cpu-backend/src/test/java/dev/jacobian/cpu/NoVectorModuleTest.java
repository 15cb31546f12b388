package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Activation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.io.IOException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * On a JVM started without {@code --add-modules=jdk.incubator.vector} the backend must still work (the
 * scalar twins run, no vector class is loaded, the pixel converter runs its loop) and say so once, naming the
 * flag. Runs {@link Probe} in a child JVM with the test class path and no Vector API module.
 */
class NoVectorModuleTest {
    /** Tolerance of the probe's float sums (exactly representable inputs). */
    private static final double PROBE_TOL = 1e-5;

    /** The child JVM's entry point: a few kernels, then the facts the test checks, on stdout. */
    public static final class Probe {
        public static void main(String[] args) {
            try (CpuBackend be = new CpuBackend(2); CpuBackend again = new CpuBackend(1)) {
                Tensor a = be.fromHost(Shape.matrix(3, 2), new float[] {1, 2, 3, 4, 5, 6});
                Tensor b = be.fromHost(Shape.matrix(2, 1), new float[] {1, -1});
                Tensor c = be.allocate(Shape.matrix(3, 1));
                be.gemm(false, false, 1f, a, b, 0f, c);
                be.activation(Activation.RELU, 0f, c, c);
                float[] out = c.download();
                System.out.println("usesVector=" + be.usesVector() + " " + again.usesVector());
                CpuByteConverter converter = new CpuByteConverter();
                float[] pixels = new float[3];
                converter.toFloats(new byte[] {0, (byte) 255, (byte) 128}, 0, pixels, 0, 3, 255f);
                System.out.println("converter usesVector=" + converter.usesVector() + " pixels=" + pixels[0] + ","
                        + pixels[1] + "," + pixels[2]);
                System.out.println("result=" + out[0] + "," + out[1] + "," + out[2]);
            }
        }
    }

    @Test
    void scalarTwinsRunAndOneWarningNamesTheFlag() throws IOException, InterruptedException {
        String out = ChildJvm.run(Probe.class);
        assertTrue(out.contains("usesVector=false false"), out);
        assertTrue(out.contains("converter usesVector=false pixels=0.0,1.0," + (128 / 255f)), out);
        assertEquals(1, out.split(Pattern.quote(VectorSupport.FLAG), -1).length - 1,
                "exactly one warning names the flag:\n" + out);
        String result = out.substring(out.indexOf("result=") + 7).trim().split("\\R")[0];
        String[] v = result.split(",");
        // [1 2; 3 4; 5 6] * [1; -1] = [-1; -1; -1], then ReLU gives zeros.
        for (String s : v) {
            assertEquals(0.0, Double.parseDouble(s), PROBE_TOL, out);
        }
    }
}
