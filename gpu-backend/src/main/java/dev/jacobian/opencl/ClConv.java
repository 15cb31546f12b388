package dev.jacobian.opencl;

import static dev.jacobian.opencl.ClBackend.buf;

import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;

/**
 * Host side of {@code conv.cl}: permute, im2col and its adjoint col2im, 2-D pooling and its backward. Every
 * primitive is one 1-D launch with one work-item per element of the tensor it writes; the backward ones
 * (col2im, pool2d backward) gather, so they need no atomics and sum in a fixed order. Shapes and geometry go
 * to the kernels as scalar and vector ({@code int2}, {@code int4}, {@code int8}) arguments, so a launch
 * allocates no device memory. Everything is enqueued without waiting.
 */
final class ClConv {
    private final ClKernels1d kernels;

    /**
     * The host side of {@code conv.cl} on {@code cl}, its programs built through {@code cache}.
     *
     * @param cl    the device context the kernels are enqueued on
     * @param cache the program cache of that context
     */
    ClConv(ClContext cl, ClProgramCache cache) {
        this.kernels = ClKernels1d.of(cl, cache, KernelSources.CONV);
    }

    /**
     * {@code y = x} with its axes reordered ({@code y.dim(i) = x.dim(axes[i])}). Axes of size 1 are dropped and
     * neighbouring axes of {@code y} that are contiguous in {@code x} are merged before the launch, so the kernel
     * indexes over as few dimensions as the permutation allows.
     *
     * @param x    the input, any rank up to {@link Shape#MAX_RANK}
     * @param axes a permutation of {@code 0 .. rank-1}
     * @param y    the output, not overlapping {@code x}
     */
    void permute(Tensor x, int[] axes, Tensor y) {
        int rank = x.rank();
        int[] xStrides = x.shape().strides();
        int[] dims = new int[Shape.MAX_RANK];
        int[] strides = new int[Shape.MAX_RANK];
        int used = 0; // merged dimensions of y, outermost first, in dims[0 .. used)
        for (int k = 0; k < rank; k++) {
            int d = x.shape().dim(axes[k]);
            int s = xStrides[axes[k]];
            if (d == 1) {
                continue;
            }
            if (used > 0 && strides[used - 1] == s * d) {
                dims[used - 1] *= d; // the previous axis of y steps over whole runs of this one in x
                strides[used - 1] = s;
            } else {
                dims[used] = d;
                strides[used] = s;
                used++;
            }
        }
        if (used == 0) { // every axis has size 1 (or rank 0): one element
            dims[0] = 1;
            strides[0] = 1;
            used = 1;
        }
        int[] dims8 = new int[8];
        int[] strides8 = new int[8];
        int shift = Shape.MAX_RANK - used; // right-align, as the kernel reads them
        for (int k = 0; k < used; k++) {
            dims8[shift + k] = dims[k];
            strides8[shift + k] = strides[k];
        }
        for (int k = 0; k < shift; k++) {
            dims8[k] = 1;
        }
        int n = y.size();
        kernels.run("permute", n, n, used, dims8, strides8, buf(x), buf(y));
    }

    /**
     * The column matrix of group {@code group} of {@code x [N, C, H, W]} into {@code col}, as {@link Conv2dSpec}
     * lays it out (0 on padding).
     *
     * @param spec  the convolution geometry ({@link Conv2dSpec#checkInput} passed)
     * @param group the channel group, in {@code [0, spec.groups())}
     * @param x     the input image batch
     * @param col   the column matrix {@code [C/groups kH kW, N OH OW]}, not overlapping {@code x}
     */
    void im2col(Conv2dSpec spec, int group, Tensor x, Tensor col) {
        Shape s = x.shape();
        int n = col.size();
        kernels.run("im2col", n, n, col.cols(), group, image(spec, s), output(spec, s), geometry(spec), buf(x),
                buf(col));
    }

    /**
     * The adjoint of {@link #im2col}: {@code dx (+)=} the column entries of {@code col} summed at the input
     * positions they were read from, in the channels of group {@code group} only.
     *
     * @param spec       the convolution geometry
     * @param group      the channel group, in {@code [0, spec.groups())}
     * @param col        the column matrix of that group
     * @param dx         the image-shaped gradient, not overlapping {@code col}
     * @param accumulate whether to add to the group's channels of {@code dx} rather than overwrite them
     */
    void col2im(Conv2dSpec spec, int group, Tensor col, Tensor dx, boolean accumulate) {
        Shape s = dx.shape();
        int n = s.dim(0) * (s.dim(1) / spec.groups()) * s.dim(2) * s.dim(3);
        kernels.run("col2im", n, n, col.cols(), group, image(spec, s), output(spec, s), geometry(spec), buf(col),
                buf(dx), accumulate ? 1 : 0);
    }

    /**
     * 2-D pooling of {@code x [N, C, H, W]} into {@code y [N, C, OH, OW]}.
     *
     * @param spec the window ({@link Pool2dSpec#checkInput} passed)
     * @param x    the input
     * @param y    the pooled output, not overlapping {@code x}
     */
    void pool2d(Pool2dSpec spec, Tensor x, Tensor y) {
        int n = y.size();
        kernels.run("pool2d", n, n, planes(spec, x.shape()), geometry(spec), spec.kind() == Pool2dSpec.Kind.MAX ? 1 : 0,
                spec.countIncludePad() ? 1 : 0, buf(x), buf(y));
    }

    /**
     * The gradient of {@link #pool2d}: {@code dx (+)=} {@code dy} routed to each window's first maximum (max) or
     * spread evenly over the window (average).
     *
     * @param spec       the window
     * @param x          the forward input
     * @param dy         the gradient of the pooled output
     * @param dx         the gradient of the input, {@code x}'s shape, overlapping neither {@code x} nor {@code dy}
     * @param accumulate whether to add to {@code dx} rather than overwrite it
     */
    void pool2dBackward(Pool2dSpec spec, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        int n = dx.size();
        kernels.run("pool2d_backward", n, n, planes(spec, x.shape()), geometry(spec),
                spec.kind() == Pool2dSpec.Kind.MAX ? 1 : 0, spec.countIncludePad() ? 1 : 0, buf(x), buf(dy), buf(dx),
                accumulate ? 1 : 0);
    }

    /** {@code (C, H, W, C / groups)} of an image batch, the {@code int4 img} of im2col and col2im. */
    private static int[] image(Conv2dSpec spec, Shape x) {
        return new int[] {x.dim(1), x.dim(2), x.dim(3), x.dim(1) / spec.groups()};
    }

    /** {@code (OH, OW)}, the {@code int2 out} of im2col and col2im. */
    private static int[] output(Conv2dSpec spec, Shape x) {
        return new int[] {spec.outH(x.dim(2)), spec.outW(x.dim(3))};
    }

    /** {@code (kH, kW, sH, sW, pH, pW, dH, dW)}, the {@code int8 geo} of a convolution. */
    private static int[] geometry(Conv2dSpec s) {
        return new int[] {s.kernelH(), s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), s.dilationH(),
                s.dilationW()};
    }

    /** {@code (kH, kW, sH, sW, pH, pW, 1, 1)}, the {@code int8 geo} of a pooling window. */
    private static int[] geometry(Pool2dSpec s) {
        return new int[] {s.kernelH(), s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), 1, 1};
    }

    /** {@code (H, W, OH, OW)}, the {@code int4 img} of the pooling kernels. */
    private static int[] planes(Pool2dSpec spec, Shape x) {
        return new int[] {x.dim(2), x.dim(3), spec.outH(x.dim(2)), spec.outW(x.dim(3))};
    }
}
