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
}
