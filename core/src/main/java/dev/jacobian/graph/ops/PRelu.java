package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * Parametric ReLU (He et al. 2015) with one learnable slope per unit: {@code y = x > 0 ? x : a_j x};
 * inputs {@code x: [n, m]} and {@code a: [1, m]}.
 */
public final class PRelu implements Operation {
    /** The operation; it holds no state, and {@link dev.jacobian.graph.Graph#prelu} makes one per node. */
    public PRelu() {
    }

    @Override
    public String name() {
        return "prelu";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 2);
        Shapes.rowVector(name() + " slopes", in.get(0), in.get(1));
        return Shape.matrix(in.get(0).rows(), in.get(0).cols());
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.prelu(in[0], in[1], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null || dIn[1] != null) {
            b.preluBackward(in[0], in[1], dOut, dIn[0], acc[0], dIn[1], acc[1]);
        }
    }
}
