package dev.jacobian.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Input;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ParameterLayout;
import dev.jacobian.graph.Initializer;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parameter arena's layout, and SGD over the arena against the per-parameter formula of {@code torch.optim.SGD}. */
class ParameterArenaTest {
    private static final double TOL = 1e-5;

    private record Net(Graph g, Input x, Parameter w1, Parameter b1, Parameter w2, Parameter b2, Node loss) {
    }

    private static Net net() {
        Graph g = new Graph();
        Input x = g.input("x", 3);
        Parameter w1 = g.parameter("w1", Shape.matrix(3, 5), Initializer.xavierUniform(), true);
        Parameter b1 = g.parameter("b1", Shape.of(5), Initializer.normal(0.1), false);
        Parameter w2 = g.parameter("w2", Shape.matrix(5, 2), Initializer.xavierUniform(), true);
        Parameter b2 = g.parameter("b2", Shape.of(2), Initializer.normal(0.1), false);
        Node h = g.tanh(g.add(g.matmul(x, w1), b1));
        Node loss = g.sum(g.unary(g.add(g.matmul(h, w2), b2), dev.jacobian.backend.UnaryOp.SQUARE));
        return new Net(g, x, w1, b1, w2, b2, loss);
    }

    @Test
    void layoutPutsWeightsFirstAlignedAndPadsWithZeros() {
        Net n = net();
        try (Backend b = new ReferenceBackend(8); Executor exec = new Executor(n.g(), b, 1)) {
            ParameterLayout l = exec.layout();
            assertEquals(List.of(n.w1(), n.w2(), n.b1(), n.b2()), l.order(), "regularized first, creation order");
            assertEquals(0, l.offset(n.w1()));
            assertEquals(16, l.offset(n.w2()), "15 floats rounded up to 16");
            assertEquals(32, l.regularizedEnd());
            assertEquals(32, l.offset(n.b1()));
            assertEquals(40, l.offset(n.b2()));
            assertEquals(48, l.size());
            assertSame(exec.parameterArena(), exec.value(n.w2()).root(), "a parameter is a view of the arena");
            assertSame(exec.gradientArena(), exec.gradient(n.b1()).root());
            float[] all = exec.parameterArena().download();
            for (int i : new int[] {15, 26, 31, 37, 39, 42, 47}) {
                assertEquals(0f, all[i], "padding at " + i + " is zero");
            }
            TensorAssert.assertClose("w2 through its view", java.util.Arrays.copyOfRange(all, 16, 26),
                    exec.value(n.w2()).download(), 0, 0);
        }
    }

    @Test
    void sgdOverTheArenaMatchesThePerParameterFormula() {
        Net n = net();
        float lr = 0.1f;
        float mu = 0.9f;
        float wd = 0.05f;
        float clip = 0.5f;
        float[] batch = {0.5f, -1f, 2f, 1f, 0.25f, -0.5f};
        try (Backend b = new ReferenceBackend(8); Executor exec = new Executor(n.g(), b, 3);
             Sgd sgd = Sgd.builder().learningRate(lr).momentum(mu).nesterov(true).weightDecay(wd).clipNorm(clip).build()) {
            List<Parameter> ps = List.of(n.w1(), n.b1(), n.w2(), n.b2());
            float[][] w = new float[4][];
            float[][] v = new float[4][];
            for (int i = 0; i < 4; i++) {
                w[i] = exec.value(ps.get(i)).download();
                v[i] = new float[w[i].length];
            }
            exec.feed(n.x(), batch, 0, 2);
            for (int step = 0; step < 3; step++) {
                exec.forward(n.loss(), 2);
                exec.backward();
                float[][] g = new float[4][];
                double sq = 0;
                for (int i = 0; i < 4; i++) {
                    g[i] = exec.gradient(ps.get(i)).download();
                    for (float x : g[i]) {
                        sq += (double) x * x;
                    }
                }
                float norm = (float) Math.sqrt(sq);
                float c = norm >= clip ? clip / norm : 1f;
                for (int i = 0; i < 4; i++) {
                    boolean decay = ps.get(i).regularized();
                    for (int k = 0; k < w[i].length; k++) {
                        float gk = g[i][k] * c + (decay ? wd * w[i][k] : 0f);
                        v[i][k] = mu * v[i][k] + gk;
                        w[i][k] -= lr * (gk + mu * v[i][k]);
                    }
                }
                StepReport r = sgd.step(exec);
                assertEquals(norm, r.gradNorm(), 1e-5 * norm, "the pre-clip global norm is reported");
                for (int i = 0; i < 4; i++) {
                    TensorAssert.assertClose("step " + step + " " + ps.get(i).name(), w[i],
                            exec.value(ps.get(i)).download(), TOL, TOL);
                }
            }
            Map<String, float[]> state = sgd.state(exec);
            assertEquals(4, state.size());
            TensorAssert.assertClose("momentum buffer of b1", v[1], state.get("b1.momentum_buffer"), TOL, TOL);
            assertTrue(exec.parameterArena().download()[15] == 0f, "padding stays zero through updates");

            try (Sgd restored = Sgd.builder().learningRate(lr).momentum(mu).build();
                 Executor other = new Executor(n.g(), b, 3)) {
                restored.loadState(other, state);
                TensorAssert.assertClose("restored momentum of w2", v[2], restored.velocity(n.w2()).download(), 0, 0);
                assertThrows(IllegalArgumentException.class, () -> restored.loadState(other, Map.of("nope", new float[1])));
                assertThrows(IllegalArgumentException.class,
                        () -> restored.loadState(other, Map.of("b2.momentum_buffer", new float[3])));
            }
            long launches = b.stats().launches();
            sgd.zeroGrad(exec);
            assertEquals(launches + 1, b.stats().launches(), "zeroGrad is one fill of the gradient arena");
            TensorAssert.assertClose("zeroGrad", new float[5], exec.gradient(n.b1()).download(), 0, 0);
        }
    }
}
