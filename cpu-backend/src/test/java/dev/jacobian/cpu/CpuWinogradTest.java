package dev.jacobian.cpu;

import static dev.jacobian.backend.Tolerances.FP32_SUM_RTOL;
import static dev.jacobian.backend.Tolerances.sumAtol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The Winograd convolution ({@link CpuWinograd}) beyond the shared conformance cases: the CNN's layer at its training
 * batch (many blocks and all chunks, split over the workers) against the reference, results bit-identical for 1, 2
 * and 3 threads, and which geometries take the direct path.
 */
class CpuWinogradTest {
    private static final Conv2dSpec CONV3 = Conv2dSpec.of(3, 1, 1);

    /** Forward, input gradient and weight gradient (accumulated onto a start value) of one backend, downloaded. */
    private static float[][] run(Backend b, Shape xs, Shape ws, Shape ys) {
        float[] x = BackendConformanceTest.random(1, xs.size(), -1f, 1f);
        float[] w = BackendConformanceTest.random(2, ws.size(), -0.5f, 0.5f);
        float[] dy = BackendConformanceTest.random(3, ys.size(), -1f, 1f);
        float[] dw0 = BackendConformanceTest.random(4, ws.size(), -1f, 1f);
        try (Tensor xt = b.fromHost(xs, x); Tensor wt = b.fromHost(ws, w); Tensor dyt = b.fromHost(ys, dy);
             Tensor y = b.allocate(ys); Tensor dx = b.allocate(xs); Tensor dw = b.fromHost(ws, dw0)) {
            b.conv2d(CONV3, xt, wt, y);
            b.conv2dBackwardData(CONV3, dyt, wt, dx, false);
            b.conv2dBackwardWeights(CONV3, xt, dyt, dw, true);
            return new float[][] {y.download(), dx.download(), dw.download()};
        }
    }

    @Test
    void cnnLayerAtBatch64MatchesTheReferenceAndIsBitIdenticalForAnyThreadCount() {
        Shape xs = Shape.of(64, 32, 14, 14);
        Shape ws = Shape.of(64, 32, 3, 3);
        Shape ys = CONV3.outputShape("conv2d", xs, 64);
        float[][] expected;
        try (Backend ref = new ReferenceBackend()) {
            expected = run(ref, xs, ws, ys);
        }
        float[][] first = null;
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuBackend cpu = new CpuBackend(threads)) {
                assertTrue(cpu.directConv2d(CONV3, 32, 64));
                float[][] got = run(cpu, xs, ws, ys);
                TensorAssert.assertClose("y", expected[0], got[0], FP32_SUM_RTOL, sumAtol(32 * 9));
                TensorAssert.assertClose("dx", expected[1], got[1], FP32_SUM_RTOL, sumAtol(64 * 9));
                TensorAssert.assertClose("dw", expected[2], got[2], FP32_SUM_RTOL, sumAtol(64 * 14 * 14));
                if (first == null) {
                    first = got;
                } else {
                    for (int k = 0; k < 3; k++) {
                        assertArrayEquals(first[k], got[k], "output " + k + " with " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void onlyThreeByThreeStrideOneLayersOfEnoughChannelsAreDirect() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            assertTrue(cpu.directConv2d(CONV3, 8, 8));
            assertTrue(cpu.directConv2d(Conv2dSpec.of(3, 1, 0), 64, 16));
            assertTrue(cpu.directConv2d(new Conv2dSpec(3, 3, 1, 1, 2, 0, 1, 1, 1), 8, 9));
            assertFalse(cpu.directConv2d(CONV3, 1, 32), "conv1 of the CNN: one input channel");
            assertFalse(cpu.directConv2d(CONV3, 32, 7));
            assertFalse(cpu.directConv2d(Conv2dSpec.of(3, 2, 1), 32, 64), "stride 2");
            assertFalse(cpu.directConv2d(Conv2dSpec.of(5, 1, 2), 32, 64), "5x5");
            assertFalse(cpu.directConv2d(Conv2dSpec.of(3, 1, 3), 32, 64), "padding 3");
            assertFalse(cpu.directConv2d(Conv2dSpec.of(3, 1, 1).withDilation(2), 32, 64), "dilation");
            assertFalse(cpu.directConv2d(Conv2dSpec.of(3, 1, 1).withGroups(2), 32, 64), "groups");
            assertFalse(cpu.directConv2d(CONV3, 1 << 13, 1 << 13), "transformed weights over 2^28 floats");
            assertEquals(8, CpuWinograd.MIN_CHANNELS);
        }
    }
}
