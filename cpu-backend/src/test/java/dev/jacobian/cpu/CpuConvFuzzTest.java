package dev.jacobian.cpu;

import static dev.jacobian.backend.Tolerances.FP32_ATOL;
import static dev.jacobian.backend.Tolerances.FP32_RTOL;
import static dev.jacobian.backend.Tolerances.FP32_SUM_RTOL;
import static dev.jacobian.backend.Tolerances.sumAtol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.Pool2dSpec;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Graph;
import dev.jacobian.graph.Initializer;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A seeded differential fuzz of {@link CpuConv} and {@link CpuWinograd} against the reference backend over random
 * geometries the fixed cases of {@link CpuConvKernelsTest} and {@link CpuWinogradTest} do not reach: kernels 1-7,
 * strides 1-3, padding 0-3, dilation 1-3, groups 1, 2 and depthwise, odd and tiny planes, asymmetric Winograd padding,
 * max pooling over NaN, infinities, signed zeros and ties, every tensor as an offset view (its surroundings must stay
 * untouched), and the {@code Conv2d} operation end to end with and without bias. The vector backends on 1, 2 and 3
 * threads must agree bit for bit; the scalar mode is held to the tolerances only (its Winograd products round
 * differently). {@code -Djacobian.convFuzz.cases=N} runs more cases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuConvFuzzTest {
    private static final int CASES = Integer.getInteger("jacobian.convFuzz.cases", 150);
    private final ReferenceBackend ref = new ReferenceBackend();
    /** Vector backends on 1, 2, 3 threads: must be bit-identical. */
    private final List<Backend> cpus = new ArrayList<>();
    private Backend scalar;

    @BeforeAll
    void open() {
        for (int t = 1; t <= 3; t++) {
            cpus.add(new CpuBackend(t, true));
        }
        scalar = new CpuBackend(2, false);
    }

    @AfterAll
    void close() {
        cpus.forEach(Backend::close);
        scalar.close();
        ref.close();
    }

    private static float[] rnd(SplittableRandom r, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    /** A tensor of shape s holding data, as a view with random surroundings when view. */
    private static final class Placed implements AutoCloseable {
        final Tensor root;
        final Tensor flat;
        final Tensor t;
        final float[] around;
        final int pre;
        final int size;

        Placed(Backend be, Shape s, float[] data, boolean view, long seed) {
            size = s.size();
            pre = view ? 1 + (int) (seed % 37) : 0;
            int post = view ? 5 : 0;
            around = rnd(new SplittableRandom(seed), pre + size + post, 100f, 200f);
            System.arraycopy(data, 0, around, pre, size);
            root = be.fromHost(Shape.of(around.length), around);
            if (view) {
                flat = root.slice(pre, pre + size);
                t = flat.reshape(s);
            } else {
                flat = null;
                t = root.reshape(s);
            }
        }

        float[] get(String what) {
            float[] all = root.download();
            for (int i = 0; i < pre; i++) {
                assertEquals(around[i], all[i], what + ": element before the view written");
            }
            for (int i = pre + size; i < all.length; i++) {
                assertEquals(around[i], all[i], what + ": element after the view written");
            }
            return Arrays.copyOfRange(all, pre, pre + size);
        }

        @Override
        public void close() {
            t.close();
            if (flat != null) {
                flat.close();
            }
            root.close();
        }
    }

    private interface Op {
        void apply(Backend be, Tensor[] t);
    }

    private static float[] run(Backend be, Shape[] shapes, float[][] in, boolean view, long seed, Op op, String what) {
        Placed[] p = new Placed[shapes.length];
        try {
            for (int i = 0; i < shapes.length; i++) {
                p[i] = new Placed(be, shapes[i], in[i], view, seed + i);
            }
            Tensor[] t = new Tensor[shapes.length];
            for (int i = 0; i < shapes.length; i++) {
                t[i] = p[i].t;
            }
            op.apply(be, t);
            for (int i = 0; i < shapes.length - 1; i++) {
                assertArrayEquals(in[i], p[i].get(what), what + ": input " + i + " changed");
            }
            return p[shapes.length - 1].get(what);
        } finally {
            for (Placed x : p) {
                if (x != null) {
                    x.close();
                }
            }
        }
    }

    private void compare(String what, double rtol, double atol, Shape[] shapes, float[][] in, boolean view, long seed,
                         Op op) {
        float[] expected = run(ref, shapes, in, false, seed, op, what);
        float[] first = null;
        for (Backend be : cpus) {
            float[] got = run(be, shapes, in, view, seed, op, what);
            TensorAssert.assertClose(what + " on " + be.deviceDescription(), expected, got, rtol, atol);
            if (first == null) {
                first = got;
            } else {
                assertBits(what + " threads " + be.deviceDescription(), first, got);
            }
        }
        float[] got = run(scalar, shapes, in, view, seed, op, what);
        TensorAssert.assertClose(what + " scalar", expected, got, rtol, atol);
    }

    private static void assertBits(String what, float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i])) {
                throw new AssertionError(what + ": differs at " + i + ": " + a[i] + " vs " + b[i]);
            }
        }
    }

    private static final int[] KS = {1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 7};

    /** A random conv geometry or null. */
    private static Object[] convCase(SplittableRandom r) {
        boolean big = r.nextInt(8) == 0;
        int kh = KS[r.nextInt(KS.length)];
        int kw = r.nextInt(3) == 0 ? KS[r.nextInt(KS.length)] : kh;
        int sh = 1 + r.nextInt(3);
        int sw = r.nextInt(3) == 0 ? 1 + r.nextInt(3) : sh;
        int ph = r.nextInt(4);
        int pw = r.nextInt(3) == 0 ? r.nextInt(4) : ph;
        int dh = r.nextInt(2) == 0 ? 1 : 1 + r.nextInt(3);
        int dw = r.nextInt(3) == 0 ? 1 + r.nextInt(3) : dh;
        int c = 1 + r.nextInt(big ? 24 : 17);
        int gk = r.nextInt(3);
        int groups = gk == 0 ? 1 : gk == 1 ? 2 : c;
        if (c % groups != 0) {
            c *= 2;
        }
        int n = 1 + r.nextInt(big ? 6 : 3);
        int h = 1 + r.nextInt(big ? 33 : 19);
        int w = 1 + r.nextInt(big ? 33 : 23);
        Conv2dSpec s = new Conv2dSpec(kh, kw, sh, sw, ph, pw, dh, dw, groups);
        if (s.spanH() > h + 2L * ph || s.spanW() > w + 2L * pw) {
            return null;
        }
        return new Object[] {s, Shape.of(n, c, h, w)};
    }

    @Test
    void im2colCol2im() {
        SplittableRandom r = new SplittableRandom(42);
        int done = 0;
        while (done < CASES) {
            Object[] cs = convCase(r);
            if (cs == null) {
                continue;
            }
            done++;
            Conv2dSpec s = (Conv2dSpec) cs[0];
            Shape x = (Shape) cs[1];
            Shape col = s.columnShape("im2col", x);
            int g = r.nextInt(s.groups());
            boolean view = r.nextBoolean();
            long seed = r.nextLong(1 << 20);
            String what = "case " + done + " " + x + " " + s + " group " + g + " view " + view;
            compare("im2col " + what, 0, 0, new Shape[] {x, col},
                    new float[][] {rnd(r, x.size(), -1, 1), rnd(r, col.size(), -1, 1)}, view, seed,
                    (be, t) -> be.im2col(s, g, t[0], t[1]));
            boolean acc = r.nextBoolean();
            compare("col2im acc " + acc + " " + what, FP32_SUM_RTOL, sumAtol(s.kernelH() * s.kernelW()),
                    new Shape[] {col, x}, new float[][] {rnd(r, col.size(), -1, 1), rnd(r, x.size(), -1, 1)}, view,
                    seed, (be, t) -> be.col2im(s, g, t[0], t[1], acc));
        }
    }

    @Test
    void pooling() {
        SplittableRandom r = new SplittableRandom(7);
        int done = 0;
        while (done < CASES * 2) {
            boolean big = r.nextInt(8) == 0;
            boolean twoByTwo = r.nextInt(4) == 0;
            int kh = twoByTwo ? 2 : KS[r.nextInt(KS.length)];
            int kw = twoByTwo ? 2 : r.nextInt(3) == 0 ? KS[r.nextInt(KS.length)] : kh;
            int sh = twoByTwo ? 2 : 1 + r.nextInt(3);
            int sw = twoByTwo ? 2 : r.nextInt(3) == 0 ? 1 + r.nextInt(3) : sh;
            int ph = twoByTwo ? 0 : r.nextInt(kh / 2 + 1);
            int pw = twoByTwo ? 0 : r.nextInt(kw / 2 + 1);
            boolean max = r.nextBoolean() || twoByTwo;
            Pool2dSpec s = new Pool2dSpec(max ? Pool2dSpec.Kind.MAX : Pool2dSpec.Kind.AVG, kh, kw, sh, sw, ph, pw,
                    r.nextBoolean());
            int n = 1 + r.nextInt(big ? 8 : 3);
            int c = 1 + r.nextInt(big ? 32 : 17);
            int h = 1 + r.nextInt(big ? 40 : 19);
            int w = 1 + r.nextInt(big ? 40 : 23);
            Shape x = Shape.of(n, c, h, w);
            if (kh > h + 2 * ph || kw > w + 2 * pw) {
                continue;
            }
            done++;
            Shape y = s.outputShape("pool2d", x);
            float[] xs = rnd(r, x.size(), -1, 1);
            int special = r.nextInt(4);
            for (int i = 0; i < xs.length; i++) {
                int q = r.nextInt(100);
                if (special == 1 && q < 8) {
                    float[] sp = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f};
                    xs[i] = sp[r.nextInt(sp.length)];
                } else if (special == 2 && q < 30 && i > 0) {
                    xs[i] = xs[i - 1]; // ties
                } else if (special == 3 && q < 50) {
                    xs[i] = r.nextBoolean() ? 0f : -0f;
                } else if (special == 3 && q < 70) {
                    xs[i] = Float.NEGATIVE_INFINITY;
                }
            }
            boolean view = r.nextBoolean();
            long seed = r.nextLong(1 << 20);
            String what = "case " + done + " " + x + " " + s + " special " + special + " view " + view;
            compare("pool " + what, max ? 0 : FP32_RTOL, max ? 0 : FP32_ATOL, new Shape[] {x, y},
                    new float[][] {xs, rnd(r, y.size(), -1, 1)}, view, seed, (be, t) -> be.pool2d(s, t[0], t[1]));
            boolean acc = r.nextBoolean();
            compare("pool backward acc " + acc + " " + what, FP32_SUM_RTOL, sumAtol(kh * kw), new Shape[] {x, y, x},
                    new float[][] {xs, rnd(r, y.size(), -1, 1), rnd(r, x.size(), -1, 1)}, view, seed,
                    (be, t) -> be.pool2dBackward(s, t[0], t[1], t[2], acc));
        }
    }

    @Test
    void permuteViews() {
        SplittableRandom r = new SplittableRandom(3);
        for (int done = 0; done < CASES; done++) {
            int rank = 1 + r.nextInt(6);
            boolean big = r.nextInt(6) == 0;
            int[] dims = new int[rank];
            long size = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = r.nextInt(4) == 0 ? 1 : 1 + r.nextInt(big ? 70 : 9);
                size *= dims[i];
            }
            if (size > 300_000) {
                done--;
                continue;
            }
            int[] axes = new int[rank];
            for (int i = 0; i < rank; i++) {
                axes[i] = i;
            }
            for (int i = rank - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = axes[i];
                axes[i] = axes[j];
                axes[j] = t;
            }
            int[] out = new int[rank];
            for (int i = 0; i < rank; i++) {
                out[i] = dims[axes[i]];
            }
            Shape x = Shape.of(dims);
            Shape y = Shape.of(out);
            boolean view = r.nextBoolean();
            compare("permute " + x + " " + Arrays.toString(axes) + " view " + view, 0, 0, new Shape[] {x, y},
                    new float[][] {rnd(r, x.size(), -1, 1), rnd(r, y.size(), -1, 1)}, view, r.nextLong(1 << 20),
                    (be, t) -> be.permute(t[0], axes, t[1]));
        }
    }

    // -------------------------------------------------------------- Winograd vs a double direct conv

    private static double[] direct(Conv2dSpec s, float[] x, int[] xd, float[] w, int oc) {
        int n = xd[0], c = xd[1], h = xd[2], wd = xd[3];
        int oh = s.outH(h), ow = s.outW(wd);
        double[] y = new double[n * oc * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < oc; o++) {
                for (int yy = 0; yy < oh; yy++) {
                    for (int xx = 0; xx < ow; xx++) {
                        double sum = 0;
                        for (int ci = 0; ci < c; ci++) {
                            for (int i = 0; i < 3; i++) {
                                int ih = yy - s.padH() + i;
                                for (int j = 0; j < 3; j++) {
                                    int iw = xx - s.padW() + j;
                                    if (ih >= 0 && ih < h && iw >= 0 && iw < wd) {
                                        sum += (double) w[((o * c + ci) * 3 + i) * 3 + j]
                                                * x[((b * c + ci) * h + ih) * wd + iw];
                                    }
                                }
                            }
                        }
                        y[((b * oc + o) * oh + yy) * ow + xx] = sum;
                    }
                }
            }
        }
        return y;
    }

    private static float[] f(double[] d, float[] base, boolean acc) {
        float[] o = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            o[i] = (float) (acc ? base[i] + d[i] : d[i]);
        }
        return o;
    }

    @Test
    void winograd() {
        SplittableRandom r = new SplittableRandom(99);
        int done = 0;
        while (done < CASES / 2) {
            int ph = r.nextInt(3);
            int pw = r.nextInt(3) == 0 ? r.nextInt(3) : ph;
            Conv2dSpec s = new Conv2dSpec(3, 3, 1, 1, ph, pw, 1, 1, 1);
            boolean wide = r.nextInt(6) == 0;
            int c = 8 + r.nextInt(wide ? 33 : 10);
            int oc = 8 + r.nextInt(wide ? 33 : 10);
            int n = 1 + r.nextInt(3);
            int h = 1 + r.nextInt(19);
            int wd = 1 + r.nextInt(23);
            if (3 > h + 2 * ph || 3 > wd + 2 * pw) {
                continue;
            }
            done++;
            Shape xs = Shape.of(n, c, h, wd);
            Shape ws = Shape.of(oc, c, 3, 3);
            Shape ys = s.outputShape("conv2d", xs, oc);
            float[] x = rnd(r, xs.size(), -1, 1);
            float[] w = rnd(r, ws.size(), -0.5f, 0.5f);
            float[] dy = rnd(r, ys.size(), -1, 1);
            float[] dx0 = rnd(r, xs.size(), -1, 1);
            float[] dw0 = rnd(r, ws.size(), -1, 1);
            boolean accD = r.nextBoolean();
            boolean accW = r.nextBoolean();
            boolean view = r.nextBoolean();
            long seed = r.nextLong(1 << 20);
            String what = "case " + done + " " + xs + " oc " + oc + " " + s + " view " + view;
            float[] yExp = f(direct(s, x, xs.dims(), w, oc), null, false);
            // dx: transposed conv; compute via the adjoint directly
            double[] dxd = new double[xs.size()];
            double[] dwd = new double[ws.size()];
            int oh = ys.dim(2), ow = ys.dim(3);
            for (int b = 0; b < n; b++) {
                for (int o = 0; o < oc; o++) {
                    for (int yy = 0; yy < oh; yy++) {
                        for (int xx = 0; xx < ow; xx++) {
                            double g = dy[((b * oc + o) * oh + yy) * ow + xx];
                            for (int ci = 0; ci < c; ci++) {
                                for (int i = 0; i < 3; i++) {
                                    int ih = yy - ph + i;
                                    for (int j = 0; j < 3; j++) {
                                        int iw = xx - pw + j;
                                        if (ih >= 0 && ih < h && iw >= 0 && iw < wd) {
                                            int wi = ((o * c + ci) * 3 + i) * 3 + j;
                                            int xi = ((b * c + ci) * h + ih) * wd + iw;
                                            dxd[xi] += g * w[wi];
                                            dwd[wi] += g * x[xi];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            float[] dxExp = f(dxd, dx0, accD);
            float[] dwExp = f(dwd, dw0, accW);
            float[][] first = null;
            List<Backend> all = new ArrayList<>(cpus);
            all.add(scalar);
            for (Backend be : all) {
                assertEquals(true, be.directConv2d(s, c, oc), what);
                float[] y = run(be, new Shape[] {xs, ws, ys}, new float[][] {x, w, new float[ys.size()]}, view, seed,
                        (b2, t) -> b2.conv2d(s, t[0], t[1], t[2]), what);
                float[] dx = run(be, new Shape[] {ys, ws, xs}, new float[][] {dy, w, dx0}, view, seed,
                        (b2, t) -> b2.conv2dBackwardData(s, t[0], t[1], t[2], accD), what);
                float[] dw = run(be, new Shape[] {xs, ys, ws}, new float[][] {x, dy, dw0}, view, seed,
                        (b2, t) -> b2.conv2dBackwardWeights(s, t[0], t[1], t[2], accW), what);
                String on = what + " on " + be.deviceDescription();
                TensorAssert.assertClose("y " + on, yExp, y, FP32_SUM_RTOL, sumAtol(c * 9));
                TensorAssert.assertClose("dx acc " + accD + " " + on, dxExp, dx, FP32_SUM_RTOL, sumAtol(oc * 9));
                TensorAssert.assertClose("dw acc " + accW + " " + on, dwExp, dw, FP32_SUM_RTOL, sumAtol(n * oh * ow));
                if (be != scalar) {
                    float[][] got = {y, dx, dw};
                    if (first == null) {
                        first = got;
                    } else {
                        for (int k = 0; k < 3; k++) {
                            assertBits("output " + k + " " + on, first[k], got[k]);
                        }
                    }
                }
            }
        }
    }

    // -------------------------------------------------------------- the Conv2d op end to end, with bias

    private static Initializer copyOf(float[] v) {
        return (out, fanIn, fanOut, rr) -> System.arraycopy(v, 0, out, 0, v.length);
    }

    private static float[][] convOp(Backend be, Conv2dSpec s, Shape xs, int oc, boolean bias, float[][] data) {
        Graph g = new Graph();
        Shape ws = Shape.of(oc, xs.dim(1) / s.groups(), s.kernelH(), s.kernelW());
        Shape ys = s.outputShape("conv2d", xs, oc);
        Parameter x = g.parameter("x", xs, copyOf(data[0]), false);
        Parameter w = g.parameter("w", ws, copyOf(data[1]), false);
        Parameter b = bias ? g.parameter("b", Shape.of(oc), copyOf(data[2]), false) : null;
        Parameter rr = g.parameter("r", ys, copyOf(data[3]), false);
        Node y = g.conv2d(x, w, b, s);
        Node loss = g.sum(g.mul(y, rr));
        try (Executor exec = new Executor(g, be, 0)) {
            exec.forward(loss, 1);
            exec.backward();
            float[] yv = exec.value(y).download();
            return new float[][] {yv, exec.gradient(x).download(), exec.gradient(w).download(),
                bias ? exec.gradient(b).download() : new float[0]};
        }
    }

    @Test
    void convOpEndToEnd() {
        SplittableRandom r = new SplittableRandom(5);
        int done = 0;
        while (done < CASES / 3) {
            Object[] cs = convCase(r);
            if (cs == null) {
                continue;
            }
            Conv2dSpec s = (Conv2dSpec) cs[0];
            Shape xs = (Shape) cs[1];
            if (r.nextInt(4) == 0) { // winograd-eligible
                s = new Conv2dSpec(3, 3, 1, 1, r.nextInt(3), r.nextInt(3), 1, 1, 1);
                xs = Shape.of(1 + r.nextInt(3), 8 + r.nextInt(10), 1 + r.nextInt(15), 1 + r.nextInt(15));
                if (3 > xs.dim(2) + 2 * s.padH() || 3 > xs.dim(3) + 2 * s.padW()) {
                    continue;
                }
            }
            done++;
            int oc = s.groups() * (1 + r.nextInt(s.groups() > 2 ? 2 : 12));
            if (s.groups() == 1 && s.kernelH() == 3 && s.padH() <= 2 && s.strideH() == 1 && r.nextBoolean()) {
                oc = 8 + r.nextInt(10);
            }
            boolean bias = r.nextBoolean();
            Shape ws = Shape.of(oc, xs.dim(1) / s.groups(), s.kernelH(), s.kernelW());
            Shape ys = s.outputShape("conv2d", xs, oc);
            float[][] data = {rnd(r, xs.size(), -1, 1), rnd(r, ws.size(), -0.5f, 0.5f), rnd(r, oc, -1, 1),
                rnd(r, ys.size(), -1, 1)};
            String what = "op case " + done + " " + xs + " oc " + oc + " " + s + " bias " + bias;
            float[][] exp = convOp(ref, s, xs, oc, bias, data);
            int k = xs.dim(1) / s.groups() * s.kernelH() * s.kernelW();
            int p = ys.dim(0) * ys.dim(2) * ys.dim(3);
            float[][] first = null;
            List<Backend> all = new ArrayList<>(cpus);
            all.add(scalar);
            for (Backend be : all) {
                float[][] got = convOp(be, s, xs, oc, bias, data);
                String on = what + " on " + be.deviceDescription() + " direct " + be.directConv2d(s, xs.dim(1), oc);
                TensorAssert.assertClose("y " + on, exp[0], got[0], FP32_SUM_RTOL, sumAtol(k + 1));
                TensorAssert.assertClose("dx " + on, exp[1], got[1], FP32_SUM_RTOL,
                        sumAtol(oc / s.groups() * s.kernelH() * s.kernelW()));
                TensorAssert.assertClose("dw " + on, exp[2], got[2], FP32_SUM_RTOL, sumAtol(p));
                TensorAssert.assertClose("db " + on, exp[3], got[3], FP32_SUM_RTOL, sumAtol(p));
                if (be != scalar) {
                    if (first == null) {
                        first = got;
                    } else {
                        for (int q = 0; q < 4; q++) {
                            assertBits("op output " + q + " " + on, first[q], got[q]);
                        }
                    }
                }
            }
        }
    }
}
