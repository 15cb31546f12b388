package dev.jacobian.graph;

import dev.jacobian.backend.Backend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * What an {@link Operation} may ask of the {@link Executor} while it runs: the backend, scratch tensors
 * ({@link #workspace}) that the executor allocates once and hands back on every later step, and whether the
 * pass is a training pass ({@link #training()}).
 *
 * <p>There is one context per call site of a plan (one node, one batch size), so the {@code k}-th workspace
 * request of a forward (or backward) run gets the same tensor on every step: after the first step an
 * operation that asks for workspace allocates nothing. The executor frees workspaces with the plan.
 *
 * <p>Forward workspace doubles as "saved for backward": a forward rule computes what its backward needs (a mask,
 * batch statistics) into workspace, and the backward rule reads it back with {@link #saved(int)}; the backward
 * rule's own {@link #workspace} requests come from a separate list.
 *
 * <p>Composite rules use workspace for temporaries, e.g. a backward rule that must add {@code dy * f'(x)}
 * into an accumulating gradient computes the product into workspace first.
 */
public final class OpContext {
    private final Backend backend;
    private final Executor.PlanView plan;
    private final long randomKey;
    private long drawnBlocks;
    private final List<Tensor> forwardSpace = new ArrayList<>();
    private final List<Tensor> backwardSpace = new ArrayList<>();
    private List<Tensor> current = forwardSpace;
    private int next;
    private boolean trainingPass;

    OpContext(Backend backend, Executor.PlanView plan, long randomKey) {
        this.backend = backend;
        this.plan = plan;
        this.randomKey = randomKey;
    }

    /**
     * Fills {@code out} with uniform floats in {@code [0, 1)} from the counter-based random stream
     * ({@link Backend#randomUniform}, Philox4x32-10), keyed by the executor's seed and this node, and counted by
     * the executor's forward pass and the draws already made in this call: the same seed and the same sequence
     * of passes give the same numbers on every backend (a dropout mask, for instance). Draw in
     * {@link dev.jacobian.graph.Operation#forward} and keep what backward needs in workspace ({@link #saved}).
     */
    public void randomUniform(Tensor out) {
        long counter = (plan.forwardCount() << 32) + drawnBlocks;
        backend.randomUniform(randomKey, counter, out);
        drawnBlocks += (out.size() + 3) / 4;
    }

    /** The backend every tensor of this pass lives on. */
    public Backend backend() {
        return backend;
    }

    /**
     * Whether this is a training pass: the executor is in training mode ({@link Executor#train(boolean)})
     * and the plan computes gradients. Prediction plans always see {@code false} (dropout off, batch norm
     * on its running statistics). Fixed when the forward pass starts, so a backward sees the mode of its
     * forward even if {@link Executor#train(boolean)} changed in between.
     */
    public boolean training() {
        return trainingPass;
    }

    /**
     * A scratch tensor of {@code shape} owned by the executor, contents undefined. The {@code k}-th call in
     * one forward (or one backward) run returns the same tensor every step while its shape stays the same.
     * Valid until the operation's method returns; do not keep it.
     */
    public Tensor workspace(Shape shape) {
        Tensor t;
        if (next < current.size()) {
            t = current.get(next);
            if (!t.shape().equals(shape)) {
                t.close();
                t = backend.allocate(shape);
                current.set(next, t);
            }
        } else {
            t = backend.allocate(shape);
            current.add(t);
        }
        next++;
        return t;
    }

    /**
     * What the last forward run of this node kept for its backward: the {@code index}-th tensor its
     * {@link Operation#forward} asked of {@link #workspace} (a dropout mask, batch statistics), with the contents
     * that forward left there. For {@link Operation#backward} only; valid until it returns.
     *
     * @throws IllegalStateException when that forward asked for fewer workspace tensors
     */
    public Tensor saved(int index) {
        if (index < 0 || index >= forwardSpace.size()) {
            throw new IllegalStateException("saved(" + index + "): the forward pass kept " + forwardSpace.size()
                    + " workspace tensors");
        }
        return forwardSpace.get(index);
    }

    void beginForward() {
        trainingPass = plan.training(); // what backward sees too, even if the mode changes in between
        current = forwardSpace;
        next = 0;
        drawnBlocks = 0;
    }

    void beginBackward() {
        current = backwardSpace;
        next = 0;
    }

    void close() {
        forwardSpace.forEach(Tensor::close);
        backwardSpace.forEach(Tensor::close);
        forwardSpace.clear();
        backwardSpace.clear();
    }
}
