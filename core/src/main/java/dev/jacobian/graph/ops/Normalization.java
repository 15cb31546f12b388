package dev.jacobian.graph.ops;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.graph.OpContext;
import dev.jacobian.tensor.Tensor;

/**
 * The statistics and the gradient shared by {@link BatchNorm} and {@link LayerNorm}, composed from the
 * broadcasting primitives: a statistic tensor ({@code stat}) has {@code x}'s rank with 1 along the dimensions it
 * is taken over, so {@link Backend#sumTo} computes it and {@link Backend#binary} broadcasts it back.
 */
final class Normalization {
    private Normalization() {
    }

    /** Checks {@code eps > 0}, naming the operation {@code op}, the parameter and the value. */
    static void checkEps(String op, float eps) {
        if (!(eps > 0f)) {
            throw new IllegalArgumentException(op + ": eps must be positive, got eps = " + eps);
        }
    }

    /**
     * {@code mean} and biased {@code var} of {@code x} over the {@code count} positions that share each statistic;
     * {@code scratch} ({@code x}'s shape) is overwritten. Two passes (centred, then squared) for accuracy.
     */
    static void meanAndVariance(Backend b, Tensor x, Tensor mean, Tensor var, Tensor scratch, int count) {
        b.sumTo(x, mean, false);
        b.unary(UnaryOp.MUL_SCALAR, 1f / count, 0f, mean, mean);
        b.binary(BinaryOp.SUB, x, mean, scratch);
        b.unary(UnaryOp.SQUARE, 0f, 0f, scratch, scratch);
        b.sumTo(scratch, var, false);
        b.unary(UnaryOp.MUL_SCALAR, 1f / count, 0f, var, var);
    }

    /** {@code invStd = 1 / sqrt(var + eps)}; {@code invStd} may be {@code var}. */
    static void inverseStd(Backend b, Tensor var, float eps, Tensor invStd) {
        b.unary(UnaryOp.ADD_SCALAR, eps, 0f, var, invStd);
        b.unary(UnaryOp.SQRT, 0f, 0f, invStd, invStd);
        b.unary(UnaryOp.RECIPROCAL, 0f, 0f, invStd, invStd);
    }

    /** {@code xhat = (x - mean) * invStd}. */
    static void normalized(Backend b, Tensor x, Tensor mean, Tensor invStd, Tensor xhat) {
        b.binary(BinaryOp.SUB, x, mean, xhat);
        b.binary(BinaryOp.MUL, xhat, invStd, xhat);
    }

    /**
     * A backward pass's normalized input {@code xhat}, recomputed into the next workspace tensor ({@code x}'s
     * shape) from {@code x} and the {@code mean} and {@code invStd} its forward kept as workspace 0 and 1.
     */
    static Tensor savedNormalized(OpContext ctx, Tensor x) {
        Tensor xhat = ctx.workspace(x.shape());
        normalized(ctx.backend(), x, ctx.saved(0), ctx.saved(1), xhat);
        return xhat;
    }

    /**
     * The gradient through the statistics (Ioffe &amp; Szegedy 2015): {@code g := g - mean(g) - xhat * mean(g * xhat)},
     * the means over the {@code count} positions sharing a statistic. {@code g} is the upstream gradient already
     * multiplied by the affine scale (and, for batch norm, by {@code invStd}); {@code xhat} and {@code scratch}
     * ({@code x}'s shape) and {@code stat} are overwritten.
     */
    static void throughStatistics(Backend b, Tensor g, Tensor xhat, Tensor stat, Tensor scratch, int count) {
        b.binary(BinaryOp.MUL, g, xhat, scratch);
        b.sumTo(scratch, stat, false);
        b.unary(UnaryOp.MUL_SCALAR, 1f / count, 0f, stat, stat);
        b.binary(BinaryOp.MUL, xhat, stat, xhat);
        b.sumTo(g, stat, false);
        b.unary(UnaryOp.MUL_SCALAR, 1f / count, 0f, stat, stat);
        b.binary(BinaryOp.SUB, g, stat, g);
        b.binary(BinaryOp.SUB, g, xhat, g);
    }
}
