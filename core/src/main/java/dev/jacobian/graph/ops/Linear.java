package dev.jacobian.graph.ops;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * A fully connected layer {@code y = x W + b} on a batch of row vectors: {@code x: [n, in]},
 * {@code W: [in, out]}, {@code b: [1, out]}, {@code y: [n, out]}.
 *
 * <p>Backward: {@code dx = dy W^T}, {@code dW = x^T dy}, {@code db = sum over rows of dy}: three
 * primitives, no transpose materialized.
 */
public final class Linear implements Operation {
    @Override
    public String name() {
        return "linear";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 3);
        Shape x = in.get(0);
        Shape w = in.get(1);
        if (w.rank() != 2 || x.cols() != w.rows()) {
            throw new IllegalArgumentException("linear: input " + x + " does not match weights " + w
                    + " (input columns must equal weight rows)");
        }
        Shape out = Shape.matrix(x.rows(), w.cols());
        Shapes.rowVector(name() + " bias", out, in.get(2));
        return out;
    }

    /** {@code dx = dy W^T} and {@code dW = x^T dy} read x and W; the bias and the output are not needed. */
    @Override
    public boolean backwardReadsInput(int i) {
        return i < 2;
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        b.gemm(false, false, 1f, in[0], in[1], 0f, out);
        b.addRowVector(out, in[2], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        affineBackward(b, in, dOut, dIn, acc);
    }

    /** The gradients of {@code x W + b} given {@code dz}: shared with {@link Dense}. */
    static void affineBackward(Backend b, Tensor[] in, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        if (dIn[0] != null) {
            b.gemm(false, true, 1f, dOut, in[1], acc[0] ? 1f : 0f, dIn[0]);
        }
        if (dIn[1] != null) {
            b.gemm(true, false, 1f, in[0], dOut, acc[1] ? 1f : 0f, dIn[1]);
        }
        if (dIn[2] != null) {
            b.reduce(Reduction.SUM, Axis.ROWS, dOut, dIn[2], acc[2]);
        }
    }
}
