package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.backend.Tolerances;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every GEMM tile configuration the backend may pick on some device — including the 128 x 128 tiles it
 * uses for large products on GPUs — run on the device present here, against the reference, on sizes
 * that leave partial edge tiles, for all four transposes.
 */
class ClGemmTilesTest {
    static Stream<ClMatmul.Params> tiles() {
        List<ClMatmul.Params> all = new ArrayList<>(ClMatmul.Params.CANDIDATES);
        all.add(ClMatmul.Params.GPU_LARGE);
        return all.stream();
    }


    /** {@code C = 0.5 op(A) op(B) + 0.25 C} of {@code m x n x k} on {@code cl} in all four transposes, against {@code ref}. */
    static void allTransposesMatch(String what, ClBackend cl, Backend ref, int m, int n, int k) {
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0;
            boolean tb = (t & 2) != 0;
            Shape as = ta ? Shape.matrix(k, m) : Shape.matrix(m, k);
            Shape bs = tb ? Shape.matrix(n, k) : Shape.matrix(k, n);
            float[] a = OpenClTestBase.random(1, m * k);
            float[] b = OpenClTestBase.random(2, k * n);
            float[] c = OpenClTestBase.random(3, m * n);
            float[] expected;
            try (Tensor ra = ref.fromHost(as, a); Tensor rb = ref.fromHost(bs, b);
                 Tensor rc = ref.fromHost(Shape.matrix(m, n), c)) {
                ref.gemm(ta, tb, 0.5f, ra, rb, 0.25f, rc);
                expected = rc.download();
            }
            try (Tensor ca = cl.fromHost(as, a); Tensor cb = cl.fromHost(bs, b);
                 Tensor cc = cl.fromHost(Shape.matrix(m, n), c)) {
                cl.gemm(ta, tb, 0.5f, ca, cb, 0.25f, cc);
                TensorAssert.assertClose(what + " " + m + "x" + n + "x" + k + " transA=" + ta + " transB=" + tb, expected,
                        cc.download(), Tolerances.FP32_SUM_RTOL, Tolerances.sumAtol(k));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("tiles")
    void everyTileConfigurationMatchesTheReference(ClMatmul.Params tiles) {
        try (ClBackend probe = OpenClTestSupport.openOrSkip()) {
            assumeTrue(tiles.fits(probe.device()), "this device cannot launch " + tiles + "; a larger device's run covers it");
        }
        int[][] sizes = {{1, 1, 1}, {129, 131, 37}, {300, 257, 70}};
        try (ClBackend cl = new ClBackend(ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY)), tiles, tiles);
             Backend ref = new ReferenceBackend()) {
            for (int[] s : sizes) {
                allTransposesMatch("gemm " + tiles, cl, ref, s[0], s[1], s[2]);
            }
        }
    }
}
