package dev.jacobian.graph.ops;

import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.GradientOnly;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * A view of the input in another shape with the same elements — no copy: the executor hands out a view of
 * the input's tensor ({@link Operation#viewOfInput()}). {@code dims} may hold one {@code -1} (inferred), or
 * {@code flattenFrom >= 0} merges dimensions {@code flattenFrom..} into one ({@code [n, c, h, w]} from 1 gives
 * {@code [n, c*h*w]}). Backward passes the gradient through unchanged (same elements, same order).
 */
public record Reshape(int[] dims, int flattenFrom) implements GradientOnly {
    /** Reshape to {@code dims} (one may be {@code -1}). */
    public static Reshape to(int... dims) {
        return new Reshape(dims.clone(), -1);
    }

    /** Flatten dimensions {@code startDim..} into one. */
    public static Reshape flatten(int startDim) {
        return new Reshape(null, startDim);
    }

    @Override
    public String name() {
        return flattenFrom >= 0 ? "flatten" : "reshape";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 1);
        Shape x = in.get(0);
        if (flattenFrom < 0) {
            return x.reshape(dims);
        }
        return x.flatten(flattenFrom);
    }

    @Override
    public boolean viewOfInput() {
        return true;
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        // never called: the output is a view of in[0]
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] != null) {
            ctx.backend().axpby(1f, dOut, acc[0] ? 1f : 0f, dIn[0]);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Reshape r && r.flattenFrom == flattenFrom && Arrays.equals(r.dims, dims);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + flattenFrom;
    }

    @Override
    public String toString() {
        return name() + (flattenFrom >= 0 ? "(" + flattenFrom + ")" : Arrays.toString(dims));
    }
}
