package dev.jacobian.graph;

import static dev.jacobian.nn.MisuseAssertions.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Misuses of {@link Graph} and {@link Executor} (issue 13): each was accepted silently or surfaced as an exception of
 * the wrong type or with a misleading message; each test asserts the exception's type and the key parts of its
 * one-line message. The graph's logic does not depend on the backend, so the reference backend runs them.
 */
class GraphMisuseTest {
    private Backend backend;
    private Graph g;
    private Input x;
    private Parameter w;
    private Node loss;
    private Executor exec;

    @BeforeEach
    void setUp() {
        backend = new ReferenceBackend();
        g = new Graph();
        x = g.input("x", 3);
        w = g.parameter("w", Shape.matrix(3, 2), Initializer.constant(0.5f), true);
        loss = g.sum(g.matmul(x, w));
        exec = new Executor(g, backend, 1);
    }

    @AfterEach
    void tearDown() {
        exec.close();
        backend.close();
    }

    /** A forward pass to a batch size no feed wrote ran on the zeros of a fresh input tensor and returned them. */
    @Test
    void forwardRefusesAnInputNeverFedForItsBatchSize() {
        exec.feed(x, new float[] {1, 2, 3}, 0, 1);
        assertEquals(6f, exec.forward(loss, 1).get(0), 1e-6f);
        refused(IllegalStateException.class, () -> exec.forward(loss, 2), "forward to sum",
                "input 'x' was never fed a batch of 2");
        exec.feed(x, new float[] {1, 2, 3, 4, 5, 6}, 0, 2);
        assertEquals(21f, exec.forward(loss, 2).get(0), 1e-6f);
    }

    /** Feeding an input of another graph was accepted: it allocated and filled a tensor no plan of this graph reads. */
    @Test
    void feedRefusesAnInputOfAnotherGraph() {
        Graph other = new Graph();
        Input foreign = other.input("foreign", 3);
        refused(IllegalArgumentException.class, () -> exec.feed(foreign, new float[] {1, 2, 3}, 0, 1),
                "feed: input foreign#0 belongs to another graph");
        long before = backend.stats().liveBuffers();
        refused(IllegalArgumentException.class, () -> exec.feed(x, null, 0, 1), "feed: data for 'x' is null");
        assertEquals(before, backend.stats().liveBuffers());
    }

    /**
     * {@code firstRow + rows} past Integer.MAX_VALUE wrapped negative, passed feed's check, and surfaced as the
     * backend's IndexOutOfBoundsException "upload of 3 floats at 2147483645 ...", which does not name the feed.
     */
    @Test
    void feedRowsPastIntegerMaxValueAreABadArgument() {
        refused(IllegalArgumentException.class, () -> exec.feed(x, new float[] {1, 2, 3}, Integer.MAX_VALUE, 1),
                "feed 'x': rows [2147483647, 2147483648)", "do not fit in an array of 3");
    }

    /** A batch size below 1 read "dimensions must be positive: [0, 3]", naming neither the call nor the batch. */
    @Test
    void aBatchSizeBelowOneIsNamed() {
        refused(IllegalArgumentException.class, () -> exec.forward(loss, 0),
                "forward to sum", "batch size must be at least 1, got 0");
        refused(IllegalArgumentException.class, () -> exec.forward(loss, -3), "batch size must be at least 1, got -3");
        refused(IllegalArgumentException.class, () -> g.shapeOf(loss, 0), "shapeOf", "batch size must be at least 1");
    }

    /**
     * backward() after a forward pass whose target depends on no parameter returned silently and left the previous
     * pass's gradients in place, as if they were this one's.
     */
    @Test
    void backwardAfterAForwardPassWithoutParametersIsRefused() {
        exec.feed(x, new float[] {1, 2, 3}, 0, 1);
        exec.forward(loss, 1);
        exec.backward();
        float[] grads = exec.gradient(w).download();
        Node inputOnly = g.sum(x);
        exec.forward(inputOnly, 1);
        refused(IllegalStateException.class, exec::backward, "backward", "(to sum", "depends on no parameter");
        assertArrayEquals(grads, exec.gradient(w).download(), 0f);
    }

    /**
     * value() and valueAtLastBackward() of a node of another graph were IllegalStateExceptions saying the node "was not
     * computed by the last forward pass" or "no backward pass has run yet": a wrong argument, reported as a wrong state.
     */
    @Test
    void readingANodeOfAnotherGraphIsABadArgument() {
        Graph other = new Graph();
        Input foreign = other.input("foreign", 3);
        Node foreignSum = other.sum(foreign);
        refused(IllegalArgumentException.class, () -> exec.value(foreign), "value: node foreign#0 belongs to another graph");
        refused(IllegalArgumentException.class, () -> exec.valueAtLastBackward(foreignSum),
                "valueAtLastBackward: node sum(all)#1 belongs to another graph");
    }

    /**
     * Two parameters (or a parameter and a buffer) of one name were accepted; optimizer state and model files are keyed
     * by name, so one's entry silently overwrote the other's.
     */
    @Test
    void parameterAndBufferNamesMustBeUnique() {
        refused(IllegalArgumentException.class,
                () -> g.parameter("w", Shape.of(2), Initializer.zeros(), false),
                "parameter 'w': the graph already has a parameter of that name (w#1)");
        g.buffer("running", Shape.of(2), Initializer.zeros());
        refused(IllegalArgumentException.class, () -> g.parameter("running", Shape.of(2), Initializer.zeros(), false),
                "parameter 'running': the graph already has a buffer of that name");
        refused(IllegalArgumentException.class, () -> g.buffer("w", Shape.of(2), Initializer.zeros()),
                "buffer 'w': the graph already has a parameter");
        refused(IllegalArgumentException.class, () -> g.parameter(" ", Shape.of(2), Initializer.zeros(), false),
                "parameter: a name is required");
    }

    /**
     * A null initializer or shape was accepted by the graph and failed later, in the executor, as a
     * NullPointerException; a null operation, function, reduction, axis, loss kind or input node was a
     * NullPointerException from inside the graph.
     */
    @Test
    void nullsInTheGraphBuilderAreNamed() {
        refused(IllegalArgumentException.class, () -> g.parameter("p", Shape.of(2), null, false),
                "parameter 'p': the initializer is null");
        refused(IllegalArgumentException.class, () -> g.parameter("p", null, Initializer.zeros(), false),
                "parameter 'p': the shape is null");
        refused(IllegalArgumentException.class, () -> g.buffer("b", Shape.of(2), null), "buffer 'b': the initializer is null");
        refused(IllegalArgumentException.class, () -> g.input("i", (Shape) null), "input 'i': the sample shape is null");
        refused(IllegalArgumentException.class, () -> g.unary(x, null), "unary: the operation is null");
        refused(IllegalArgumentException.class, () -> g.activation(x, null, 0f), "activation: the function is null");
        refused(IllegalArgumentException.class, () -> g.reduce(x, null, Axis.ALL), "reduce: the reduction is null");
        refused(IllegalArgumentException.class, () -> g.sum(null), "an input node is null");
        refused(IllegalArgumentException.class, () -> g.loss(null, x, x), "loss: the loss kind is null");
        refused(IllegalArgumentException.class, () -> g.rowLoss(null, x, x), "row loss: the loss kind is null");
        refused(IllegalArgumentException.class, () -> new Executor(g, null, 1), "executor: backend is null");
        assertEquals(List.of(w), g.parameters(), "nothing refused was added");
        assertEquals(LossKind.MSE, new dev.jacobian.graph.ops.MeanRowLoss(LossKind.MSE).kind());
    }

    /** An arena of the right size but rank 2 passed the size check and failed in slice with an IndexOutOfBoundsException. */
    @Test
    void anArenaOfAnotherShapeIsABadArgument() {
        try (Tensor matrix = backend.allocate(Shape.of(2, 3))) {
            refused(IllegalArgumentException.class, () -> exec.view(matrix, w),
                    "arena [2, 3] does not have this executor's layout of 6 floats");
        }
    }

    /**
     * A forward pass refused because its batch size was never fed had already made its plan, which pushed the least
     * recently used plan out of the cache: with {@code maxPlans(1)} that was the last pass's own, so backward() and
     * value() then failed with "tensor [2, 2] is closed", naming neither the call nor the plan.
     */
    @Test
    void aRefusedForwardPassFreesNoPlan() {
        Node h = g.tanh(g.matmul(x, w));
        Node l = g.sum(h);
        exec.maxPlans(1);
        exec.feed(x, new float[] {1, 2, 3, 4, 5, 6}, 0, 2);
        exec.forward(l, 2);
        float[] value = exec.value(h).download();
        refused(IllegalStateException.class, () -> exec.forward(l, 3), "input 'x' was never fed a batch of 3");
        assertEquals(1, exec.planCount());
        exec.backward();
        assertArrayEquals(value, exec.value(h).download(), 0f);
    }

    /**
     * A forward pass that failed in an operation (batch norm refuses one value per channel in training) had already
     * pushed the last pass's plan out of the cache: backward() then ran on freed tensors ("tensor [1, 1] is closed").
     */
    @Test
    void backwardAfterTheLastPassesPlanWasFreedSaysSo() {
        Parameter gamma = g.parameter("gamma", Shape.of(2), Initializer.constant(1f), false);
        Parameter beta = g.parameter("beta", Shape.of(2), Initializer.zeros(), false);
        Buffer mean = g.buffer("mean", Shape.of(2), Initializer.zeros());
        Buffer var = g.buffer("var", Shape.of(2), Initializer.constant(1f));
        Buffer count = g.buffer("count", Shape.scalar(), Initializer.zeros());
        Node l = g.sum(g.batchNorm(g.matmul(x, w), gamma, beta, mean, var, count, 1e-5f, 0.1f));
        try (Executor e = new Executor(g, backend, 1)) {
            e.maxPlans(1);
            e.feed(x, new float[] {1, 2, 3, 4, 5, 6}, 0, 2);
            e.feed(x, new float[] {1, 2, 3}, 0, 1);
            e.forward(l, 2);
            refused(IllegalArgumentException.class, () -> e.forward(l, 1), "batch_norm", "more than 1 value per channel");
            refused(IllegalStateException.class, e::backward, "backward", "plan of the last forward pass", "was freed");
            refused(IllegalStateException.class, () -> e.value(l), "value", "plan of the last forward pass",
                    "was freed");
        }
    }

    /** Lowering maxPlans below the plans allocated kept them all: each new plan then pushed out only one old one. */
    @Test
    void loweringMaxPlansFreesTheLeastRecentlyUsedPlans() {
        for (int batch = 1; batch <= 3; batch++) {
            exec.feed(x, new float[3 * batch], 0, batch);
            exec.forward(loss, batch);
        }
        assertEquals(3, exec.planCount());
        exec.maxPlans(1);
        assertEquals(1, exec.planCount());
        exec.backward(); // the last pass's plan is the most recently used one: it stays
        assertEquals(3, exec.lastBatch());
    }
}
