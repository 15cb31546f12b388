package dev.jacobian.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.tensor.Shape;
import org.junit.jupiter.api.Test;

class BackendsTest {
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
}
