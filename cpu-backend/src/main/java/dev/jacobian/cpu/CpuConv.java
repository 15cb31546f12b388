package dev.jacobian.cpu;

import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.Pool2dSpec;
import java.util.Arrays;

/**
 * Layout, convolution and pooling kernels on row-major float arrays, each given with the offset of its tensor's
 * first element: {@code permute}, {@code im2col} / {@code col2im} and 2-D pooling forward and backward.
 *
 * <p>These are memory-bound copies and small-window reductions, so plain Java loops serve both the vector and the
 * scalar mode: the inner runs are contiguous ({@link System#arraycopy} where the layout allows it) and the work is
 * split over this backend's {@link Parallel} workers once it reaches {@link #PARALLEL_MIN} elements. Every split is
 * over disjoint output regions (rows of the column matrix, image planes of {@code dx}), so no two tasks write the
 * same element and the results do not depend on the number of threads.
 *
 * <p>Max pooling follows the reference exactly: {@code best} starts at negative infinity, the argmax at the
 * window's first real element, and an element wins when {@code v > best || isNaN(v)}.
 */
final class CpuConv {
    /** Below this many elements touched, a kernel runs on the calling thread alone. */
    static final int PARALLEL_MIN = 1 << 16;
    /** Side of the square tiles of a transposing permute. */
    private static final int TILE = 32;
    /** Blocks shorter than this are copied by a loop rather than {@link System#arraycopy}. */
    private static final int SHORT_BLOCK = 16;
    /** Elements per unit of a plain parallel copy. */
    private static final int COPY_CHUNK = 4096;

    private final Parallel parallel;

    CpuConv(Parallel parallel) {
        this.parallel = parallel;
    }

    /** Body of one task: the units {@code [lo, hi)}. */
    @FunctionalInterface
    private interface Range {
        void run(int lo, int hi);
    }

    /**
     * Runs {@code body} over {@code [0, units)}, split into contiguous ranges, one per worker when {@code work}
     * elements reach {@link #PARALLEL_MIN}, else on the caller alone.
     */
    private void split(long work, int units, Range body) {
        int tasks = work < PARALLEL_MIN ? 1 : Math.min(parallel.threads(), units);
        if (tasks <= 1) {
            if (units > 0) {
                body.run(0, units);
            }
            return;
        }
        parallel.run(tasks, t -> {
            int lo = (int) ((long) units * t / tasks);
            int hi = (int) ((long) units * (t + 1) / tasks);
            if (lo < hi) {
                body.run(lo, hi);
            }
        });
    }

    // ---------------------------------------------------------------- permute

    /**
     * {@code y = x} with axes reordered ({@code y.dim(i) = dims[axes[i]]}). Axes of size 1 are dropped and axes
     * that stay adjacent are merged first; then a reduced permutation that keeps the last axis last is a
     * sequence of block copies, and one that moves it is a batch of tiled 2-D transposes.
     */
    void permute(float[] x, int xo, int[] dims, int[] axes, float[] y, int yo) {
        int rank = dims.length;
        int size = 1;
        for (int d : dims) {
            size *= d;
        }
        // drop the axes of size 1
        int[] renumber = new int[rank];
        int kept = 0;
        for (int a = 0; a < rank; a++) {
            renumber[a] = dims[a] == 1 ? -1 : kept++;
        }
        int[] keptDims = new int[kept];
        for (int a = 0; a < rank; a++) {
            if (renumber[a] >= 0) {
                keptDims[renumber[a]] = dims[a];
            }
        }
        int[] keptAxes = new int[kept];
        int q = 0;
        for (int i = 0; i < rank; i++) {
            if (renumber[axes[i]] >= 0) {
                keptAxes[q++] = renumber[axes[i]];
            }
        }
        // merge runs of y axes that are consecutive x axes: one group per run, in y order
        int[] groupStart = new int[kept];
        int[] groupDim = new int[kept];
        int groups = 0;
        for (int i = 0; i < kept; i++) {
            if (i > 0 && keptAxes[i] == keptAxes[i - 1] + 1) {
                groupDim[groups - 1] *= keptDims[keptAxes[i]];
            } else {
                groupStart[groups] = keptAxes[i];
                groupDim[groups] = keptDims[keptAxes[i]];
                groups++;
            }
        }
        int[] ra = new int[groups]; // reduced axes: y axis i is reduced x axis ra[i]
        int[] rd = new int[groups]; // reduced x dims
        for (int g = 0; g < groups; g++) {
            int position = 0;
            for (int h = 0; h < groups; h++) {
                if (groupStart[h] < groupStart[g]) {
                    position++;
                }
            }
            ra[g] = position;
            rd[position] = groupDim[g];
        }
        if (groups <= 1) {
            copy(x, xo, y, yo, size);
        } else if (ra[groups - 1] == groups - 1) {
            blockCopy(x, xo, rd, ra, y, yo, size);
        } else {
            transpose(x, xo, rd, ra, y, yo, size);
        }
    }

    /** {@code y[yo ..] = x[xo ..]}, {@code n} elements, in a few large chunks. */
    private void copy(float[] x, int xo, float[] y, int yo, int n) {
        int chunks = Math.max(1, n / COPY_CHUNK);
        split(n, chunks, (lo, hi) -> {
            int start = (int) ((long) n * lo / chunks);
            int end = (int) ((long) n * hi / chunks);
            System.arraycopy(x, xo + start, y, yo + start, end - start);
        });
    }

    /** Row-major strides of {@code dims} (rank 1 to 6, as every tensor's). */
    private static int[] strides(int[] dims) {
        return dev.jacobian.tensor.Shape.of(dims).strides();
    }

    /**
     * A reduced permutation whose last axis stays last: y is a sequence of contiguous blocks of
     * {@code rd[last]} elements, each copied from its place in x.
     */
    private void blockCopy(float[] x, int xo, int[] rd, int[] ra, float[] y, int yo, int size) {
        int r = rd.length;
        int block = rd[r - 1];
        int outer = size / block;
        int[] xs = strides(rd);
        int[] yd = new int[r - 1];
        int[] step = new int[r - 1]; // x stride of each outer y axis
        for (int i = 0; i < r - 1; i++) {
            yd[i] = rd[ra[i]];
            step[i] = xs[ra[i]];
        }
        split(size, outer, (lo, hi) -> {
            int[] digit = new int[r - 1];
            int src = xo;
            int rest = lo;
            for (int i = r - 2; i >= 0; i--) {
                digit[i] = rest % yd[i];
                rest /= yd[i];
                src += digit[i] * step[i];
            }
            int dst = yo + lo * block;
            for (int u = lo; u < hi; u++) {
                if (block < SHORT_BLOCK) {
                    for (int k = 0; k < block; k++) {
                        y[dst + k] = x[src + k];
                    }
                } else {
                    System.arraycopy(x, src, y, dst, block);
                }
                dst += block;
                for (int i = r - 2; i >= 0; i--) { // odometer over the outer y axes
                    src += step[i];
                    if (++digit[i] < yd[i]) {
                        break;
                    }
                    src -= digit[i] * step[i];
                    digit[i] = 0;
                }
            }
        });
    }

    /**
     * A reduced permutation that moves the last axis: for every index of the other axes, a 2-D transpose
     * between y's last axis (read with x stride {@code xs[ra[last]]}) and the y axis that is x's last axis (read
     * contiguously), done in {@link #TILE} x {@link #TILE} tiles.
     */
    private void transpose(float[] x, int xo, int[] rd, int[] ra, float[] y, int yo, int size) {
        int r = rd.length;
        int[] xs = strides(rd);
        int[] yd = new int[r];
        for (int i = 0; i < r; i++) {
            yd[i] = rd[ra[i]];
        }
        int[] ys = strides(yd);
        int qAxis = 0; // the y axis that is x's last axis
        while (ra[qAxis] != r - 1) {
            qAxis++;
        }
        int rowsQ = yd[qAxis];
        int colsL = yd[r - 1];
        int yStepQ = ys[qAxis];
        int xStepL = xs[ra[r - 1]];
        int others = r - 2;
        int[] od = new int[others];
        int[] oxs = new int[others];
        int[] oys = new int[others];
        for (int i = 0, k = 0; i < r - 1; i++) {
            if (i != qAxis) {
                od[k] = yd[i];
                oxs[k] = xs[ra[i]];
                oys[k] = ys[i];
                k++;
            }
        }
        int tiles = (rowsQ + TILE - 1) / TILE;
        int outer = size / (rowsQ * colsL);
        split(size, outer * tiles, (lo, hi) -> {
            for (int u = lo; u < hi; u++) {
                int rest = u / tiles;
                int i0 = (u % tiles) * TILE;
                int i1 = Math.min(rowsQ, i0 + TILE);
                int xb = xo;
                int yb = yo;
                for (int k = others - 1; k >= 0; k--) {
                    int dgt = rest % od[k];
                    rest /= od[k];
                    xb += dgt * oxs[k];
                    yb += dgt * oys[k];
                }
                for (int j0 = 0; j0 < colsL; j0 += TILE) {
                    int j1 = Math.min(colsL, j0 + TILE);
                    for (int i = i0; i < i1; i++) {
                        int dst = yb + i * yStepQ;
                        int src = xb + i;
                        for (int j = j0; j < j1; j++) {
                            y[dst + j] = x[src + j * xStepL];
                        }
                    }
                }
            }
        });
    }

    // ---------------------------------------------------------------- im2col, col2im

    /** First output column whose tap {@code j} lands at or right of input column 0. */
    private static int firstInside(Conv2dSpec s, int j, int ow) {
        // at most ow: a tap whose left padding spans the whole output row has no column inside
        return Math.min(ow, Math.max(0, Math.ceilDiv(s.padW() - j * s.dilationW(), s.strideW())));
    }

    /** One past the last output column whose tap {@code j} lands left of input column {@code w}. */
    private static int endInside(Conv2dSpec s, int j, int w, int ow, int first) {
        int end = Math.min(ow, Math.floorDiv(w - 1 + s.padW() - j * s.dilationW(), s.strideW()) + 1);
        return Math.max(first, end);
    }

    /**
     * The column matrix {@code col [Cg kH kW, N OH OW]} of group {@code group} of {@code x [n, c, h, w]}. Each
     * (row, image) pair is one task unit writing {@code OH} runs of {@code OW} columns; with stride 1 the inside of
     * each run is one {@link System#arraycopy}, padding is filled with zeros.
     */
    void im2col(Conv2dSpec s, int group, float[] x, int xo, int n, int c, int h, int w, float[] col, int co) {
        int cg = c / s.groups();
        int kh = s.kernelH();
        int kw = s.kernelW();
        int oh = s.outH(h);
        int ow = s.outW(w);
        int plane = oh * ow;
        int cols = n * plane;
        int rows = cg * kh * kw;
        int sH = s.strideH();
        int sW = s.strideW();
        split((long) rows * cols, rows * n, (lo, hi) -> {
            for (int u = lo; u < hi; u++) {
                int r = u / n;
                int b = u % n;
                int ci = r / (kh * kw);
                int i = r / kw % kh;
                int j = r % kw;
                int xPlane = xo + (b * c + group * cg + ci) * h * w;
                int out = co + r * cols + b * plane;
                int first = firstInside(s, j, ow);
                int end = endInside(s, j, w, ow, first);
                int shift = j * s.dilationW() - s.padW();
                for (int yy = 0; yy < oh; yy++) {
                    int ih = yy * sH - s.padH() + i * s.dilationH();
                    int dst = out + yy * ow;
                    if (ih < 0 || ih >= h) {
                        Arrays.fill(col, dst, dst + ow, 0f);
                        continue;
                    }
                    int src = xPlane + ih * w + shift;
                    if (first > 0) {
                        Arrays.fill(col, dst, dst + first, 0f);
                    }
                    if (sW == 1) {
                        if (end > first) { // none inside: src + first may lie before the plane
                            System.arraycopy(x, src + first, col, dst + first, end - first);
                        }
                    } else {
                        for (int xx = first, iw = src + first * sW; xx < end; xx++, iw += sW) {
                            col[dst + xx] = x[iw];
                        }
                    }
                    if (end < ow) {
                        Arrays.fill(col, dst + end, dst + ow, 0f);
                    }
                }
            }
        });
    }

    /**
     * The adjoint of {@link #im2col}: {@code dx (+)=} the column entries summed back onto the input positions
     * they were read from, for the channels of group {@code group} only. Each (image, channel) plane of
     * {@code dx} is one task unit (so no two tasks write the same element); with {@code acc = false} the plane is
     * zeroed first.
     */
    void col2im(Conv2dSpec s, int group, float[] col, int co, float[] dx, int dxo, int n, int c, int h, int w,
                boolean acc) {
        int cg = c / s.groups();
        int kh = s.kernelH();
        int kw = s.kernelW();
        int oh = s.outH(h);
        int ow = s.outW(w);
        int plane = oh * ow;
        int cols = n * plane;
        int sH = s.strideH();
        int sW = s.strideW();
        split((long) cg * kh * kw * cols, n * cg, (lo, hi) -> {
            for (int u = lo; u < hi; u++) {
                int b = u / cg;
                int ci = u % cg;
                int dPlane = dxo + (b * c + group * cg + ci) * h * w;
                if (!acc) {
                    Arrays.fill(dx, dPlane, dPlane + h * w, 0f);
                }
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int r = (ci * kh + i) * kw + j;
                        int in = co + r * cols + b * plane;
                        int first = firstInside(s, j, ow);
                        int end = endInside(s, j, w, ow, first);
                        int shift = j * s.dilationW() - s.padW();
                        for (int yy = 0; yy < oh; yy++) {
                            int ih = yy * sH - s.padH() + i * s.dilationH();
                            if (ih < 0 || ih >= h) {
                                continue;
                            }
                            int dst = dPlane + ih * w + shift;
                            int src = in + yy * ow;
                            if (sW == 1) {
                                for (int xx = first; xx < end; xx++) {
                                    dx[dst + xx] += col[src + xx];
                                }
                            } else {
                                for (int xx = first, iw = dst + first * sW; xx < end; xx++, iw += sW) {
                                    dx[iw] += col[src + xx];
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    // ---------------------------------------------------------------- pooling

    /** 2-D pooling of {@code x [n, c, h, w]} into {@code y [n, c, OH, OW]}, one task unit per plane. */
    void pool2d(Pool2dSpec s, float[] x, int xo, int n, int c, int h, int w, float[] y, int yo) {
        int oh = s.outH(h);
        int ow = s.outW(w);
        boolean max = s.kind() == Pool2dSpec.Kind.MAX;
        boolean twoByTwo = isMax2x2(s);
        split((long) n * c * h * w, n * c, (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = xo + p * h * w;
                int yp = yo + p * oh * ow;
                if (twoByTwo) {
                    maxPool2x2(x, xp, w, y, yp, oh, ow);
                } else {
                    poolPlane(s, max, x, xp, h, w, y, yp, oh, ow);
                }
            }
        });
    }

    /** Whether {@code s} is the unpadded 2x2 stride-2 max pool that has its own loops. */
    private static boolean isMax2x2(Pool2dSpec s) {
        return s.kind() == Pool2dSpec.Kind.MAX && s.kernelH() == 2 && s.kernelW() == 2 && s.strideH() == 2
                && s.strideW() == 2 && s.padH() == 0 && s.padW() == 0;
    }

    /** {@code best} after seeing {@code v}: the reference's rule {@code v > best || isNaN(v)}. */
    private static float better(float best, float v) {
        return v > best || v != v ? v : best;
    }

    /** The 2x2, stride 2, unpadded max pool of one plane. */
    private static void maxPool2x2(float[] x, int xp, int w, float[] y, int yp, int oh, int ow) {
        for (int yy = 0; yy < oh; yy++) {
            int r0 = xp + 2 * yy * w;
            int r1 = r0 + w;
            int dst = yp + yy * ow;
            for (int xx = 0; xx < ow; xx++) {
                int k = 2 * xx;
                // Math.max is branch-free and lets a NaN win, as the reference's rule does; the value is the same
                // (a max of +0 and -0 may differ in sign only, which compares equal)
                y[dst + xx] = Math.max(Math.max(x[r0 + k], x[r0 + k + 1]), Math.max(x[r1 + k], x[r1 + k + 1]));
            }
        }
    }

    /**
     * Max or average pooling of one plane, any window, stride and padding: the maximum by the reference's rule, or
     * the float sum divided by the whole window ({@code countIncludePad}) or by its real elements.
     */
    private static void poolPlane(Pool2dSpec s, boolean max, float[] x, int xp, int h, int w, float[] y, int yp,
                                  int oh, int ow) {
        int whole = s.kernelH() * s.kernelW();
        for (int yy = 0; yy < oh; yy++) {
            int hs = yy * s.strideH() - s.padH();
            int h0 = Math.max(0, hs);
            int h1 = Math.min(h, hs + s.kernelH());
            for (int xx = 0; xx < ow; xx++) {
                int ws = xx * s.strideW() - s.padW();
                int w0 = Math.max(0, ws);
                int w1 = Math.min(w, ws + s.kernelW());
                float acc = max ? Float.NEGATIVE_INFINITY : 0f;
                for (int ih = h0; ih < h1; ih++) {
                    int row = xp + ih * w;
                    for (int iw = w0; iw < w1; iw++) {
                        acc = max ? better(acc, x[row + iw]) : acc + x[row + iw];
                    }
                }
                int divisor = s.countIncludePad() ? whole : (h1 - h0) * (w1 - w0);
                y[yp + yy * ow + xx] = max ? acc : acc / divisor;
            }
        }
    }

    /**
     * The gradient of {@link #pool2d}: {@code dx (+)=} {@code dy} routed to each window's first maximal element
     * (max) or spread over its real elements (average); one task unit per plane, zeroed first when
     * {@code acc = false}.
     */
    void pool2dBackward(Pool2dSpec s, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, int c,
                        int h, int w, boolean acc) {
        int oh = s.outH(h);
        int ow = s.outW(w);
        boolean max = s.kind() == Pool2dSpec.Kind.MAX;
        boolean max2x2 = isMax2x2(s);
        int whole = s.kernelH() * s.kernelW();
        split((long) n * c * h * w, n * c, (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = xo + p * h * w;
                int dp = dxo + p * h * w;
                int gp = dyo + p * oh * ow;
                if (max2x2) {
                    maxPool2x2Backward(x, xp, h, w, dy, gp, dx, dp, oh, ow, acc);
                    continue;
                }
                if (!acc) {
                    Arrays.fill(dx, dp, dp + h * w, 0f);
                }
                for (int yy = 0; yy < oh; yy++) {
                    int hs = yy * s.strideH() - s.padH();
                    int h0 = Math.max(0, hs);
                    int h1 = Math.min(h, hs + s.kernelH());
                    for (int xx = 0; xx < ow; xx++) {
                        int ws = xx * s.strideW() - s.padW();
                        int w0 = Math.max(0, ws);
                        int w1 = Math.min(w, ws + s.kernelW());
                        float g = dy[gp + yy * ow + xx];
                        if (max) {
                            float best = Float.NEGATIVE_INFINITY;
                            int arg = h0 * w + w0;
                            for (int ih = h0; ih < h1; ih++) {
                                for (int iw = w0; iw < w1; iw++) {
                                    float v = x[xp + ih * w + iw];
                                    if (v > best || v != v) {
                                        best = v;
                                        arg = ih * w + iw;
                                    }
                                }
                            }
                            dx[dp + arg] += g;
                        } else {
                            int divisor = s.countIncludePad() ? whole : (h1 - h0) * (w1 - w0);
                            float share = g / divisor;
                            for (int ih = h0; ih < h1; ih++) {
                                int row = dp + ih * w;
                                for (int iw = w0; iw < w1; iw++) {
                                    dx[row + iw] += share;
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * The 2x2 stride-2 unpadded max pool's backward on one plane: each window's gradient goes to its first
     * maximal element (row-major), or its last NaN, as the general loop decides. The windows tile the plane without
     * overlap, so with {@code acc = false} each writes its four elements (the gradient or 0) and only the odd last
     * row and column are cleared: no separate zeroing pass. Without a NaN the choice is made branch-free (the
     * comparisons of random data would mispredict).
     */
    private static void maxPool2x2Backward(float[] x, int xp, int h, int w, float[] dy, int gp, float[] dx, int dp,
                                           int oh, int ow, boolean acc) {
        if (!acc) {
            if (h > 2 * oh) {
                Arrays.fill(dx, dp + 2 * oh * w, dp + h * w, 0f);
            }
            if (w > 2 * ow) {
                for (int r = 0; r < 2 * oh; r++) {
                    Arrays.fill(dx, dp + r * w + 2 * ow, dp + (r + 1) * w, 0f);
                }
            }
        }
        for (int yy = 0; yy < oh; yy++) {
            int r0 = 2 * yy * w;
            int r1 = r0 + w;
            for (int xx = 0; xx < ow; xx++) {
                int k = 2 * xx;
                float a = x[xp + r0 + k];
                float b = x[xp + r0 + k + 1];
                float c = x[xp + r1 + k];
                float d = x[xp + r1 + k + 1];
                float m = Math.max(Math.max(a, b), Math.max(c, d));
                int arg;
                if (Math.abs(m) < Float.POSITIVE_INFINITY) {
                    // branch-free: adding 0 turns -0 into +0, so a difference is negative exactly when the second
                    // value is strictly greater (ties keep the earlier element, as "v > best" does); an infinite or
                    // NaN maximum takes the exact loop below
                    a += 0f;
                    b += 0f;
                    c += 0f;
                    d += 0f;
                    int iab = Float.floatToRawIntBits(a - b) >>> 31;
                    int icd = 2 + (Float.floatToRawIntBits(c - d) >>> 31);
                    int sel = Float.floatToRawIntBits(Math.max(a, b) - Math.max(c, d)) >>> 31;
                    arg = iab + sel * (icd - iab);
                } else {
                    arg = exactArg2x2(a, b, c, d);
                }
                float g = dy[gp + yy * ow + xx];
                int at = dp + r0 + k + (arg >> 1) * w + (arg & 1);
                if (acc) {
                    dx[at] += g;
                } else {
                    dx[dp + r0 + k] = 0f;
                    dx[dp + r0 + k + 1] = 0f;
                    dx[dp + r1 + k] = 0f;
                    dx[dp + r1 + k + 1] = 0f;
                    dx[at] = g;
                }
            }
        }
    }

    /** The reference's choice in one 2x2 window: {@code v > best || v != v}, best from -infinity, arg from 0. */
    private static int exactArg2x2(float a, float b, float c, float d) {
        float best = a != a ? Float.NaN : a;
        int arg = 0;
        float[] rest = {b, c, d};
        for (int q = 0; q < 3; q++) {
            float v = rest[q];
            if (v > best || v != v) {
                best = v;
                arg = q + 1;
            }
        }
        return arg;
    }
}
