package dev.jacobian.opencl;

import static dev.jacobian.backend.Tolerances.FP32_ATOL;
import static dev.jacobian.backend.Tolerances.FP32_RTOL;
import static dev.jacobian.backend.Tolerances.FP32_SUM_RTOL;
import static dev.jacobian.backend.Tolerances.sumAtol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.DeviceBuffer;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The OpenCL unary and broadcasting kernels and sub-buffer views against the reference backend: every
 * {@link UnaryOp} on odd sizes with special values, broadcasting binary ops, their backward and
 * {@code sumTo} on mixed ranks, primitives on views at the device's alignment, and the error for a
 * misaligned view.
 */
class ClViewsAndBroadcastTest extends OpenClTestBase {

    /** Values on a coarse grid, so that MAX sees ties. */
    private static float[] coarse(long seed, int n) {
        float[] x = random(seed, n, -2, 2);
        for (int i = 0; i < n; i++) {
            x[i] = Math.round(x[i] * 2) / 2f;
        }
        return x;
    }

    // ---------------------------------------------------------------- unary

    static Stream<Arguments> unaryCases() {
        List<Arguments> out = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) {
            for (int n : new int[] {1, 7, 33, 1001}) {
                out.add(Arguments.of(op, n));
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("unaryCases")
    void unaryMatchesTheReference(UnaryOp op, int n) {
        float[] x = random(n * 31L + op.ordinal(), n, -3, 3);
        float[] specials = {Float.NaN, 0f, -0f, 1f, -1f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-3f, -2.5f};
        System.arraycopy(specials, 0, x, 0, Math.min(n, specials.length));
        float p = op == UnaryOp.CLAMP ? -0.75f : 1.5f;
        float q = op == UnaryOp.CLAMP ? 0.5f : op == UnaryOp.STEP ? 2f : 0f;
        Shape shape = n == 1001 ? Shape.of(7, 11, 13) : Shape.of(n);
        float[] expected;
        try (Tensor rx = ref.fromHost(shape, x); Tensor ry = ref.allocate(shape)) {
            ref.unary(op, p, q, rx, ry);
            expected = ry.download();
        }
        try (Tensor cx = cl.fromHost(shape, x); Tensor cy = cl.allocate(shape)) {
            cl.unary(op, p, q, cx, cy);
            boolean exact = op == UnaryOp.SIGN || op == UnaryOp.CLAMP || op == UnaryOp.NEG || op == UnaryOp.ABS
                    || op == UnaryOp.STEP;
            TensorAssert.assertClose("unary " + op + " " + shape, expected, cy.download(),
                    exact ? 0 : FP32_RTOL, exact ? 0 : FP32_ATOL);
            cl.unary(op, p, q, cx, cx); // in place
            TensorAssert.assertClose("unary " + op + " in place", expected, cx.download(),
                    exact ? 0 : FP32_RTOL, exact ? 0 : FP32_ATOL);
        }
    }

    @Test
    void signIsExactlyMinusOneZeroOneAndKeepsNaN() {
        float[] x = {-3f, -0f, 0f, 2e-30f, Float.NaN, Float.NEGATIVE_INFINITY, 7f};
        try (Tensor t = cl.fromHost(Shape.of(x.length), x)) {
            cl.unary(UnaryOp.SIGN, 0, 0, t, t);
            float[] y = t.download();
            assertEquals(-1f, y[0]);
            assertEquals(0f, y[1], 0f);
            assertEquals(0f, y[2], 0f);
            assertEquals(1f, y[3]);
            assertTrue(Float.isNaN(y[4]));
            assertEquals(-1f, y[5]);
            assertEquals(1f, y[6]);
        }
    }

    // ---------------------------------------------------------------- broadcasting

    static Stream<Arguments> broadcastShapes() {
        int[][][] pairs = {
            {{7, 33}, {33}}, {{33}, {7, 33}}, {{7, 33}, {7, 1}}, {{7, 1}, {7, 33}}, {{2, 3, 5, 7}, {3, 1, 7}},
            {{3, 1, 7}, {2, 3, 5, 7}}, {{1}, {4, 5}}, {{4, 5}, {1}}, {{7, 1}, {1, 33}}, {{2, 1, 5, 1}, {3, 1, 4}},
            {{65, 129}, {129}}};
        List<Arguments> out = new ArrayList<>();
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] p : pairs) {
                out.add(Arguments.of(op, p[0], p[1]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("broadcastShapes")
    void broadcastingBinaryAndBackwardMatchTheReference(BinaryOp op, int[] sa, int[] sb) {
        Shape a = Shape.of(sa);
        Shape b = Shape.of(sb);
        Shape c = Shape.broadcast("test", a, b);
        long seed = Arrays.hashCode(sa) * 31L + Arrays.hashCode(sb) + op.ordinal();
        float[] xa = op == BinaryOp.MAX ? coarse(seed, a.size()) : random(seed, a.size(), -1, 1);
        float[] xb = op == BinaryOp.MAX ? coarse(seed + 1, b.size()) : random(seed + 1, b.size(), -1, 1);
        float[] dc = random(seed + 2, c.size(), -1, 1);
        float[][] grads0 = {random(seed + 3, a.size(), -1, 1), random(seed + 4, b.size(), -1, 1)};
        int terms = c.size() / Math.min(a.size(), b.size());
        String what = op + " " + a + " with " + b;

        float[] expectedC;
        float[][][] expectedGrad = new float[2][2][];
        try (Tensor ta = ref.fromHost(a, xa); Tensor tb = ref.fromHost(b, xb); Tensor tc = ref.allocate(c);
             Tensor tdc = ref.fromHost(c, dc)) {
            ref.binary(op, ta, tb, tc);
            expectedC = tc.download();
            for (int operand = 0; operand < 2; operand++) {
                for (int acc = 0; acc < 2; acc++) {
                    try (Tensor g = ref.fromHost(operand == 0 ? a : b, grads0[operand])) {
                        ref.binaryBackward(op, operand, ta, tb, tdc, g, acc == 1);
                        expectedGrad[operand][acc] = g.download();
                    }
                }
            }
        }
        try (Tensor ta = cl.fromHost(a, xa); Tensor tb = cl.fromHost(b, xb); Tensor tc = cl.allocate(c);
             Tensor tdc = cl.fromHost(c, dc)) {
            cl.binary(op, ta, tb, tc);
            TensorAssert.assertClose("binary " + what, expectedC, tc.download(), 0, 0);
            for (int operand = 0; operand < 2; operand++) {
                for (int acc = 0; acc < 2; acc++) {
                    try (Tensor g = cl.fromHost(operand == 0 ? a : b, grads0[operand])) {
                        cl.binaryBackward(op, operand, ta, tb, tdc, g, acc == 1);
                        TensorAssert.assertClose("binaryBackward " + what + " operand " + operand
                                        + (acc == 1 ? " accumulate" : ""), expectedGrad[operand][acc], g.download(),
                                FP32_SUM_RTOL, sumAtol(terms));
                    }
                }
            }
        }
    }

    @Test
    void broadcastOutputMayBeTheFullSizeOperand() {
        Shape a = Shape.of(7, 33);
        Shape b = Shape.of(33);
        float[] xa = random(5, a.size(), -1, 1);
        float[] xb = random(6, b.size(), -1, 1);
        float[] expected;
        try (Tensor ta = ref.fromHost(a, xa); Tensor tb = ref.fromHost(b, xb)) {
            ref.binary(BinaryOp.MUL, ta, tb, ta);
            expected = ta.download();
        }
        try (Tensor ta = cl.fromHost(a, xa); Tensor tb = cl.fromHost(b, xb)) {
            cl.binary(BinaryOp.MUL, ta, tb, ta);
            TensorAssert.assertClose("in-place broadcast MUL", expected, ta.download(), 0, 0);
        }
    }

    static Stream<Arguments> sumToShapes() {
        int[][][] pairs = {
            {{7, 33}, {33}}, {{7, 33}, {7, 1}}, {{7, 33}, {1, 33}}, {{7, 33}, {1}}, {{2, 3, 5, 7}, {3, 1, 7}},
            {{2, 3, 5, 7}, {1, 3, 1, 1}}, {{2, 3, 5, 7}, {2, 1, 5, 1}}, {{2, 3, 5, 7}, {2, 3, 5, 7}},
            {{3, 2, 2, 3, 5, 7}, {2, 1, 3, 1, 7}}, {{300, 257}, {257}}, {{4, 5}, {}}};
        List<Arguments> out = new ArrayList<>();
        for (int[][] p : pairs) {
            out.add(Arguments.of(p[0], p[1], false));
            out.add(Arguments.of(p[0], p[1], true));
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("sumToShapes")
    void sumToMatchesTheReference(int[] big, int[] small, boolean accumulate) {
        Shape x = Shape.of(big);
        Shape y = Shape.of(small);
        float[] xs = random(Arrays.hashCode(big), x.size(), -1, 1);
        float[] y0 = random(Arrays.hashCode(small) + 1, y.size(), -1, 1);
        float[] expected;
        try (Tensor tx = ref.fromHost(x, xs); Tensor ty = ref.fromHost(y, y0)) {
            ref.sumTo(tx, ty, accumulate);
            expected = ty.download();
        }
        try (Tensor tx = cl.fromHost(x, xs); Tensor ty = cl.fromHost(y, y0)) {
            cl.sumTo(tx, ty, accumulate);
            TensorAssert.assertClose("sumTo " + x + " -> " + y, expected, ty.download(), FP32_SUM_RTOL,
                    sumAtol(x.size() / y.size() + 1));
        }
    }

    // ---------------------------------------------------------------- views

    /**
     * A tensor of {@code shape} viewed {@code pad} floats into a larger storage tensor whose other floats
     * are {@code sentinel}; returns {storage, view}.
     */
    private static Tensor[] viewInto(Backend b, Shape shape, float[] data, int pad, float sentinel) {
        float[] all = new float[pad + shape.size() + 11];
        Arrays.fill(all, sentinel);
        System.arraycopy(data, 0, all, pad, data.length);
        Tensor storage = b.fromHost(Shape.of(all.length), all);
        return new Tensor[] {storage, storage.slice(pad, pad + shape.size()).reshape(shape)};
    }

    private static void assertMargins(String what, Tensor storage, int pad, int n, float sentinel) {
        float[] all = storage.download();
        for (int k = 0; k < all.length; k++) {
            if ((k < pad || k >= pad + n) && all[k] != sentinel) {
                throw new AssertionError(what + ": written outside the view at storage index " + k);
            }
        }
    }

    @Test
    void primitivesRunOnAlignedSubBufferViews() {
        int align = cl.viewAlignmentFloats();
        int pad = 3 * align;
        float sentinel = -777.25f;
        int m = 19;
        int n = 23;
        int k = 37;
        float[] xa = random(11, m * k, -1, 1);
        float[] xb = random(12, k * n, -1, 1);
        float[] xc = random(13, m * n, -1, 1);
        float[] bias = random(14, n, -1, 1);

        float[] gemm;
        float[] sum;
        float[] rowSums;
        float[] flat;
        try (Tensor a = ref.fromHost(Shape.matrix(m, k), xa); Tensor b = ref.fromHost(Shape.matrix(k, n), xb);
             Tensor c = ref.fromHost(Shape.matrix(m, n), xc); Tensor v = ref.fromHost(Shape.of(n), bias);
             Tensor s = ref.allocate(Shape.of(n)); Tensor r = ref.allocate(Shape.scalar())) {
            ref.gemm(false, false, 0.5f, a, b, 0.25f, c);
            gemm = c.download();
            ref.binary(BinaryOp.ADD, c, v, c);
            flat = c.download();
            ref.reduce(Reduction.SUM, Axis.ROWS, c, s, false);
            rowSums = s.download();
            ref.reduce(Reduction.SUM, Axis.ALL, c, r, false);
            sum = r.download();
        }

        Tensor[] a = viewInto(cl, Shape.matrix(m, k), xa, pad, sentinel);
        Tensor[] b = viewInto(cl, Shape.matrix(k, n), xb, align, sentinel);
        Tensor[] c = viewInto(cl, Shape.matrix(m, n), xc, pad, sentinel);
        Tensor[] v = viewInto(cl, Shape.of(n), bias, align, sentinel);
        Tensor[] s = viewInto(cl, Shape.of(n), new float[n], 2 * align, sentinel);
        Tensor[] r = viewInto(cl, Shape.scalar(), new float[1], align, sentinel);
        try {
            assertTrue(a[1].isView() && a[1].offset() == pad);
            cl.gemm(false, false, 0.5f, a[1], b[1], 0.25f, c[1]);
            TensorAssert.assertClose("gemm on views", gemm, c[1].download(), FP32_SUM_RTOL, sumAtol(k));
            cl.binary(BinaryOp.ADD, c[1], v[1], c[1]);
            TensorAssert.assertClose("broadcast add on views", flat, c[1].download(), FP32_SUM_RTOL, sumAtol(k));
            cl.reduce(Reduction.SUM, Axis.ROWS, c[1], s[1], false);
            TensorAssert.assertClose("reduce rows on views", rowSums, s[1].download(), FP32_SUM_RTOL, sumAtol(k * m));
            cl.reduce(Reduction.SUM, Axis.ALL, c[1], r[1], false);
            TensorAssert.assertClose("reduce all on views", sum, r[1].download(), FP32_SUM_RTOL, sumAtol(k * m * n));
            assertMargins("gemm/binary output", c[0], pad, m * n, sentinel);
            assertMargins("reduce output", s[0], 2 * align, n, sentinel);
            assertMargins("scalar output", r[0], align, 1, sentinel);

            cl.fill(c[1], 2.5f);
            float[] filled = new float[m * n];
            Arrays.fill(filled, 2.5f);
            TensorAssert.assertClose("fill on a view", filled, c[1].download(), 0, 0);
            assertMargins("fill", c[0], pad, m * n, sentinel);

            float[] part = {1f, 2f, 3f, 4f};
            cl.upload(part, 1, c[1], 5, 3);
            float[] back = new float[5];
            cl.download(c[1], 4, back, 0, 5);
            TensorAssert.assertClose("ranged upload/download on a view", new float[] {2.5f, 2f, 3f, 4f, 2.5f}, back, 0, 0);
            assertEquals(3f, c[0].get(pad + 6));
            assertMargins("upload", c[0], pad, m * n, sentinel);

            cl.copy(a[1], 0, c[1], 0, 7);
            cl.unary(UnaryOp.MUL_SCALAR, 2f, 0f, c[1], c[1]);
            float[] copied = new float[7];
            cl.download(c[1], 0, copied, 0, 7);
            for (int i = 0; i < 7; i++) {
                assertEquals(2f * xa[i], copied[i], 0f);
            }
            assertMargins("copy/unary", c[0], pad, m * n, sentinel);
        } finally {
            for (Tensor[] t : List.of(a, b, c, v, s, r)) {
                t[0].close();
            }
        }
        assertEquals(0, cl.openViews(), "closing the storage releases its sub-buffers");
    }

    @Test
    void viewsAreSubBuffersOutsideThePool() {
        int align = cl.viewAlignmentFloats();
        try (Tensor warm = cl.allocate(Shape.of(4 * align))) {
            warm.download();
        }
        long created = cl.bufferCreations();
        long live = cl.stats().liveBuffers();
        float[] data = random(21, 4 * align, -1, 1);
        try (Tensor t = cl.fromHost(Shape.of(4, align), data)) {
            Tensor rows = t.slice(1, 3);
            Tensor again = t.slice(2, 4);
            assertEquals(2, cl.openViews());
            TensorAssert.assertClose("slice", Arrays.copyOfRange(data, align, 3 * align), rows.download(), 0, 0);
            TensorAssert.assertClose("slice", Arrays.copyOfRange(data, 2 * align, 4 * align), again.download(), 0, 0);
            rows.close();
            assertEquals(1, cl.openViews());
            assertEquals(live + 1, cl.stats().liveBuffers(), "a view is not a pooled buffer");

            // a view of a view buffer is made on the pooled buffer underneath
            DeviceBuffer inner = cl.viewBuffer(again.buffer(), align, align);
            try (Tensor wrapped = Tensor.wrap(cl, Shape.of(align), inner)) {
                assertEquals(2, cl.openViews());
                TensorAssert.assertClose("view of a view", Arrays.copyOfRange(data, 3 * align, 4 * align),
                        wrapped.download(), 0, 0);
            }
            assertEquals(1, cl.openViews());
        }
        assertEquals(0, cl.openViews());
        assertEquals(created, cl.bufferCreations(), "views create no pooled cl_mem");
        assertEquals(live, cl.stats().liveBuffers());
    }

    @Test
    void misalignedSliceSaysWhyAndWhatAlignmentItNeeds() {
        int align = cl.viewAlignmentFloats();
        assumeTrue(align > 1, "this device views buffers at any float offset");
        try (Tensor t = cl.allocate(Shape.of(7, 33))) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> t.slice(1, 3));
            assertTrue(e.getMessage().contains("offset 33 floats") && e.getMessage().contains("CL_DEVICE_MEM_BASE_ADDR_ALIGN")
                    && e.getMessage().contains(align + " floats"), e.getMessage());
            assertEquals(0, cl.openViews());
            // the whole tensor and offset-0 views still work
            try (Tensor head = t.slice(0, 2)) {
                assertEquals(66, head.size());
            }
        }
    }
}
