package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * Inverted dropout (Srivastava et al. 2014), as PyTorch's {@code nn.Dropout(p)}: in a training pass each element
 * is kept with probability {@code 1 - p} and scaled by {@code 1 / (1 - p)}, else zeroed; in evaluation (and for
 * {@code p = 0}) it is the identity. Any rank.
 *
 * <p>The mask comes from the op context's counter-based random stream ({@link OpContext#randomUniform}, Philox
 * keyed by the executor's seed and this node, counted by forward pass): {@code u} uniform in {@code [0, 1)},
 * {@code mask = STEP(u; p, 1/(1-p))} (kept where {@code u >= p}), so the same seed gives the same masks on every
 * backend. With a second input ({@code noise}, a tensor of {@code x}'s shape holding the uniform draws) the
 * mask is taken from it instead — a fixed mask, for gradient checks and tests.
 *
 * <p>The forward keeps the scaled mask in its workspace; backward reads it back ({@link OpContext#saved}) and
 * computes {@code dx = dy * mask}: one multiply, no second draw, and neither {@code x} nor {@code y} is kept.
 *
 * @param p the probability of zeroing an element, in {@code [0, 1)}
 */
public record Dropout(float p) implements Operation {
    /** Checks {@code p}: an {@link IllegalArgumentException} naming {@code p} and its value outside {@code [0, 1)}. */
    public Dropout {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1), got p = " + p);
        }
    }

    @Override
    public String name() {
        return "dropout";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        if (in.size() != 1 && in.size() != 2) {
            throw new IllegalArgumentException("dropout: expects 1 input (or 2 with fixed noise), got " + in.size() + " " + in);
        }
        if (in.size() == 2 && !in.get(0).equals(in.get(1))) {
            throw new IllegalArgumentException("dropout: the noise must have the input's shape: " + in.get(0) + " vs "
                    + in.get(1));
        }
        return in.get(0);
    }

    /** The mask is kept in workspace: backward reads neither input. */
    @Override
    public boolean backwardReadsInput(int i) {
        return false;
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    /** The noise receives no gradient. */
    @Override
    public boolean differentiable(int input) {
        return input == 0;
    }

    private boolean drops(OpContext ctx) {
        return ctx.training() && p > 0f;
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        if (!drops(ctx)) {
            b.copy(in[0], out);
            return;
        }
        Tensor mask = ctx.workspace(in[0].shape());
        if (in.length == 2) {
            b.unary(UnaryOp.STEP, p, 1f / (1f - p), in[1], mask);
        } else {
            ctx.randomUniform(mask);
            b.unary(UnaryOp.STEP, p, 1f / (1f - p), mask, mask);
        }
        b.binary(BinaryOp.MUL, in[0], mask, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] == null) {
            return;
        }
        Backend b = ctx.backend();
        if (!drops(ctx)) {
            b.axpby(1f, dOut, acc[0] ? 1f : 0f, dIn[0]);
            return;
        }
        // dOut is this node's alone: it serves as the product's scratch when the gradient accumulates
        Unary.multiplyInto(b, ctx.saved(0), dOut, dIn[0], acc[0]);
    }
}
