package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * Batch normalization (Ioffe &amp; Szegedy 2015), as PyTorch's {@code BatchNorm1d} on {@code [N, C]} and
 * {@code BatchNorm2d} on {@code [N, C, H, W]} (any rank from 2: the statistics are taken over every dimension
 * but 1, the channels): {@code y = (x - mean) / sqrt(var + eps) * weight + bias} per channel.
 *
 * <p>Inputs: {@code x}, {@code weight [C]}, {@code bias [C]} (parameters), and three buffers
 * {@code running_mean [C]}, {@code running_var [C]}, {@code num_batches_tracked []}. In a training pass
 * ({@link OpContext#training()}) the mean and the biased variance of the batch normalize it, and the forward
 * updates the buffers in place as PyTorch does: {@code running = (1 - momentum) running + momentum batch}, with
 * the <em>unbiased</em> batch variance for {@code running_var}, and {@code num_batches_tracked += 1}; the
 * backward is the true gradient through the batch statistics. In evaluation the running statistics normalize,
 * and the gradient treats them as constants. A training pass with a single value per channel is an
 * {@link IllegalArgumentException}, as in PyTorch.
 *
 * <p>Composed from {@code sumTo}, broadcasting binary and unary primitives. The forward keeps the mean and
 * {@code 1/sqrt(var + eps)} it used ({@code [1, C, 1, ...]}) in workspace; backward recomputes the normalized
 * input from {@code x} and those.
 *
 * @param eps      added to the variance, PyTorch's default {@code 1e-5}
 * @param momentum weight of the batch statistic in the running average, PyTorch's default {@code 0.1}
 */
public record BatchNorm(float eps, float momentum) implements Operation {
    /** Checks {@code eps > 0} and {@code momentum} in {@code [0, 1]}, naming the parameter and the value. */
    public BatchNorm {
        Normalization.checkEps("batch_norm", eps);
        if (!(momentum >= 0f && momentum <= 1f)) {
            throw new IllegalArgumentException("batch_norm: momentum must be in [0, 1], got momentum = " + momentum);
        }
    }

    @Override
    public String name() {
        return "batch_norm";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        Shapes.arity(name(), in, 6);
        Shape x = in.get(0);
        if (x.rank() < 2) {
            throw new IllegalArgumentException(name() + ": expects an input [N, C, ...] of rank 2 or more, got " + x);
        }
        Shape channels = Shape.of(x.dim(1));
        String[] what = {"weight", "bias", "running_mean", "running_var"};
        for (int i = 1; i <= 4; i++) {
            if (!in.get(i).equals(channels)) {
                throw new IllegalArgumentException(name() + ": " + what[i - 1] + " must be " + channels + " for input " + x
                        + ", got " + in.get(i));
            }
        }
        if (in.get(5).size() != 1) {
            throw new IllegalArgumentException(name() + ": num_batches_tracked must hold one value, got " + in.get(5));
        }
        return x;
    }

    /** Backward reads {@code x} and the weight; the buffers' values were copied into workspace by forward. */
    @Override
    public boolean backwardReadsInput(int i) {
        return i <= 1;
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    /** The shape of a per-channel statistic that broadcasts against {@code x}: {@code [1, C, 1, ...]}. */
    private static Shape statShape(Shape x) {
        int[] d = new int[x.rank()];
        java.util.Arrays.fill(d, 1);
        d[1] = x.dim(1);
        return Shape.of(d);
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        Tensor x = in[0];
        Shape stat = statShape(x.shape());
        int count = x.size() / x.shape().dim(1);
        Tensor mean = ctx.workspace(stat);
        Tensor invStd = ctx.workspace(stat);
        if (ctx.training()) {
            if (count <= 1) {
                throw new IllegalArgumentException(name() + ": expected more than 1 value per channel when training, "
                        + "got input of shape " + x.shape());
            }
            Tensor var = ctx.workspace(stat);
            Normalization.meanAndVariance(b, x, mean, var, out, count);
            b.axpby(momentum, mean, 1f - momentum, in[3]);
            b.axpby(momentum * count / (count - 1f), var, 1f - momentum, in[4]); // unbiased, as PyTorch
            b.unary(UnaryOp.ADD_SCALAR, 1f, 0f, in[5], in[5]);
            Normalization.inverseStd(b, var, eps, invStd);
        } else {
            b.copy(in[3], mean);
            Normalization.inverseStd(b, in[4], eps, invStd);
        }
        Tensor scale = ctx.workspace(stat);
        Tensor shift = ctx.workspace(stat);
        b.binary(BinaryOp.MUL, in[1], invStd, scale); // flat: C values each
        b.copy(in[2], shift);
        b.binary(BinaryOp.SUB, x, mean, out);
        b.binary(BinaryOp.MUL, out, scale, out);
        b.binary(BinaryOp.ADD, out, shift, out);
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        Tensor x = in[0];
        Shape stat = statShape(x.shape());
        int count = x.size() / x.shape().dim(1);
        Tensor invStd = ctx.saved(1);
        Tensor xhat = Normalization.savedNormalized(ctx, x);
        Tensor scratch = ctx.workspace(x.shape());
        Tensor s = ctx.workspace(stat);
        if (dIn[2] != null) {
            b.sumTo(dOut, s, false);
            b.axpby(1f, s, acc[2] ? 1f : 0f, dIn[2]);
        }
        if (dIn[1] != null) {
            b.binary(BinaryOp.MUL, dOut, xhat, scratch);
            b.sumTo(scratch, s, false);
            b.axpby(1f, s, acc[1] ? 1f : 0f, dIn[1]);
        }
        if (dIn[0] != null) {
            Tensor scale = ctx.workspace(stat);
            b.binary(BinaryOp.MUL, in[1], invStd, scale);
            b.binary(BinaryOp.MUL, dOut, scale, dOut); // dOut is this node's alone
            if (ctx.training()) {
                Normalization.throughStatistics(b, dOut, xhat, s, scratch, count);
            }
            b.axpby(1f, dOut, acc[0] ? 1f : 0f, dIn[0]);
        }
    }
}
