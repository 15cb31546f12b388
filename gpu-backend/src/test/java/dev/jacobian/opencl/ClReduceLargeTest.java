package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Reduction;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * MAX backward routes the gradient to the exact maximal element even when its index within the reduced group is past
 * 2^24, where a float no longer holds every integer: the device's argmax scratch once stored the index as a float,
 * so element 2^24 + 1 sent its gradient to element 2^24.
 */
class ClReduceLargeTest extends OpenClTestBase {
    @Test
    void maxBackwardFindsAnElementPastTwoToThe24() {
        int len = (1 << 24) + 2;
        float[] x = new float[len];
        x[len - 1] = 1f; // index 2^24 + 1: (float) index == 2^24
        for (Axis axis : new Axis[] {Axis.ALL, Axis.COLS}) {
            try (Tensor tx = cl.fromHost(Shape.matrix(1, len), x); Tensor y = cl.allocate(Shape.matrix(1, 1));
                 Tensor dy = cl.fromHost(Shape.matrix(1, 1), new float[] {3f});
                 Tensor dx = cl.allocate(Shape.matrix(1, len))) {
                cl.reduce(Reduction.MAX, axis, tx, y, false);
                cl.reduceBackward(Reduction.MAX, axis, tx, y, dy, dx, false);
                float[] got = dx.download();
                assertEquals(3f, got[len - 1], axis + ": the maximum gets the gradient");
                assertEquals(0f, got[len - 2], axis + ": its float-rounded neighbour gets none");
            }
        }
    }
}
