package dev.jacobian.graph.ops;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * A fully connected layer {@code y = x W + b} on a batch of row vectors: {@code x: [n, in]},
 * {@code W: [in, out]}, {@code b: [1, out]}, {@code y: [n, out]}.
 *
 * <p>Forward is one {@link Backend#gemmBiasActivation}. Backward: {@code dx = dy W^T}, {@code dW = x^T dy},
 * {@code db = sum over rows of dy}, one {@link Backend#denseBackward}; no transpose materialized.
 */
public final class Linear implements Operation {
    /** The operation; it holds no state, and {@link dev.jacobian.graph.Graph#linear} makes one per node. */
    public Linear() {
    }

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
        ctx.backend().gemmBiasActivation(in[0], in[1], in[2], Activation.IDENTITY, 0f, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        // the output may have been recycled (backwardReadsOutput is false): the identity's derivative never reads it
        affineBackward(ctx.backend(), Activation.IDENTITY, 0f, in, dOut, dOut, dIn, acc);
    }

    /**
     * The gradients of {@code f(x W + b)} given {@code dy} (one {@link Backend#denseBackward}): shared with
     * {@link Dense}. {@code out} is only read when {@code f} is not the identity ({@link Linear} passes {@code dOut}
     * for it).
     */
    static void affineBackward(Backend b, Activation f, float param, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn,
                               boolean[] acc) {
        if (dIn[0] != null || dIn[1] != null || dIn[2] != null) {
            b.denseBackward(f, param, in[0], in[1], out, dOut, dIn[0], acc[0], dIn[1], acc[1], dIn[2], acc[2]);
        }
    }
}
