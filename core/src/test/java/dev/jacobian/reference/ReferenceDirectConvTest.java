package dev.jacobian.reference;

import static dev.jacobian.check.GradientCheckSuite.GOLDEN_ATOL;
import static dev.jacobian.check.GradientCheckSuite.GOLDEN_RTOL;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.check.Golden;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import dev.jacobian.backend.TensorAssert;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reference backend's direct convolution, the oracle the conformance suite holds other backends' direct
 * convolutions to, against PyTorch's values and gradients ({@code golden/conv.txt}) on every geometry there: the
 * golden record's {@code y} minus its bias, {@code dx} and {@code dw} of {@code sum(y * r)} (so {@code dy = r}).
 */
class ReferenceDirectConvTest {
    @Test
    void directConvolutionMatchesPyTorch() {
        Map<String, float[]> gold = Golden.read("conv.txt");
        try (ReferenceBackend b = new ReferenceBackend()) {
            for (Object[] c : dev.jacobian.check.GradientCheckSuite.GOLDEN_CONVS) {
                String name = (String) c[0];
                Conv2dSpec spec = (Conv2dSpec) c[1];
                Shape xs = Golden.shape(gold, name + ".x");
                Shape ws = Golden.shape(gold, name + ".w");
                Shape ys = Golden.shape(gold, name + ".y");
                float[] y = gold.get(name + ".y").clone();
                float[] bias = gold.get(name + ".b");
                int plane = ys.dim(2) * ys.dim(3);
                for (int i = 0; bias != null && i < y.length; i++) {
                    y[i] -= bias[(i / plane) % ys.dim(1)];
                }
                assertFalse(b.directConv2d(spec, xs.dim(1), ws.dim(0)), "the reference never claims a direct path");
                try (Tensor x = b.fromHost(xs, gold.get(name + ".x")); Tensor w = b.fromHost(ws, gold.get(name + ".w"));
                     Tensor r = b.fromHost(ys, gold.get(name + ".r")); Tensor out = b.allocate(ys);
                     Tensor dx = b.allocate(xs); Tensor dw = b.allocate(ws)) {
                    b.conv2d(spec, x, w, out);
                    b.conv2dBackwardData(spec, r, w, dx, false);
                    b.conv2dBackwardWeights(spec, x, r, dw, false);
                    TensorAssert.assertClose(name + " y", y, out.download(), GOLDEN_RTOL, GOLDEN_ATOL);
                    TensorAssert.assertClose(name + " dx", gold.get(name + ".dx"), dx.download(), GOLDEN_RTOL, GOLDEN_ATOL);
                    TensorAssert.assertClose(name + " dw", gold.get(name + ".dw"), dw.download(), GOLDEN_RTOL, GOLDEN_ATOL);
                }
            }
        }
    }
}
