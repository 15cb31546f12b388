package dev.jacobian.backend;

import dev.jacobian.tensor.Shape;

/**
 * A 2-D pooling window over NCHW tensors, as {@code torch.nn.functional.max_pool2d} and {@code avg_pool2d} take
 * it ({@code ceil_mode=False}, dilation 1): output size per axis {@code (in + 2 pad - kernel) / stride + 1},
 * rounded down. Padding is implicit: it never wins a maximum, and it counts as zeros in an average when
 * {@code countIncludePad} holds (PyTorch's default), else the average is over the window's real elements only.
 * As in PyTorch, padding may be at most half the kernel, so every window holds at least one real element.
 *
 * @param kind            {@link Kind#MAX} or {@link Kind#AVG}
 * @param kernelH         window height, at least 1
 * @param kernelW         window width, at least 1
 * @param strideH         vertical stride, at least 1
 * @param strideW         horizontal stride, at least 1
 * @param padH            padding above and below, in {@code [0, kernelH / 2]}
 * @param padW            padding left and right, in {@code [0, kernelW / 2]}
 * @param countIncludePad whether an average divides by the whole window, padding included (ignored by max)
 */
public record Pool2dSpec(Kind kind, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
                         boolean countIncludePad) {

    /** What a window reduces to. */
    public enum Kind {
        /**
         * The largest element (a NaN wins, as in PyTorch); the gradient goes to the first maximal element in
         * row-major window order, or to the last NaN when the window holds any (each NaN takes over, as in PyTorch).
         */
        MAX,
        /** The mean of the window; the gradient is spread evenly over it. */
        AVG
    }

    /** Checks every field's range: an {@link IllegalArgumentException} naming the field and its value. */
    public Pool2dSpec {
        if (kind == null) {
            throw new IllegalArgumentException("pool2d: kind must not be null");
        }
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException(name(kind) + ": kernel and stride must be at least 1, got kernel "
                    + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW);
        }
        if (padH < 0 || padW < 0 || padH > kernelH / 2 || padW > kernelW / 2) {
            throw new IllegalArgumentException(name(kind) + ": padding must be in [0, kernel / 2], got padding "
                    + padH + "x" + padW + " for kernel " + kernelH + "x" + kernelW);
        }
    }

    private static String name(Kind kind) {
        return kind == Kind.MAX ? "max_pool2d" : "avg_pool2d";
    }

    /** The operation's name in messages: {@code "max_pool2d"} or {@code "avg_pool2d"}. */
    public String name() {
        return name(kind);
    }

    /** Max pooling with a square window, equal stride and padding on both axes. */
    public static Pool2dSpec max(int kernel, int stride, int padding) {
        return new Pool2dSpec(Kind.MAX, kernel, kernel, stride, stride, padding, padding, true);
    }

    /** Average pooling with a square window, equal stride and padding, padding counted (PyTorch's default). */
    public static Pool2dSpec avg(int kernel, int stride, int padding) {
        return new Pool2dSpec(Kind.AVG, kernel, kernel, stride, stride, padding, padding, true);
    }

    /** This window with {@code countIncludePad} set to {@code include}. */
    public Pool2dSpec withCountIncludePad(boolean include) {
        return new Pool2dSpec(kind, kernelH, kernelW, strideH, strideW, padH, padW, include);
    }

    /** Output height for an input of height {@code h} (assumes {@link #checkInput} passed). */
    public int outH(int h) {
        return (int) ((h + 2L * padH - kernelH) / strideH + 1);
    }

    /** Output width for an input of width {@code w} (assumes {@link #checkInput} passed). */
    public int outW(int w) {
        return (int) ((w + 2L * padW - kernelW) / strideW + 1);
    }

    /**
     * Checks that {@code x} is {@code [N, C, H, W]} and that the window fits the padded input; the
     * {@link IllegalArgumentException} names {@code op}, the window and the shape.
     */
    public void checkInput(String op, Shape x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": expects an input [N, C, H, W] of rank 4, got " + x);
        }
        if (kernelH > x.dim(2) + 2L * padH || kernelW > x.dim(3) + 2L * padW) {
            throw new IllegalArgumentException(op + ": window " + kernelH + "x" + kernelW
                    + " is larger than the padded input " + (x.dim(2) + 2L * padH) + "x" + (x.dim(3) + 2L * padW)
                    + " of " + x + " (padding " + padH + "x" + padW + ")");
        }
    }

    /** The output shape {@code [N, C, OH, OW]} for input {@code x}. */
    public Shape outputShape(String op, Shape x) {
        checkInput(op, x);
        return Shape.of(x.dim(0), x.dim(1), outH(x.dim(2)), outW(x.dim(3)));
    }

    @Override
    public String toString() {
        return name() + " window " + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW + ", padding "
                + padH + "x" + padW + (kind == Kind.AVG && !countIncludePad ? ", padding not counted" : "");
    }
}
