package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/** {@code C = A B} with {@code A: [m, k]}, {@code B: [k, n]}; backward {@code dA = dC B^T}, {@code dB = A^T dC}. */
public final class MatMul implements Operation {
    /** The operation; it holds no state, and {@link dev.jacobian.graph.Graph#matmul} makes one per node. */
    public MatMul() {
    }

    @Override
    public String name() {
        return "matmul";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 2);
        Shape a = in.get(0);
        Shape bs = in.get(1);
        if (a.cols() != bs.rows()) {
            throw new IllegalArgumentException("matmul: cannot multiply " + a + " by " + bs);
        }
        return Shape.matrix(a.rows(), bs.cols());
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.gemm(false, false, 1f, in[0], in[1], 0f, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        if (dIn[0] != null) {
            b.gemm(false, true, 1f, dOut, in[1], acc[0] ? 1f : 0f, dIn[0]);
        }
        if (dIn[1] != null) {
            b.gemm(true, false, 1f, in[0], dOut, acc[1] ? 1f : 0f, dIn[1]);
        }
    }
}
