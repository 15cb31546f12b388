package dev.jacobian.reference;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.backend.HeapBackend;
import dev.jacobian.backend.Axis;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.Broadcast;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Philox;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.tensor.Tensor;
import java.util.Arrays;

/**
 * The oracle: every primitive written as the plainest possible scalar loop, accumulating in double.
 * Slow on purpose; the conformance suite compares every other backend against it.
 */
public final class ReferenceBackend extends HeapBackend {
    private final int viewAlignment;
    private final boolean composeFused;

    /** The oracle, viewing storage at any offset. */
    public ReferenceBackend() {
        this(1);
    }

    /**
     * An oracle that runs the fused primitives (the per-sample losses and the SGD update) as
     * {@link dev.jacobian.backend.AbstractBackend}'s composed defaults instead of its own scalar loops: the
     * shared suites run on it to check those defaults, which a new backend inherits.
     */
    public static ReferenceBackend composingFusedKernels() {
        return new ReferenceBackend(1, true);
    }

    /**
     * The oracle reporting {@code viewAlignment} as its {@link #viewAlignment()}, as a device would, so that
     * layouts aligned for a device (the parameter arena) can be tested on the reference. Views still work at
     * any offset.
     */
    public ReferenceBackend(int viewAlignment) {
        this(viewAlignment, false);
    }

    private ReferenceBackend(int viewAlignment, boolean composeFused) {
        this.composeFused = composeFused;
        if (viewAlignment < 1) {
            throw new IllegalArgumentException("view alignment must be at least 1 float, got " + viewAlignment);
        }
        this.viewAlignment = viewAlignment;
    }

    @Override
    public int viewAlignment() {
        return viewAlignment;
    }


    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String deviceDescription() {
        return "scalar Java reference" + (composeFused ? ", fused kernels composed" : "") + " ("
                + System.getProperty("java.vm.name") + " " + Runtime.version() + ")";
    }


    /** A copy of the tensor's elements (the oracle stays simple: it never indexes a view's offset). */
    private static float[] d(Tensor t) {
        int off = offset(t);
        return Arrays.copyOfRange(data(t), off, off + t.size());
    }

    /** Writes a result computed on a copy back into the tensor's elements. */
    private static void put(Tensor t, float[] values) {
        System.arraycopy(values, 0, data(t), offset(t), t.size());
    }





    /** {@code t (+)= sums}, element by element. */
    private static void storeAll(Tensor t, double[] sums, boolean accumulate) {
        float[] out = d(t);
        for (int i = 0; i < out.length; i++) {
            store(out, i, sums[i], accumulate);
        }
        put(t, out);
    }

    /** {@code y = f(x)} element by element. */
    private static void map(Tensor x, Tensor y, java.util.function.DoubleUnaryOperator f) {
        float[] a = d(x);
        float[] out = new float[y.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) f.applyAsDouble(a[i]);
        }
        put(y, out);
    }

    private static void store(float[] out, int i, double v, boolean accumulate) {
        out[i] = accumulate ? (float) (out[i] + v) : (float) v;
    }

    @Override
    protected void fillKernel(Tensor x, float value) {
        Arrays.fill(data(x), offset(x), offset(x) + x.size(), value);
    }

    @Override
    protected void axpbyKernel(float alpha, Tensor x, float beta, Tensor y) {
        float[] a = d(x);
        float[] b = d(y);
        for (int i = 0; i < x.size(); i++) {
            b[i] = beta == 0f ? alpha * a[i] : alpha * a[i] + beta * b[i];
        }
        put(y, b);
    }

    @Override
    protected void unaryKernel(UnaryOp op, float p, float q, Tensor x, Tensor y) {
        map(x, y, v -> op.apply((float) v, p, q));
    }

    @Override
    protected void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor c, Broadcast bc) {
        float[] x = d(a);
        float[] y = d(b);
        float[] z = new float[c.size()];
        for (int i = 0; i < z.length; i++) {
            z[i] = bc == null ? op.apply(x[i], y[i]) : op.apply(x[bc.index(0, i)], y[bc.index(1, i)]);
        }
        put(c, z);
    }

    @Override
    protected void binaryBackwardKernel(BinaryOp op, int operand, Tensor a, Tensor b, Tensor dc, Tensor grad,
                                        boolean accumulate, Broadcast bc) {
        float[] x = d(a);
        float[] y = d(b);
        float[] g = d(dc);
        double[] sum = new double[grad.size()];
        for (int i = 0; i < g.length; i++) {
            int ia = bc == null ? i : bc.index(0, i);
            int ib = bc == null ? i : bc.index(1, i);
            sum[operand == 0 ? ia : ib] += op.gradient(operand, x[ia], y[ib], g[i]);
        }
        storeAll(grad, sum, accumulate);
    }

    @Override
    protected void sumToKernel(Tensor x, Tensor y, boolean accumulate, Broadcast bc) {
        float[] a = d(x);
        double[] sum = new double[y.size()];
        for (int i = 0; i < a.length; i++) {
            sum[bc.index(0, i)] += a[i];
        }
        storeAll(y, sum, accumulate);
    }

    @Override
    protected void activationKernel(Activation f, float param, Tensor x, Tensor y) {
        map(x, y, v -> f.apply((float) v, param));
    }

    @Override
    protected void activationBackwardKernel(Activation f, float param, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        float[] a = d(x);
        float[] b = d(y);
        float[] g = d(dy);
        float[] out = d(dx);
        for (int i = 0; i < x.size(); i++) {
            store(out, i, (double) g[i] * f.derivative(a[i], b[i], param), accumulate);
        }
        put(dx, out);
    }

    @Override
    protected void addRowVectorKernel(Tensor x, Tensor bias, Tensor y) {
        float[] a = d(x);
        float[] v = d(bias);
        float[] out = d(y);
        int n = x.cols();
        for (int i = 0; i < x.rows(); i++) {
            for (int j = 0; j < n; j++) {
                out[i * n + j] = a[i * n + j] + v[j];
            }
        }
        put(y, out);
    }

    @Override
    protected void preluKernel(Tensor x, Tensor slope, Tensor y) {
        float[] a = d(x);
        float[] s = d(slope);
        float[] out = d(y);
        int n = x.cols();
        for (int i = 0; i < x.size(); i++) {
            out[i] = a[i] > 0f ? a[i] : s[i % n] * a[i];
        }
        put(y, out);
    }

    @Override
    protected void preluBackwardKernel(Tensor x, Tensor slope, Tensor dy, Tensor dx, boolean accumulateDx,
                              Tensor dslope, boolean accumulateDslope) {
        float[] a = d(x);
        float[] s = d(slope);
        float[] g = d(dy);
        int n = x.cols();
        if (dx != null) {
            float[] out = d(dx);
            for (int i = 0; i < x.size(); i++) {
                store(out, i, a[i] > 0f ? g[i] : (double) g[i] * s[i % n], accumulateDx);
            }
            put(dx, out);
        }
        if (dslope != null) {
            float[] out = d(dslope);
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int i = 0; i < x.rows(); i++) {
                    float v = a[i * n + j];
                    sum += v > 0f ? 0.0 : (double) g[i * n + j] * v;
                }
                store(out, j, sum, accumulateDslope);
            }
            put(dslope, out);
        }
    }

    @Override
    protected void maxoutKernel(int pieces, Tensor z, Tensor y) {
        float[] a = d(z);
        float[] out = d(y);
        int n = y.cols();
        int zc = z.cols();
        for (int i = 0; i < y.rows(); i++) {
            for (int j = 0; j < n; j++) {
                float best = a[i * zc + j * pieces];
                for (int p = 1; p < pieces; p++) {
                    best = Math.max(best, a[i * zc + j * pieces + p]);
                }
                out[i * n + j] = best;
            }
        }
        put(y, out);
    }

    @Override
    protected void maxoutBackwardKernel(int pieces, Tensor z, Tensor dy, Tensor dz, boolean accumulate) {
        float[] a = d(z);
        float[] g = d(dy);
        float[] out = d(dz);
        int n = dy.cols();
        int zc = z.cols();
        for (int i = 0; i < dy.rows(); i++) {
            for (int j = 0; j < n; j++) {
                int base = i * zc + j * pieces;
                int arg = 0;
                for (int p = 1; p < pieces; p++) {
                    if (a[base + p] > a[base + arg]) {
                        arg = p;
                    }
                }
                for (int p = 0; p < pieces; p++) {
                    store(out, base + p, p == arg ? g[i * n + j] : 0.0, accumulate);
                }
            }
        }
        put(dz, out);
    }

    @Override
    protected void randomUniformKernel(long key, long counter, Tensor out) {
        Philox.fill(key, counter, data(out), offset(out), out.size());
    }

    @Override
    protected void permuteKernel(Tensor x, int[] axes, Tensor y) {
        float[] a = d(x);
        float[] out = new float[y.size()];
        int rank = x.rank();
        int[] xStrides = x.shape().strides();
        int[] yDims = y.shape().dims();
        int[] index = new int[rank]; // position in y
        for (int i = 0; i < out.length; i++) {
            int src = 0;
            for (int k = 0; k < rank; k++) {
                src += index[k] * xStrides[axes[k]];
            }
            out[i] = a[src];
            for (int k = rank - 1; k >= 0; k--) { // odometer over y's dimensions
                if (++index[k] < yDims[k]) {
                    break;
                }
                index[k] = 0;
            }
        }
        put(y, out);
    }

    /** A visitor of index pairs (no boxing: the conformance cases visit millions). */
    @FunctionalInterface
    private interface IndexPairs {
        void accept(int first, int second);
    }

    /**
     * Visits every entry of group {@code g}'s column matrix: {@code visitor(colIndex, xIndex)} with {@code xIndex}
     * the flat input index it reads, or -1 on padding.
     */
    private static void forEachColumnEntry(Conv2dSpec s, int g, int[] xd, IndexPairs visitor) {
        int n = xd[0], c = xd[1], h = xd[2], w = xd[3];
        int cg = c / s.groups();
        int oh = s.outH(h), ow = s.outW(w);
        int cols = n * oh * ow;
        for (int ci = 0; ci < cg; ci++) {
            for (int ki = 0; ki < s.kernelH(); ki++) {
                for (int kj = 0; kj < s.kernelW(); kj++) {
                    int row = (ci * s.kernelH() + ki) * s.kernelW() + kj;
                    for (int b = 0; b < n; b++) {
                        for (int y = 0; y < oh; y++) {
                            for (int x = 0; x < ow; x++) {
                                int col = (b * oh + y) * ow + x;
                                int ih = y * s.strideH() - s.padH() + ki * s.dilationH();
                                int iw = x * s.strideW() - s.padW() + kj * s.dilationW();
                                boolean inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
                                int xi = inside ? ((b * c + g * cg + ci) * h + ih) * w + iw : -1;
                                visitor.accept(row * cols + col, xi);
                            }
                        }
                    }
                }
            }
        }
    }

    @Override
    protected void im2colKernel(Conv2dSpec spec, int group, Tensor x, Tensor col) {
        float[] a = d(x);
        float[] out = new float[col.size()];
        forEachColumnEntry(spec, group, x.shape().dims(), (ci, xi) -> out[ci] = xi < 0 ? 0f : a[xi]);
        put(col, out);
    }

    @Override
    protected void col2imKernel(Conv2dSpec spec, int group, Tensor col, Tensor dx, boolean accumulate) {
        float[] g = d(col);
        int[] xd = dx.shape().dims();
        double[] sums = new double[dx.size()];
        boolean[] inGroup = new boolean[dx.size()];
        int cg = xd[1] / spec.groups();
        int plane = xd[2] * xd[3];
        for (int i = 0; i < sums.length; i++) {
            int channel = (i / plane) % xd[1];
            inGroup[i] = channel / cg == group;
        }
        forEachColumnEntry(spec, group, xd, (ci, xi) -> {
            if (xi >= 0) {
                sums[xi] += g[ci];
            }
        });
        float[] out = d(dx);
        for (int i = 0; i < out.length; i++) {
            if (inGroup[i]) {
                store(out, i, sums[i], accumulate);
            }
        }
        put(dx, out);
    }

    /** A multiply-add of a direct convolution: flat indices into {@code y}, {@code w} and {@code x}. */
    @FunctionalInterface
    private interface ConvTap {
        void accept(int yi, int wi, int xi);
    }

    /**
     * Visits every product of the convolution of {@code x} (dims {@code xd}) by weights of {@code oc} output channels
     * in {@code spec}'s geometry: {@code y[yi] += w[wi] * x[xi]} summed over all visits is the convolution (taps on
     * padding are not visited).
     */
    private static void forEachTap(Conv2dSpec spec, int[] xd, int oc, ConvTap tap) {
        int n = xd[0], c = xd[1], h = xd[2], w = xd[3];
        int oh = spec.outH(h), ow = spec.outW(w);
        int cg = c / spec.groups(), ocg = oc / spec.groups();
        int kh = spec.kernelH(), kw = spec.kernelW();
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < oc; o++) {
                int g = o / ocg;
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++) {
                        int yi = ((b * oc + o) * oh + y) * ow + x;
                        for (int ci = 0; ci < cg; ci++) {
                            for (int i = 0; i < kh; i++) {
                                int ih = y * spec.strideH() - spec.padH() + i * spec.dilationH();
                                for (int j = 0; j < kw; j++) {
                                    int iw = x * spec.strideW() - spec.padW() + j * spec.dilationW();
                                    if (ih >= 0 && ih < h && iw >= 0 && iw < w) {
                                        tap.accept(yi, ((o * cg + ci) * kh + i) * kw + j,
                                                ((b * c + g * cg + ci) * h + ih) * w + iw);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Implements the direct convolution for every geometry (in double), as the others' oracle; not used by graphs. */
    @Override
    protected void conv2dKernel(Conv2dSpec spec, Tensor x, Tensor w, Tensor y) {
        float[] a = d(x);
        float[] k = d(w);
        double[] sums = new double[y.size()];
        forEachTap(spec, x.shape().dims(), w.shape().dim(0), (yi, wi, xi) -> sums[yi] += (double) k[wi] * a[xi]);
        storeAll(y, sums, false);
    }

    @Override
    protected void conv2dBackwardDataKernel(Conv2dSpec spec, Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        float[] g = d(dy);
        float[] k = d(w);
        double[] sums = new double[dx.size()];
        forEachTap(spec, dx.shape().dims(), w.shape().dim(0), (yi, wi, xi) -> sums[xi] += (double) k[wi] * g[yi]);
        storeAll(dx, sums, accumulate);
    }

    @Override
    protected void conv2dBackwardWeightsKernel(Conv2dSpec spec, Tensor x, Tensor dy, Tensor dw, boolean accumulate) {
        float[] a = d(x);
        float[] g = d(dy);
        double[] sums = new double[dw.size()];
        forEachTap(spec, x.shape().dims(), dw.shape().dim(0), (yi, wi, xi) -> sums[wi] += (double) a[xi] * g[yi]);
        storeAll(dw, sums, accumulate);
    }

    /**
     * Visits each output position of a pooling: {@code visitor(yIndex, xIndices)} with the flat input indices of
     * the window's real elements in row-major window order.
     */
    private static void forEachWindow(Pool2dSpec s, int[] xd, java.util.function.BiConsumer<Integer, int[]> visitor) {
        int n = xd[0], c = xd[1], h = xd[2], w = xd[3];
        int oh = s.outH(h), ow = s.outW(w);
        int[] idx = new int[s.kernelH() * s.kernelW()];
        for (int p = 0; p < n * c; p++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    int count = 0;
                    for (int i = 0; i < s.kernelH(); i++) {
                        for (int j = 0; j < s.kernelW(); j++) {
                            int ih = y * s.strideH() - s.padH() + i;
                            int iw = x * s.strideW() - s.padW() + j;
                            if (ih >= 0 && ih < h && iw >= 0 && iw < w) {
                                idx[count++] = (p * h + ih) * w + iw;
                            }
                        }
                    }
                    visitor.accept((p * oh + y) * ow + x, Arrays.copyOf(idx, count));
                }
            }
        }
    }

    /** The position within {@code window} of its first maximum (a NaN wins, as in PyTorch). */
    private static int argmax(float[] a, int[] window) {
        int arg = 0;
        float best = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < window.length; k++) {
            float v = a[window[k]];
            if (v > best || Float.isNaN(v)) {
                best = v;
                arg = k;
            }
        }
        return arg;
    }

    /** The divisor of an average over {@code window}. */
    private static int divisor(Pool2dSpec s, int[] window) {
        return s.countIncludePad() ? s.kernelH() * s.kernelW() : window.length;
    }

    @Override
    protected void pool2dKernel(Pool2dSpec spec, Tensor x, Tensor y) {
        float[] a = d(x);
        float[] out = new float[y.size()];
        forEachWindow(spec, x.shape().dims(), (yi, window) -> {
            if (spec.kind() == Pool2dSpec.Kind.MAX) {
                out[yi] = a[window[argmax(a, window)]];
            } else {
                double sum = 0;
                for (int xi : window) {
                    sum += a[xi];
                }
                out[yi] = (float) (sum / divisor(spec, window));
            }
        });
        put(y, out);
    }

    @Override
    protected void pool2dBackwardKernel(Pool2dSpec spec, Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
        float[] a = d(x);
        float[] g = d(dy);
        double[] sums = new double[dx.size()];
        forEachWindow(spec, x.shape().dims(), (yi, window) -> {
            if (spec.kind() == Pool2dSpec.Kind.MAX) {
                sums[window[argmax(a, window)]] += g[yi];
            } else {
                double share = (double) g[yi] / divisor(spec, window);
                for (int xi : window) {
                    sums[xi] += share;
                }
            }
        });
        storeAll(dx, sums, accumulate);
    }

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                              float beta, Tensor c) {
        float[] x = d(a);
        float[] y = d(b);
        float[] out = d(c);
        int lda = a.cols();
        int ldb = b.cols();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? x[p * lda + i] : x[i * lda + p];
                    float bv = transB ? y[j * ldb + p] : y[p * ldb + j];
                    sum += (double) av * bv;
                }
                double v = alpha * sum;
                if (beta != 0f) {
                    v += (double) beta * out[i * n + j];
                }
                out[i * n + j] = (float) v;
            }
        }
        put(c, out);
    }

    @Override
    protected void reduceKernel(Reduction op, Axis axis, Tensor x, Tensor y, boolean accumulate) {
        float[] a = d(x);
        float[] out = d(y);
        int m = x.rows();
        int n = x.cols();
        int groups = axis == Axis.ROWS ? n : axis == Axis.COLS ? m : 1;
        int len = axis == Axis.ROWS ? m : axis == Axis.COLS ? n : m * n;
        for (int g = 0; g < groups; g++) {
            double acc = op == Reduction.MAX || op == Reduction.ARGMAX ? Double.NEGATIVE_INFINITY : 0.0;
            int arg = 0;
            for (int t = 0; t < len; t++) {
                float v = a[index(axis, n, g, t)];
                switch (op) {
                    case SUM, MEAN -> acc += v;
                    case SUM_SQUARES -> acc += (double) v * v;
                    case MAX, ARGMAX -> {
                        if (v > acc || t == 0) {
                            acc = v;
                            arg = t;
                        }
                    }
                }
            }
            double r = switch (op) {
                case MEAN -> acc / len;
                case ARGMAX -> arg;
                default -> acc;
            };
            store(out, g, r, accumulate);
        }
        put(y, out);
    }

    /** Flat index of element {@code t} of reduction group {@code g}. */
    private static int index(Axis axis, int n, int g, int t) {
        return switch (axis) {
            case ROWS -> t * n + g;
            case COLS -> g * n + t;
            case ALL -> t;
        };
    }

    @Override
    protected void reduceBackwardKernel(Reduction op, Axis axis, Tensor x, Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        float[] a = d(x);
        float[] g = d(dy);
        float[] out = d(dx);
        int m = x.rows();
        int n = x.cols();
        int groups = axis == Axis.ROWS ? n : axis == Axis.COLS ? m : 1;
        int len = axis == Axis.ROWS ? m : axis == Axis.COLS ? n : m * n;
        for (int gi = 0; gi < groups; gi++) {
            int arg = 0;
            if (op == Reduction.MAX) {
                for (int t = 1; t < len; t++) {
                    if (a[index(axis, n, gi, t)] > a[index(axis, n, gi, arg)]) {
                        arg = t;
                    }
                }
            }
            for (int t = 0; t < len; t++) {
                int idx = index(axis, n, gi, t);
                double v = switch (op) {
                    case SUM -> g[gi];
                    case MEAN -> (double) g[gi] / len;
                    case SUM_SQUARES -> 2.0 * a[idx] * g[gi];
                    case MAX -> t == arg ? g[gi] : 0.0;
                    case ARGMAX -> throw new AssertionError();
                };
                store(out, idx, v, accumulate);
            }
        }
        put(dx, out);
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor y) {
        float[] a = d(x);
        float[] out = d(y);
        int n = x.cols();
        for (int i = 0; i < x.rows(); i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                max = Math.max(max, a[i * n + j]);
            }
            double sum = 0;
            double[] e = new double[n];
            for (int j = 0; j < n; j++) {
                e[j] = Math.exp(a[i * n + j] - max);
                sum += e[j];
            }
            for (int j = 0; j < n; j++) {
                out[i * n + j] = (float) (e[j] / sum);
            }
        }
        put(y, out);
    }

    @Override
    protected void softmaxBackwardKernel(Tensor y, Tensor dy, Tensor dx, boolean accumulate) {
        float[] s = d(y);
        float[] g = d(dy);
        float[] out = d(dx);
        int n = y.cols();
        for (int i = 0; i < y.rows(); i++) {
            double dot = 0;
            for (int j = 0; j < n; j++) {
                dot += (double) g[i * n + j] * s[i * n + j];
            }
            for (int j = 0; j < n; j++) {
                store(out, i * n + j, s[i * n + j] * (g[i * n + j] - dot), accumulate);
            }
        }
        put(dx, out);
    }

    @Override
    protected void rowLossKernel(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        if (composeFused) {
            super.rowLossKernel(kind, pred, target, out);
            return;
        }
        put(out, rowLosses(kind, pred, target));
    }

    /** The per-sample losses of {@code pred}, one per row, each summed in double. */
    private static float[] rowLosses(LossKind kind, Tensor pred, Tensor target) {
        float[] p = d(pred);
        float[] t = d(target);
        float[] o = new float[pred.rows()];
        int c = pred.cols();
        for (int i = 0; i < pred.rows(); i++) {
            int row = i * c;
            double loss = 0;
            if (kind.nanIfNoClass(t[i], c, o, i, 1)) {
                continue; // no class to read: a NaN loss, never a read outside the row
            }
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[i];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c; j++) {
                        max = Math.max(max, p[row + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(p[row + j] - max);
                    }
                    loss = Math.log(sum) + max - p[row + y];
                }
                case SVM_HINGE -> {
                    int y = (int) t[i];
                    for (int j = 0; j < c; j++) {
                        if (j != y) {
                            loss += Math.max(0.0, (double) p[row + j] - p[row + y] + 1.0);
                        }
                    }
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        double diff = (double) p[row + j] - t[row + j];
                        loss += diff * diff;
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        double x = p[row + j];
                        loss += Math.max(x, 0) - x * t[row + j] + Math.log1p(Math.exp(-Math.abs(x)));
                    }
                }
            }
            o[i] = (float) loss;
        }
        return o;
    }

    /** The mean of the per-sample losses, summed in double (as a mean {@link #reduceKernel} of them). */
    @Override
    protected void meanLossKernel(LossKind kind, Tensor pred, Tensor target, Tensor out) {
        if (composeFused) {
            super.meanLossKernel(kind, pred, target, out);
            return;
        }
        double sum = 0;
        for (float v : rowLosses(kind, pred, target)) {
            sum += v;
        }
        put(out, new float[] {(float) (sum / pred.rows())});
    }

    /** Every row's gradient scaled by {@code dout / n} (rounded to float, as the mean's backward gives it). */
    @Override
    protected void meanLossBackwardKernel(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred,
                                          boolean accumulate) {
        if (composeFused) {
            super.meanLossBackwardKernel(kind, pred, target, dout, dpred, accumulate);
            return;
        }
        float[] g = new float[pred.rows()];
        Arrays.fill(g, (float) ((double) d(dout)[0] / pred.rows()));
        rowLossGradients(kind, pred, target, g, dpred, accumulate);
    }

    @Override
    protected void rowLossBackwardKernel(LossKind kind, Tensor pred, Tensor target, Tensor dout, Tensor dpred, boolean accumulate) {
        if (composeFused) {
            super.rowLossBackwardKernel(kind, pred, target, dout, dpred, accumulate);
            return;
        }
        rowLossGradients(kind, pred, target, d(dout), dpred, accumulate);
    }

    /** {@code dpred (+)= g_i dL_i/dpred_i}, {@code g} one value per row. */
    private static void rowLossGradients(LossKind kind, Tensor pred, Tensor target, float[] g, Tensor dpred,
                                         boolean accumulate) {
        float[] p = d(pred);
        float[] t = d(target);
        float[] o = d(dpred);
        int c = pred.cols();
        for (int i = 0; i < pred.rows(); i++) {
            int row = i * c;
            double gi = g[i];
            if (kind.nanIfNoClass(t[i], c, o, row, c)) {
                continue;
            }
            switch (kind) {
                case SOFTMAX_CROSS_ENTROPY -> {
                    int y = (int) t[i];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c; j++) {
                        max = Math.max(max, p[row + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(p[row + j] - max);
                    }
                    for (int j = 0; j < c; j++) {
                        double prob = Math.exp(p[row + j] - max) / sum;
                        store(o, row + j, gi * (prob - (j == y ? 1.0 : 0.0)), accumulate);
                    }
                }
                case SVM_HINGE -> {
                    int y = (int) t[i];
                    int positive = 0;
                    for (int j = 0; j < c; j++) {
                        if (j != y) {
                            boolean active = (double) p[row + j] - p[row + y] + 1.0 > 0.0;
                            positive += active ? 1 : 0;
                            store(o, row + j, active ? gi : 0.0, accumulate);
                        }
                    }
                    store(o, row + y, -gi * positive, accumulate);
                }
                case MSE -> {
                    for (int j = 0; j < c; j++) {
                        store(o, row + j, 2.0 * ((double) p[row + j] - t[row + j]) * gi, accumulate);
                    }
                }
                case SIGMOID_BINARY_CROSS_ENTROPY -> {
                    for (int j = 0; j < c; j++) {
                        double s = 1.0 / (1.0 + Math.exp(-p[row + j]));
                        store(o, row + j, (s - t[row + j]) * gi, accumulate);
                    }
                }
            }
        }
        put(dpred, o);
    }

    @Override
    protected void sgdUpdateKernel(Tensor param, Tensor grad, Tensor velocity, Tensor gradNormSq, SgdUpdate u) {
        if (composeFused) {
            super.sgdUpdateKernel(param, grad, velocity, gradNormSq, u);
            return;
        }
        float normSq = gradNormSq == null ? 0f : d(gradNormSq)[0];
        if (!Float.isFinite(normSq)) {
            return;
        }
        float scale = u.clipScale(normSq);
        float[] w = d(param);
        float[] gr = d(grad);
        float[] v = velocity == null ? null : d(velocity);
        for (int i = 0; i < param.size(); i++) {
            float g = gr[i] * scale;
            if (u.clipValue() > 0f) {
                g = Math.max(-u.clipValue(), Math.min(u.clipValue(), g));
            }
            g += (i < u.decayedPrefix() ? u.weightDecay() : 0f) * w[i];
            if (u.momentum() != 0f) {
                v[i] = AdaptiveUpdate.flush(u.momentum() * v[i] + g);
                g = u.nesterov() ? g + u.momentum() * v[i] : v[i];
            }
            w[i] -= u.learningRate() * g;
        }
        put(param, w);
        if (v != null) {
            put(velocity, v);
        }
    }

    @Override
    protected void adaptiveUpdateKernel(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradNormSq,
                                        AdaptiveUpdate u) {
        if (composeFused) {
            super.adaptiveUpdateKernel(param, grad, m, v, gradNormSq, u);
            return;
        }
        float normSq = gradNormSq == null ? 0f : d(gradNormSq)[0];
        if (!Float.isFinite(normSq)) {
            return;
        }
        float[] w = d(param);
        float[] mv = m == null || !u.usesFirstMoment() ? null : d(m);
        float[] vv = d(v);
        AdaptiveUpdate.applyScalar(u, w, 0, d(grad), 0, mv, 0, vv, 0, 0, param.size(), u.clipScale(normSq));
        put(param, w);
        if (mv != null) {
            put(m, mv);
        }
        put(v, vv);
    }
}
