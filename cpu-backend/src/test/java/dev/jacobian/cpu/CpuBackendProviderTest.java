package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** Discovery through the services file, and the switches a user can reach. */
class CpuBackendProviderTest {
    @Test
    void discoveredWithPriority100() {
        BackendProvider cpu = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no cpu provider in META-INF/services"));
        assertEquals(100, cpu.priority());
        assertTrue(cpu.isAvailable());
        assertEquals("", cpu.unavailableReason());
        try (Backend b = cpu.create()) {
            assertEquals("cpu", b.name());
            assertTrue(b.deviceDescription().contains("thread"), b.deviceDescription());
        }
    }

    @Test
    void threadsAndVectorSwitches() {
        try (CpuBackend scalar = new CpuBackend(3, false)) {
            assertEquals(3, scalar.threads());
            assertTrue(!scalar.usesVector(), "useVector=false forces the scalar twins");
            assertTrue(scalar.deviceDescription().contains("scalar"), scalar.deviceDescription());
        }
        try (CpuBackend vector = new CpuBackend(1)) {
            // Surefire starts the JVM with --add-modules=jdk.incubator.vector, so the vector kernels run.
            assertEquals(CpuBackend.vectorAvailable(), vector.usesVector());
            assertTrue(vector.usesVector(), "the Vector API is on the test JVM's module path");
        }
    }
}
