package dev.jacobian.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Operations on shapes at the edge of what their shape rules accept: each rule that accepts a shape must also run
 * forward and backward on it (not fail later, in a primitive that names neither the operation nor its shapes).
 */
class OpEdgeShapeTest {
    /**
     * {@code addBias} accepts any bias of {@code x}'s column count ({@code [1, n]}, {@code [n]}, {@code [n, 1]}, ...), as
     * {@code linear} and {@code prelu} do; its backward reduced {@code dy} into the bias gradient as a {@code [1, n]}
     * row, so a bias {@code [n, 1]} or {@code [2, 2]} passed the shape check and forward, then failed in backward with
     * "reduce SUM: reducing [2, 4] along ROWS gives [1, 4], not [4, 1]".
     */
    @ParameterizedTest
    @ValueSource(strings = {"1,4", "4", "4,1", "2,2", "1,1,4"})
    void addBiasRunsBackwardForEveryBiasShapeItAccepts(String dims) {
        Shape bs = Shape.of(java.util.Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).toArray());
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.matrix(3, 4), Initializer.constant(1f), true);
        Parameter b = g.parameter("b", bs, (out, fanIn, fanOut, r) -> {
            for (int i = 0; i < out.length; i++) {
                out[i] = i + 1;
            }
        }, false);
        Parameter r = g.parameter("r", Shape.matrix(3, 4), (out, fanIn, fanOut, rnd) -> {
            for (int i = 0; i < out.length; i++) {
                out[i] = i;
            }
        }, false);
        Node loss = g.sum(g.mul(g.addBias(x, b), r));
        try (ReferenceBackend be = new ReferenceBackend(); Executor exec = new Executor(g, be, 0)) {
            // sum_ij (1 + (j + 1)) * (4 i + j) over 3 rows of 4
            float expected = 0;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                    expected += (2 + j) * (4 * i + j);
                }
            }
            assertEquals(expected, exec.forward(loss, 1).get(0), 1e-4f);
            exec.backward();
            // d/db_j = sum_i r_ij = 12 + 3 j
            assertArrayEquals(new float[] {12, 15, 18, 21}, exec.gradient(b).download(), 1e-5f);
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, exec.gradient(x).download(), 1e-5f);
        }
    }
}
