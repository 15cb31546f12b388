package dev.jacobian.cpu;

import static dev.jacobian.backend.BackendConformanceTest.random;
import static dev.jacobian.backend.Tolerances.FP32_ATOL;
import static dev.jacobian.backend.Tolerances.FP32_RTOL;
import static dev.jacobian.backend.Tolerances.FP32_SUM_RTOL;
import static dev.jacobian.backend.Tolerances.sumAtol;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;
import dev.jacobian.backend.BinaryOp;
import dev.jacobian.backend.TensorAssert;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU backend (vector kernels on 2 threads, and the scalar twins on 1 thread) against the reference on
 * operands that are views at an odd offset into larger tensors whose margins hold a guard value (reading
 * it spoils the result; writing it fails the test), on what the shared conformance suite (which runs every
 * primitive on views on both CPU paths) does not cover: uploads into a view, products large enough for both
 * threads and several KC blocks, the unary ops with special values, broadcasting {@code binary},
 * {@code binaryBackward} and {@code sumTo} over many shape pairs, and the determinism of the broadcast kernels
 * across thread counts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuViewsAndBroadcastTest {
    /** Margin before each view: odd, so that the view is misaligned with respect to every vector width. */
    private static final int PAD = 3;
    /** Margin after each view. */
    private static final int TAIL = 5;
    /** The margins' content: large enough to show in any sum, max or product that reads it. */
    private static final float GUARD = 4096f;

    private final ReferenceBackend reference = new ReferenceBackend();
    private final List<CpuBackend> backends = new ArrayList<>();

    @BeforeAll
    void open() {
        backends.add(new CpuBackend(2));
        backends.add(new CpuBackend(1, false));
    }

    @AfterAll
    void close() {
        backends.forEach(Backend::close);
        reference.close();
    }

    // ------------------------------------------------------------------ harness

    /** A primitive call, run on every backend. */
    @FunctionalInterface
    interface Call {
        void run(Backend b, Tensor[] t);
    }

    /** Host data of one operand (null data: no tensor). */
    record Operand(Shape shape, float[] data) {
    }

    static Operand rand(long seed, int... dims) {
        Shape s = Shape.of(dims);
        return new Operand(s, random(seed, s.size(), -1f, 1f));
    }

    /** Values from {-1, 0, 1}: many ties for MAX. */
    static Operand ties(long seed, int... dims) {
        Shape s = Shape.of(dims);
        float[] a = random(seed, s.size(), -1.5f, 1.5f);
        for (int i = 0; i < a.length; i++) {
            a[i] = Math.round(a[i]);
        }
        return new Operand(s, a);
    }

    static List<Operand> ops(Operand... o) {
        return Arrays.asList(o);
    }

    /**
     * Runs {@code call} on the reference (whole tensors) and on each CPU backend (every operand a view at
     * offset {@link #PAD} into a guarded tensor), compares the operands at {@code outputs} and checks
     * that no margin changed.
     */
    void compare(String what, double rtol, double atol, List<Operand> operands, int[] outputs, Call call) {
        float[][] expected = new float[operands.size()][];
        Tensor[] ref = new Tensor[operands.size()];
        try {
            for (int i = 0; i < ref.length; i++) {
                Operand o = operands.get(i);
                ref[i] = o == null ? null : reference.fromHost(o.shape(), o.data());
            }
            call.run(reference, ref);
            for (int o : outputs) {
                expected[o] = ref[o].download();
            }
        } finally {
            closeAll(ref);
        }
        for (CpuBackend be : backends) {
            String tag = what + " on " + (be.usesVector() ? "vector" : "scalar") + " views";
            Tensor[] storage = new Tensor[operands.size()];
            Tensor[] views = new Tensor[operands.size()];
            try {
                for (int i = 0; i < views.length; i++) {
                    Operand o = operands.get(i);
                    if (o == null) {
                        continue;
                    }
                    int n = o.shape().size();
                    float[] all = new float[PAD + n + TAIL];
                    Arrays.fill(all, GUARD);
                    System.arraycopy(o.data(), 0, all, PAD, n);
                    storage[i] = be.fromHost(Shape.of(all.length), all);
                    views[i] = storage[i].slice(PAD, PAD + n).reshape(o.shape());
                }
                call.run(be, views);
                for (int o : outputs) {
                    TensorAssert.assertClose(tag + " (operand " + o + ")", expected[o], views[o].download(), rtol,
                            atol);
                }
                for (int i = 0; i < storage.length; i++) {
                    if (storage[i] == null) {
                        continue;
                    }
                    float[] all = storage[i].download();
                    for (int k = 0; k < all.length; k++) {
                        if ((k < PAD || k >= PAD + views[i].size()) && all[k] != GUARD) {
                            throw new AssertionError(tag + ": operand " + i + " was written outside its view at "
                                    + (k - PAD));
                        }
                    }
                }
            } finally {
                closeAll(views);
                closeAll(storage);
            }
        }
    }

    private static void closeAll(Tensor[] ts) {
        for (Tensor t : ts) {
            if (t != null) {
                t.close();
            }
        }
    }

    // ------------------------------------------------------------------ views

    /** Uploading into a view writes only its range. */
    /**
     * An upload large enough to be shared by the threads ({@link CpuBackend#UPLOAD_PARALLEL_MIN}), of a length no
     * multiple of the parts' alignment, from and into the middle of arrays: every float lands where one copy puts it,
     * nothing around the range is touched, and the upload is counted once.
     */
    @Test
    void aLargeUploadSharedByTheThreadsCopiesExactlyItsRange() {
        int count = CpuBackend.UPLOAD_PARALLEL_MIN * 3 + 7;
        float[] src = random(41, count + 10, -1f, 1f);
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuBackend b = new CpuBackend(threads)) {
                Tensor t = b.fromHost(Shape.of(count + 20), random(42, count + 20, -1f, 1f));
                float[] expected = t.download();
                System.arraycopy(src, 5, expected, 11, count);
                long before = b.stats().uploads();
                b.upload(src, 5, t, 11, count);
                assertArrayEquals(expected, t.download(), threads + " threads");
                assertEquals(before + 1, b.stats().uploads(), threads + " threads: one upload");
            }
        }
    }

    @Test
    void uploadIntoAView() {
        compare("upload", 0, 0, ops(rand(4, 3, 11)), new int[] {0},
                (b, t) -> b.upload(new float[] {7f, 8f, 9f}, 1, t[0], 30, 2));
    }

    /** Products large enough to run on both threads and over several KC blocks, at every transpose. */
    static Stream<Arguments> gemmCases() {
        return BackendConformanceTest.eachTranspose(new int[][] {{1, 1, 1}, {7, 9, 5}, {37, 41, 300}, {150, 130, 450}});
    }

    @ParameterizedTest
    @MethodSource("gemmCases")
    void gemmOnViews(int m, int n, int k, boolean transA, boolean transB) {
        Operand a = transA ? rand(41, k, m) : rand(41, m, k);
        Operand b = transB ? rand(42, n, k) : rand(42, k, n);
        for (float beta : new float[] {0f, 0.5f}) {
            compare("gemm " + m + "x" + n + "x" + k + " tA " + transA + " tB " + transB + " beta " + beta,
                    FP32_SUM_RTOL, sumAtol(k), ops(a, b, rand(43, m, n)), new int[] {2},
                    (be, t) -> be.gemm(transA, transB, 0.75f, t[0], t[1], beta, t[2]));
        }
    }

    // ------------------------------------------------------------------ unary

    /** Odd sizes, a rank-3 shape, and special values spread over vector bodies and tails. */
    static Stream<Arguments> unaryCases() {
        return BackendConformanceTest.eachWithEach(UnaryOp.values(),
                new int[][] {{1}, {7}, {33}, {257}, {3, 5, 7}, {2, 3, 4, 5}});
    }

    @ParameterizedTest
    @MethodSource("unaryCases")
    void unaryOnViews(UnaryOp op, int[] dims) {
        Shape s = Shape.of(dims);
        float[] x = random(90 + s.size(), s.size(), -3f, 3f);
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f, 0.5f,
            -2.5f, 1e-30f, -1e-30f, 20f};
        for (int i = 0; i < specials.length && i * 11 < x.length; i++) {
            x[i * 11] = specials[i];
        }
        float p = op == UnaryOp.CLAMP ? -0.5f : 1.75f;
        float q = op == UnaryOp.CLAMP ? 0.75f : 0f;
        boolean exact = op == UnaryOp.SIGN || op == UnaryOp.CLAMP || op == UnaryOp.ABS || op == UnaryOp.NEG;
        double rtol = exact ? 0 : FP32_RTOL;
        double atol = rtol == 0 ? 0 : FP32_ATOL;
        Operand in = new Operand(s, x);
        compare("unary " + op + " " + s, rtol, atol, ops(in, rand(91, dims)), new int[] {1},
                (b, t) -> b.unary(op, p, q, t[0], t[1]));
        compare("unary " + op + " " + s + " in place", rtol, atol, ops(in), new int[] {0},
                (b, t) -> b.unary(op, p, q, t[0], t[0]));
    }

    @Test
    void signIsExactlyMinusOneZeroOrOneAndKeepsNaN() {
        float[] x = random(95, 45, -2f, 2f);
        x[3] = 0f;
        x[20] = -0f;
        x[21] = Float.NaN;
        x[40] = Float.NaN;
        for (CpuBackend be : backends) {
            try (Tensor t = be.fromHost(Shape.of(45), x); Tensor y = be.allocate(Shape.of(45))) {
                be.unary(UnaryOp.SIGN, 0f, 0f, t, y);
                float[] r = y.download();
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Math.signum(x[i]), r[i], 0f, "sign at " + i);
                    assertEquals(Float.floatToRawIntBits(Math.signum(x[i])), Float.floatToRawIntBits(r[i]),
                            "sign bits at " + i);
                }
                be.unary(UnaryOp.CLAMP, -0.5f, 0.5f, t, y);
                r = y.download();
                assertEquals(Float.NaN, r[21]);
                assertEquals(Float.NaN, r[40]);
            }
        }
    }

    // ------------------------------------------------------------------ broadcasting

    /** Pairs of operand shapes that broadcast, each as {a, b}. */
    static final int[][][] PAIRS = {
        {{7, 33}, {33}},
        {{7, 33}, {1, 33}},
        {{33}, {7, 33}},
        {{7, 33}, {7, 1}},
        {{7, 1}, {7, 33}},
        {{7, 1}, {1, 33}},
        {{2, 3, 5, 7}, {3, 1, 7}},
        {{3, 1, 7}, {2, 3, 5, 7}},
        {{2, 3, 5, 7}, {5, 7}},
        {{2, 3, 5, 7}, {2, 3, 1, 1}},
        {{2, 3, 5, 7}, {1, 3, 1, 1}},
        {{3, 1, 5, 1}, {1, 4, 1, 6}},
        {{4, 1, 6}, {5, 1}},
        {{1}, {4, 5}},
        {{4, 5}, {1}},
        {{}, {3, 4}},
        {{2, 3, 4}, {}},
        {{9, 40}, {40}},
        {{40, 9}, {40, 1}},
        {{1, 1, 1}, {3, 1}},
    };

    static Shape broadcastShape(int[] a, int[] b) {
        return Shape.broadcast("test", Shape.of(a), Shape.of(b));
    }

    static Stream<Arguments> binaryCases() {
        return BackendConformanceTest.eachWithEachPair(BinaryOp.values(), PAIRS);
    }

    private static Operand operand(BinaryOp op, long seed, int[] dims) {
        return op == BinaryOp.MAX ? ties(seed, dims) : rand(seed, dims);
    }

    @ParameterizedTest
    @MethodSource("binaryCases")
    void broadcastBinary(BinaryOp op, int[] a, int[] b) {
        Shape c = broadcastShape(a, b);
        String what = "binary " + op + " " + Arrays.toString(a) + " with " + Arrays.toString(b);
        compare(what, FP32_RTOL, FP32_ATOL, ops(operand(op, 100, a), operand(op, 101, b), rand(102, c.dims())),
                new int[] {2}, (be, t) -> be.binary(op, t[0], t[1], t[2]));
        if (Shape.of(a).size() == c.size()) {
            compare(what + " into a", FP32_RTOL, FP32_ATOL, ops(operand(op, 103, c.dims()), operand(op, 104, b)),
                    new int[] {0}, (be, t) -> be.binary(op, t[0], t[1], t[0]));
        }
    }

    @ParameterizedTest
    @MethodSource("binaryCases")
    void broadcastBinaryBackward(BinaryOp op, int[] a, int[] b) {
        Shape c = broadcastShape(a, b);
        int terms = c.size() / Math.min(Shape.of(a).size(), Shape.of(b).size());
        for (int operand = 0; operand < 2; operand++) {
            int[] g = operand == 0 ? a : b;
            for (boolean acc : new boolean[] {false, true}) {
                int k = operand;
                compare("binaryBackward " + op + " " + Arrays.toString(a) + " with " + Arrays.toString(b) + " operand "
                        + operand + " acc " + acc, FP32_SUM_RTOL, sumAtol(terms),
                        ops(operand(op, 110, a), operand(op, 111, b), rand(112, c.dims()), rand(113, g)),
                        new int[] {3}, (be, t) -> be.binaryBackward(op, k, t[0], t[1], t[2], t[3], acc));
            }
        }
    }

    /** {x, y} shape pairs of {@code sumTo}. */
    static Stream<Arguments> sumToCases() {
        int[][][] cases = {
            {{7, 33}, {33}},
            {{7, 33}, {1, 33}},
            {{7, 33}, {7, 1}},
            {{7, 33}, {1}},
            {{7, 33}, {}},
            {{7, 33}, {7, 33}},
            {{2, 3, 5, 7}, {3, 1, 7}},
            {{2, 3, 5, 7}, {1, 3, 1, 1}},
            {{2, 3, 5, 7}, {5, 7}},
            {{2, 3, 5, 7}, {2, 3, 1, 1}},
            {{2, 3, 5, 7}, {2, 1, 1, 7}},
            {{2, 3, 5, 7}, {2, 1, 5, 1}},
            {{4, 5}, {1}},
            {{300, 65}, {65}},
            {{65, 300}, {65, 1}},
        };
        return Arrays.stream(cases).map(c -> Arguments.of(c[0], c[1]));
    }

    @ParameterizedTest
    @MethodSource("sumToCases")
    void sumTo(int[] x, int[] y) {
        int terms = Shape.of(x).size() / Shape.of(y).size();
        for (boolean acc : new boolean[] {false, true}) {
            compare("sumTo " + Arrays.toString(x) + " to " + Arrays.toString(y) + " acc " + acc, FP32_SUM_RTOL,
                    sumAtol(terms), ops(rand(120, x), rand(121, y)), new int[] {1},
                    (b, t) -> b.sumTo(t[0], t[1], acc));
        }
    }

    /** Broadcast sums and gradients are summed in a fixed order: the same bits on 1 and 3 threads, run after run. */
    @Test
    void broadcastKernelsAreDeterministic() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend three = new CpuBackend(3)) {
            float[] first = null;
            for (CpuBackend be : List.of(one, three, one)) {
                try (Tensor x = be.fromHost(Shape.of(300, 65), random(130, 300 * 65, -1f, 1f));
                     Tensor bias = be.fromHost(Shape.of(65), random(131, 65, -1f, 1f));
                     Tensor col = be.fromHost(Shape.of(300, 1), random(132, 300, -1f, 1f));
                     Tensor g1 = be.fromHost(Shape.of(65), random(133, 65, -1f, 1f));
                     Tensor g2 = be.fromHost(Shape.of(300, 1), random(134, 300, -1f, 1f));
                     Tensor s = be.allocate(Shape.of(1, 65))) {
                    be.binaryBackward(BinaryOp.MUL, 1, x, bias, x, g1, true);
                    be.binaryBackward(BinaryOp.MUL, 1, x, col, x, g2, false);
                    be.sumTo(x, s, false);
                    float[] all = new float[65 + 300 + 65];
                    System.arraycopy(g1.download(), 0, all, 0, 65);
                    System.arraycopy(g2.download(), 0, all, 65, 300);
                    System.arraycopy(s.download(), 0, all, 365, 65);
                    if (first == null) {
                        first = all;
                    } else {
                        assertArrayEquals(first, all);
                    }
                }
            }
        }
    }
}
