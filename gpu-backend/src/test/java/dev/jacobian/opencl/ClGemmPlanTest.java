package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.backend.Tolerances;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Shape-aware GEMM: tiles chosen so the work-groups cover the compute units, and K split (with a deterministic
 * reduction) when even the smallest tiles leave most of them idle. PoCL has few compute units, so the tests
 * plan as for a GPU with 132 (an H100's streaming multiprocessors) and run those plans here.
 */
class ClGemmPlanTest {
    private static final int H100_UNITS = 132;

    private static ClBackend pretending(int computeUnits) {
        OpenClTestSupport.openOrSkip().close(); // skips (or fails in CI) when there is no OpenCL device
        return new ClBackend(ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY)), computeUnits);
    }

    @Test
    void theMlpStepsProductsFillTheDeviceOrSplitK() {
        try (ClBackend cl = pretending(H100_UNITS)) {
            // layer 1 forward, 128 x 256 x 784: the smallest tiles give the most work-groups; enough not to split
            ClMatmul.Plan l1 = cl.gemmPlan(128, 256, 784);
            assertEquals(1, l1.splits(), l1.toString());
            assertTrue(l1.params().tileM() * l1.params().tileN() <= 32 * 32, l1.toString());
            // the output layer, 128 x 10 x 128: too few tiles, K split into slices of at least 64
            ClMatmul.Plan out = cl.gemmPlan(128, 10, 128);
            assertEquals(2, out.splits(), out.toString());
            // the weight gradient of layer 1, 784 x 256 x 128: covered without splitting
            assertEquals(1, cl.gemmPlan(784, 256, 128).splits());
            // a large square product keeps the large tiles (no split)
            ClMatmul.Plan big = cl.gemmPlan(4096, 4096, 4096);
            assertEquals(1, big.splits());
            assertTrue(big.params().tileM() >= 64, big.toString());
        }
    }

    @Test
    void splitKProductsAndFusionsMatchTheReference() {
        int[][] sizes = {{128, 10, 784}, {33, 7, 1000}, {64, 64, 513}, {5, 300, 4096}};
        try (ClBackend cl = pretending(4096); Backend ref = new ReferenceBackend()) {
            for (int[] s : sizes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                assertTrue(cl.gemmPlan(m, n, k).splits() > 1, "the plan for " + m + "x" + n + "x" + k + " splits K");
                ClGemmTilesTest.allTransposesMatch("split-K gemm", cl, ref, m, n, k);
                // the dense layer's forward with its epilogue, split
                float[] x = OpenClTestBase.random(4, m * k);
                float[] w = OpenClTestBase.random(5, k * n);
                float[] bias = OpenClTestBase.random(6, n);
                float[] expected;
                try (Tensor rx = ref.fromHost(Shape.matrix(m, k), x); Tensor rw = ref.fromHost(Shape.matrix(k, n), w);
                     Tensor rb = ref.fromHost(Shape.matrix(1, n), bias); Tensor ry = ref.allocate(Shape.matrix(m, n))) {
                    ref.gemmBiasActivation(rx, rw, rb, Activation.TANH, 0f, ry);
                    expected = ry.download();
                }
                try (Tensor cx = cl.fromHost(Shape.matrix(m, k), x); Tensor cw = cl.fromHost(Shape.matrix(k, n), w);
                     Tensor cbias = cl.fromHost(Shape.matrix(1, n), bias); Tensor cy = cl.allocate(Shape.matrix(m, n))) {
                    cl.gemmBiasActivation(cx, cw, cbias, Activation.TANH, 0f, cy);
                    float[] once = cy.download();
                    TensorAssert.assertClose("split-K dense forward " + m + "x" + n + "x" + k, expected, once,
                            Tolerances.FP32_SUM_RTOL, Tolerances.sumAtol(k));
                    cl.gemmBiasActivation(cx, cw, cbias, Activation.TANH, 0f, cy);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(once, cy.download(),
                            "the split sums are added in a fixed order: the same bits every time");
                }
            }
        }
    }
}
