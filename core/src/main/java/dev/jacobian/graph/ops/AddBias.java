package dev.jacobian.graph.ops;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.GradientOnly;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/** {@code y = x + b} with {@code b: [1, n]} broadcast over rows; {@code db = sum over rows of dy}. */
public final class AddBias implements GradientOnly {
    /** The operation; it holds no state, and {@link dev.jacobian.graph.Graph#addBias} makes one per node. */
    public AddBias() {
    }

    @Override
    public String name() {
        return "addBias";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 2);
        Shapes.rowVector(name(), in.get(0), in.get(1));
        return Shape.matrix(in.get(0).rows(), in.get(0).cols());
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.addRowVector(in[0], in[1], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.axpby(1f, dOut, acc[0] ? 1f : 0f, dIn[0]);
        }
        if (dIn[1] != null) {
            if (dIn[1].rows() == 1) {
                b.reduce(Reduction.SUM, Axis.ROWS, dOut, dIn[1], acc[1]);
            } else {
                // the shape rule takes any bias of n elements ([n, 1], [2, n/2], ...): reduce into it as a row [1, n]
                try (Tensor db = dIn[1].reshape(1, dIn[1].size())) {
                    b.reduce(Reduction.SUM, Axis.ROWS, dOut, db, acc[1]);
                }
            }
        }
    }
}
