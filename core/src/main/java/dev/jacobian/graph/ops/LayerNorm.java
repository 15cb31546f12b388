package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Layer normalization (Ba et al. 2016), as PyTorch's {@code nn.LayerNorm(normalized_shape)}: each sample is
 * normalized over its trailing dimensions {@code normalized_shape} (the shape of the weight), then scaled and
 * shifted elementwise: {@code y = (x - mean) / sqrt(var + eps) * weight + bias}, with the biased variance. The
 * same in training and evaluation.
 *
 * <p>Inputs: {@code x [..., normalized_shape]}, {@code weight [normalized_shape]}, {@code bias
 * [normalized_shape]}. Composed from {@code sumTo}, broadcasting binary and unary primitives; the forward keeps
 * the mean and {@code 1/sqrt(var + eps)} of each sample in workspace, and backward recomputes the normalized
 * input from {@code x} and those.
 *
 * @param eps added to the variance, PyTorch's default {@code 1e-5}
 */
public record LayerNorm(float eps) implements Operation {
    /** Checks {@code eps > 0}, naming the parameter and the value. */
    public LayerNorm {
        Normalization.checkEps("layer_norm", eps);
    }

    @Override
    public String name() {
        return "layer_norm";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 3);
        Shape x = in.get(0);
        Shape w = in.get(1);
        boolean trailing = w.rank() >= 1 && w.rank() <= x.rank()
                && Arrays.equals(w.dims(), Arrays.copyOfRange(x.dims(), x.rank() - w.rank(), x.rank()));
        if (!trailing) {
            throw new IllegalArgumentException(name() + ": the weight's shape " + w
                    + " must be the trailing dimensions of the input " + x);
        }
        if (!in.get(2).equals(w)) {
            throw new IllegalArgumentException(name() + ": bias " + in.get(2) + " must have the weight's shape " + w);
        }
        return x;
    }

    /** Backward reads {@code x} and the weight. */
    @Override
    public boolean backwardReadsInput(int i) {
        return i <= 1;
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    /** One statistic per sample: {@code x}'s shape with 1 along the normalized dimensions. */
    private static Shape statShape(Shape x, Shape normalized) {
        int[] d = x.dims();
        Arrays.fill(d, x.rank() - normalized.rank(), x.rank(), 1);
        return Shape.of(d);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        Tensor x = in[0];
        Shape stat = statShape(x.shape(), in[1].shape());
        Tensor mean = ctx.workspace(stat);
        Tensor invStd = ctx.workspace(stat);
        Normalization.meanAndVariance(b, x, mean, invStd, out, in[1].size());
        Normalization.inverseStd(b, invStd, eps, invStd);
        b.binary(BinaryOp.SUB, x, mean, out);
        b.binary(BinaryOp.MUL, out, invStd, out);
        b.binary(BinaryOp.MUL, out, in[1], out);
        b.binary(BinaryOp.ADD, out, in[2], out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        Tensor x = in[0];
        Shape stat = statShape(x.shape(), in[1].shape());
        Tensor invStd = ctx.saved(1);
        Tensor xhat = Normalization.savedNormalized(ctx, x);
        Tensor scratch = ctx.workspace(x.shape());
        if (dIn[2] != null) {
            b.sumTo(dOut, dIn[2], acc[2]);
        }
        if (dIn[1] != null) {
            b.binary(BinaryOp.MUL, dOut, xhat, scratch);
            b.sumTo(scratch, dIn[1], acc[1]);
        }
        if (dIn[0] != null) {
            Tensor s = ctx.workspace(stat);
            b.binary(BinaryOp.MUL, dOut, in[1], dOut); // dOut is this node's alone
            Normalization.throughStatistics(b, dOut, xhat, s, scratch, in[1].size());
            if (acc[0]) {
                b.binary(BinaryOp.MUL, dOut, invStd, dOut);
                b.axpby(1f, dOut, 1f, dIn[0]);
            } else {
                b.binary(BinaryOp.MUL, dOut, invStd, dIn[0]);
            }
        }
    }
}
