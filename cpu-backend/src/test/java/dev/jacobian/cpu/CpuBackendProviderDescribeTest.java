package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link CpuBackendProvider#describe()}: threads and kernels, without creating a backend. */
class CpuBackendProviderDescribeTest {
    @Test
    void describesThreadsAndTheVectorShape() {
        String old = System.getProperty(CpuBackendProvider.THREADS_PROPERTY);
        System.setProperty(CpuBackendProvider.THREADS_PROPERTY, "3");
        try {
            List<String> lines = new CpuBackendProvider().describe();
            assertEquals(3, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith("CPU, 3 thread(s)") && lines.get(0).contains(CpuBackendProvider.THREADS_PROPERTY),
                    lines.toString());
            // the tests run with -Djacobian.cpu.yieldToJit=false (the parent pom): the line says so, and names it
            assertTrue(lines.get(0).contains("all of them while the JIT compiler is busy too (-D"
                    + CompilerLoad.PROPERTY + "=false)"), lines.get(0));
            // Surefire starts the JVM with --add-modules=jdk.incubator.vector, so the vector kernels are described.
            assertEquals("kernels: " + VectorInfo.describe(), lines.get(1));
            assertTrue(lines.get(1).matches("kernels: Vector API \\d+-bit \\(\\d+ floats\\)"), lines.get(1));
            assertTrue(lines.get(2).contains(System.getProperty("os.arch")), lines.get(2));
        } finally {
            if (old == null) {
                System.clearProperty(CpuBackendProvider.THREADS_PROPERTY);
            } else {
                System.setProperty(CpuBackendProvider.THREADS_PROPERTY, old);
            }
        }
    }
}
