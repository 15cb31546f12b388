package dev.jacobian.backend;

import static dev.jacobian.backend.Tolerances.FP32_ATOL;
import static dev.jacobian.backend.Tolerances.FP32_RTOL;
import static dev.jacobian.backend.Tolerances.FP32_SUM_RTOL;
import static dev.jacobian.backend.Tolerances.sumAtol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backend conformance suite: every {@link Primitive} run on the backend under test and on the
 * scalar {@link ReferenceBackend}, on odd sizes, compared with the named {@link Tolerances}.
 *
 * <p>A backend module adds one subclass that implements {@link #createBackend()}. A subclass whose
 * device may be missing (OpenCL) skips with an assumption in {@link #createBackend()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendConformanceTest {

    /** Matrix shapes with odd sizes that defeat vector widths and tile sizes. */
    protected static final int[][] SHAPES = {{1, 1}, {1, 7}, {7, 1}, {7, 33}, {33, 257}, {257, 65}, {64, 64}};

    protected Backend backend;
    protected Backend reference;

    /** The backend under test; the suite closes it. */
    protected abstract Backend createBackend();

    /**
     * The offset in floats at which {@link #compare} places the backend's operands a second time, as views
     * ({@link Tensor#slice}) into a larger tensor whose margins must stay untouched. Odd by default (defeats
     * vector alignment); a backend that can only view aligned offsets returns its alignment.
     */
    protected int viewOffset() {
        return 5;
    }

    /** Filled into the margins around view operands; any other value there after a call is an out-of-range write. */
    private static final float SENTINEL = -12345.5f;

    @BeforeAll
    void setUpBackends() {
        backend = createBackend();
        reference = new ReferenceBackend();
    }

    @AfterAll
    void closeBackends() {
        if (backend != null) {
            backend.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    // ------------------------------------------------------------------ harness

    /** A primitive call, run once per backend on tensors made from the same host data. */
    @FunctionalInterface
    protected interface Call {
        void run(Backend b, Tensor[] t);
    }

    /** Host data of one operand. */
    protected record Operand(Shape shape, float[] data) {
    }

    protected static Operand op(int rows, int cols, float[] data) {
        return new Operand(Shape.matrix(rows, cols), data);
    }

    /** {@code n} floats uniform in {@code [lo, hi)}, the same for the same seed. */
    public static float[] random(long seed, int n, float lo, float hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    protected static float[] constant(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    protected static Operand rand(long seed, int rows, int cols) {
        return op(rows, cols, random(seed, rows * cols, -1f, 1f));
    }

    /**
     * Uploads {@code operands} to both backends, runs {@code call} on each, and compares the operands at
     * {@code outputs}.
     */
    protected void compare(String what, double rtol, double atol, List<Operand> operands, int[] outputs, Call call) {
        Tensor[] ref = upload(reference, operands);
        Tensor[] act = upload(backend, operands);
        Tensor[] storage = new Tensor[operands.size()];
        Tensor[] views = uploadViews(backend, operands, storage);
        try {
            call.run(reference, ref);
            call.run(backend, act);
            call.run(backend, views);
            for (int o : outputs) {
                float[] expected = ref[o].download();
                TensorAssert.assertClose(what + " (operand " + o + ")", expected, act[o].download(), rtol, atol);
                TensorAssert.assertClose(what + " (operand " + o + " as a view at offset " + viewOffset() + ")",
                        expected, views[o].download(), rtol, atol);
            }
            for (int i = 0; i < storage.length; i++) {
                if (storage[i] != null) {
                    float[] all = storage[i].download();
                    int pad = viewOffset();
                    for (int k = 0; k < all.length; k++) {
                        if ((k < pad || k >= pad + views[i].size()) && all[k] != SENTINEL) {
                            throw new AssertionError(what + ": operand " + i + " (a view) was written outside its range at "
                                    + (k - pad));
                        }
                    }
                }
            }
        } finally {
            for (Tensor[] ts : List.of(ref, act, views, storage)) {
                for (Tensor t : ts) {
                    if (t != null) {
                        t.close();
                    }
                }
            }
        }
    }

    /** Each operand as a view at {@link #viewOffset()} into a larger tensor with sentinel margins. */
    private Tensor[] uploadViews(Backend b, List<Operand> operands, Tensor[] storage) {
        Tensor[] t = new Tensor[operands.size()];
        int pad = viewOffset();
        for (int i = 0; i < t.length; i++) {
            Operand o = operands.get(i);
            if (o == null) {
                continue;
            }
            int n = o.shape().size();
            float[] all = new float[pad + n + 7];
            java.util.Arrays.fill(all, SENTINEL);
            System.arraycopy(o.data(), 0, all, pad, n);
            storage[i] = b.fromHost(Shape.of(all.length), all);
            t[i] = storage[i].slice(pad, pad + n).reshape(o.shape());
        }
        return t;
    }

    private static Tensor[] upload(Backend b, List<Operand> operands) {
        Tensor[] t = new Tensor[operands.size()];
        for (int i = 0; i < t.length; i++) {
            Operand o = operands.get(i);
            t[i] = o == null ? null : b.fromHost(o.shape(), o.data());
        }
        return t;
    }

    private static List<Operand> list(Operand... o) {
        List<Operand> l = new ArrayList<>();
        for (Operand x : o) {
            l.add(x);
        }
        return l;
    }

    static Stream<int[]> shapes() {
        return Stream.of(SHAPES);
    }

    /**
     * Every value with every shape, values outer: the arguments {@code (value, shape)} of a parameterized test,
     * e.g. each {@link BinaryOp} on each of {@link #SHAPES}.
     */
    public static Stream<Arguments> eachWithEach(Object[] values, Object[] shapes) {
        return Stream.of(values).flatMap(v -> Stream.of(shapes).map(s -> Arguments.of(v, s)));
    }

    /** Every value with every pair of shapes {@code {a, b}}, values outer: the arguments {@code (value, a, b)}. */
    public static Stream<Arguments> eachWithEachPair(Object[] values, int[][][] pairs) {
        return Stream.of(values).flatMap(v -> Stream.of(pairs).map(p -> Arguments.of(v, p[0], p[1])));
    }

    /**
     * Each GEMM size {@code {m, n, k}} with the four transpose variants, as the arguments
     * {@code (m, n, k, transA, transB)}: both as stored, A transposed, B transposed, both transposed.
     */
    public static Stream<Arguments> eachTranspose(int[][] mnk) {
        return Stream.of(mnk).flatMap(d -> Stream.of(0, 1, 2, 3)
                .map(tr -> Arguments.of(d[0], d[1], d[2], (tr & 1) != 0, (tr & 2) != 0)));
    }

    // ------------------------------------------------------------------ memory

    @Test
    void allocateIsZeroFilledAndRoundTrips() {
        try (Tensor t = backend.allocate(Shape.matrix(33, 7))) {
            TensorAssert.assertClose("allocate", new float[33 * 7], t.download(), 0, 0);
            float[] data = random(1, 33 * 7, -5, 5);
            t.upload(data);
            TensorAssert.assertClose("round trip", data, t.download(), 0, 0);
            float[] part = {1f, 2f, 3f};
            backend.upload(part, 1, t, 10, 2);
            float[] back = new float[4];
            backend.download(t, 9, back, 0, 4);
            assertEquals(data[9], back[0]);
            assertEquals(2f, back[1]);
            assertEquals(3f, back[2]);
            assertEquals(data[12], back[3]);
            assertEquals(2f, t.get(10));
        }
    }

    /**
     * Rows of bytes gathered from scattered offsets (every byte value among them) are uploaded as exactly the floats
     * {@code (b & 0xff) / divisor}, from an offset into the tensor, leaving the rest of it as it was; the sizes reach
     * past the threshold at which a backend shares the upload among its threads.
     */
    @ParameterizedTest
    @CsvSource({"1, 1, 255", "3, 7, 255", "5, 33, 3", "64, 785, 255", "130, 784, 255", "97, 1001, 0.7"})
    void byteRowsUploadAsTheirFloats(int rows, int rowLength, float divisor) {
        SplittableRandom random = new SplittableRandom(rows * 31L + rowLength);
        byte[] src = new byte[rows * rowLength * 3 + 300];
        random.nextBytes(src);
        for (int v = 0; v < 256 && v < src.length; v++) {
            src[v] = (byte) v;
        }
        int[] offsets = new int[rows + 2];
        for (int r = 0; r < offsets.length; r++) {
            offsets[r] = r == 0 ? 0 : random.nextInt(src.length - rowLength + 1);
        }
        int margin = 3;
        try (Tensor t = backend.allocate(Shape.of(rows * rowLength + 2 * margin))) {
            t.upload(constant(rows * rowLength + 2 * margin, SENTINEL));
            backend.uploadByteRows(src, offsets, rows, rowLength, divisor, t, margin);
            float[] got = t.download();
            float[] want = constant(rows * rowLength + 2 * margin, SENTINEL);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < rowLength; j++) {
                    want[margin + r * rowLength + j] = (src[offsets[r] + j] & 0xff) / divisor;
                }
            }
            TensorAssert.assertClose("byte rows " + rows + "x" + rowLength + " / " + divisor, want, got, 0, 0);
        }
    }

    /** Bad byte rows name the call and the problem, and write nothing. */
    @Test
    void byteRowsOutsideTheirArraysAreRejected() {
        byte[] src = new byte[100];
        try (Tensor t = backend.allocate(Shape.of(40))) {
            assertThrows(IllegalArgumentException.class, () -> backend.uploadByteRows(null, new int[1], 1, 10, 1f, t, 0));
            assertThrows(IllegalArgumentException.class, () -> backend.uploadByteRows(src, null, 1, 10, 1f, t, 0));
            assertThrows(IllegalArgumentException.class, () -> backend.uploadByteRows(src, new int[1], -1, 10, 1f, t, 0));
            IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                    () -> backend.uploadByteRows(src, new int[2], 3, 10, 1f, t, 0));
            assertTrue(few.getMessage().contains("uploadByteRows") && few.getMessage().contains("3 rows"),
                    few.getMessage());
            IndexOutOfBoundsException past = assertThrows(IndexOutOfBoundsException.class,
                    () -> backend.uploadByteRows(src, new int[] {0, 91}, 2, 10, 1f, t, 0));
            assertTrue(past.getMessage().contains("row 1 at byte 91"), past.getMessage());
            assertThrows(IndexOutOfBoundsException.class,
                    () -> backend.uploadByteRows(src, new int[] {-1}, 1, 10, 1f, t, 0));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> backend.uploadByteRows(src, new int[] {0, 10, 20, 30, 40}, 5, 10, 1f, t, 0));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> backend.uploadByteRows(src, new int[] {0}, 1, 10, 1f, t, Integer.MAX_VALUE - 2));
            TensorAssert.assertClose("nothing written", new float[40], t.download(), 0, 0);
        }
    }

    @Test
    void rangedCopyOnTheDevice() {
        compare("ranged copy", 0, 0, list(rand(7, 5, 7), rand(8, 3, 11)), new int[] {1},
                (b, t) -> {
                    b.copy(t[0], 3, t[1], 30, 2);
                    b.copy(t[0], 34, t[1], 0, 1);
                    b.copy(t[0], 0, t[1], 5, 0);
                });
        try (Tensor a = backend.allocate(Shape.matrix(2, 2)); Tensor c = backend.allocate(Shape.matrix(1, 3))) {
            assertThrows(IndexOutOfBoundsException.class, () -> backend.copy(a, 2, c, 0, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> backend.copy(a, 0, c, 1, 3));
        }
    }

    @Test
    void statsCountBuffersAndTransfers() {
        BackendStats s = backend.stats();
        long live = s.liveBuffers();
        long downloads = s.downloads();
        Tensor t = backend.allocate(Shape.matrix(3, 5));
        assertEquals(live + 1, s.liveBuffers());
        t.download();
        assertTrue(s.downloads() > downloads, "downloads are counted");
        t.close();
        assertEquals(live, s.liveBuffers());
        assertThrows(IllegalStateException.class, t::download, "a closed tensor cannot be used");
        t.close();
    }

    @Test
    void shapeMismatchNamesTheOpAndShapes() {
        try (Tensor a = backend.allocate(Shape.matrix(2, 3));
             Tensor b = backend.allocate(Shape.matrix(4, 5));
             Tensor c = backend.allocate(Shape.matrix(2, 5))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.gemm(false, false, 1f, a, b, 0f, c));
            assertTrue(e.getMessage().contains("gemm") && e.getMessage().contains("[2, 3]")
                    && e.getMessage().contains("[4, 5]"), e.getMessage());
            IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                    () -> backend.binary(BinaryOp.ADD, a, b, a));
            assertTrue(e2.getMessage().contains("[2, 3]") && e2.getMessage().contains("[4, 5]"), e2.getMessage());
        }
    }

    // ------------------------------------------------------------------ elementwise

    @ParameterizedTest
    @MethodSource("shapes")
    void fillCopyAxpby(int[] s) {
        int m = s[0];
        int n = s[1];
        compare("fill", 0, 0, list(rand(1, m, n)), new int[] {0}, (b, t) -> b.fill(t[0], 0.25f));
        compare("copy", 0, 0, list(rand(2, m, n), rand(3, m, n)), new int[] {1}, (b, t) -> b.copy(t[0], t[1]));
        compare("axpby", FP32_RTOL, FP32_ATOL, list(rand(4, m, n), rand(5, m, n)), new int[] {1},
                (b, t) -> b.axpby(-1.5f, t[0], 0.75f, t[1]));
        compare("axpby beta=0 ignores NaN", FP32_RTOL, FP32_ATOL,
                list(rand(6, m, n), op(m, n, constant(m * n, Float.NaN))), new int[] {1},
                (b, t) -> b.axpby(2f, t[0], 0f, t[1]));
    }

    static Stream<Arguments> binaryCases() {
        return eachWithEach(BinaryOp.values(), SHAPES);
    }

    @ParameterizedTest
    @MethodSource("binaryCases")
    void binaryForwardAndBackward(BinaryOp op, int[] s) {
        int m = s[0];
        int n = s[1];
        compare("binary " + op, FP32_RTOL, FP32_ATOL, list(rand(10, m, n), rand(11, m, n), rand(12, m, n)),
                new int[] {2}, (b, t) -> b.binary(op, t[0], t[1], t[2]));
        compare("binary in place " + op, FP32_RTOL, FP32_ATOL, list(rand(10, m, n), rand(11, m, n)),
                new int[] {0}, (b, t) -> b.binary(op, t[0], t[1], t[0]));
        for (int operand = 0; operand < 2; operand++) {
            for (boolean acc : new boolean[] {false, true}) {
                int which = operand;
                compare("binaryBackward " + op + " operand " + operand + " acc " + acc, FP32_RTOL, FP32_ATOL,
                        list(rand(13, m, n), rand(14, m, n), rand(15, m, n), rand(16, m, n)), new int[] {3},
                        (b, t) -> b.binaryBackward(op, which, t[0], t[1], t[2], t[3], acc));
            }
        }
    }

    static Stream<Arguments> activationCases() {
        List<Arguments> a = new ArrayList<>();
        for (Activation f : Activation.values()) {
            float param = f == Activation.LEAKY_RELU ? 0.1f : f == Activation.ELU ? 0.7f : 0f;
            for (int[] s : SHAPES) {
                a.add(Arguments.of(f, param, s));
            }
        }
        return a.stream();
    }

    @ParameterizedTest
    @MethodSource("activationCases")
    void activationForwardAndBackward(Activation f, float param, int[] s) {
        int m = s[0];
        int n = s[1];
        Operand x = op(m, n, random(20, m * n, -4f, 4f));
        compare("activation " + f, FP32_RTOL, FP32_ATOL, list(x, rand(21, m, n)), new int[] {1},
                (b, t) -> b.activation(f, param, t[0], t[1]));
        compare("activation in place " + f, FP32_RTOL, FP32_ATOL, list(x), new int[] {0},
                (b, t) -> b.activation(f, param, t[0], t[0]));
        for (boolean acc : new boolean[] {false, true}) {
            compare("activationBackward " + f + " acc " + acc, FP32_RTOL, FP32_ATOL,
                    list(x, rand(22, m, n), rand(23, m, n), rand(24, m, n)), new int[] {3}, (b, t) -> {
                        b.activation(f, param, t[0], t[1]);
                        b.activationBackward(f, param, t[0], t[1], t[2], t[3], acc);
                    });
        }
    }

    @ParameterizedTest
    @MethodSource("activationCases")
    void fusedBiasActivationAndBackwardFromOutput(Activation f, float param, int[] s) {
        int m = s[0];
        int n = s[1];
        Operand x = op(m, n, random(25, m * n, -4f, 4f));
        Operand bias = op(1, n, random(26, n, -1f, 1f));
        compare("biasActivation " + f, FP32_RTOL, FP32_ATOL, list(x, bias, rand(27, m, n)), new int[] {2},
                (b, t) -> b.biasActivation(t[0], t[1], f, param, t[2]));
        compare("biasActivation in place " + f, FP32_RTOL, FP32_ATOL, list(x, bias), new int[] {0},
                (b, t) -> b.biasActivation(t[0], t[1], f, param, t[0]));
        // the dense layer's backward: x = y and dx = dy (in place)
        compare("activationBackward from output, in place " + f, FP32_RTOL, FP32_ATOL, list(x, bias, rand(28, m, n)),
                new int[] {2}, (b, t) -> {
                    b.biasActivation(t[0], t[1], f, param, t[0]);
                    b.activationBackward(f, param, t[0], t[0], t[2], t[2], false);
                });
    }

    @Test
    void activationsAreStableForLargeInputs() {
        float[] big = {-1000f, -80f, -20f, 0f, 20f, 80f, 1000f};
        for (Activation f : Activation.values()) {
            compare("activation extreme " + f, FP32_RTOL, FP32_ATOL, list(op(1, 7, big), op(1, 7, new float[7])),
                    new int[] {1}, (b, t) -> b.activation(f, 0.5f, t[0], t[1]));
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void addRowVector(int[] s) {
        int m = s[0];
        int n = s[1];
        compare("addRowVector", FP32_RTOL, FP32_ATOL, list(rand(30, m, n), rand(31, 1, n), rand(32, m, n)),
                new int[] {2}, (b, t) -> b.addRowVector(t[0], t[1], t[2]));
        compare("addRowVector in place", FP32_RTOL, FP32_ATOL, list(rand(30, m, n), rand(31, 1, n)),
                new int[] {0}, (b, t) -> b.addRowVector(t[0], t[1], t[0]));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void preluForwardAndBackward(int[] s) {
        int m = s[0];
        int n = s[1];
        Operand slope = op(1, n, random(40, n, 0f, 0.5f));
        compare("prelu", FP32_RTOL, FP32_ATOL, list(rand(41, m, n), slope, rand(42, m, n)), new int[] {2},
                (b, t) -> b.prelu(t[0], t[1], t[2]));
        for (boolean acc : new boolean[] {false, true}) {
            compare("preluBackward acc " + acc, FP32_RTOL, sumAtol(m),
                    list(rand(41, m, n), slope, rand(43, m, n), rand(44, m, n), rand(45, 1, n)), new int[] {3, 4},
                    (b, t) -> b.preluBackward(t[0], t[1], t[2], t[3], acc, t[4], acc));
        }
        compare("preluBackward dx only", FP32_RTOL, FP32_ATOL,
                list(rand(41, m, n), slope, rand(43, m, n), rand(44, m, n)), new int[] {3},
                (b, t) -> b.preluBackward(t[0], t[1], t[2], t[3], false, null, false));
        compare("preluBackward dslope only", FP32_RTOL, sumAtol(m),
                list(rand(41, m, n), slope, rand(43, m, n), rand(45, 1, n)), new int[] {3},
                (b, t) -> b.preluBackward(t[0], t[1], t[2], null, false, t[3], false));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void maxoutForwardAndBackward(int pieces) {
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            Operand z = rand(50, m, n * pieces);
            compare("maxout " + pieces, FP32_RTOL, FP32_ATOL, list(z, rand(51, m, n)), new int[] {1},
                    (b, t) -> b.maxout(pieces, t[0], t[1]));
            for (boolean acc : new boolean[] {false, true}) {
                compare("maxoutBackward " + pieces + " acc " + acc, FP32_RTOL, FP32_ATOL,
                        list(z, rand(52, m, n), rand(53, m, n * pieces)), new int[] {2},
                        (b, t) -> b.maxoutBackward(pieces, t[0], t[1], t[2], acc));
            }
        }
        // ties route to the first maximal piece
        compare("maxoutBackward ties", 0, 0, list(op(1, 2 * pieces, constant(2 * pieces, 1f)), op(1, 2, new float[] {3f, 5f}),
                op(1, 2 * pieces, new float[2 * pieces])), new int[] {2},
                (b, t) -> b.maxoutBackward(pieces, t[0], t[1], t[2], false));
    }

    // ------------------------------------------------------------------ gemm

    static Stream<Arguments> gemmCases() {
        return eachTranspose(new int[][] {{1, 1, 1}, {1, 7, 3}, {7, 33, 1}, {33, 7, 257}, {257, 65, 33}, {64, 64, 64},
            {128, 130, 129}, {5, 300, 17}, {300, 3, 70}});
    }

    @ParameterizedTest(name = "gemm m={0} n={1} k={2} transA={3} transB={4}")
    @MethodSource("gemmCases")
    void gemm(int m, int n, int k, boolean transA, boolean transB) {
        Operand a = transA ? rand(60, k, m) : rand(60, m, k);
        Operand bb = transB ? rand(61, n, k) : rand(61, k, n);
        double atol = sumAtol(k);
        compare("gemm", FP32_SUM_RTOL, atol, list(a, bb, rand(62, m, n)), new int[] {2},
                (b, t) -> b.gemm(transA, transB, 1f, t[0], t[1], 0f, t[2]));
        compare("gemm alpha beta", FP32_SUM_RTOL, atol * 2, list(a, bb, rand(62, m, n)), new int[] {2},
                (b, t) -> b.gemm(transA, transB, -0.5f, t[0], t[1], 2f, t[2]));
        compare("gemm beta=1 accumulates", FP32_SUM_RTOL, atol * 2, list(a, bb, rand(63, m, n)), new int[] {2},
                (b, t) -> b.gemm(transA, transB, 1f, t[0], t[1], 1f, t[2]));
        compare("gemm beta=0 ignores NaN in C", FP32_SUM_RTOL, atol, list(a, bb, op(m, n, constant(m * n, Float.NaN))),
                new int[] {2}, (b, t) -> b.gemm(transA, transB, 1f, t[0], t[1], 0f, t[2]));
    }

    static Stream<Arguments> denseCases() {
        List<Arguments> a = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {33, 65, 17}, {64, 64, 64}, {128, 70, 130}};
        for (Activation f : Activation.values()) {
            float param = f == Activation.LEAKY_RELU ? 0.1f : f == Activation.ELU ? 0.7f : 0f;
            if (f.derivativeFromOutput(param)) {
                for (int[] s : shapes) {
                    a.add(Arguments.of(f, param, s));
                }
            }
        }
        return a.stream();
    }

    /** The fused dense layer (bias and activation in the product's epilogue; f'(y) folded into the backward products). */
    @ParameterizedTest(name = "dense {0} n,in,out={2}")
    @MethodSource("denseCases")
    void fusedDenseForwardAndBackward(Activation f, float param, int[] s) {
        int n = s[0];
        int in = s[1];
        int out = s[2];
        Operand x = op(n, in, random(120, n * in, -2f, 2f));
        Operand w = op(in, out, random(121, in * out, -0.5f, 0.5f));
        Operand bias = op(1, out, random(122, out, -1f, 1f));
        double atol = sumAtol(in);
        compare("gemmBiasActivation " + f, FP32_SUM_RTOL, atol, list(x, w, bias, rand(123, n, out)), new int[] {3},
                (b, t) -> b.gemmBiasActivation(t[0], t[1], t[2], f, param, t[3]));
        Operand y = op(n, out, random(124, n * out, -1f, 1f));
        for (boolean acc : new boolean[] {false, true}) {
            // operands: x, w, y (the forward output, made by the activation), dy, dx, dw, db
            List<Operand> ops = list(x, w, y, rand(125, n, out), rand(126, n, in), rand(127, in, out), rand(128, 1, out));
            compare("denseBackward " + f + " acc " + acc, FP32_SUM_RTOL, sumAtol(Math.max(n, out)) * 2, ops,
                    new int[] {4, 5, 6}, (b, t) -> {
                        b.activation(f, param, t[2], t[2]);
                        b.denseBackward(f, param, t[0], t[1], t[2], t[3], t[4], acc, t[5], acc, t[6], acc);
                    });
            compare("denseBackward weights only " + f + " acc " + acc, FP32_SUM_RTOL, sumAtol(n) * 2, ops,
                    new int[] {5}, (b, t) -> {
                        b.activation(f, param, t[2], t[2]);
                        b.denseBackward(f, param, t[0], t[1], t[2], t[3], null, false, t[5], acc, null, false);
                    });
            compare("denseBackward input and bias " + f + " acc " + acc, FP32_SUM_RTOL, sumAtol(Math.max(n, out)) * 2,
                    ops, new int[] {4, 6}, (b, t) -> {
                        b.activation(f, param, t[2], t[2]);
                        b.denseBackward(f, param, t[0], t[1], t[2], t[3], t[4], acc, null, false, t[6], acc);
                    });
        }
    }

    @Test
    void fusedDenseChecksShapesAndActivation() {
        try (Tensor x = backend.allocate(Shape.matrix(4, 3)); Tensor w = backend.allocate(Shape.matrix(5, 2));
             Tensor bias = backend.allocate(Shape.matrix(1, 2)); Tensor y = backend.allocate(Shape.matrix(4, 2))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.gemmBiasActivation(x, w, bias, Activation.RELU, 0f, y));
            assertTrue(e.getMessage().contains("gemmBiasActivation") && e.getMessage().contains("[4, 3]")
                    && e.getMessage().contains("[5, 2]"), e.getMessage());
            IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
                    () -> backend.denseBackward(Activation.RELU, 0f, x, w, y, y, null, false, null, false, null, false));
            assertTrue(g.getMessage().contains("denseBackward"), g.getMessage());
        }
    }

    // ------------------------------------------------------------------ reductions

    static Stream<Arguments> reduceCases() {
        List<Arguments> a = new ArrayList<>();
        for (Reduction r : Reduction.values()) {
            for (Axis axis : Axis.values()) {
                for (int[] s : SHAPES) {
                    a.add(Arguments.of(r, axis, s));
                }
            }
        }
        return a.stream();
    }

    private static int[] reducedShape(Axis axis, int m, int n) {
        return switch (axis) {
            case ROWS -> new int[] {1, n};
            case COLS -> new int[] {m, 1};
            case ALL -> new int[] {1, 1};
        };
    }

    @ParameterizedTest(name = "reduce {0} along {1} of {2}")
    @MethodSource("reduceCases")
    void reduceForwardAndBackward(Reduction r, Axis axis, int[] s) {
        int m = s[0];
        int n = s[1];
        int[] ys = reducedShape(axis, m, n);
        int terms = m * n / (ys[0] * ys[1]);
        Operand x = rand(70, m, n);
        compare("reduce " + r + " " + axis, FP32_SUM_RTOL, sumAtol(terms), list(x, rand(71, ys[0], ys[1])),
                new int[] {1}, (b, t) -> b.reduce(r, axis, t[0], t[1], false));
        if (r == Reduction.ARGMAX) {
            return;
        }
        compare("reduce accumulate " + r + " " + axis, FP32_SUM_RTOL, sumAtol(terms), list(x, rand(71, ys[0], ys[1])),
                new int[] {1}, (b, t) -> b.reduce(r, axis, t[0], t[1], true));
        for (boolean acc : new boolean[] {false, true}) {
            compare("reduceBackward " + r + " " + axis + " acc " + acc, FP32_RTOL, FP32_ATOL,
                    list(x, rand(72, ys[0], ys[1]), rand(73, ys[0], ys[1]), rand(74, m, n)), new int[] {3}, (b, t) -> {
                        b.reduce(r, axis, t[0], t[1], false);
                        b.reduceBackward(r, axis, t[0], t[1], t[2], t[3], acc);
                    });
        }
    }

    @Test
    void maxAndArgmaxPickTheFirstOfTies() {
        float[] x = {1f, 3f, 3f, 2f, 0f, 0f, 0f, -1f};
        for (Axis axis : Axis.values()) {
            int[] ys = reducedShape(axis, 2, 4);
            compare("argmax ties " + axis, 0, 0, list(op(2, 4, x), op(ys[0], ys[1], new float[ys[0] * ys[1]])),
                    new int[] {1}, (b, t) -> b.reduce(Reduction.ARGMAX, axis, t[0], t[1], false));
            compare("max backward ties " + axis, 0, 0,
                    list(op(2, 4, x), op(ys[0], ys[1], new float[ys[0] * ys[1]]), op(ys[0], ys[1], constant(ys[0] * ys[1], 1f)),
                            op(2, 4, new float[8])), new int[] {3}, (b, t) -> {
                        b.reduce(Reduction.MAX, axis, t[0], t[1], false);
                        b.reduceBackward(Reduction.MAX, axis, t[0], t[1], t[2], t[3], false);
                    });
        }
    }

    @Test
    void sumOfSquaresOfALargeTensorOnTheDevice() {
        int n = 1 << 18;
        compare("sum of squares 2^18", FP32_SUM_RTOL, FP32_ATOL, list(op(512, 512, random(80, n, -1, 1)), op(1, 1, new float[1])),
                new int[] {1}, (b, t) -> b.reduce(Reduction.SUM_SQUARES, Axis.ALL, t[0], t[1], false));
    }

    // ------------------------------------------------------------------ softmax and losses

    @ParameterizedTest
    @MethodSource("shapes")
    void softmaxForwardAndBackward(int[] s) {
        int m = s[0];
        int n = s[1];
        Operand x = op(m, n, random(90, m * n, -6f, 6f));
        compare("softmax", FP32_RTOL, FP32_ATOL, list(x, rand(91, m, n)), new int[] {1}, (b, t) -> b.softmax(t[0], t[1]));
        compare("softmax in place", FP32_RTOL, FP32_ATOL, list(x), new int[] {0}, (b, t) -> b.softmax(t[0], t[0]));
        for (boolean acc : new boolean[] {false, true}) {
            compare("softmaxBackward acc " + acc, FP32_RTOL, sumAtol(n), list(x, rand(92, m, n), rand(93, m, n), rand(94, m, n)),
                    new int[] {3}, (b, t) -> {
                        b.softmax(t[0], t[1]);
                        b.softmaxBackward(t[1], t[2], t[3], acc);
                    });
        }
    }

    @Test
    void softmaxIsStableForHugeLogits() {
        float[] x = {1000f, -1000f, 999f, 0f, 88f, 89f};
        compare("softmax huge", FP32_RTOL, FP32_ATOL, list(op(2, 3, x), op(2, 3, new float[6])), new int[] {1},
                (b, t) -> b.softmax(t[0], t[1]));
        float[] y = {0f, 2f};
        compare("cross-entropy huge", FP32_RTOL, FP32_ATOL, list(op(2, 3, x), op(2, 1, y), op(2, 1, new float[2])),
                new int[] {2}, (b, t) -> b.rowLoss(LossKind.SOFTMAX_CROSS_ENTROPY, t[0], t[1], t[2]));
    }

    static Stream<Arguments> lossCases() {
        return eachWithEach(LossKind.values(), new int[][] {{1, 1}, {1, 10}, {7, 3}, {33, 10}, {257, 7}, {16, 257}});
    }

    private static Operand targets(LossKind k, long seed, int m, int c) {
        SplittableRandom r = new SplittableRandom(seed);
        if (k.classIndexTargets()) {
            float[] y = new float[m];
            for (int i = 0; i < m; i++) {
                y[i] = r.nextInt(c);
            }
            return op(m, 1, y);
        }
        return k == LossKind.MSE ? rand(seed, m, c) : op(m, c, random(seed, m * c, 0f, 1f));
    }

    @ParameterizedTest(name = "loss {0} on {1}")
    @MethodSource("lossCases")
    void rowLossForwardAndBackward(LossKind k, int[] s) {
        int m = s[0];
        int c = s[1];
        Operand p = op(m, c, random(100, m * c, -3f, 3f));
        Operand y = targets(k, 101, m, c);
        compare("rowLoss " + k, FP32_RTOL, sumAtol(c), list(p, y, rand(102, m, 1)), new int[] {2},
                (b, t) -> b.rowLoss(k, t[0], t[1], t[2]));
        for (boolean acc : new boolean[] {false, true}) {
            compare("rowLossBackward " + k + " acc " + acc, FP32_RTOL, FP32_ATOL,
                    list(p, y, rand(103, m, 1), rand(104, m, c)), new int[] {3},
                    (b, t) -> b.rowLossBackward(k, t[0], t[1], t[2], t[3], acc));
        }
    }

    /** The batch-mean loss and its gradient: one launch each on a device backend, the mean of {@code rowLoss} anywhere. */
    @ParameterizedTest(name = "mean loss {0} on {1}")
    @MethodSource("lossCases")
    void meanLossForwardAndBackward(LossKind k, int[] s) {
        int m = s[0];
        int c = s[1];
        Operand p = op(m, c, random(110, m * c, -3f, 3f));
        Operand y = targets(k, 111, m, c);
        compare("meanLoss " + k, FP32_SUM_RTOL, sumAtol(c * m), list(p, y, rand(112, 1, 1)), new int[] {2},
                (b, t) -> b.meanLoss(k, t[0], t[1], t[2]));
        for (boolean acc : new boolean[] {false, true}) {
            compare("meanLossBackward " + k + " acc " + acc, FP32_RTOL, FP32_ATOL,
                    list(p, y, op(1, 1, new float[] {1.7f}), rand(114, m, c)), new int[] {3},
                    (b, t) -> b.meanLossBackward(k, t[0], t[1], t[2], t[3], acc));
        }
    }

    // ------------------------------------------------------------------ optimizer

    static Stream<SgdUpdate> sgdCases() {
        return Stream.of(
                new SgdUpdate(0.1f, 0f, false, 0f, 0f, 0f),
                new SgdUpdate(0.05f, 0.9f, false, 0f, 0f, 0f),
                new SgdUpdate(0.05f, 0.9f, true, 1e-3f, 0f, 0f),
                new SgdUpdate(0.1f, 0.5f, false, 0f, 0.5f, 0f),    // norm well above 0.5: clips
                new SgdUpdate(0.1f, 0.5f, false, 0f, 1e6f, 0f),    // threshold above the norm: no clip
                new SgdUpdate(0.1f, 0f, false, 0.01f, 0f, 0.05f), // clip by value
                new SgdUpdate(0.05f, 0.9f, false, 0.05f, 1f, 0f, 37), // weight decay on a prefix (an arena's weights)
                new SgdUpdate(0.05f, 0.5f, true, 0.05f, 0f, 0f, 0));  // ... or on nothing
    }

    @Test
    void sgdUpdateRejectsANegativeDecayedPrefix() {
        assertThrows(IllegalArgumentException.class, () -> new SgdUpdate(0.1f, 0f, false, 0f, 0f, 0f, -1));
    }

    @ParameterizedTest
    @MethodSource("sgdCases")
    void sgdUpdate(SgdUpdate u) {
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            // three steps, so the velocity matters
            compare("sgdUpdate " + u + " " + m + "x" + n, FP32_RTOL, FP32_ATOL,
                    list(rand(110, m, n), rand(111, m, n), op(m, n, new float[m * n]), op(1, 1, new float[1])),
                    new int[] {0, 2}, (b, t) -> {
                        for (int step = 0; step < 3; step++) {
                            b.reduce(Reduction.SUM_SQUARES, Axis.ALL, t[1], t[3], false);
                            b.sgdUpdate(t[0], t[1], u.momentum() == 0f ? null : t[2], t[3], u);
                        }
                    });
        }
    }

    @Test
    void sgdUpdateSkipsNonFiniteNorm() {
        SgdUpdate u = new SgdUpdate(0.1f, 0.9f, false, 0f, 1f, 0f);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            Operand w = rand(120, 7, 33);
            compare("sgdUpdate skips norm " + bad, 0, 0,
                    list(w, rand(121, 7, 33), op(7, 33, new float[7 * 33]), op(1, 1, new float[] {bad})), new int[] {0, 2},
                    (b, t) -> b.sgdUpdate(t[0], t[1], t[2], t[3], u));
            try (Tensor wt = backend.fromHost(w.shape(), w.data());
                 Tensor g = backend.fromHost(w.shape(), random(121, 7 * 33, -1, 1));
                 Tensor v = backend.allocate(w.shape());
                 Tensor norm = backend.fromHost(Shape.scalar(), new float[] {bad})) {
                backend.sgdUpdate(wt, g, v, norm, u);
                TensorAssert.assertClose("weights untouched", w.data(), wt.download(), 0, 0);
            }
        }
    }

    static Stream<AdaptiveUpdate> adaptiveCases() {
        int all = Integer.MAX_VALUE;
        return Stream.of(
                new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 1e-3, 0.9, 0.999, 1e-8, 0, 0f, 0f, all, 1),
                new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 0.01, 0.9, 0.99, 1e-6, 0.01, 0f, 0f, 37, 1), // coupled decay, prefix
                new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAMW, 0.01, 0.8, 0.999, 1e-8, 0.1, 0.5f, 0f, 37, 1), // norm clipped
                new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAMW, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0f, 0.05f, all, 1), // by value
                new AdaptiveUpdate(AdaptiveUpdate.Rule.RMSPROP, 0.01, 0, 0.99, 1e-8, 0, 0f, 0f, all, 1),
                new AdaptiveUpdate(AdaptiveUpdate.Rule.RMSPROP, 0.01, 0.9, 0.9, 1e-6, 0.01, 1f, 0f, 37, 1)); // momentum
    }

    @ParameterizedTest
    @MethodSource("adaptiveCases")
    void adaptiveUpdate(AdaptiveUpdate u) {
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            // three steps, so the moments and the bias corrections matter
            compare("adaptiveUpdate " + u + " " + m + "x" + n, FP32_RTOL, FP32_ATOL,
                    list(rand(130, m, n), rand(131, m, n), op(m, n, new float[m * n]), op(m, n, new float[m * n]),
                            op(1, 1, new float[1])),
                    new int[] {0, 2, 3}, (b, t) -> {
                        for (int step = 1; step <= 3; step++) {
                            b.reduce(Reduction.SUM_SQUARES, Axis.ALL, t[1], t[4], false);
                            b.adaptiveUpdate(t[0], t[1], u.usesFirstMoment() ? t[2] : null, t[3], t[4], u.atStep(step));
                        }
                    });
        }
    }

    private static final AdaptiveUpdate ADAM_CLIPPED = new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 1e-3, 0.9, 0.999,
            1e-8, 0, 1f, 0f, Integer.MAX_VALUE, 1);

    @Test
    void adaptiveUpdateSkipsNonFiniteNorm() {
        AdaptiveUpdate adam = ADAM_CLIPPED;
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            Operand w = rand(140, 5, 19);
            Operand state = rand(141, 5, 19);
            Operand second = op(5, 19, random(143, 5 * 19, 0, 1));
            compare("adaptiveUpdate skips norm " + bad, 0, 0,
                    list(w, rand(142, 5, 19), state, second, op(1, 1, new float[] {bad})),
                    new int[] {0, 2, 3}, (b, t) -> b.adaptiveUpdate(t[0], t[1], t[2], t[3], t[4], adam));
            try (Tensor wt = backend.fromHost(w.shape(), w.data());
                 Tensor g = backend.fromHost(w.shape(), random(142, 5 * 19, -1, 1));
                 Tensor m = backend.fromHost(w.shape(), state.data());
                 Tensor v = backend.fromHost(w.shape(), second.data());
                 Tensor norm = backend.fromHost(Shape.scalar(), new float[] {bad})) {
                backend.adaptiveUpdate(wt, g, m, v, norm, adam);
                TensorAssert.assertClose("weights untouched", w.data(), wt.download(), 0, 0);
                TensorAssert.assertClose("first moment untouched", state.data(), m.download(), 0, 0);
                TensorAssert.assertClose("second moment untouched", second.data(), v.download(), 0, 0);
            }
        }
    }

    /**
     * SGD's velocity, fused or composed, is flushed to 0 below {@link Float#MIN_NORMAL} (issue 11: a velocity that
     * zero gradients decay turned subnormal and stuck there, and subnormal arithmetic runs in microcode on many CPUs).
     */
    @Test
    void sgdUpdateFlushesSubnormalVelocity() {
        for (boolean nesterov : new boolean[] {false, true}) {
            SgdUpdate u = new SgdUpdate(0.1f, 0.9f, nesterov, 0f, 0f, 0f);
            float[] velocity = new float[64];
            for (int i = 0; i < velocity.length; i++) { // tiny normals that decay below MIN_NORMAL, and subnormals
                velocity[i] = (i % 2 == 0 ? 1 : -1) * (i < 32 ? Float.MIN_NORMAL * (1f + i / 400f) : Float.MIN_VALUE * i);
            }
            velocity[63] = 0.5f; // a normal velocity decays as before
            float[] w0 = random(145, 64, -1, 1);
            try (Tensor wt = backend.fromHost(Shape.of(64), w0);
                 Tensor g = backend.allocate(Shape.of(64));
                 Tensor v = backend.fromHost(Shape.of(64), velocity)) {
                backend.sgdUpdate(wt, g, v, null, u);
                float[] after = v.download();
                float[] w = wt.download();
                for (int i = 0; i < 63; i++) {
                    assertEquals(0f, after[i], 0f, "velocity " + velocity[i] + " * 0.9 is subnormal and must be flushed");
                    assertEquals(w0[i], w[i], 0f, "a flushed velocity moves no weight");
                }
                assertEquals(0.45f, after[63], 0f);
                float step = nesterov ? 0.9f * 0.45f : 0.45f;
                assertEquals(w0[63] - 0.1f * step, w[63], 0f);
            }
        }
    }

    /** Every adaptive update, fused or composed, flushes state below {@link Float#MIN_NORMAL} to 0. */
    @Test
    void adaptiveUpdateFlushesSubnormalState() {
        AdaptiveUpdate adam = ADAM_CLIPPED;
        // zero gradients decay tiny moments: a subnormal result becomes exactly 0, on every backend
        float tiny = Float.MIN_NORMAL * 1.05f;
        float[] moments = new float[64];
        java.util.Arrays.fill(moments, tiny);
        try (Tensor wt = backend.fromHost(Shape.of(64), random(144, 64, -1, 1));
             Tensor g = backend.allocate(Shape.of(64));
             Tensor m = backend.fromHost(Shape.of(64), moments);
             Tensor v = backend.fromHost(Shape.of(64), moments)) {
            backend.adaptiveUpdate(wt, g, m, v, null, adam);
            for (float x : m.download()) {
                assertEquals(0f, x, "first moment 0.9 * " + tiny + " is subnormal and must be flushed");
            }
            for (float x : v.download()) {
                assertEquals(0.999f * tiny, x, 0f, "second moment stays normal");
            }
        }
    }

    @Test
    void adaptiveUpdateChecksItsTensors() {
        AdaptiveUpdate adam = new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 1e-3, 0.9, 0.999, 1e-8, 0, 0f, 0f, 0, 1);
        try (Tensor w = backend.allocate(Shape.of(8));
             Tensor g = backend.allocate(Shape.of(8));
             Tensor m = backend.allocate(Shape.of(8));
             Tensor v = backend.allocate(Shape.of(9))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.adaptiveUpdate(w, g, null, m, null, adam));
            assertTrue(e.getMessage().contains("first-moment"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> backend.adaptiveUpdate(w, g, m, m, null, adam));
            assertTrue(e.getMessage().contains("overlap"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> backend.adaptiveUpdate(w, g, m, v, null, adam));
            assertTrue(e.getMessage().contains("[9]"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class,
                () -> new AdaptiveUpdate(AdaptiveUpdate.Rule.ADAM, 1e-3, 1.0, 0.999, 1e-8, 0, 0f, 0f, 0, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AdaptiveUpdate(AdaptiveUpdate.Rule.RMSPROP, -1e-3, 0, 0.99, 1e-8, 0, 0f, 0f, 0, 1));
        assertTrue(e.getMessage().contains("-0.001"), e.getMessage());
    }

    /**
     * A target that names no class (NaN, negative, fractional, too large) gives its row a NaN loss and NaN
     * gradients on every loss kernel, fused or composed, never a read outside the row (on OpenCL that read crashed PoCL); the other
     * rows are exact.
     */
    @ParameterizedTest
    @EnumSource(value = LossKind.class, names = {"SOFTMAX_CROSS_ENTROPY", "SVM_HINGE"})
    void invalidClassIndicesGiveNaNRowsNotStrayReads(LossKind k) {
        int m = 6;
        int c = 5;
        float[] y = {1, Float.NaN, -1, 5, 2.5f, 1e9f};
        try (Tensor p = backend.fromHost(Shape.matrix(m, c), random(150, m * c, -2, 2));
             Tensor t = backend.fromHost(Shape.matrix(m, 1), y);
             Tensor out = backend.allocate(Shape.matrix(m, 1));
             Tensor dout = backend.fromHost(Shape.matrix(m, 1), new float[] {1, 1, 1, 1, 1, 1});
             Tensor dp = backend.allocate(Shape.matrix(m, c))) {
            backend.rowLoss(k, p, t, out);
            backend.rowLossBackward(k, p, t, dout, dp, false);
            float[] loss = out.download();
            float[] grad = dp.download();
            assertTrue(Float.isFinite(loss[0]), "row 0 names class 1: loss " + loss[0]);
            for (int j = 0; j < c; j++) {
                assertTrue(Float.isFinite(grad[j]), "row 0 gradient " + j);
            }
            for (int i = 1; i < m; i++) {
                assertTrue(Float.isNaN(loss[i]), k + ": target " + y[i] + " gives loss " + loss[i]);
                for (int j = 0; j < c; j++) {
                    assertTrue(Float.isNaN(grad[i * c + j]), k + ": target " + y[i] + " gives gradient "
                            + grad[i * c + j]);
                }
            }
        }
    }

    /** Host ranges are checked in long arithmetic: an offset near Integer.MAX_VALUE cannot wrap into a stray copy. */
    @Test
    void hostRangesThatOverflowIntAreRejected() {
        float[] host = new float[16];
        try (Tensor t = backend.allocate(Shape.of(16))) {
            int near = Integer.MAX_VALUE - 2;
            assertThrows(IndexOutOfBoundsException.class, () -> backend.upload(host, near, t, 0, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> backend.download(t, 0, host, near, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> backend.upload(host, 0, t, near, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> backend.download(t, near, host, 0, 8));
            TensorAssert.assertClose("nothing written", new float[16], t.download(), 0, 0);
        }
    }

    @ParameterizedTest
    @EnumSource(LossKind.class)
    void lossShapeMismatchIsReported(LossKind k) {
        try (Tensor p = backend.allocate(Shape.matrix(4, 3));
             Tensor y = backend.allocate(Shape.matrix(5, k.classIndexTargets() ? 1 : 3));
             Tensor out = backend.allocate(Shape.matrix(4, 1))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.rowLoss(k, p, y, out));
            assertTrue(e.getMessage().contains("[4, 3]"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ any rank: unary math, broadcasting, views

    /** Shapes of rank 0 to 4 for the elementwise primitives. */
    protected static final int[][] RANKED_SHAPES = {{}, {1}, {7}, {7, 33}, {3, 5, 7}, {2, 3, 4, 5}, {33, 257}};

    protected static Operand ranked(long seed, int[] dims, float lo, float hi) {
        Shape shape = Shape.of(dims);
        return new Operand(shape, random(seed, shape.size(), lo, hi));
    }

    static Stream<Arguments> unaryCases() {
        return eachWithEach(UnaryOp.values(), RANKED_SHAPES);
    }

    @ParameterizedTest(name = "unary {0} on {1}")
    @MethodSource("unaryCases")
    void unaryMath(UnaryOp op, int[] s) {
        boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RECIPROCAL;
        float lo = positive ? 0.2f : -3f;
        float hi = positive ? 3f : 3f;
        float p = switch (op) {
            case ADD_SCALAR -> 0.7f;
            case MUL_SCALAR -> -1.5f;
            case CLAMP -> -0.5f;
            case STEP -> 0.3f;
            default -> 0f;
        };
        float q = op == UnaryOp.CLAMP ? 0.25f : op == UnaryOp.STEP ? 1f / 0.7f : 0f;
        compare("unary " + op, FP32_RTOL, FP32_ATOL, List.of(ranked(20, s, lo, hi), ranked(21, s, -1, 1)),
                new int[] {1}, (b, t) -> b.unary(op, p, q, t[0], t[1]));
        compare("unary in place " + op, FP32_RTOL, FP32_ATOL, List.of(ranked(22, s, lo, hi)),
                new int[] {0}, (b, t) -> b.unary(op, p, q, t[0], t[0]));
    }

    @Test
    void unaryEdgeValues() {
        float[] x = {0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-30f, -7f};
        for (UnaryOp op : new UnaryOp[] {UnaryOp.SIGN, UnaryOp.ABS, UnaryOp.CLAMP, UnaryOp.NEG, UnaryOp.SQUARE,
            UnaryOp.FINITE_OR_ZERO, UnaryOp.STEP}) {
            float p = op == UnaryOp.CLAMP ? -2f : 0f;
            float q = op == UnaryOp.CLAMP ? 0.5f : op == UnaryOp.STEP ? 2f : 0f;
            try (Tensor t = backend.fromHost(Shape.of(x.length), x); Tensor y = backend.allocate(Shape.of(x.length))) {
                backend.unary(op, p, q, t, y);
                float[] got = y.download();
                for (int i = 0; i < x.length; i++) {
                    float want = op.apply(x[i], p, q);
                    assertTrue(Float.compare(Math.abs(want), Math.abs(got[i])) == 0 || (Float.isNaN(want) && Float.isNaN(got[i])),
                            op + "(" + x[i] + "): expected " + want + ", got " + got[i]);
                }
            }
        }
        try (Tensor t = backend.allocate(Shape.of(3))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.unary(UnaryOp.CLAMP, 1f, 0f, t, t));
            assertTrue(e.getMessage().contains("CLAMP"), e.getMessage());
        }
    }

    /** Pairs of operand shapes that broadcast (NumPy rules), rank 0 to 4. */
    protected static final int[][][] BROADCASTS = {
        {{7, 33}, {33}}, {{7, 33}, {7, 1}}, {{1, 33}, {7, 33}}, {{2, 3, 5, 7}, {3, 1, 7}}, {{1}, {4, 5}},
        {{}, {3, 4}}, {{4, 1, 6}, {1, 5, 1}}, {{3, 1}, {1, 4}}, {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{6, 1, 1}, {6, 4, 9}},
    };

    static Stream<Arguments> broadcastCases() {
        return eachWithEachPair(BinaryOp.values(), BROADCASTS);
    }

    @ParameterizedTest(name = "broadcast {0} {1} with {2}")
    @MethodSource("broadcastCases")
    void broadcastingBinaryForwardAndBackward(BinaryOp op, int[] sa, int[] sb) {
        Shape out = Shape.broadcast("test", Shape.of(sa), Shape.of(sb));
        int[] so = out.dims();
        compare("binary " + op + " broadcast", FP32_RTOL, FP32_ATOL,
                List.of(ranked(30, sa, -1, 1), ranked(31, sb, -1, 1), ranked(32, so, -1, 1)), new int[] {2},
                (b, t) -> b.binary(op, t[0], t[1], t[2]));
        for (int operand = 0; operand < 2; operand++) {
            int[] sg = operand == 0 ? sa : sb;
            int terms = out.size() / Shape.of(sg).size();
            for (boolean acc : new boolean[] {false, true}) {
                int which = operand;
                compare("binaryBackward " + op + " broadcast operand " + operand + " acc " + acc, FP32_SUM_RTOL,
                        sumAtol(terms), List.of(ranked(33, sa, -1, 1), ranked(34, sb, -1, 1), ranked(35, so, -1, 1),
                                ranked(36, sg, -1, 1)), new int[] {3},
                        (b, t) -> b.binaryBackward(op, which, t[0], t[1], t[2], t[3], acc));
            }
        }
    }

    static Stream<Arguments> sumToCases() {
        List<Arguments> a = new ArrayList<>();
        for (int[][] pair : BROADCASTS) {
            Shape out = Shape.broadcast("test", Shape.of(pair[0]), Shape.of(pair[1]));
            a.add(Arguments.of(out.dims(), pair[0]));
            a.add(Arguments.of(out.dims(), pair[1]));
        }
        a.add(Arguments.of(new int[] {257, 65}, new int[] {1, 65}));
        a.add(Arguments.of(new int[] {257, 65}, new int[] {257, 1}));
        a.add(Arguments.of(new int[] {4, 8, 5, 5}, new int[] {1, 8, 1, 1}));
        return a.stream();
    }

    @ParameterizedTest(name = "sumTo {0} -> {1}")
    @MethodSource("sumToCases")
    void sumToReducesBroadcastDimensions(int[] sx, int[] sy) {
        int terms = Shape.of(sx).size() / Shape.of(sy).size();
        for (boolean acc : new boolean[] {false, true}) {
            compare("sumTo acc " + acc, FP32_SUM_RTOL, sumAtol(terms), List.of(ranked(40, sx, -1, 1), ranked(41, sy, -1, 1)),
                    new int[] {1}, (b, t) -> b.sumTo(t[0], t[1], acc));
        }
    }

    @Test
    void broadcastMismatchNamesTheOpAndShapes() {
        try (Tensor a = backend.allocate(Shape.of(2, 3, 4));
             Tensor b = backend.allocate(Shape.of(5, 4));
             Tensor c = backend.allocate(Shape.of(2, 3, 4));
             Tensor y = backend.allocate(Shape.of(3, 1))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.binary(BinaryOp.MUL, a, b, c));
            assertTrue(e.getMessage().contains("MUL") && e.getMessage().contains("[2, 3, 4]")
                    && e.getMessage().contains("[5, 4]"), e.getMessage());
            IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> backend.sumTo(b, y, false));
            assertTrue(e2.getMessage().contains("sumTo") && e2.getMessage().contains("[5, 4]")
                    && e2.getMessage().contains("[3, 1]"), e2.getMessage());
            IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
                    () -> backend.binary(BinaryOp.ADD, a, y, y));
            assertTrue(e3.getMessage().contains("ADD"), e3.getMessage());
        }
    }

    @ParameterizedTest(name = "rank-{0} tensors in matrix and elementwise primitives")
    @ValueSource(ints = {3, 4})
    void higherRankTensors(int rank) {
        int[] s = rank == 3 ? new int[] {3, 5, 7} : new int[] {2, 3, 4, 5};
        int cols = s[s.length - 1];
        int rows = Shape.of(s).rows();
        int[] row = new int[s.length];
        java.util.Arrays.fill(row, 1);
        row[s.length - 1] = cols;
        compare("activation rank " + rank, FP32_RTOL, FP32_ATOL, List.of(ranked(50, s, -2, 2), ranked(51, s, 0, 0)),
                new int[] {1}, (b, t) -> b.activation(Activation.TANH, 0f, t[0], t[1]));
        compare("biasActivation rank " + rank, FP32_RTOL, FP32_ATOL,
                List.of(ranked(52, s, -2, 2), ranked(53, row, -1, 1), ranked(54, s, 0, 0)), new int[] {2},
                (b, t) -> b.biasActivation(t[0], t[1], Activation.RELU, 0f, t[2]));
        compare("softmax rank " + rank, FP32_RTOL, FP32_ATOL, List.of(ranked(55, s, -2, 2), ranked(56, s, 0, 0)),
                new int[] {1}, (b, t) -> b.softmax(t[0], t[1]));
        compare("reduce rows rank " + rank, FP32_SUM_RTOL, sumAtol(rows),
                List.of(ranked(57, s, -1, 1), new Operand(Shape.matrix(1, cols), new float[cols])), new int[] {1},
                (b, t) -> b.reduce(Reduction.SUM, Axis.ROWS, t[0], t[1], false));
        int[] w = {cols, 6};
        compare("gemm on the matrix view of rank " + rank, FP32_SUM_RTOL, sumAtol(cols),
                List.of(ranked(58, s, -1, 1), ranked(59, w, -1, 1), new Operand(Shape.matrix(rows, 6), new float[rows * 6])),
                new int[] {2}, (b, t) -> b.gemm(false, false, 1f, t[0], t[1], 0f, t[2]));
    }

    @Test
    void viewsShareStorage() {
        float[] data = random(60, 6 * 4, -1, 1);
        try (Tensor base = backend.fromHost(Shape.of(6, 4), data)) {
            Tensor flat = base.flatten();
            Tensor cube = base.reshape(2, 3, -1);
            assertEquals(Shape.of(24), flat.shape());
            assertEquals(Shape.of(2, 3, 4), cube.shape());
            TensorAssert.assertClose("reshape sees the same elements", data, cube.download(), 0, 0);
            backend.fill(cube, 2f);
            TensorAssert.assertClose("a write through a view reaches the base", constant(24, 2f), base.download(), 0, 0);
            int pad = viewOffset();
            try (Tensor line = backend.fromHost(Shape.of(pad + 8 + 3), constant(pad + 11, 2f))) {
                Tensor rows = line.slice(pad, pad + 8).reshape(2, 4);
                assertEquals(Shape.of(2, 4), rows.shape());
                assertEquals(pad, rows.offset());
                assertTrue(rows.isView() && rows.root() == line);
                backend.fill(rows, -1f);
                float[] all = line.download();
                for (int i = 0; i < all.length; i++) {
                    boolean inside = i >= pad && i < pad + 8;
                    assertEquals(inside ? -1f : 2f, all[i], "element " + i + " after filling a slice at " + pad);
                }
                rows.close();
                assertTrue(!line.isClosed(), "closing a view leaves its base open");
            }
            base.close();
            assertTrue(flat.isClosed() && cube.isClosed(), "closing the base closes its views");
            assertThrows(IllegalStateException.class, cube::download);
        }
        try (Tensor t = backend.allocate(Shape.of(3, 4))) {
            assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(2, 4));
        }
    }

    @Test
    void checkedEntryRejectsForeignClosedAndOverlapping() {
        try (Tensor mine = backend.allocate(Shape.of(4, 4));
             Tensor other = reference.allocate(Shape.of(4, 4))) {
            if (backend != reference) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> backend.binary(BinaryOp.ADD, mine, other, mine));
                assertTrue(e.getMessage().contains("belongs to"), e.getMessage());
            }
            Tensor closed = backend.allocate(Shape.of(4, 4));
            closed.close();
            assertThrows(IllegalStateException.class, () -> backend.fill(closed, 1f));
            assertThrows(IllegalStateException.class, () -> backend.unary(UnaryOp.EXP, 0f, 0f, closed, mine));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.gemm(false, false, 1f, mine, mine, 0f, mine));
            assertTrue(e.getMessage().contains("gemm"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ random (Philox4x32-10)

    /**
     * {@code (key, counter)} draws: zero; arbitrary; a key with the high bit set; a counter 3 blocks below
     * 2^64 (the draw wraps to counter 0); a low counter word that carries into the high word within the draw;
     * all ones.
     */
    static Stream<Arguments> randomDraws() {
        return Stream.of(Arguments.of(0L, 0L), Arguments.of(0x5EEDL, 12_345L),
                Arguments.of(0x8000_0000_DEAD_BEEFL, 7L), Arguments.of(42L, -3L),
                Arguments.of(0x1234_5678_9ABC_DEF0L, 0xFFFF_FFF0L), Arguments.of(-1L, -1L));
    }

    /** Sizes that leave 1, 3, 0, 1, 0 and 1 elements in the last 4-element block. */
    private static final int[] RANDOM_SIZES = {1, 3, 4, 5, 1000, 4097};

    // Exact comparison is right for randomUniform: Philox is integer arithmetic and (u >>> 8) * 2^-24 is exact
    // in float32, so every backend must give the same bits as Philox.fill, with no tolerance.
    private static void assertSameBits(String what, float[] expected, float[] actual, int actualOffset) {
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToRawIntBits(expected[i]);
            int a = Float.floatToRawIntBits(actual[actualOffset + i]);
            if (e != a) {
                throw new AssertionError(what + ": element " + i + " of " + expected.length + " is "
                        + actual[actualOffset + i] + " (0x" + Integer.toHexString(a) + "), expected " + expected[i]
                        + " (0x" + Integer.toHexString(e) + ")");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("randomDraws")
    void randomUniformIsBitIdenticalToPhilox(long key, long counter) {
        for (int n : RANDOM_SIZES) {
            String what = "randomUniform key " + Long.toHexString(key) + " counter " + Long.toHexString(counter)
                    + " n " + n;
            float[] expected = new float[n];
            Philox.fill(key, counter, expected, 0, n);
            try (Tensor t = backend.fromHost(Shape.of(n), constant(n, SENTINEL))) {
                backend.randomUniform(key, counter, t);
                assertSameBits(what, expected, t.download(), 0);
            }
            int pad = viewOffset();
            try (Tensor storage = backend.fromHost(Shape.of(pad + n + 7), constant(pad + n + 7, SENTINEL))) {
                backend.randomUniform(key, counter, storage.slice(pad, pad + n));
                float[] all = storage.download();
                assertSameBits(what + " as a view at offset " + pad, expected, all, pad);
                for (int k = 0; k < all.length; k++) {
                    if ((k < pad || k >= pad + n) && all[k] != SENTINEL) {
                        throw new AssertionError(what + ": a view was written outside its range at " + (k - pad));
                    }
                }
            }
        }
    }

    @Test
    void randomUniformMatchesTheReferenceOnMatricesAndViews() {
        for (int[] s : SHAPES) {
            compare("randomUniform " + s[0] + "x" + s[1], 0, 0, List.of(op(s[0], s[1], constant(s[0] * s[1], 0f))),
                    new int[] {0}, (b, t) -> b.randomUniform(0xC0FFEE_0000_0001L, 1L << 40, t[0]));
        }
    }

    @Test
    void randomUniformLooksUniform() {
        int n = 100_000;
        float[] expected = new float[n];
        Philox.fill(2024L, 99L, expected, 0, n);
        try (Tensor t = backend.allocate(Shape.of(n))) {
            backend.randomUniform(2024L, 99L, t);
            float[] v = t.download();
            assertSameBits("randomUniform 100k", expected, v, 0);
            double sum = 0;
            for (float x : v) {
                assertTrue(x >= 0f && x < 1f, "randomUniform must be in [0, 1): " + x);
                sum += x;
            }
            assertEquals(0.5, sum / n, 0.01, "mean of " + n + " uniform draws");
            backend.randomUniform(2024L, 99L + n / 4, t);
            float[] next = t.download();
            assertTrue(!java.util.Arrays.equals(v, next), "the next counter range gives new numbers");
        }
    }

    // ------------------------------------------------------------------ layout, convolution, pooling

    /** An operand of any shape with values uniform in {@code [-1, 1)}. */
    protected static Operand tensor(long seed, int... dims) {
        Shape shape = Shape.of(dims);
        return new Operand(shape, random(seed, shape.size(), -1f, 1f));
    }

    static Stream<Arguments> permutations() {
        return Stream.of(
                Arguments.of(new int[] {7}, new int[] {0}),
                Arguments.of(new int[] {7, 33}, new int[] {1, 0}),
                Arguments.of(new int[] {64, 64}, new int[] {1, 0}),
                Arguments.of(new int[] {7, 33, 5}, new int[] {1, 0, 2}),
                Arguments.of(new int[] {3, 5, 7}, new int[] {2, 0, 1}),
                Arguments.of(new int[] {32, 64, 196}, new int[] {1, 0, 2}),
                Arguments.of(new int[] {2, 3, 5, 7}, new int[] {0, 2, 3, 1}),
                Arguments.of(new int[] {2, 3, 5, 7}, new int[] {3, 2, 1, 0}),
                Arguments.of(new int[] {1, 17, 1, 9}, new int[] {1, 0, 2, 3}),
                Arguments.of(new int[] {2, 1, 3, 1, 2, 3}, new int[] {5, 3, 1, 0, 2, 4}));
    }

    @ParameterizedTest
    @MethodSource("permutations")
    void permuteReordersAxes(int[] dims, int[] axes) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = dims[axes[i]];
        }
        compare("permute " + Shape.of(dims) + " " + java.util.Arrays.toString(axes), 0, 0,
                list(tensor(60, dims), tensor(61, out)), new int[] {1}, (b, t) -> b.permute(t[0], axes, t[1]));
    }

    /** An input {@code [N, C, H, W]} with a convolution geometry: the odd cases every backend must get right. */
    protected record ConvCase(String what, int n, int c, int h, int w, Conv2dSpec spec) {
        @Override
        public String toString() {
            return what + " [" + n + ", " + c + ", " + h + ", " + w + "] " + spec;
        }
    }

    /** Odd convolution geometries: 1x1 images, kernel = image, stride > kernel, large padding, dilation, groups. */
    public static Stream<ConvCase> convCases() {
        return Stream.of(
                new ConvCase("1x1 image", 2, 1, 1, 1, Conv2dSpec.of(1, 1, 0)),
                new ConvCase("kernel = image", 2, 3, 5, 5, Conv2dSpec.of(5, 1, 0)),
                new ConvCase("stride > kernel", 3, 3, 7, 9, Conv2dSpec.of(2, 3, 0)),
                new ConvCase("padding = kernel - 1", 2, 17, 6, 5, Conv2dSpec.of(3, 1, 2)),
                new ConvCase("padding > image", 1, 1, 3, 3, Conv2dSpec.of(3, 2, 4)),
                new ConvCase("dilation 2", 1, 3, 8, 7, Conv2dSpec.of(3, 2, 1).withDilation(2)),
                new ConvCase("rectangular", 2, 3, 1, 9, new Conv2dSpec(1, 3, 1, 2, 0, 1, 1, 1, 1)),
                new ConvCase("3 groups", 2, 6, 5, 6, new Conv2dSpec(3, 2, 1, 2, 1, 0, 1, 1, 3)),
                new ConvCase("depthwise", 2, 17, 7, 7, Conv2dSpec.of(3, 1, 1).withGroups(17)),
                new ConvCase("CNN layer", 4, 32, 14, 14, Conv2dSpec.of(3, 1, 1)),
                // left padding wider than the output row: a tap with no column inside (large enough to run in parallel)
                new ConvCase("padding spans the row", 64, 8, 16, 1, new Conv2dSpec(3, 3, 1, 1, 2, 2, 2, 2, 1)));
    }

    @ParameterizedTest
    @MethodSource("convCases")
    void im2colAndItsAdjoint(ConvCase k) {
        Shape x = Shape.of(k.n(), k.c(), k.h(), k.w());
        Shape col = k.spec().columnShape("im2col", x);
        int overlap = k.spec().kernelH() * k.spec().kernelW();
        for (int g = 0; g < k.spec().groups(); g += Math.max(1, k.spec().groups() / 3)) {
            int group = g;
            compare("im2col " + k + " group " + g, 0, 0, list(tensor(62, x.dims()), tensor(63, col.dims())), new int[] {1},
                    (b, t) -> b.im2col(k.spec(), group, t[0], t[1]));
            for (boolean acc : new boolean[] {false, true}) {
                compare("col2im " + k + " group " + g + " acc " + acc, FP32_SUM_RTOL, sumAtol(overlap),
                        list(tensor(64, col.dims()), tensor(65, x.dims())), new int[] {1},
                        (b, t) -> b.col2im(k.spec(), group, t[0], t[1], acc));
            }
        }
    }

    /**
     * Geometries for the direct convolution ({@link Backend#conv2d} and its gradients), with the output channels:
     * 3x3 stride 1 (the CPU backend's Winograd path) on odd sizes that leave partial 2x2 tiles, padding 0, 1, 2 and
     * unequal, a 1x1 image, many tiles (several blocks and chunks, run in parallel), and geometries a backend may
     * lack (few channels, stride 2, groups).
     */
    public static Stream<Arguments> directConvCases() {
        return Stream.of(
                Arguments.of(new ConvCase("CNN layer", 4, 32, 14, 14, Conv2dSpec.of(3, 1, 1)), 64),
                Arguments.of(new ConvCase("odd, padding 0", 3, 9, 7, 5, Conv2dSpec.of(3, 1, 0)), 17),
                Arguments.of(new ConvCase("padding 2", 2, 17, 6, 5, Conv2dSpec.of(3, 1, 2)), 8),
                Arguments.of(new ConvCase("unequal padding", 2, 8, 4, 9, new Conv2dSpec(3, 3, 1, 1, 0, 2, 1, 1, 1)), 12),
                Arguments.of(new ConvCase("1x1 image", 2, 8, 1, 1, Conv2dSpec.of(3, 1, 1)), 9),
                Arguments.of(new ConvCase("many tiles", 16, 8, 21, 20, Conv2dSpec.of(3, 1, 1)), 8),
                Arguments.of(new ConvCase("few channels", 2, 3, 5, 5, Conv2dSpec.of(3, 1, 1)), 4),
                Arguments.of(new ConvCase("stride 2", 2, 8, 7, 7, Conv2dSpec.of(3, 2, 1)), 8),
                Arguments.of(new ConvCase("groups", 2, 8, 5, 5, Conv2dSpec.of(3, 1, 1).withGroups(2)), 8));
    }

    @ParameterizedTest
    @MethodSource("directConvCases")
    void directConvolutionAndItsGradients(ConvCase k, int oc) {
        Conv2dSpec spec = k.spec();
        Shape x = Shape.of(k.n(), k.c(), k.h(), k.w());
        Shape w = Shape.of(oc, k.c() / spec.groups(), spec.kernelH(), spec.kernelW());
        Shape y = spec.outputShape("conv2d", x, oc);
        if (!backend.directConv2d(spec, k.c(), oc)) {
            // a backend without this direct convolution says so, naming the op; the graph lowers it to GEMM instead
            if (backend instanceof dev.jacobian.reference.ReferenceBackend) {
                return; // the reference has every geometry (it is the oracle below) and never claims one
            }
            try (Tensor xt = backend.allocate(x); Tensor wt = backend.allocate(w); Tensor yt = backend.allocate(y)) {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> backend.conv2d(spec, xt, wt, yt));
                assertTrue(e.getMessage().startsWith("conv2d: the " + backend.name() + " backend has no direct"),
                        e.getMessage());
            }
            return;
        }
        int taps = spec.kernelH() * spec.kernelW();
        compare("conv2d " + k + " -> " + oc, FP32_SUM_RTOL, sumAtol(k.c() * taps),
                list(tensor(70, x.dims()), tensor(71, w.dims()), tensor(72, y.dims())), new int[] {2},
                (b, t) -> b.conv2d(spec, t[0], t[1], t[2]));
        for (boolean acc : new boolean[] {false, true}) {
            compare("conv2dBackwardData " + k + " -> " + oc + " acc " + acc, FP32_SUM_RTOL, sumAtol(oc * taps),
                    list(tensor(73, y.dims()), tensor(71, w.dims()), tensor(74, x.dims())), new int[] {2},
                    (b, t) -> b.conv2dBackwardData(spec, t[0], t[1], t[2], acc));
            compare("conv2dBackwardWeights " + k + " -> " + oc + " acc " + acc, FP32_SUM_RTOL,
                    sumAtol(y.dim(0) * y.dim(2) * y.dim(3)),
                    list(tensor(70, x.dims()), tensor(73, y.dims()), tensor(75, w.dims())), new int[] {2},
                    (b, t) -> b.conv2dBackwardWeights(spec, t[0], t[1], t[2], acc));
        }
    }

    /** Pooling windows on odd inputs: 1x1 images, window = image, stride > window, padding, overlap. */
    public static Stream<Arguments> poolCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Pool2dSpec.Kind kind : Pool2dSpec.Kind.values()) {
            for (boolean countPad : kind == Pool2dSpec.Kind.MAX ? new boolean[] {true} : new boolean[] {true, false}) {
                java.util.function.Function<Pool2dSpec, Pool2dSpec> k = s -> new Pool2dSpec(kind, s.kernelH(), s.kernelW(),
                        s.strideH(), s.strideW(), s.padH(), s.padW(), countPad);
                cases.add(Arguments.of(new int[] {2, 3, 8, 8}, k.apply(Pool2dSpec.max(2, 2, 0))));
                cases.add(Arguments.of(new int[] {2, 3, 7, 9}, k.apply(Pool2dSpec.max(2, 2, 0)))); // odd: a row, a column left
                cases.add(Arguments.of(new int[] {3, 32, 28, 28}, k.apply(Pool2dSpec.max(2, 2, 0))));
                cases.add(Arguments.of(new int[] {2, 17, 7, 9}, k.apply(Pool2dSpec.max(3, 2, 1))));
                cases.add(Arguments.of(new int[] {1, 3, 5, 5}, k.apply(Pool2dSpec.max(3, 1, 1))));
                cases.add(Arguments.of(new int[] {2, 1, 1, 1}, k.apply(Pool2dSpec.max(1, 1, 0))));
                cases.add(Arguments.of(new int[] {2, 3, 4, 4}, k.apply(Pool2dSpec.max(4, 4, 0))));
                cases.add(Arguments.of(new int[] {1, 2, 7, 8}, k.apply(Pool2dSpec.max(2, 3, 0))));
                cases.add(Arguments.of(new int[] {2, 3, 5, 6}, k.apply(new Pool2dSpec(kind, 2, 3, 2, 1, 1, 1, countPad))));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("poolCases")
    void pool2dForwardAndBackward(int[] dims, Pool2dSpec spec) {
        Shape x = Shape.of(dims);
        Shape y = spec.outputShape("pool2d", x);
        int overlap = spec.kernelH() * spec.kernelW();
        compare(spec + " " + x, FP32_RTOL, FP32_ATOL, list(tensor(66, dims), tensor(67, y.dims())), new int[] {1},
                (b, t) -> b.pool2d(spec, t[0], t[1]));
        for (boolean acc : new boolean[] {false, true}) {
            compare(spec + " backward " + x + " acc " + acc, FP32_SUM_RTOL, sumAtol(overlap),
                    list(tensor(66, dims), tensor(68, y.dims()), tensor(69, dims)), new int[] {2},
                    (b, t) -> b.pool2dBackward(spec, t[0], t[1], t[2], acc));
        }
    }

    @Test
    void maxPoolRoutesTiesToTheFirstMaximumAndNaNWins() {
        Pool2dSpec spec = Pool2dSpec.max(2, 2, 0);
        float[] x = {1, 1, 2, 2, 1, 1, 2, 2, 3, Float.NaN, 5, 5, 3, 3, 5, 5};
        float[] dy = {10, 20, 30, 40};
        float[] dx = new float[16];
        dx[0] = 10;
        dx[2] = 20;
        dx[9] = 30;
        dx[10] = 40;
        try (Tensor xt = backend.fromHost(Shape.of(1, 1, 4, 4), x); Tensor dyt = backend.fromHost(Shape.of(1, 1, 2, 2), dy);
             Tensor y = backend.allocate(Shape.of(1, 1, 2, 2)); Tensor dxt = backend.allocate(Shape.of(1, 1, 4, 4))) {
            backend.pool2d(spec, xt, y);
            float[] out = y.download();
            assertEquals(1f, out[0]);
            assertEquals(2f, out[1]);
            assertTrue(Float.isNaN(out[2]), "a NaN in the window wins the maximum, as in PyTorch");
            assertEquals(5f, out[3]);
            backend.pool2dBackward(spec, xt, dyt, dxt, false);
            TensorAssert.assertClose("max pool ties", dx, dxt.download(), 0, 0);
        }
    }

    @Test
    void convolutionAndPoolingShapeErrorsNameTheOpAndTheShapes() {
        try (Tensor x = backend.allocate(Shape.of(2, 3, 4, 4)); Tensor col = backend.allocate(Shape.matrix(27, 8));
             Tensor y = backend.allocate(Shape.of(2, 3, 3, 3)); Tensor flat = backend.allocate(Shape.matrix(6, 16))) {
            IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                    () -> backend.im2col(Conv2dSpec.of(7, 1, 1), 0, x, col));
            assertTrue(big.getMessage().contains("im2col") && big.getMessage().contains("larger than the padded input 6x6")
                    && big.getMessage().contains("[2, 3, 4, 4]"), big.getMessage());
            IllegalArgumentException wrongCol = assertThrows(IllegalArgumentException.class,
                    () -> backend.im2col(Conv2dSpec.of(2, 1, 0), 0, x, col));
            assertTrue(wrongCol.getMessage().contains("is [12, 18], not [27, 8]"),
                    wrongCol.getMessage());
            IllegalArgumentException groups = assertThrows(IllegalArgumentException.class,
                    () -> backend.im2col(Conv2dSpec.of(3, 1, 0).withGroups(2), 0, x, col));
            assertTrue(groups.getMessage().contains("not divisible by 2 groups"), groups.getMessage());
            IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                    () -> backend.pool2d(Pool2dSpec.max(2, 2, 0), flat, y));
            assertTrue(rank.getMessage().contains("max_pool2d") && rank.getMessage().contains("[6, 16]"), rank.getMessage());
            IllegalArgumentException pooled = assertThrows(IllegalArgumentException.class,
                    () -> backend.pool2d(Pool2dSpec.avg(2, 2, 0), x, y));
            assertTrue(pooled.getMessage().contains("gives [2, 3, 2, 2], not [2, 3, 3, 3]"), pooled.getMessage());
            IllegalArgumentException axes = assertThrows(IllegalArgumentException.class,
                    () -> backend.permute(x, new int[] {0, 1, 1, 2}, y));
            assertTrue(axes.getMessage().contains("not a permutation"), axes.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Pool2dSpec.max(2, 2, 2));
            assertThrows(IllegalArgumentException.class, () -> Conv2dSpec.of(3, 0, 1));
        }
    }
}
