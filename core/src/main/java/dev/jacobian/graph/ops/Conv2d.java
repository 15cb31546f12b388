package dev.jacobian.graph.ops;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.Reduction;
import dev.jacobian.graph.OpContext;
import dev.jacobian.graph.Operation;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;

/**
 * 2-D convolution (cross-correlation, as {@code torch.nn.functional.conv2d}) of {@code x [N, C, H, W]} with
 * weights {@code w [OC, C/groups, kH, kW]} (PyTorch's layout) and an optional bias {@code [OC]}, giving
 * {@code [N, OC, OH, OW]}; stride, zero padding, dilation and groups as {@link Conv2dSpec} has them.
 *
 * <p>Lowered to the backend's GEMM: {@link Backend#im2col} writes each group's column matrix
 * {@code col [C/groups kH kW, N OH OW]} into workspace, one GEMM per group multiplies the group's weights by it
 * into {@code [OC, N, OH OW]}, and {@link Backend#permute} moves the channels behind the batch. With one group the
 * column matrix stays in the forward workspace for the backward ({@link OpContext#saved}); with several it is
 * rebuilt per group. Backward: {@code dW = dY col^T}, {@code dcol = W^T dY}, then {@link Backend#col2im} (the
 * adjoint of im2col) into {@code dx}, and the bias gradient is a row sum of {@code dY} as {@code [OC, N OH OW]}.
 * No device memory is allocated after the first step (workspace is reused).
 *
 * <p>Where the backend has a direct convolution for the geometry ({@link Backend#directConv2d}, e.g. the CPU
 * backend's Winograd kernels for 3x3 stride-1 layers), forward and backward call {@link Backend#conv2d} and its two
 * gradients instead, with no column matrix at all; the backward then reads the input.
 *
 * @param spec kernel size, stride, padding, dilation and groups
 */
public record Conv2d(Conv2dSpec spec) implements Operation {
    /** Checks that {@code spec} is present. */
    public Conv2d {
        if (spec == null) {
            throw new IllegalArgumentException("conv2d: spec must not be null");
        }
    }

    @Override
    public String name() {
        return "conv2d";
    }

    @Override
    public Shape outputShape(List<Shape> in) {
        if (in.size() != 2 && in.size() != 3) {
            throw new IllegalArgumentException(name() + ": expects inputs (x, weight) or (x, weight, bias), got " + in);
        }
        Shape x = in.get(0);
        Shape w = in.get(1);
        spec.checkInput(name(), x);
        if (w.rank() != 4 || !w.equals(Shape.of(w.dim(0), x.dim(1) / spec.groups(), spec.kernelH(), spec.kernelW()))) {
            throw new IllegalArgumentException(name() + ": weight must be [out_channels, " + x.dim(1) / spec.groups()
                    + ", " + spec.kernelH() + ", " + spec.kernelW() + "] for input " + x + " (" + spec + "), got " + w);
        }
        int oc = w.dim(0);
        if (oc % spec.groups() != 0) {
            throw new IllegalArgumentException(name() + ": " + oc + " output channels of weight " + w
                    + " are not divisible by " + spec.groups() + " groups");
        }
        if (in.size() == 3 && !in.get(2).equals(Shape.of(oc))) {
            throw new IllegalArgumentException(name() + ": bias must be " + Shape.of(oc) + " for weight " + w + ", got "
                    + in.get(2));
        }
        spec.columnShape(name(), x); // rejects a column matrix too large to index
        return spec.outputShape(name(), x, oc);
    }

    /**
     * Backward reads the weights, and the input: a direct convolution's weight gradient reads it, as does a layer of
     * several groups that rebuilds its column matrices (only a one-group layer lowered to GEMM could do without).
     */
    @Override
    public boolean backwardReadsInput(int i) {
        return i == 0 || i == 1;
    }

    private boolean direct(Backend b, Tensor x, Tensor w) {
        return b.directConv2d(spec, x.shape().dim(1), w.shape().dim(0));
    }

    private static void addBias(Backend b, Tensor out, Tensor bias, int n, int oc, int plane) {
        try (Tensor out3 = out.reshape(n, oc, plane); Tensor bias2 = bias.reshape(oc, 1)) {
            b.binary(BinaryOp.ADD, out3, bias2, out3);
        }
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    @Override
    public void forward(OpContext ctx, Tensor[] in, Tensor out) {
        Backend b = ctx.backend();
        Tensor x = in[0];
        Tensor w = in[1];
        if (direct(b, x, w)) {
            b.conv2d(spec, x, w, out);
            if (in.length == 3) {
                addBias(b, out, in[2], out.shape().dim(0), out.shape().dim(1), out.shape().dim(2) * out.shape().dim(3));
            }
            return;
        }
        // the GEMM's sizes: col [k = C/groups kH kW, p = N OH OW], oc output channels, planes of OH OW
        Shape colShape = spec.columnShape(name(), x.shape());
        int k = colShape.rows(), p = colShape.cols(), oc = w.shape().dim(0), n = x.shape().dim(0), plane = p / n;
        Tensor col = ctx.workspace(colShape);
        Tensor yt = ctx.workspace(Shape.of(oc, n, plane));
        try (Tensor yt2 = yt.reshape(oc, p)) {
            if (spec.groups() == 1) {
                b.im2col(spec, 0, x, col);
                try (Tensor w2 = w.reshape(oc, k)) {
                    b.gemm(false, false, 1f, w2, col, 0f, yt2);
                }
            } else {
                int ocg = oc / spec.groups();
                Tensor wg = ctx.workspace(Shape.matrix(ocg, k));
                Tensor ytg = ctx.workspace(Shape.matrix(ocg, p));
                for (int g = 0; g < spec.groups(); g++) {
                    b.im2col(spec, g, x, col);
                    b.copy(w, g * ocg * k, wg, 0, ocg * k);
                    b.gemm(false, false, 1f, wg, col, 0f, ytg);
                    b.copy(ytg, 0, yt, g * ocg * p, ocg * p);
                }
            }
        }
        try (Tensor out3 = out.reshape(n, oc, plane)) {
            b.permute(yt, new int[] {1, 0, 2}, out3);
        }
        if (in.length == 3) {
            addBias(b, out, in[2], n, oc, plane);
        }
    }

    @Override
    public void backward(OpContext ctx, Tensor[] in, Tensor out, Tensor dOut, Tensor[] dIn, boolean[] acc) {
        Backend b = ctx.backend();
        Tensor x = in[0];
        Tensor w = in[1];
        if (direct(b, x, w)) {
            if (in.length == 3 && dIn[2] != null) {
                try (Tensor db = dIn[2].reshape(1, w.shape().dim(0), 1, 1)) {
                    b.sumTo(dOut, db, acc[2]);
                }
            }
            if (dIn[1] != null) {
                b.conv2dBackwardWeights(spec, x, dOut, dIn[1], acc[1]);
            }
            if (dIn[0] != null) {
                b.conv2dBackwardData(spec, dOut, w, dIn[0], acc[0]);
            }
            return;
        }
        // the GEMM's sizes: col [k = C/groups kH kW, p = N OH OW], oc output channels, planes of OH OW
        Shape colShape = spec.columnShape(name(), x.shape());
        int k = colShape.rows(), p = colShape.cols(), oc = w.shape().dim(0), n = x.shape().dim(0), plane = p / n;
        Tensor col = ctx.saved(0);
        Tensor dyt = ctx.workspace(Shape.of(oc, n, plane));
        try (Tensor dOut3 = dOut.reshape(n, oc, plane)) {
            b.permute(dOut3, new int[] {1, 0, 2}, dyt);
        }
        try (Tensor dyt2 = dyt.reshape(oc, p)) {
            if (in.length == 3 && dIn[2] != null) {
                try (Tensor db = dIn[2].reshape(oc, 1)) {
                    b.reduce(Reduction.SUM, Axis.COLS, dyt2, db, acc[2]);
                }
            }
            if (spec.groups() == 1) {
                if (dIn[1] != null) {
                    try (Tensor dw = dIn[1].reshape(oc, k)) {
                        b.gemm(false, true, 1f, dyt2, col, acc[1] ? 1f : 0f, dw);
                    }
                }
                if (dIn[0] != null) {
                    Tensor dcol = ctx.workspace(colShape);
                    try (Tensor w2 = w.reshape(oc, k)) {
                        b.gemm(true, false, 1f, w2, dyt2, 0f, dcol);
                    }
                    b.col2im(spec, 0, dcol, dIn[0], acc[0]);
                }
                return;
            }
            int ocg = oc / spec.groups();
            Tensor dytg = ctx.workspace(Shape.matrix(ocg, p));
            Tensor wg = ctx.workspace(Shape.matrix(ocg, k));
            Tensor dwg = ctx.workspace(Shape.matrix(ocg, k));
            Tensor dwAll = ctx.workspace(Shape.matrix(oc, k));
            Tensor dcol = ctx.workspace(colShape);
            for (int g = 0; g < spec.groups(); g++) {
                b.copy(dyt, g * ocg * p, dytg, 0, ocg * p);
                if (dIn[1] != null) {
                    b.im2col(spec, g, x, col); // the forward's column matrix is the last group's
                    b.gemm(false, true, 1f, dytg, col, 0f, dwg);
                    b.copy(dwg, 0, dwAll, g * ocg * k, ocg * k);
                }
                if (dIn[0] != null) {
                    b.copy(w, g * ocg * k, wg, 0, ocg * k);
                    b.gemm(true, false, 1f, wg, dytg, 0f, dcol);
                    b.col2im(spec, g, dcol, dIn[0], acc[0]);
                }
            }
            if (dIn[1] != null) {
                try (Tensor dw = dIn[1].reshape(oc, k)) {
                    b.axpby(1f, dwAll, acc[1] ? 1f : 0f, dw);
                }
            }
        }
    }
}
