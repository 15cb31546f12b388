package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/** Row-wise softmax; backward {@code dx = y (dy - sum(dy y))}. For training, prefer the fused cross-entropy loss. */
public final class Softmax implements Operation {
    /** The operation; it holds no state, and {@link dev.jacobian.graph.Graph#softmax} makes one per node. */
    public Softmax() {
    }

    @Override
    public String name() {
        return "softmax";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        return Shapes.unary(name(), in);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.softmax(in[0], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.softmaxBackward(out, dOut, dIn[0], acc[0]);
        }
    }
}
