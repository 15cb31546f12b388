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
}
