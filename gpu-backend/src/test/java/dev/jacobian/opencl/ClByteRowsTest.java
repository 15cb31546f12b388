package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.BackendStats;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A batch of image rows goes to the device as bytes ({@code Backend.uploadByteRows}): after the first batch, one
 * upload of a quarter of the floats' bytes and one launch (the table lookup on the device), no blocking call and no
 * allocation; the floats are those of the host's conversion.
 */
class ClByteRowsTest extends OpenClTestBase {
    @Test
    void aBatchOfBytesCrossesAsBytes() {
        int rows = 128;
        int length = 784;
        byte[] images = new byte[1000 * length];
        new SplittableRandom(3).nextBytes(images);
        int[] offsets = new int[rows];
        SplittableRandom pick = new SplittableRandom(4);
        try (Tensor x = cl.allocate(Shape.matrix(rows, length))) {
            for (int batch = 0; batch < 3; batch++) {
                for (int r = 0; r < rows; r++) {
                    offsets[r] = pick.nextInt(1000) * length;
                }
                BackendStats s = cl.stats();
                long uploads = s.uploads();
                long bytes = s.uploadedBytes();
                long launches = s.launches();
                long blocking = s.blockingCalls();
                long allocations = s.allocations();
                cl.uploadByteRows(images, offsets, rows, length, 255f, x, 0);
                if (batch > 0) { // the first allocates the device's byte buffer and uploads the table of 256 floats
                    assertEquals(uploads + 1, s.uploads(), "one upload");
                    assertEquals(bytes + (long) rows * length, s.uploadedBytes(), "one byte per pixel");
                    assertEquals(launches + 1, s.launches(), "one launch");
                    assertEquals(blocking, s.blockingCalls(), "no wait");
                    assertEquals(allocations, s.allocations(), "no allocation");
                }
                float[] want = new float[rows * length];
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < length; j++) {
                        want[r * length + j] = (images[offsets[r] + j] & 0xff) / 255f;
                    }
                }
                TensorAssert.assertClose("batch " + batch, want, x.download(), 0, 0);
            }
        }
    }

    /**
     * The table is built on the first call whatever the divisor: a NaN divisor (accepted, every value NaN on the
     * reference) on a fresh backend once matched the "no table yet" marker and left the table unbuilt.
     */
    @Test
    void aNanDivisorOnTheFirstBatchGivesNaN() {
        try (ClBackend fresh = OpenClTestSupport.openOrSkip(); Tensor x = fresh.allocate(Shape.matrix(2, 3))) {
            byte[] bytes = {0, 1, 2, (byte) 255, 7, 9};
            fresh.uploadByteRows(bytes, new int[] {0, 3}, 2, 3, Float.NaN, x, 0);
            float[] want = new float[6];
            java.util.Arrays.fill(want, Float.NaN);
            TensorAssert.assertClose("NaN divisor", want, x.download(), 0, 0);
            fresh.uploadByteRows(bytes, new int[] {0, 3}, 2, 3, 2f, x, 0);
            TensorAssert.assertClose("then 2", new float[] {0f, 0.5f, 1f, 127.5f, 3.5f, 4.5f}, x.download(), 0, 0);
        }
    }
}
