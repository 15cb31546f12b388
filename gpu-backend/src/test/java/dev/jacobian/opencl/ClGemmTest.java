package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** GEMM on odd sizes (edge tiles, tiny and tiled kernels) and all four transposes, against the reference. */
class ClGemmTest extends OpenClTestBase {
    /** Relative tolerance of a float dot product accumulated in a different order. */
    private static final double GEMM_RTOL = 1e-4;
    /** Absolute tolerance per accumulated term (inputs of magnitude <= 1). */
    private static final double GEMM_ATOL_PER_TERM = 2e-6;

    static Stream<Arguments> cases() {
        int[][] sizes = {{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {65, 63, 31}, {64, 64, 64}, {127, 129, 67},
            {1, 300, 200}, {200, 1, 300}, {100, 130, 1}, {257, 65, 129}};
        return BackendConformanceTest.eachTranspose(sizes);
    }


    private static float[] run(Backend b, int m, int n, int k, boolean ta, boolean tb, float alpha, float beta,
                               float[] a, float[] bb, float[] c) {
        try (Tensor ta0 = b.fromHost(ta ? Shape.matrix(k, m) : Shape.matrix(m, k), a);
             Tensor tb0 = b.fromHost(tb ? Shape.matrix(n, k) : Shape.matrix(k, n), bb);
             Tensor tc = b.fromHost(Shape.matrix(m, n), c)) {
            b.gemm(ta, tb, alpha, ta0, tb0, beta, tc);
            return tc.download();
        }
    }

    @ParameterizedTest(name = "{0}x{1}x{2} transA={3} transB={4}")
    @MethodSource("cases")
    void matchesReference(int m, int n, int k, boolean ta, boolean tb) {
        float[] a = random(1, m * k);
        float[] b = random(2, k * n);
        float[] c = random(3, m * n);
        float[] nan = new float[m * n];
        java.util.Arrays.fill(nan, Float.NaN);
        double atol = GEMM_ATOL_PER_TERM * k + 1e-6;
        assertClose("alpha=1 beta=0", run(ref, m, n, k, ta, tb, 1f, 0f, a, b, c), run(cl, m, n, k, ta, tb, 1f, 0f, a, b, c), atol);
        assertClose("alpha=-0.5 beta=2", run(ref, m, n, k, ta, tb, -0.5f, 2f, a, b, c),
                run(cl, m, n, k, ta, tb, -0.5f, 2f, a, b, c), 2 * atol);
        assertClose("beta=0 ignores NaN", run(ref, m, n, k, ta, tb, 1f, 0f, a, b, nan),
                run(cl, m, n, k, ta, tb, 1f, 0f, a, b, nan), atol);
    }

    private static void assertClose(String what, float[] expected, float[] actual, double atol) {
        for (int i = 0; i < expected.length; i++) {
            double tol = atol + GEMM_RTOL * Math.abs(expected[i]);
            boolean ok = Math.abs(actual[i] - expected[i]) <= tol;
            if (!ok) {
                assertTrue(ok, what + ": element " + i + " expected " + expected[i] + " got " + actual[i] + " (tol " + tol + ")");
            }
        }
    }
}
