/*
 * conv.cl — the layout, convolution and pooling primitives of convolutional networks: permute (axes
 * reordered), im2col and its adjoint col2im (dev.jacobian.backend.Conv2dSpec: stride, padding, dilation,
 * groups), pool2d and its backward (dev.jacobian.backend.Pool2dSpec: max, average with or without the
 * padding counted).
 *
 * Layout: float32, row-major, contiguous; images are NCHW, x[((n C + c) H + h) W + w]. The column matrix of
 * group g is col [Cg kH kW, N OH OW] with Cg = C / groups: row (c kH + ki) kW + kj, column (n OH + oh) OW + ow
 * holds x[n, g Cg + c, oh sH - pH + ki dH, ow sW - pW + kj dW], or 0 where that position is padding.
 * Geometry goes to the kernels as an int8 `geo` = (kH, kW, sH, sW, pH, pW, dH, dW) (pooling: dH = dW = 1).
 *
 * Index order: every kernel is 1-D over a flat index guarded by `count` (the host rounds the global size up
 * to whole work-groups), with consecutive work-items on consecutive elements of the tensor they write, so
 * writes coalesce.
 *   permute          one work-item per element of y; the source index from y's coordinates and x's strides
 *                    (the host merges axes that stay adjacent and drops axes of size 1 first, so most
 *                    permutations index over 2 or 3 dimensions)
 *   im2col           one work-item per entry (row, column) of the column matrix, column fastest; reads are
 *                    strided by the stride; padding reads nothing and writes 0
 *   col2im           a gather without atomics: one work-item per element of dx in the group's channels,
 *                    summing the column entries read from it over the kernel taps (ki, kj) in increasing
 *                    order (deterministic); other channels are not touched
 *   pool2d           one work-item per element of y, scanning its window row-major
 *   pool2d_backward  a gather: one work-item per element of dx, looping over the windows that contain it
 *                    (oh, then ow, increasing); MAX recomputes each window's argmax
 * MAX takes the first maximum in row-major window order, with the scalar reference's rule: best starts at
 * -INFINITY, the argmax at the first real element, and an element replaces it when v > best or v is NaN (so
 * a NaN wins, and of several NaNs the last). Padding never takes part in a maximum. AVG divides the float sum by kH kW (countIncludePad)
 * or by the number of real elements in the window.
 * All index arithmetic is in int: the host checks every tensor, the column matrix included, has fewer than
 * 2^31 elements. No work-item reads outside its tensors, on padding or off the end of the range.
 * accumulate != 0 means out += result; accumulate == 0 means out = result (the old value is not read).
 * Floating-point contraction is off so that sums and divisions round as in the scalar reference.
 *
 * Tuning constants: none (the host picks the work-group size).
 */
#pragma OPENCL FP_CONTRACT OFF

#define RANK 6

#define STORE(out, i, v, acc) ((out)[i] = (acc) ? (out)[i] + (v) : (v))

/* A private copy of the first RANK components of an int8 argument (indexable in a loop). */
#define UNPACK(arr, v) const int arr[RANK] = {(v).s0, (v).s1, (v).s2, (v).s3, (v).s4, (v).s5}

/*
 * y = x with its axes reordered. dims8: y's dimensions, right-aligned (the last `rank` components of the
 * first RANK are used, 1 <= rank <= RANK); strides8: for each of those dimensions, the stride of x in
 * elements along the axis of x it comes from. count = y's size. y does not overlap x.
 */
__kernel void permute(const int count, const int rank, const int8 dims8, const int8 strides8,
                      const __global float* x, __global float* y) {
    const size_t gid = get_global_id(0);
    if (gid < (size_t) count) {
        const int i = (int) gid;
        UNPACK(dims, dims8);
        UNPACK(st, strides8);
        const int first = RANK - rank;
        int src = 0;
        int rem = i;
        for (int d = RANK - 1; d > first; d--) {
            src += (rem % dims[d]) * st[d];
            rem /= dims[d];
        }
        y[i] = x[src + rem * st[first]];
    }
}

/*
 * The column matrix of group `group` of x [n, c, h, w]: col [c / groups kH kW, cols = n oh ow], count = its
 * size. `img` = (c, h, w, c / groups), `out` = (oh, ow). col does not overlap x.
 */
__kernel void im2col(const int count, const int cols, const int group, const int4 img, const int2 out,
                     const int8 geo, const __global float* x, __global float* col) {
    const size_t gid = get_global_id(0);
    if (gid < (size_t) count) {
        const int i = (int) gid;
        const int oh_n = out.s0, ow_n = out.s1;
        const int row = i / cols;
        const int column = i - row * cols;
        const int ow = column % ow_n;
        const int t = column / ow_n;
        const int oh = t % oh_n;
        const int n = t / oh_n;
        const int kj = row % geo.s1;
        const int r = row / geo.s1;
        const int ki = r % geo.s0;
        const int c = r / geo.s0;
        const int ih = oh * geo.s2 - geo.s4 + ki * geo.s6;
        const int iw = ow * geo.s3 - geo.s5 + kj * geo.s7;
        float v = 0.0f;
        if (ih >= 0 && ih < img.s1 && iw >= 0 && iw < img.s2) {
            v = x[((n * img.s0 + group * img.s3 + c) * img.s1 + ih) * img.s2 + iw];
        }
        col[i] = v;
    }
}

/*
 * The adjoint of im2col: dx[n, group Cg + c, ih, iw] (+)= the sum of the entries of col read from there.
 * count = n Cg h w (the group's part of dx, walked as [n, Cg, h, w]); cols = n oh ow, the width of col;
 * `img` = (c, h, w, Cg), `out` = (oh, ow). Channels of other groups are not touched. dx does not overlap col.
 */
__kernel void col2im(const int count, const int cols, const int group, const int4 img, const int2 out,
                     const int8 geo, const __global float* col, __global float* dx, const int accumulate) {
    const size_t gid = get_global_id(0);
    if (gid < (size_t) count) {
        const int i = (int) gid;
        const int h = img.s1, w = img.s2, cg = img.s3;
        const int oh_n = out.s0, ow_n = out.s1;
        const int kh = geo.s0, kw = geo.s1, sh = geo.s2, sw = geo.s3, ph = geo.s4, pw = geo.s5;
        const int dh = geo.s6, dw = geo.s7;
        const int iw = i % w;
        int t = i / w;
        const int ih = t % h;
        t /= h;
        const int c = t % cg;
        const int n = t / cg;
        float sum = 0.0f;
        for (int ki = 0; ki < kh; ki++) {
            const int th = ih + ph - ki * dh; /* = oh sH for the window that reads (ih, iw) with tap ki */
            if (th < 0) {
                break; /* th only decreases with ki */
            }
            if (th % sh != 0 || th / sh >= oh_n) {
                continue;
            }
            const int oh = th / sh;
            for (int kj = 0; kj < kw; kj++) {
                const int tw = iw + pw - kj * dw;
                if (tw < 0) {
                    break;
                }
                if (tw % sw != 0 || tw / sw >= ow_n) {
                    continue;
                }
                const int ow = tw / sw;
                sum += col[((c * kh + ki) * kw + kj) * cols + (n * oh_n + oh) * ow_n + ow];
            }
        }
        STORE(dx, ((n * img.s0 + group * cg + c) * h + ih) * w + iw, sum, accumulate);
    }
}

/* The real rows [*lo, *hi) of the window starting at `start` of length `k` on an axis of length `len`. */
inline void window_range(const int start, const int k, const int len, int* lo, int* hi) {
    *lo = max(start, 0);
    *hi = min(start + k, len);
}

/*
 * The flat offset, within its plane of width w, of the first maximum of the window rows [h0, h1) x columns
 * [w0, w1) (non-empty) of `plane`, scanned row-major: best starts at -INFINITY, the argmax at the first
 * element, and v replaces it when v > best or v is NaN.
 */
inline int window_argmax(const __global float* plane, const int w, const int h0, const int h1, const int w0,
                         const int w1, float* value) {
    float best = -INFINITY;
    int arg = h0 * w + w0;
    for (int ih = h0; ih < h1; ih++) {
        for (int iw = w0; iw < w1; iw++) {
            const float v = plane[ih * w + iw];
            if (v > best || isnan(v)) {
                best = v;
                arg = ih * w + iw;
            }
        }
    }
    *value = best;
    return arg;
}

/*
 * y [n, c, oh, ow] = the pooling of x [n, c, h, w]; count = y's size. `img` = (h, w, oh, ow); geo's dH, dW
 * are unused. is_max != 0: MAX, else AVG (count_pad != 0: divide by kH kW). y does not overlap x.
 */
__kernel void pool2d(const int count, const int4 img, const int8 geo, const int is_max,
                     const int count_pad, const __global float* x, __global float* y) {
    const size_t gid = get_global_id(0);
    if (gid < (size_t) count) {
        const int i = (int) gid;
        const int h = img.s0, w = img.s1, oh_n = img.s2, ow_n = img.s3;
        const int ow = i % ow_n;
        const int t = i / ow_n;
        const int oh = t % oh_n;
        const int p = t / oh_n;
        int h0, h1, w0, w1;
        window_range(oh * geo.s2 - geo.s4, geo.s0, h, &h0, &h1);
        window_range(ow * geo.s3 - geo.s5, geo.s1, w, &w0, &w1);
        const __global float* plane = x + p * h * w;
        float result;
        if (is_max) {
            window_argmax(plane, w, h0, h1, w0, w1, &result);
        } else {
            float sum = 0.0f;
            for (int ih = h0; ih < h1; ih++) {
                for (int iw = w0; iw < w1; iw++) {
                    sum += plane[ih * w + iw];
                }
            }
            const int divisor = count_pad ? geo.s0 * geo.s1 : max((h1 - h0) * (w1 - w0), 1);
            result = sum / (float) divisor;
        }
        y[i] = result;
    }
}

/*
 * dx [n, c, h, w] (+)= the gradient of pool2d given dy [n, c, oh, ow]: for each window containing the
 * element, dy if it is that window's first maximum (MAX), dy / divisor (AVG). count = dx's size; `img` =
 * (h, w, oh, ow). dx overlaps neither x nor dy.
 */
__kernel void pool2d_backward(const int count, const int4 img, const int8 geo, const int is_max,
                              const int count_pad, const __global float* x, const __global float* dy,
                              __global float* dx, const int accumulate) {
    const size_t gid = get_global_id(0);
    if (gid < (size_t) count) {
        const int i = (int) gid;
        const int h = img.s0, w = img.s1, oh_n = img.s2, ow_n = img.s3;
        const int kh = geo.s0, kw = geo.s1, sh = geo.s2, sw = geo.s3, ph = geo.s4, pw = geo.s5;
        const int iw = i % w;
        const int t = i / w;
        const int ih = t % h;
        const int p = t / h;
        /* windows oh with oh sH - pH <= ih <= oh sH - pH + kH - 1, within [0, OH) */
        const int ah = ih + ph - kh + 1;
        const int oh_lo = ah <= 0 ? 0 : (ah + sh - 1) / sh;
        const int oh_hi = min(oh_n - 1, (ih + ph) / sh);
        const int aw = iw + pw - kw + 1;
        const int ow_lo = aw <= 0 ? 0 : (aw + sw - 1) / sw;
        const int ow_hi = min(ow_n - 1, (iw + pw) / sw);
        const __global float* plane = x + p * h * w;
        const __global float* g = dy + p * oh_n * ow_n;
        const int self = ih * w + iw;
        float sum = 0.0f;
        for (int oh = oh_lo; oh <= oh_hi; oh++) {
            int h0, h1;
            window_range(oh * sh - ph, kh, h, &h0, &h1);
            for (int ow = ow_lo; ow <= ow_hi; ow++) {
                int w0, w1;
                window_range(ow * sw - pw, kw, w, &w0, &w1);
                const float gv = g[oh * ow_n + ow];
                if (is_max) {
                    float best;
                    if (window_argmax(plane, w, h0, h1, w0, w1, &best) == self) {
                        sum += gv;
                    }
                } else {
                    const int divisor = count_pad ? kh * kw : (h1 - h0) * (w1 - w0);
                    sum += gv / (float) divisor;
                }
            }
        }
        STORE(dx, i, sum, accumulate);
    }
}
