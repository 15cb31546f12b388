package dev.jacobian.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.tensor.Shape;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackendsTest {
    /**
     * A provider registered only on core's test class path (src/test/resources/META-INF/services) that
     * counts the calls to its probing methods. It is never available and ranks below everything, so
     * {@code auto} never takes it.
     */
    public static final class ProbeCountingProvider implements BackendProvider {
        /** The name it is registered under. */
        public static final String NAME = "probe-counting";
        /** Calls to {@link #priority()}, {@link #isAvailable()}, {@link #unavailableReason()}, {@link #describe()}. */
        static final AtomicInteger PROBES = new AtomicInteger();

        /** Found by {@link java.util.ServiceLoader}. */
        public ProbeCountingProvider() {
        }

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            PROBES.incrementAndGet();
            return -1;
        }

        @Override
        public boolean isAvailable() {
            PROBES.incrementAndGet();
            return false;
        }

        @Override
        public String unavailableReason() {
            PROBES.incrementAndGet();
            return "test provider, never available";
        }

        @Override
        public List<String> describe() {
            PROBES.incrementAndGet();
            return List.of("counts probes");
        }

        @Override
        public Backend create() {
            throw new AssertionError("create() must not be called on " + NAME);
        }
    }

    @Test
    void resolvingByNameProbesNoOtherProvider() {
        int before = ProbeCountingProvider.PROBES.get();
        assertEquals("reference", Backends.resolve("reference").name());
        assertEquals("reference", Backends.resolve(" Reference ").name());
        try (Backend b = Backends.create("reference")) {
            assertEquals("reference", b.name());
        }
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("tpu"));
        assertTrue(unknown.getMessage().contains(ProbeCountingProvider.NAME), unknown.getMessage());
        assertEquals(before, ProbeCountingProvider.PROBES.get(),
                "resolving 'reference' or an unknown name must call only name() on the other providers");

        assertEquals("reference", Backends.resolve("auto").name(), "auto never takes the unavailable test provider");
        assertTrue(ProbeCountingProvider.PROBES.get() > before, "auto does evaluate every provider");

        int beforeByName = ProbeCountingProvider.PROBES.get();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Backends.resolve(ProbeCountingProvider.NAME));
        assertTrue(e.getMessage().contains("never available"), e.getMessage());
        assertTrue(ProbeCountingProvider.PROBES.get() > beforeByName, "by name, the match itself is asked");
    }

    @Test
    void referenceDescribesItself() {
        BackendProvider reference = Backends.resolve("reference");
        List<String> lines = reference.describe();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("scalar"), lines.toString());
        assertEquals(Backends.autoChoice(Backends.providers()).orElseThrow().name(), Backends.resolve("auto").name());
        // a blank name is auto, as a blank -Djacobian.backend or JACOBIAN_BACKEND is (was: "unknown backend ''")
        assertEquals(Backends.resolve("auto").name(), Backends.resolve("").name());
        assertEquals(Backends.resolve("auto").name(), Backends.resolve(" \t").name());
    }
    @Test
    void unknownNameListsTheNamesFound() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.create("tpu"));
        assertTrue(e.getMessage().contains("tpu") && e.getMessage().contains("reference"), e.getMessage());
    }

    @Test
    void byNameAndAuto() {
        try (Backend b = Backends.create("reference")) {
            assertEquals("reference", b.name());
        }
        try (Backend b = Backends.create("auto")) {
            assertEquals(Backends.providers().stream().filter(BackendProvider::isAvailable).findFirst().orElseThrow().name(), b.name());
        }
    }

    @Test
    void systemPropertyWins() {
        String old = System.getProperty(Backends.PROPERTY);
        System.setProperty(Backends.PROPERTY, "reference");
        try (Backend b = Backends.create()) {
            assertEquals("reference", b.name());
        } finally {
            if (old == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, old);
            }
        }
    }

    @Test
    void shapesRejectNonsense() {
        assertThrows(IllegalArgumentException.class, () -> Shape.of(3, 0));
        assertEquals(0, Shape.of().rank());
        assertEquals(1, Shape.of().size());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1, 1, 1, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(1 << 16, 1 << 16));
        assertEquals(Shape.matrix(6, 4), Shape.of(6, 4));
        assertEquals(6, Shape.of(2, 3, 4).rows());
        assertEquals(4, Shape.of(2, 3, 4).cols());
    }

    /**
     * A provider listed in a services file whose class cannot load (a jar without its classes, a class whose
     * dependency is missing) made ServiceLoader throw ServiceConfigurationError, an Error, out of every Backends call,
     * create("reference") included. Now it is skipped with a warning, and named where a backend is not found.
     */
    @Test
    void aProviderThatFailsToLoadIsSkippedAndNamed(@TempDir Path dir) throws Exception {
        Path services = dir.resolve("META-INF/services/" + BackendProvider.class.getName());
        Files.createDirectories(services.getParent());
        Files.writeString(services, "dev.jacobian.backend.NoSuchProvider\n");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
                BackendsTest.class.getClassLoader())) {
            Backends.Found found = Backends.discover(loader);
            assertEquals(1, found.failures().size(), found.failures().toString());
            assertTrue(found.failures().get(0).contains("dev.jacobian.backend.NoSuchProvider"), found.failures().toString());
            assertEquals("reference", Backends.resolve("reference", loader).name());
            assertEquals("reference", Backends.resolve("auto", loader).name());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Backends.resolve("broken", loader));
            assertTrue(e.getMessage().contains("unknown backend 'broken'") && e.getMessage().contains(
                    "providers that failed to load: ") && e.getMessage().contains("NoSuchProvider")
                    && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
