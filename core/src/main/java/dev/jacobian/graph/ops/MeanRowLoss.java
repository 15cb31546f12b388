package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/**
 * The batch-mean loss {@code [n, c], targets -> scalar}: {@code (1/n) sum_i L(pred_i, target_i)} (see
 * {@link LossKind}); the targets get no gradient. One primitive each way ({@link Backend#meanLoss},
 * {@link Backend#meanLossBackward}): the same numbers as {@link RowLoss} followed by a mean {@link Reduce}, in one
 * launch each on a device backend instead of five. Its backward reads its output gradient without writing it, so
 * the executor seeds it once per plan ({@link #preservesOutputGradient()}).
 */
public record MeanRowLoss(LossKind kind) implements Operation {
    /** Checks that the loss kind is given. */
    public MeanRowLoss {
        Checks.given("loss", "the loss kind", kind);
    }

    @Override
    public String name() {
        return "mean_" + kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        new RowLoss(kind).outputShape(in); // the same checks and messages
        return Shape.scalar();
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        ctx.backend().meanLoss(kind, in[0], in[1], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] != null) {
            ctx.backend().meanLossBackward(kind, in[0], in[1], dOut, dIn[0], acc[0]);
        }
    }

    /** The scores and targets are read by the gradient; the mean itself is not. */
    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public boolean differentiable(int input) {
        return input == 0;
    }

    @Override
    public boolean preservesOutputGradient() {
        return true;
    }
}
