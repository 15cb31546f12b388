package dev.jacobian.graph.ops;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/** A reduction (sum, mean, max, sum of squares) along an axis; ARGMAX is allowed forward only. */
public record Reduce(Reduction reduction, Axis axis) implements Operation {
    /** Checks that the reduction and the axis are given. */
    public Reduce {
        Checks.given("reduce", "the reduction", reduction);
        Checks.given("reduce", "the axis", axis);
    }

    @Override
    public String name() {
        return reduction.name().toLowerCase(Locale.ROOT) + "(" + axis.name().toLowerCase(Locale.ROOT) + ")";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 1);
        Shape x = in.get(0);
        return switch (axis) {
            case ROWS -> Shape.matrix(1, x.cols());
            case COLS -> Shape.matrix(x.rows(), 1);
            case ALL -> Shape.scalar();
        };
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.reduce(reduction, axis, in[0], out, false);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.reduceBackward(reduction, axis, in[0], out, dOut, dIn[0], acc[0]);
        }
    }

    @Override
    public boolean differentiable(int input) {
        return reduction != Reduction.ARGMAX;
    }

    /** {@link Backend#reduceBackward} only reads {@code dOut}. */
    @Override
    public boolean preservesOutputGradient() {
        return true;
    }
}
