package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.PendingRead;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link ClBackend#readLater} at its edges: a read of no tensor completes at once with no value (as on the reference
 * backend), and a read the caller collects only after closing the backend still returns the device's values, not
 * whatever lies in the unmapped staging memory.
 */
class ClReadLaterTest {
    @Test
    void aReadOfNoTensorCompletesEmpty() {
        try (ClBackend b = OpenClTestSupport.openOrSkip()) {
            PendingRead r = b.readLater();
            assertTrue(r.done());
            assertArrayEquals(new float[0], r.await());
        }
    }

    @Test
    void aReadAwaitedAfterCloseReturnsTheValues() {
        float[] x = new float[1 << 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        PendingRead first;
        PendingRead second;
        try (ClBackend b = OpenClTestSupport.openOrSkip()) {
            Tensor t = b.fromHost(Shape.of(x.length), x);
            Tensor u = b.fromHost(Shape.of(3), new float[] {1, 2, 3});
            first = b.readLater(t, u);
            second = b.readLater(u);
            assertArrayEquals(new float[] {1, 2, 3}, second.await());
        }
        float[] expected = java.util.Arrays.copyOf(x, x.length + 3);
        expected[x.length] = 1;
        expected[x.length + 1] = 2;
        expected[x.length + 2] = 3;
        assertTrue(first.done());
        assertArrayEquals(expected, first.await());
        assertArrayEquals(new float[] {1, 2, 3}, second.await());
    }
}
