package dev.jacobian.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Input;
import dev.jacobian.graph.OpNode;
import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ops.Dense;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Module interface: parameters, names, fused dense, one graph per module, models of any module. */
class ModulesTest {
    @Test
    void denseCreatesNamedParametersOnceAndFusesWhenItCan() {
        Module d = Modules.dense("d1", 3, 4, Initializer.heNormal(), "relu");
        assertTrue(d.parameters().isEmpty(), "no parameters before the first forward");
        Graph g = new Graph();
        Input x = g.input("x", 3);
        OpNode out = (OpNode) d.forward(x);
        assertTrue(out.operation() instanceof Dense, "relu fuses into one dense node");
        List<Parameter> ps = d.parameters();
        assertEquals(List.of("d1.weight", "d1.bias"), ps.stream().map(Parameter::name).toList());
        assertTrue(ps.get(0).regularized() && !ps.get(1).regularized());
        d.forward(x); // a second use on the same graph shares the parameters
        assertEquals(2, g.parameters().size());
        Graph other = new Graph();
        assertThrows(IllegalArgumentException.class, () -> d.forward(other.input("x", 3)));
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Modules.dense("d", 0, 4, Initializer.zeros()));
        assertTrue(e.getMessage().contains("d: input features"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Modules.activation("swishy"));
        assertThrows(IllegalArgumentException.class, () -> Modules.maxout("m", 3, 2, 1, Initializer.zeros()));
        assertThrows(IllegalArgumentException.class, Sequential::of);
    }

    /** Before: units * pieces wrapped around (1431655766 * 3 is 2 as an int) and gave a confusing error, or none. */
    @Test
    void maxoutWidthsBeyondAnIntAreNamed() {
        MisuseAssertions.refused(IllegalArgumentException.class,
                () -> Modules.maxout("m", 3, 1431655766, 3, Initializer.zeros()), "m", "1431655766", "3 pieces");
        MisuseAssertions.refused(IllegalArgumentException.class,
                () -> Modules.maxout("m", 3, Integer.MAX_VALUE, 2, Initializer.zeros()), "m", "2147483647", "2 pieces");
        try (ReferenceBackend b = new ReferenceBackend()) {
            MisuseAssertions.refused(IllegalArgumentException.class,
                    () -> Sequential.builder(4).hidden(3, "relu").hidden(1431655766, "maxout").maxoutPieces(3)
                            .output(2, LossKind.SOFTMAX_CROSS_ENTROPY).build(b),
                    "dense2", "1431655766", "3 pieces");
        }
    }

    @Test
    void modelOfAnyModuleNeedsMatrixScores() {
        try (ReferenceBackend b = new ReferenceBackend()) {
            Module noFlatten = Modules.dense("d", 4, 2, Initializer.xavierUniform());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Model.of(noFlatten, Shape.of(3, 4), LossKind.MSE, b, 1));
            assertTrue(e.getMessage().contains("[6, 2]") && e.getMessage().contains("flatten"), e.getMessage());
            try (Model m = Model.of(Sequential.of(Modules.flatten(), Modules.dense("d", 12, 2, Initializer.xavierUniform())),
                    Shape.of(3, 4), LossKind.MSE, b, 1)) {
                assertEquals(12, m.inputSize());
                assertEquals(2, m.outputSize());
                assertEquals(2, m.targetColumns());
                assertEquals(2, m.predictScores(new float[24], 0, 2).length / 2);
            }
        }
    }

    /** Norm layers name themselves, their parameters and buffers as PyTorch; a shape mismatch names the op and shapes. */
    @Test
    void normLayersUsePyTorchNamesAndReportShapeMismatches() {
        Module bn = Modules.batchNorm("bn1", 3);
        Graph g = new Graph();
        Input x = g.input("x", Shape.of(3, 4, 4));
        var y = bn.forward(x);
        assertEquals(Shape.of(2, 3, 4, 4), g.shapeOf(y, 2));
        assertEquals(List.of("bn1.weight", "bn1.bias"), bn.parameters().stream().map(Parameter::name).toList());
        assertEquals(List.of("bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"),
                bn.buffers().stream().map(dev.jacobian.graph.Buffer::name).toList());
        assertTrue(bn.parameters().stream().noneMatch(Parameter::regularized), "norm parameters are not weight-decayed");
        Module wrong = Modules.batchNorm("bn2", 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.shapeOf(wrong.forward(x), 2));
        assertTrue(e.getMessage().contains("batch_norm") && e.getMessage().contains("[5]")
                && e.getMessage().contains("[2, 3, 4, 4]"), e.getMessage());
        Module ln = Modules.layerNorm("ln1", 5);
        e = assertThrows(IllegalArgumentException.class, () -> g.shapeOf(ln.forward(g.flatten(x, 1)), 2));
        assertTrue(e.getMessage().contains("layer_norm") && e.getMessage().contains("[5]")
                && e.getMessage().contains("[2, 48]"), e.getMessage());
        assertEquals(Shape.of(2, 3, 4, 4), g.shapeOf(Modules.layerNorm("ln2", Shape.of(4, 4)).forward(x), 2));
        e = assertThrows(IllegalArgumentException.class, () -> Modules.batchNorm("bn3", 0));
        assertTrue(e.getMessage().contains("bn3"), e.getMessage());
    }

    /** Convolution layers name the layer's op and both shapes when the input does not fit them. */
    @Test
    void convolutionShapeErrorsNameTheOpAndTheShapes() {
        try (ReferenceBackend b = new ReferenceBackend()) {
            IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> Model.of(
                    Sequential.of(Modules.conv2d("c", 1, 4, 5, 1, 0), Modules.flatten()), Shape.of(1, 3, 3),
                    LossKind.SOFTMAX_CROSS_ENTROPY, b, 1));
            assertTrue(big.getMessage().contains("conv2d: kernel 5x5 is larger than the padded input 3x3 of [2, 1, 3, 3]"),
                    big.getMessage());
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class, () -> Model.of(
                    Sequential.of(Modules.conv2d("c", 3, 4, 3, 1, 1), Modules.flatten()), Shape.of(1, 5, 5),
                    LossKind.SOFTMAX_CROSS_ENTROPY, b, 1));
            assertTrue(channels.getMessage().contains("weight must be [out_channels, 1, 3, 3] for input [2, 1, 5, 5]")
                    && channels.getMessage().contains("got [4, 3, 3, 3]"), channels.getMessage());
            IllegalArgumentException pool = assertThrows(IllegalArgumentException.class, () -> Model.of(
                    Sequential.of(Modules.maxPool2d(3, 3, 0), Modules.flatten()), Shape.of(2, 2, 2),
                    LossKind.SOFTMAX_CROSS_ENTROPY, b, 1));
            assertTrue(pool.getMessage().contains("max_pool2d: window 3x3 is larger than the padded input 2x2"),
                    pool.getMessage());
            IllegalArgumentException groups = assertThrows(IllegalArgumentException.class,
                    () -> Modules.conv2d("g", 3, 4, dev.jacobian.backend.Conv2dSpec.of(3, 1, 1).withGroups(2), true,
                            Initializer.heNormal()));
            assertTrue(groups.getMessage().contains("g: 3 input and 4 output channels must both be divisible by 2 groups"),
                    groups.getMessage());
        }
    }

    /** A conv layer's weights follow PyTorch's layout and fans: He-normal with fan_in = in/groups x kH x kW. */
    @Test
    void convolutionWeightsHavePyTorchsLayoutAndFans() {
        Module conv = Modules.conv2d("conv", 8, 64, dev.jacobian.backend.Conv2dSpec.of(3, 1, 1), true,
                Initializer.heNormal());
        try (ReferenceBackend b = new ReferenceBackend();
             Model m = Model.of(Sequential.of(conv, Modules.globalAvgPool()), Shape.of(8, 5, 5),
                     LossKind.SOFTMAX_CROSS_ENTROPY, b, 3)) {
            Parameter w = m.parameters().get(0);
            assertEquals("conv.weight", w.name());
            assertEquals(Shape.of(64, 8, 3, 3), w.shape());
            assertEquals(Shape.of(64), m.parameters().get(1).shape());
            float[] v = m.read(w);
            double sq = 0;
            for (float f : v) {
                sq += (double) f * f;
            }
            double std = Math.sqrt(sq / v.length);
            double expected = Math.sqrt(2.0 / (8 * 9));
            assertEquals(expected, std, 0.05 * expected, "He-normal over fan_in = 8 x 3 x 3");
        }
    }
}
