package dev.jacobian.graph.ops;

import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The input with its axes reordered ({@code torch.permute}, NumPy's {@code transpose}): output dimension
 * {@code i} is input dimension {@code axes[i]}; the batch is axis 0 like any other. A copy
 * ({@link dev.jacobian.backend.Backend#permute}); the backward permutes the gradient by the inverse order.
 *
 * @param axes a permutation of {@code 0 .. rank-1}
 */
public record Permute(int[] axes) implements Operation {
    /** Copies {@code axes} and checks it is a permutation. */
    public Permute {
        if (axes == null) {
            throw new IllegalArgumentException("permute: axes must not be null");
        }
        axes = axes.clone();
        boolean[] seen = new boolean[axes.length];
        for (int a : axes) {
            if (a < 0 || a >= axes.length || seen[a]) {
                throw new IllegalArgumentException("permute: " + Arrays.toString(axes) + " is not a permutation of 0.."
                        + (axes.length - 1));
            }
            seen[a] = true;
        }
    }

    /**
     * A copy of the permutation (the record keeps its own, so callers cannot change it): output dimension {@code i}
     * is input dimension {@code axes()[i]}.
     */
    @Override
    public int[] axes() {
        return axes.clone();
    }

    @Override
    public String name() {
        return "permute";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 1);
        Shape x = in.get(0);
        if (x.rank() != axes.length) {
            throw new IllegalArgumentException(name() + ": " + Arrays.toString(axes) + " orders " + axes.length
                    + " axes, input " + x + " has " + x.rank());
        }
        int[] d = new int[axes.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = x.dim(axes[i]);
        }
        return Shape.of(d);
    }

    @Override
    public boolean backwardReadsInput(int i) {
        return false;
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        ctx.backend().permute(in[0], axes, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] == null) {
            return;
        }
        int[] inverse = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            inverse[axes[i]] = i;
        }
        if (!acc[0]) {
            ctx.backend().permute(dOut, inverse, dIn[0]);
            return;
        }
        Tensor t = ctx.workspace(dIn[0].shape());
        ctx.backend().permute(dOut, inverse, t);
        ctx.backend().axpby(1f, t, 1f, dIn[0]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Permute p && Arrays.equals(p.axes, axes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(axes);
    }

    @Override
    public String toString() {
        return "permute" + Arrays.toString(axes);
    }
}
