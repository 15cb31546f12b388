package dev.jacobian.backend;

import dev.jacobian.tensor.Shape;

/**
 * The geometry of a 2-D convolution over NCHW tensors, as {@code torch.nn.functional.conv2d} takes it: kernel
 * size, stride, zero padding and dilation per spatial axis, and the number of groups (1: every output channel sees
 * every input channel; {@code C}: depthwise). Output size per axis is
 * {@code (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1}, rounded down (PyTorch's {@code ceil_mode=False}).
 *
 * <p>It also fixes the layout of the <em>column matrix</em> that {@link Backend#im2col} writes for one group
 * {@code g}: {@code col [Cg kH kW, N OH OW]} with {@code Cg = C / groups}, row {@code (c kH + i) kW + j} and column
 * {@code (n OH + oh) OW + ow} holding {@code x[n, g Cg + c, oh sH - pH + i dH, ow sW - pW + j dW]}, or 0 where that
 * position is padding. The convolution of group {@code g} is then the matrix product
 * {@code W_g [OCg, Cg kH kW] x col}.
 *
 * @param kernelH   kernel height, at least 1
 * @param kernelW   kernel width, at least 1
 * @param strideH   vertical stride, at least 1
 * @param strideW   horizontal stride, at least 1
 * @param padH      zero padding above and below, at least 0
 * @param padW      zero padding left and right, at least 0
 * @param dilationH vertical spacing of the kernel taps, at least 1
 * @param dilationW horizontal spacing of the kernel taps, at least 1
 * @param groups    number of channel groups, at least 1
 */
public record Conv2dSpec(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
                         int dilationH, int dilationW, int groups) {

    /** Checks every field's range: an {@link IllegalArgumentException} naming the field and its value. */
    public Conv2dSpec {
        positive("kernel height", kernelH);
        positive("kernel width", kernelW);
        positive("stride", strideH);
        positive("stride", strideW);
        positive("dilation", dilationH);
        positive("dilation", dilationW);
        positive("groups", groups);
        if (padH < 0 || padW < 0 || padH > MAX_EXTENT || padW > MAX_EXTENT) {
            throw new IllegalArgumentException("conv2d: padding must be in [0, " + MAX_EXTENT + "], got " + padH + " x "
                    + padW);
        }
    }

    /** The largest kernel size, stride, dilation or padding accepted: 2^16 (sizes stay far from int overflow). */
    public static final int MAX_EXTENT = 1 << 16;

    private static void positive(String what, int v) {
        if (v < 1 || v > MAX_EXTENT) {
            throw new IllegalArgumentException("conv2d: " + what + " must be in [1, " + MAX_EXTENT + "], got " + v);
        }
    }

    /** A square kernel with equal stride and padding on both axes, dilation 1, one group. */
    public static Conv2dSpec of(int kernel, int stride, int padding) {
        return new Conv2dSpec(kernel, kernel, stride, stride, padding, padding, 1, 1, 1);
    }

    /** This geometry with dilation {@code d} on both axes. */
    public Conv2dSpec withDilation(int d) {
        return new Conv2dSpec(kernelH, kernelW, strideH, strideW, padH, padW, d, d, groups);
    }

    /** This geometry with {@code g} channel groups. */
    public Conv2dSpec withGroups(int g) {
        return new Conv2dSpec(kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, g);
    }

    /** The extent of the dilated kernel along the height: {@code dilationH (kernelH - 1) + 1}. */
    public long spanH() {
        return (long) dilationH * (kernelH - 1) + 1;
    }

    /** The extent of the dilated kernel along the width: {@code dilationW (kernelW - 1) + 1}. */
    public long spanW() {
        return (long) dilationW * (kernelW - 1) + 1;
    }

    /** Output height for an input of height {@code h} (assumes {@link #checkInput} passed). */
    public int outH(int h) {
        return (int) ((h + 2L * padH - spanH()) / strideH + 1);
    }

    /** Output width for an input of width {@code w} (assumes {@link #checkInput} passed). */
    public int outW(int w) {
        return (int) ((w + 2L * padW - spanW()) / strideW + 1);
    }

    /**
     * Checks that {@code x} is {@code [N, C, H, W]} with {@code C} divisible by the groups and that the dilated
     * kernel fits the padded input; the {@link IllegalArgumentException} names {@code op}, this geometry and the
     * shape.
     */
    public void checkInput(String op, Shape x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": expects an input [N, C, H, W] of rank 4, got " + x);
        }
        if (x.dim(1) % groups != 0) {
            throw new IllegalArgumentException(op + ": " + x.dim(1) + " input channels of " + x
                    + " are not divisible by " + groups + " groups");
        }
        if (spanH() > x.dim(2) + 2L * padH || spanW() > x.dim(3) + 2L * padW) {
            throw new IllegalArgumentException(op + ": kernel " + kernelH + "x" + kernelW
                    + (dilationH * dilationW > 1 ? " (dilated to " + spanH() + "x" + spanW() + ")" : "")
                    + " is larger than the padded input " + (x.dim(2) + 2L * padH) + "x" + (x.dim(3) + 2L * padW)
                    + " of " + x + " (padding " + padH + "x" + padW + ")");
        }
    }

    /** The column matrix of one group for input {@code x}: {@code [C/groups kH kW, N OH OW]}. */
    public Shape columnShape(String op, Shape x) {
        checkInput(op, x);
        long rows = (long) x.dim(1) / groups * kernelH * kernelW;
        long cols = (long) x.dim(0) * outH(x.dim(2)) * outW(x.dim(3));
        if (rows * cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": the column matrix [" + rows + ", " + cols + "] of " + x
                    + " has more than 2^31 - 1 elements; use a smaller batch");
        }
        return Shape.matrix((int) rows, (int) cols);
    }

    /** The output shape {@code [N, outChannels, OH, OW]} for input {@code x}. */
    public Shape outputShape(String op, Shape x, int outChannels) {
        checkInput(op, x);
        return Shape.of(x.dim(0), outChannels, outH(x.dim(2)), outW(x.dim(3)));
    }

    @Override
    public String toString() {
        return "kernel " + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW + ", padding " + padH + "x"
                + padW + ", dilation " + dilationH + "x" + dilationW + ", groups " + groups;
    }
}
