package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * MAX and ARGMAX along a row (and over the whole tensor) pick the first maximal element, the first element seeding
 * the comparison {@code v > best}, as the reference and the scalar twin do: a NaN after the first element is never
 * greater, so it is passed over, wherever it lies in the row (in the vector loop's first vector, a later vector or the
 * scalar tail) and whatever the row's length.
 */
class CpuReduceMaxNaNTest {

    @ParameterizedTest(name = "n={0}, NaN at {1}")
    @CsvSource({"20, 3", "16, 1", "40, 15", "40, 17", "40, 35", "15, 4", "33, 0", "20, 19"})
    void aNaNAfterTheFirstElementIsPassedOverAsTheReferenceDoes(int n, int nanAt) {
        float[] x = CpuMatmulTest.random(7 + n, 2 * n);
        x[nanAt] = Float.NaN; // row 0
        x[n + n - 1 - nanAt] = Float.NaN; // row 1, mirrored
        x[n + n / 2] = 5f; // row 1's maximum
        try (ReferenceBackend reference = new ReferenceBackend(); CpuBackend vector = new CpuBackend(1, true);
             CpuBackend scalar = new CpuBackend(1, false)) {
            for (Reduction op : new Reduction[] {Reduction.MAX, Reduction.ARGMAX}) {
                for (Axis axis : new Axis[] {Axis.COLS, Axis.ALL}) {
                    float[] expected = reduce(reference, op, axis, x, n);
                    for (Backend be : new Backend[] {vector, scalar}) {
                        float[] actual = reduce(be, op, axis, x, n);
                        for (int i = 0; i < expected.length; i++) {
                            assertEquals(expected[i], actual[i], be + " " + op + " " + axis + " row " + i);
                        }
                    }
                }
            }
        }
    }

    private static float[] reduce(Backend be, Reduction op, Axis axis, float[] x, int n) {
        Shape out = axis == Axis.COLS ? Shape.matrix(2, 1) : Shape.matrix(1, 1);
        try (Tensor t = be.fromHost(Shape.matrix(2, n), x); Tensor y = be.fromHost(out, new float[out.size()])) {
            be.reduce(op, axis, t, y, false);
            return y.download();
        }
    }
}
