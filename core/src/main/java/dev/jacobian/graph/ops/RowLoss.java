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
 * Per-sample loss {@code [n, c], targets -> [n, 1]} (see {@link LossKind}); the targets get no gradient.
 * The softmax cross-entropy form is fused: softmax and log are never materialized separately.
 */
public record RowLoss(LossKind kind) implements Operation {
    /** Checks that the loss kind is given. */
    public RowLoss {
        Checks.given("row loss", "the loss kind", kind);
    }

    @Override
    public String name() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 2);
        Shape p = in.get(0);
        Shape t = in.get(1);
        boolean ok = kind.classIndexTargets() ? t.rows() == p.rows() && t.cols() == 1 : t.rows() == p.rows() && t.cols() == p.cols();
        if (!ok) {
            throw new IllegalArgumentException(name() + ": predictions " + p + " and targets " + t + " do not match (expected "
                    + (kind.classIndexTargets() ? "[" + p.rows() + ", 1] class indices" : p + " values") + ")");
        }
        return Shape.matrix(p.rows(), 1);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.rowLoss(kind, in[0], in[1], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.rowLossBackward(kind, in[0], in[1], dOut, dIn[0], acc[0]);
        }
    }

    @Override
    public boolean differentiable(int input) {
        return input == 0;
    }
}
