package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * Maxout (Goodfellow et al. 2013): the max over groups of {@code pieces} adjacent columns,
 * {@code [n, m*pieces] -> [n, m]}; the gradient is routed to the winning piece.
 */
public record Maxout(int pieces) implements Operation {
    /** Checks {@code pieces >= 1}: an {@link IllegalArgumentException} otherwise. */
    public Maxout {
        if (pieces < 1) {
            throw new IllegalArgumentException("maxout needs at least one piece, got " + pieces);
        }
    }

    @Override
    public String name() {
        return "maxout";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 1);
        Shape z = in.get(0);
        if (z.cols() % pieces != 0) {
            throw new IllegalArgumentException("maxout: " + z + " has " + z.cols() + " columns, not a multiple of " + pieces + " pieces");
        }
        return Shape.matrix(z.rows(), z.cols() / pieces);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.maxout(pieces, in[0], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.maxoutBackward(pieces, in[0], dOut, dIn[0], acc[0]);
        }
    }
}
