package dev.jacobian.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExecutorTest {
    private static final double TOL = 1e-6;

    /** An operation {@code y = x + state} that adds 1 to its buffer input in every training forward. */
    private static final class Accumulate implements Operation {
        @Override
        public String name() {
            return "accumulate";
        }

        @Override
        public Shape outputShape(List<Shape> in) {
            return in.get(0);
        }

        @Override
        public void forward(OpContext ctx, Tensor[] in, Tensor out) {
            ctx.backend().binary(dev.jacobian.backend.BinaryOp.ADD, in[0], in[1], out);
            if (ctx.training()) {
                ctx.backend().unary(dev.jacobian.backend.UnaryOp.ADD_SCALAR, 1f, 0f, in[1], in[1]);
            }
        }

        @Override
        public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
            if (dIn[0] != null) {
                ctx.backend().axpby(1f, dOut, acc[0] ? 1f : 0f, dIn[0]);
            }
            assertTrue(dIn[1] == null, "a buffer gets no gradient");
        }
    }

    /** A backward runs in the mode of its forward: switching to evaluation in between does not unmask dropout. */
    @Test
    void backwardSeesTheModeOfItsForward() {
        Graph g = new Graph();
        Input x = g.input("x", 64);
        Parameter w = g.parameter("w", Shape.matrix(64, 64), Initializer.zeros(), true);
        Node loss = g.sum(g.dropout(g.add(x, g.matmul(x, w)), 0.5f));
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 7)) {
            float[] ones = new float[64];
            java.util.Arrays.fill(ones, 1f);
            exec.feed(x, ones, 0, 1);
            float y = exec.forward(loss, 1).download()[0];
            exec.train(false);
            exec.backward();
            float[] dw = exec.gradient(w).download();
            int dropped = 0;
            float kept = 0;
            for (int j = 0; j < 64; j++) {
                dropped += dw[j] == 0f ? 1 : 0;
                kept += dw[j];
            }
            assertTrue(dropped > 10 && dropped < 54, "about half the columns masked, as in the forward: " + dropped);
            assertEquals(y, kept, 1e-4, "the gradient's mask is the forward's: sum over kept columns of 2 = the loss");
        }
    }

    @Test
    void buffersLiveOutsideTheArenaGetNoGradientAndOnlyTrainingUpdatesThem() {
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(3), (out, fi, fo, r) -> java.util.Arrays.fill(out, 2f), false);
        Buffer state = g.buffer("state", Shape.of(3), Initializer.constant(10f));
        Node y = g.apply(new Accumulate(), x, state);
        Node loss = g.sum(y);
        assertEquals(List.of(state), g.buffers());
        assertEquals(List.of(x), g.parameters());
        assertEquals(Shape.of(3), g.shapeOf(y, 1));
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            assertEquals(3, exec.layout().size(), "the buffer is not in the parameter arena");
            TensorAssert.assertClose("initialized", new float[] {10, 10, 10}, exec.buffer(state).download(), 0, TOL);
            assertEquals(36.0, exec.forward(loss, 1).get(0), TOL);
            exec.backward();
            TensorAssert.assertClose("d x", new float[] {1, 1, 1}, exec.gradient(x).download(), 0, TOL);
            assertEquals(39.0, exec.forward(loss, 1).get(0), TOL, "the training forward updated the buffer in place");
            exec.train(false);
            exec.forward(loss, 1);
            assertSame(exec.buffer(state), exec.value(state));
            TensorAssert.assertClose("evaluation leaves it", new float[] {12, 12, 12}, exec.buffer(state).download(), 0, TOL);
            Buffer foreign = new Graph().buffer("other", Shape.of(1), Initializer.zeros());
            assertThrows(IllegalArgumentException.class, () -> exec.buffer(foreign));
        }
    }

    @Test
    void gradientsAddWhereAValueFansOut() {
        // L = sum(x*x + x): dL/dx = 2x + 1 (x feeds three edges)
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.matrix(1, 3), (out, fi, fo, r) -> {
            out[0] = 1f;
            out[1] = -2f;
            out[2] = 0.5f;
        }, false);
        Node loss = g.sum(g.add(g.mul(x, x), x));
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            assertEquals(1 + 1 + 4 - 2 + 0.25 + 0.5, exec.forward(loss, 1).get(0), TOL);
            exec.backward();
            TensorAssert.assertClose("dL/dx", new float[] {3f, -3f, 2f}, exec.gradient(x).download(), 0, TOL);
            // a second backward gives the same gradients: the first contribution overwrites, the rest add
            exec.forward(loss, 1);
            exec.backward();
            TensorAssert.assertClose("dL/dx again", new float[] {3f, -3f, 2f}, exec.gradient(x).download(), 0, TOL);
        }
    }

    @Test
    void residualConnection() {
        // y = relu(x W) + x; L = sum(y)
        Graph g = new Graph();
        Input in = g.input("in", 2);
        Parameter w = g.parameter("w", Shape.matrix(2, 2), (out, fi, fo, r) -> {
            out[0] = 1f;
            out[1] = -1f;
            out[2] = 2f;
            out[3] = 1f;
        }, true);
        Node y = g.add(g.relu(g.matmul(in, w)), in);
        Node loss = g.sum(y);
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            exec.feed(in, new float[] {1f, 1f}, 0, 1);
            // x W = [1*1 + 1*2, 1*-1 + 1*1] = [3, 0]; relu -> [3, 0]; + x -> [4, 1]
            assertEquals(5f, exec.forward(loss, 1).get(0), TOL);
            exec.backward();
            // dL/dW = x^T [1, 0] (relu'(0) = 0)
            TensorAssert.assertClose("dW", new float[] {1f, 0f, 1f, 0f}, exec.gradient(w).download(), 0, TOL);
        }
    }

    @Test
    void shapeMismatchNamesTheOperationAndBothShapes() {
        Graph g = new Graph();
        Input x = g.input("x", 5);
        Parameter w = g.parameter("w", Shape.matrix(4, 3), Initializer.zeros(), true);
        Parameter b = g.parameter("b", Shape.matrix(1, 3), Initializer.zeros(), false);
        Node y = g.linear(g.tanh(x), w, b); // tanh gets a buffer before linear fails
        try (ReferenceBackend be = new ReferenceBackend(); Executor exec = new Executor(g, be, 0)) {
            exec.feed(x, new float[10], 0, 2);
            long live = be.stats().liveBuffers();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> exec.forward(y, 2));
            assertEquals(live, be.stats().liveBuffers(), "a plan that fails frees what it allocated");
            assertTrue(e.getMessage().contains("linear") && e.getMessage().contains("[2, 5]") && e.getMessage().contains("[4, 3]"),
                    e.getMessage());
        }
        Graph g2 = new Graph();
        Parameter a = g2.parameter("a", Shape.matrix(2, 3), Initializer.zeros(), false);
        Parameter c = g2.parameter("c", Shape.matrix(3, 2), Initializer.zeros(), false);
        Node s = g2.add(a, c);
        try (ReferenceBackend be = new ReferenceBackend(); Executor exec = new Executor(g2, be, 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> exec.forward(s, 1));
            assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"),
                    e.getMessage());
        }
    }

    /** A linear layer of 3 inputs and 2 classes under the softmax cross-entropy mean loss. */
    private record LinearLoss(Graph g, Input x, Input y, Parameter w, Node loss) {
        static LinearLoss make() {
            Graph g = new Graph();
            Input x = g.input("x", 3);
            Input y = g.input("y", 1);
            Parameter w = g.parameter("w", Shape.matrix(3, 2), Initializer.xavierUniform(), true);
            Parameter b = g.parameter("b", Shape.matrix(1, 2), Initializer.zeros(), false);
            return new LinearLoss(g, x, y, w, g.loss(LossKind.SOFTMAX_CROSS_ENTROPY, g.linear(x, w, b), y));
        }
    }

    @Test
    void plansAreReusedPerBatchSizeAndFreedOnClose() {
        LinearLoss m = LinearLoss.make();
        Graph g = m.g();
        Input x = m.x();
        Input y = m.y();
        Node loss = m.loss();
        ReferenceBackend be = new ReferenceBackend();
        Executor exec = new Executor(g, be, 0);
        exec.feed(x, new float[12], 0, 4);
        exec.feed(y, new float[4], 0, 4);
        Tensor first = exec.forward(loss, 4);
        exec.backward();
        long allocations = be.stats().allocations();
        assertSame(first, exec.forward(loss, 4));
        exec.backward();
        assertEquals(allocations, be.stats().allocations());
        exec.feed(x, new float[6], 0, 2);
        exec.feed(y, new float[2], 0, 2);
        exec.forward(loss, 2);
        assertTrue(be.stats().allocations() > allocations, "a new batch size gets its own plan");
        exec.close();
        assertEquals(0, be.stats().liveBuffers(), "closing the executor frees every tensor");
        assertThrows(IllegalStateException.class, () -> exec.forward(loss, 4));
        assertThrows(IllegalStateException.class, first::download);
    }

    /**
     * A mean-loss target leaves its gradient alone, so the seed is written once, when the plan is made: a training
     * step of a linear layer is then four primitive calls (forward product, loss; their two gradients), no fill.
     */
    @Test
    void aMeanLossTargetIsSeededOncePerPlan() {
        LinearLoss m = LinearLoss.make();
        Input x = m.x();
        Input y = m.y();
        Parameter w = m.w();
        Node loss = m.loss();
        try (ReferenceBackend be = new ReferenceBackend(); Executor exec = new Executor(m.g(), be, 0)) {
            exec.feed(x, new float[] {1, 2, 3, -1, 0, 2}, 0, 2);
            exec.feed(y, new float[] {0, 1}, 0, 2);
            exec.forward(loss, 2);
            exec.backward();
            float[] first = exec.gradient(w).download();
            long launches = be.stats().launches();
            exec.forward(loss, 2);
            exec.backward();
            assertEquals(4, be.stats().launches() - launches, "gemmBiasActivation, meanLoss, meanLossBackward, denseBackward");
            assertArrayEquals(first, exec.gradient(w).download(), "the seed is still 1 on the second step");
        }
    }

    @Test
    void topologicalOrderPutsInputsFirst() {
        Graph g = new Graph();
        Parameter a = g.parameter("a", Shape.matrix(1, 1), Initializer.zeros(), false);
        Node b = g.tanh(a);
        Node c = g.add(b, a);
        Node d = g.mul(c, b);
        List<Node> order = Executor.topologicalOrder(d);
        assertEquals(List.of(a, b, c, d), order);
    }

    @Test
    void feedChecksItsBounds() {
        Graph g = new Graph();
        Input x = g.input("x", 3);
        try (ReferenceBackend be = new ReferenceBackend(); Executor exec = new Executor(g, be, 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> exec.feed(x, new float[8], 0, 3));
            assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        }
    }

    @Test
    void forwardOnlyPlansRecycleBuffersAndStillComputeTheRightValue() {
        // a chain of five tanh layers predicted twice: the forward-only plan needs far fewer buffers
        Graph g = new Graph();
        Input x = g.input("x", 4);
        Node h = x;
        for (int i = 0; i < 5; i++) {
            h = g.tanh(g.scale(h, 0.5f));
        }
        Node out = h;
        Node sum = g.sum(out);
        try (ReferenceBackend be = new ReferenceBackend(); Executor exec = new Executor(g, be, 0)) {
            float[] data = {0.5f, -1f, 2f, 0f};
            exec.feed(x, data, 0, 1);
            long before = be.stats().allocations();
            float[] y = exec.forward(out, 1).download();
            long used = be.stats().allocations() - before;
            assertTrue(used <= 2, "a chain needs two alternating buffers, used " + used);
            float[] expected = data.clone();
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 4; j++) {
                    expected[j] = (float) Math.tanh(0.5 * expected[j]);
                }
            }
            TensorAssert.assertClose("chain", expected, y, 1e-6, 1e-7);
            double total = 0;
            for (float v : expected) {
                total += v;
            }
            assertEquals(total, exec.forward(sum, 1).get(0), 1e-6);
        }
    }

    /**
     * A forward-only plan hands a value's buffer on once its last reader ran: value() refuses such a node instead of
     * returning another node's numbers, keeps what forward(target, batch, keep) asks for, and valueAtLastBackward reads
     * the training pass's values whatever forward passes to other targets ran since.
     */
    @Test
    void passedOnValuesAreRefusedKeptOnRequestAndTheLastBackwardsValuesStayReadable() {
        Graph g = new Graph();
        Input x = g.input("x", 4);
        Parameter w = g.parameter("w", Shape.matrix(4, 4), Initializer.constant(0.5f), false);
        Node first = g.tanh(g.matmul(x, w));
        Node second = g.tanh(g.matmul(first, w));
        Node third = g.tanh(g.matmul(second, w));
        Node loss = g.sum(third);
        Node predicted = g.reduce(third, dev.jacobian.backend.Reduction.ARGMAX, dev.jacobian.backend.Axis.COLS);
        try (ReferenceBackend be = new ReferenceBackend(); Executor exec = new Executor(g, be, 0)) {
            IllegalStateException none = assertThrows(IllegalStateException.class, () -> exec.valueAtLastBackward(first));
            assertEquals("no backward pass has run yet, so there are no values of one to read", none.getMessage());
            exec.feed(x, new float[] {0.5f, -1f, 2f, 0f}, 0, 1);
            exec.forward(loss, 1);
            exec.backward();
            float[] trained = exec.value(first).download(); // tanh's backward reads its output: kept
            exec.feed(x, new float[] {3f, 1f, -2f, 1f}, 0, 1);
            exec.forward(predicted, 1); // forward-only (argmax has no gradient): the first tanh's buffer goes on
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> exec.value(first));
            assertTrue(refused.getMessage().startsWith("the value of node " + first + " was not kept by the forward pass to "
                    + predicted + " (batch 1): its buffer went to a later node"), refused.getMessage());
            assertArrayEquals(trained, exec.valueAtLastBackward(first).download(), "the training pass's value");

            float[] kept = exec.forward(predicted, 1, List.of(first)).download();
            float[] expected = new float[4];
            double s = 0.5 * (3 + 1 - 2 + 1);
            java.util.Arrays.fill(expected, (float) Math.tanh(s));
            TensorAssert.assertClose("kept first", expected, exec.value(first).download(), TOL, TOL);
            TensorAssert.assertClose("same target", exec.forward(predicted, 1).download(), kept, 0, 0);
            assertThrows(IllegalArgumentException.class, () -> exec.forward(first, 1, List.of(third)));
            assertThrows(IllegalArgumentException.class, () -> exec.valueAtLastBackward(x));

            exec.forward(loss, 1); // the training plan again, without a backward: its values are this pass's now
            IllegalStateException gone = assertThrows(IllegalStateException.class, () -> exec.valueAtLastBackward(first));
            assertTrue(gone.getMessage().startsWith("the values of the last backward pass are gone"), gone.getMessage());
        }
    }
}
