package dev.jacobian.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The op context (workspace, train/eval flag), view operations and the bounded plan cache. */
class OpContextTest {
    private static final double TOL = 1e-6;

    /** {@code y = x * x} computed through a workspace tensor, recording what the context said. */
    private static final class SquareViaWorkspace implements Operation {
        final List<Boolean> trainingSeen = new ArrayList<>();
        final List<Tensor> workspaces = new ArrayList<>();

        @Override
        public String name() {
            return "square-via-workspace";
        }

        @Override
        public Shape outputShape(List<Shape> in) {
            return in.get(0);
        }

        @Override
        public void forward(OpContext ctx, Tensor[] in, Tensor out) {
            trainingSeen.add(ctx.training());
            Tensor tmp = ctx.workspace(in[0].shape());
            workspaces.add(tmp);
            ctx.backend().binary(BinaryOp.MUL, in[0], in[0], tmp);
            ctx.backend().copy(tmp, out);
        }

        @Override
        public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
            Tensor twoX = ctx.workspace(in[0].shape());
            ctx.backend().axpby(2f, in[0], 0f, twoX);
            if (dIn[0] != null) {
                ctx.backend().binary(BinaryOp.MUL, dOut, twoX, dIn[0]);
            }
        }
    }

    private static Initializer values(float... v) {
        return (out, fi, fo, r) -> System.arraycopy(v, 0, out, 0, v.length);
    }

    @Test
    void workspaceIsAllocatedOnceAndReusedEveryStep() {
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(3), values(1f, -2f, 3f), false);
        SquareViaWorkspace op = new SquareViaWorkspace();
        Node loss = g.sum(g.apply(op, x));
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            assertEquals(14.0, exec.forward(loss, 1).get(0), TOL);
            exec.backward();
            TensorAssert.assertClose("d sum(x^2)", new float[] {2f, -4f, 6f}, exec.gradient(x).download(), 0, TOL);
            long allocations = b.stats().allocations();
            for (int step = 0; step < 3; step++) {
                exec.forward(loss, 1);
                exec.backward();
            }
            assertEquals(allocations, b.stats().allocations(), "after the first step a step allocates nothing");
            assertSame(op.workspaces.get(0), op.workspaces.get(3), "the same workspace every step");
            long live = b.stats().liveBuffers();
            exec.close();
            assertTrue(b.stats().liveBuffers() < live - 1, "closing the executor frees the workspaces");
        }
    }

    @Test
    void trainingFlagFollowsModeAndPlan() {
        Graph g = new Graph();
        Input in = g.input("in", 3);
        Parameter w = g.parameter("w", Shape.of(3), values(1f, 1f, 1f), false);
        SquareViaWorkspace op = new SquareViaWorkspace();
        Node y = g.apply(op, g.mul(in, w));
        Node loss = g.sum(y);
        Node prediction = g.apply(new SquareViaWorkspace(), in);
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            exec.feed(in, new float[] {1f, 2f, 3f}, 0, 1);
            exec.forward(loss, 1);
            assertTrue(op.trainingSeen.get(0), "a training plan in training mode");
            exec.train(false);
            assertFalse(exec.isTraining());
            exec.forward(loss, 1);
            assertFalse(op.trainingSeen.get(1), "evaluation mode");
            exec.train(true);
            exec.forward(prediction, 1);
            SquareViaWorkspace predOp = (SquareViaWorkspace) ((OpNode) prediction).operation();
            assertFalse(predOp.trainingSeen.get(0), "a plan without gradients never trains");
        }
    }

    @Test
    void reshapeIsAViewOfItsInput() {
        Graph g = new Graph();
        Input in = g.input("in", Shape.of(2, 6));
        Node cube = g.reshape(in, -1, 3, 4);
        Node flat = g.flatten(cube, 1);
        Node loss = g.sum(flat);
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            float[] data = new float[24];
            for (int i = 0; i < data.length; i++) {
                data[i] = i;
            }
            exec.feed(in, data, 0, 2);
            assertEquals(276.0, exec.forward(loss, 2).get(0), TOL);
            Tensor c = exec.value(cube);
            assertEquals(Shape.of(2, 3, 4), c.shape());
            assertSame(exec.value(flat).root(), c.root(), "views share the input's storage");
            assertEquals(Shape.of(2, 12), exec.value(flat).shape());
        }
    }

    @Test
    void planCacheIsBoundedAndEvictionFreesBuffers() {
        Graph g = new Graph();
        Input in = g.input("in", 4);
        Parameter w = g.parameter("w", Shape.matrix(4, 3), Initializer.xavierUniform(), true);
        Node loss = g.sum(g.relu(g.matmul(in, w)));
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            exec.maxPlans(2);
            for (int batch = 1; batch <= 2; batch++) {
                exec.feed(in, new float[4 * batch], 0, batch);
                exec.forward(loss, batch);
            }
            assertEquals(2, exec.planCount());
            long live = b.stats().liveBuffers();
            exec.feed(in, new float[12], 0, 3);
            exec.forward(loss, 3);
            assertEquals(2, exec.planCount(), "the least recently used plan was freed");
            // batch 3 added an input tensor and a plan; batch 1's plan (3 buffers) went away
            assertTrue(b.stats().liveBuffers() <= live + 1, "eviction frees the old plan's buffers: " + b.stats());
            exec.forward(loss, 3);
            exec.backward();
            assertThrows(IllegalArgumentException.class, () -> exec.maxPlans(0));
        }
    }

    /** Relative tolerance of a float32 value computed by a few float32 operations. */
    private static final double FLOAT_RTOL = 1e-5;

    /** A training plan keeps only what backward rules read: a chain of scalings ping-pongs between two buffers. */
    @Test
    void trainingPlanKeepsExactlyWhatBackwardReads() {
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(5), values(0.01f, 0.02f, 0.03f, 0.04f, 0.05f), false);
        List<Node> chain = new ArrayList<>();
        Node h = x;
        for (int i = 0; i < 6; i++) {
            h = g.unary(h, dev.jacobian.backend.UnaryOp.MUL_SCALAR, 2f);
            chain.add(h);
        }
        Node e = g.unary(h, dev.jacobian.backend.UnaryOp.EXP); // exp keeps its output for backward
        Node loss = g.sum(g.unary(e, dev.jacobian.backend.UnaryOp.MUL_SCALAR, 0.001f));
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            long before = b.stats().allocations();
            exec.forward(loss, 1);
            exec.backward();
            long used = b.stats().allocations() - before;
            // nine values and nine gradients: one buffer each would be 18
            assertTrue(used <= 7, "values that backward does not read are recycled: " + used + " buffers");
            for (Node n : chain) { // their buffers went on to later values and gradients: value() refuses them
                assertThrows(IllegalStateException.class, () -> exec.value(n), n + " was passed on");
            }
            assertEquals(Math.exp(64 * 0.01), exec.value(e).get(0), FLOAT_RTOL * Math.exp(64 * 0.01), "exp's output is kept");
            float[] grad = exec.gradient(x).download();
            float[] xs = {0.01f, 0.02f, 0.03f, 0.04f, 0.05f};
            for (int i = 0; i < 5; i++) {
                double expected = 0.001 * 64 * Math.exp(64.0 * xs[i]);
                assertEquals(expected, grad[i], 1e-4 * expected, "d/dx 0.001 e^{64x} at " + xs[i]);
            }
        }
    }

    /** {@code y = 3x}, computing {@code 3} into forward workspace and reading it back in backward through saved(0). */
    private static final class TripleViaSaved implements Operation {
        @Override
        public String name() {
            return "triple-via-saved";
        }

        @Override
        public Shape outputShape(List<Shape> in) {
            return in.get(0);
        }

        @Override
        public void forward(OpContext ctx, Tensor[] in, Tensor out) {
            Tensor three = ctx.workspace(in[0].shape());
            ctx.backend().fill(three, 3f);
            ctx.backend().binary(BinaryOp.MUL, in[0], three, out);
        }

        @Override
        public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
            assertThrows(IllegalStateException.class, () -> ctx.saved(1), "forward kept one tensor");
            ctx.backend().binary(BinaryOp.MUL, dOut, ctx.saved(0), dIn[0]);
        }
    }

    @Test
    void backwardReadsWhatForwardSavedInWorkspace() {
        Graph g = new Graph();
        Parameter x = g.parameter("x", Shape.of(2), values(1f, -2f), false);
        Node loss = g.sum(g.apply(new TripleViaSaved(), x));
        try (ReferenceBackend b = new ReferenceBackend(); Executor exec = new Executor(g, b, 0)) {
            assertEquals(-3.0, exec.forward(loss, 1).get(0), TOL);
            exec.backward();
            TensorAssert.assertClose("d 3x", new float[] {3f, 3f}, exec.gradient(x).download(), 0, TOL);
        }
    }
}
