package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;
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
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SGEMM against the reference over many odd sizes (edge tiles in every direction, several KC blocks,
 * several MC blocks), all four transpose variants, alpha/beta, both kernel paths and 1-3 threads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuMatmulTest {
    /** Relative tolerance of a float-accumulated dot product against the double-accumulated reference. */
    private static final double GEMM_RTOL = 1e-4;
    /** Absolute tolerance per term of the dot product (inputs of magnitude about one). */
    private static final double GEMM_ATOL_PER_TERM = 2e-6;

    private final ReferenceBackend reference = new ReferenceBackend();
    private final List<Backend> backends = new ArrayList<>();

    @BeforeAll
    void open() {
        backends.add(new CpuBackend(1, true));
        backends.add(new CpuBackend(2, true));
        backends.add(new CpuBackend(3, true));
        backends.add(new CpuBackend(2, false));
    }

    @AfterAll
    void close() {
        backends.forEach(Backend::close);
        reference.close();
    }

    static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (2 * r.nextDouble() - 1);
        }
        return a;
    }

    static Stream<Arguments> sizes() {
        int[][] mnk = {
            {1, 1, 1}, {1, 17, 3}, {5, 1, 9}, {7, 13, 1}, {6, 32, 256}, {7, 33, 257}, {13, 47, 31},
            {31, 65, 300}, {65, 31, 513}, {145, 97, 129}, {150, 200, 70}, {97, 3, 600}, {2, 250, 41},
            {128, 256, 784}, {300, 77, 260}, {50, 3200, 20}, {12, 3100, 90},
            // whole row tiles ending A exactly: the transposed panel's 16-lane copy must not read past A
            {12, 40, 7}, {24, 64, 300}, {36, 33, 5},
            // at most ten columns, A as stored: B packed in pairs (MatmulPairs), whole groups of sixteen depths, a
            // last group of one, two blocks of 150
            {128, 10, 128}, {64, 10, 196}, {33, 7, 17}, {3, 9, 300},
        };
        return BackendConformanceTest.eachTranspose(mnk);
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} transA={3} transB={4}")
    @MethodSource("sizes")
    void matchesReference(int m, int n, int k, boolean transA, boolean transB) {
        Shape sa = transA ? Shape.matrix(k, m) : Shape.matrix(m, k);
        Shape sb = transB ? Shape.matrix(n, k) : Shape.matrix(k, n);
        float[] a = random(m * 31L + k, m * k);
        float[] b = random(n * 17L + k, n * k);
        float[] c0 = random(m * 7L + n, m * n);
        float[][] alphaBeta = {{1f, 0f}, {0.5f, -1.25f}, {-2f, 1f}};
        for (float[] ab : alphaBeta) {
            float[] expected = run(reference, transA, transB, ab[0], ab[1], sa, a, sb, b, c0);
            for (Backend be : backends) {
                float[] actual = run(be, transA, transB, ab[0], ab[1], sa, a, sb, b, c0);
                assertClose(be + " alpha=" + ab[0] + " beta=" + ab[1], expected, actual, k);
            }
        }
    }

    /**
     * With beta = 0 the old C is never read: NaNs in C stay out on one thread, in row bands over several blocks
     * and in column bands, and the sums equal the reference's.
     */
    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"37, 41, 29", "128, 256, 784", "12, 900, 300", "145, 97, 129", "128, 10, 300", "400, 7, 3000"})
    void betaZeroIgnoresNaNInC(int m, int n, int k) {
        float[] c0 = new float[m * n];
        java.util.Arrays.fill(c0, Float.NaN);
        float[] a = random(1, m * k);
        float[] b = random(2, k * n);
        float[] expected = run(reference, false, false, 1f, 0f, Shape.matrix(m, k), a, Shape.matrix(k, n), b, c0);
        for (Backend be : backends) {
            float[] actual = run(be, false, false, 1f, 0f, Shape.matrix(m, k), a, Shape.matrix(k, n), b, c0);
            for (float v : actual) {
                assertTrue(Float.isFinite(v), be + ": beta = 0 must not read the old C");
            }
            assertClose(be.toString(), expected, actual, k);
        }
    }

    @Test
    void bitIdenticalAcrossRunsAndThreadCounts() {
        int m = 301;
        int n = 259;
        int k = 777;
        float[] a = random(11, m * k);
        float[] b = random(12, k * n);
        float[] c0 = random(13, m * n);
        Shape sa = Shape.matrix(k, m);
        Shape sb = Shape.matrix(k, n);
        try (CpuBackend two = new CpuBackend(2); CpuBackend one = new CpuBackend(1)) {
            float[] first = run(two, true, false, 0.75f, 0.5f, sa, a, sb, b, c0);
            for (int run = 0; run < 5; run++) {
                // Bit equality is the property under test: the blocking fixes every element's k order.
                assertArrayEquals(first, run(two, true, false, 0.75f, 0.5f, sa, a, sb, b, c0), "run " + run);
            }
            assertArrayEquals(first, run(one, true, false, 0.75f, 0.5f, sa, a, sb, b, c0), "1 thread vs 2");
        }
    }

    /**
     * A read as stored, where one thread computes every column of C and packs A (more columns than the kernel's
     * {@link CpuMatmul.MicroKernel#directPanelColumns}) while each of two or three computes fewer and reads A where it
     * lies: the same bits, as each element's chain of multiply-adds is the same.
     */
    @Test
    void aReadInPlaceOrPackedGivesTheSameBits() {
        int m = 77;
        int n = MatmulVectorWide.DIRECT_PANEL_COLUMNS + 144;
        int k = 300;
        float[] a = random(14, m * k);
        float[] b = random(15, k * n);
        float[] c0 = random(16, m * n);
        Shape sa = Shape.matrix(m, k);
        Shape sb = Shape.matrix(k, n);
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2);
             CpuBackend three = new CpuBackend(3)) {
            for (float beta : new float[] {0f, 0.5f}) {
                float[] expected = run(one, false, false, 0.75f, beta, sa, a, sb, b, c0);
                assertArrayEquals(expected, run(two, false, false, 0.75f, beta, sa, a, sb, b, c0), "2 threads");
                assertArrayEquals(expected, run(three, false, false, 0.75f, beta, sa, a, sb, b, c0), "3 threads");
            }
        }
    }

    /**
     * Each way of sharing a product: column bands claimed in turn over a per-thread packed A (one and several KC blocks,
     * a band wider than NC), row bands over a shared packed B (one and several KC blocks, groups of blocks), one column
     * band per thread (few rows, fewer columns), and the single-thread path, for 1, 2 and 3 threads, bit for bit.
     */
    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("sharingShapes")
    void bitIdenticalForEachWayOfSharing(int m, int n, int k) {
        float[] a = random(21, m * k);
        float[] b = random(22, k * n);
        float[] c0 = random(23, m * n);
        Shape sa = Shape.matrix(m, k);
        Shape sb = Shape.matrix(n, k);
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2);
             CpuBackend three = new CpuBackend(3)) {
            float[] expected = run(one, false, true, 1.5f, -0.5f, sa, a, sb, b, c0);
            assertArrayEquals(expected, run(two, false, true, 1.5f, -0.5f, sa, a, sb, b, c0), "2 threads");
            assertArrayEquals(expected, run(three, false, true, 1.5f, -0.5f, sa, a, sb, b, c0), "3 threads");
        }
    }

    /**
     * A product of at most ten columns with A as stored takes the pair path ({@link MatmulPairs}) on 16 lanes, B read as
     * stored or transposed: the bits of packing B in pairs and running the pair kernel, for one column and for ten,
     * where the one-vector tiles' chains would give others; and on 1, 2 and 3 threads, by {@code gemmAlone} and
     * {@code gemmAloneColumns} (a dense layer's backward side by side) as by {@code gemm}, also where B as stored and
     * beta 0 would otherwise split the product into depth halves.
     */
    @Test
    void productsOfTenColumnsOrFewerTakeThePairPathOnEveryThreadCount() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.L == 16, "the pair path needs sixteen lanes");
        try (Parallel one = new Parallel(1); Parallel two = new Parallel(2); Parallel three = new Parallel(3)) {
            CpuMatmul single = new CpuMatmul(one, true);
            for (int n : new int[] {1, 10}) {
                for (boolean transB : new boolean[] {false, true}) {
                    int m = 7;
                    int k = 130;
                    float[] a = random(41, m * k);
                    float[] b = random(42, k * n);
                    float[] c = random(43, m * n);
                    single.gemm(false, transB, m, n, k, 0.75f, a, 0, k, b, 0, transB ? k : n, 0f, c, 0);
                    float[] bq = new float[MatmulPairs.floats(k)];
                    MatmulPairs.pack(b, 0, transB ? 1 : n, transB ? k : 1, k, n, bq, 0);
                    float[] expected = new float[m * n];
                    MatmulPairs.run(k, a, 0, k, m, bq, 0, expected, 0, n, 0.75f, true, n,
                            new float[MatmulPairs.TMP_FLOATS]);
                    assertArrayEquals(expected, c, "n=" + n + " transB=" + transB + ": the pair kernel's bits");
                }
            }
            int[][] shapes = {{2000, 10, 64}, {64, 10, 2048}, {5000, 3, 100}, {7, 10, 20000}};
            for (int[] shape : shapes) {
                int m = shape[0];
                int n = shape[1];
                int k = shape[2];
                float[] a = random(44, m * k);
                float[] b = random(45, k * n);
                float[] c0 = random(46, m * n);
                for (boolean transB : new boolean[] {false, true}) {
                    for (float beta : new float[] {0f, 0.5f}) {
                        String what = m + "x" + n + "x" + k + " transB=" + transB + " beta=" + beta;
                        int ldb = transB ? k : n;
                        float[] expected = c0.clone();
                        single.gemm(false, transB, m, n, k, 1.5f, a, 0, k, b, 0, ldb, beta, expected, 0);
                        for (Parallel p : new Parallel[] {two, three}) {
                            CpuMatmul shared = new CpuMatmul(p, true);
                            float[] c = c0.clone();
                            shared.gemm(false, transB, m, n, k, 1.5f, a, 0, k, b, 0, ldb, beta, c, 0);
                            assertArrayEquals(expected, c, what + " on " + p.size() + " threads");
                            c = c0.clone();
                            shared.gemmAlone(1, false, transB, m, n, k, 1.5f, a, 0, k, b, 0, ldb, beta, c, 0);
                            assertArrayEquals(expected, c, what + " alone");
                            c = c0.clone();
                            shared.gemmAloneColumns(p.size() - 1, false, transB, m, n, k, 1.5f, a, 0, k, b, 0, ldb,
                                    beta, c, 0, 0, n);
                            assertArrayEquals(expected, c, what + " alone, all its columns");
                            float[] untouched = c0.clone();
                            shared.gemmAloneColumns(0, false, transB, m, n, k, 1.5f, a, 0, k, b, 0, ldb, beta,
                                    untouched, 0, 0, 0);
                            assertArrayEquals(c0, untouched, what + " alone, no column");
                        }
                    }
                }
            }
        }
    }

    /**
     * Each way of sharing a product while the workers sleep through it (parked, and not woken: the system ran other
     * threads on their cores): the caller computes it alone, bit for bit as one thread does, without waiting for them,
     * and with them awake again the next products are the same too.
     */
    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("sharingShapes")
    void theCallerComputesTheProductAloneWhenTheWorkersSleepThroughIt(int m, int n, int k) throws InterruptedException {
        float[] a = random(31, m * k);
        float[] b = random(32, k * n);
        float[] expected = random(33, m * n);
        float[] c = expected.clone();
        try (Parallel one = new Parallel(1); Parallel three = new Parallel(3, 1_000_000)) {
            CpuMatmul reference = new CpuMatmul(one, true);
            CpuMatmul shared = new CpuMatmul(three, true);
            reference.gemm(false, true, m, n, k, 1.5f, a, 0, k, b, 0, k, -0.5f, expected, 0);
            ParallelTest.sleepThroughCalls(three);
            shared.gemm(false, true, m, n, k, 1.5f, a, 0, k, b, 0, k, -0.5f, c, 0);
            assertArrayEquals(expected, c, "workers asleep");
            three.wakeWorkers(true);
            for (int rep = 0; rep < 5; rep++) { // the threads meet at different points each time
                c = random(33, m * n);
                shared.gemm(false, true, m, n, k, 1.5f, a, 0, k, b, 0, k, -0.5f, c, 0);
                assertArrayEquals(expected, c, "workers awake, product " + rep);
            }
        }
    }

    /**
     * Many small products shared by 2 and 3 threads, accumulating into C ({@code beta = 1}: a tile added twice or lost
     * shows), each bit for bit as one thread computes it: the threads meet at different points every time, taking
     * chunks of B to pack and bands to compute in turn, in row bands (145 x 97) and in column bands (97 x 145).
     */
    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"145, 97, 129", "97, 145, 129"})
    void sharedProductsStayBitIdenticalOverManyCalls(int m, int n, int k) {
        float[] a = random(41, m * k);
        float[] b = random(42, k * n);
        float[] c0 = random(43, m * n);
        for (CpuMatmul.MicroKernel kernel : List.of(MatmulVector.widest(), new MatmulVector())) {
            try (Parallel one = new Parallel(1); Parallel two = new Parallel(2); Parallel three = new Parallel(3)) {
                CpuMatmul reference = new CpuMatmul(one, kernel);
                CpuMatmul[] shared = {new CpuMatmul(two, kernel), new CpuMatmul(three, kernel)};
                for (int variant = 0; variant < 4; variant++) {
                    boolean transA = (variant & 1) != 0;
                    boolean transB = (variant & 2) != 0;
                    float[] expected = c0.clone();
                    reference.gemm(transA, transB, m, n, k, -2f, a, 0, transA ? m : k, b, 0, transB ? k : n, 1f,
                            expected, 0);
                    for (int call = 0; call < 150; call++) {
                        CpuMatmul mm = shared[call % 2];
                        float[] c = c0.clone();
                        mm.gemm(transA, transB, m, n, k, -2f, a, 0, transA ? m : k, b, 0, transB ? k : n, 1f, c, 0);
                        assertArrayEquals(expected, c, kernel.getClass().getSimpleName() + " transA=" + transA
                                + " transB=" + transB + " call " + call);
                    }
                }
            }
        }
    }

    /**
     * Products whose column bands have homes ({@link CpuMatmul#homeBase}: by B's columns when B is read as stored and
     * the larger, else by C's), computed by 2 and 3 threads with the workers awake and asleep (their home bands then
     * taken by the caller), each bit for bit as one thread computes it; B and C at offsets in their arrays, so the homes
     * are counted from a chunk other than the array's first.
     */
    @ParameterizedTest(name = "{0} threads, transA={1} m={2} n={3} k={4} bOff={5} cOff={6}, homes from {7}")
    @CsvSource({
        // a layer's forward product: homes by the weights (B), one band of 128 columns per thread
        "2, false, 128, 256, 784, 0, 0, 0",
        // four bands, homes counted from B's second chunk, and a partial row tile
        "2, false, 70, 512, 300, 128, 40, 128",
        // A read transposed, no more rows than twice the depth (else row halves): homes by C
        "2, true, 200, 256, 128, 0, 256, 256",
        // three threads: rows of 3 x 128 columns
        "3, false, 96, 768, 200, 384, 0, 384",
        "3, true, 250, 384, 128, 0, 128, 128"})
    void productsSplitByHomesMatchOneThreadBitForBit(int threads, boolean transA, int m, int n, int k, int bOff,
                                                     int cOff, int homes) throws InterruptedException {
        assertEquals(homes, CpuMatmul.homeBase(threads, false, m, n, k, bOff, n, cOff), "where the homes count from");
        float[] a = random(51, m * k);
        float[] b = random(52, bOff + k * n);
        float[] expected = random(53, cOff + m * n);
        int lda = transA ? m : k;
        try (Parallel one = new Parallel(1); Parallel shared = new Parallel(threads, 1_000_000)) {
            new CpuMatmul(one, true).gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, bOff, n, -0.5f, expected, cOff);
            CpuMatmul matmul = new CpuMatmul(shared, true);
            for (int rep = 0; rep < 3; rep++) {
                float[] c = random(53, cOff + m * n);
                matmul.gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, bOff, n, -0.5f, c, cOff);
                assertArrayEquals(expected, c, "workers awake, product " + rep);
            }
            ParallelTest.sleepThroughCalls(shared);
            float[] c = random(53, cOff + m * n);
            matmul.gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, bOff, n, -0.5f, c, cOff);
            assertArrayEquals(expected, c, "workers asleep");
            shared.wakeWorkers(true);
        }
    }

    /**
     * Products summed over two depth halves ({@link CpuMatmul#splitsDepth}: a layer's forward product, the weights
     * the larger operand), computed by 2, 3 and 4 threads (the halves side by side, cut into column bands beyond two)
     * with the workers awake and asleep, each bit for bit as one thread computes it; B and C at offsets in their
     * arrays. The halves of B are recorded for the update that follows, thread 0's the rows before
     * {@link CpuMatmul#depthHalf}.
     */
    @ParameterizedTest(name = "{0} threads, transA={1} m={2} n={3} k={4}")
    @CsvSource({
        "2, false, 128, 256, 784", "2, false, 64, 256, 784", "2, false, 200, 64, 600", "2, true, 128, 256, 784",
        // an odd shape: a half of 464 and one of 436, partial tiles everywhere
        "2, false, 100, 30, 900", "3, false, 128, 256, 784", "4, true, 100, 30, 900", "4, false, 128, 256, 784"})
    void depthHalvesMatchOneThreadBitForBit(int threads, boolean transA, int m, int n, int k)
            throws InterruptedException {
        assertTrue(CpuMatmul.splitsDepth(false, m, n, k, 0f), "summed over depth halves");
        int bOff = 100;
        int cOff = 30;
        float[] a = random(61, m * k);
        float[] b = random(62, bOff + k * n);
        float[] expected = random(63, cOff + m * n);
        int lda = transA ? m : k;
        int half = CpuMatmul.depthHalf(k);
        try (Parallel one = new Parallel(1); Parallel shared = new Parallel(threads, 1_000_000)) {
            new CpuMatmul(one, true).gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, bOff, n, 0f, expected, cOff);
            CpuMatmul matmul = new CpuMatmul(shared, true);
            for (int rep = 0; rep < 3; rep++) {
                float[] c = random(63, cOff + m * n);
                matmul.gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, bOff, n, 0f, c, cOff);
                assertArrayEquals(expected, c, "workers awake, product " + rep);
            }
            int[][] homes = shared.homes.split(b, bOff, k * n, 2, 1);
            assertArrayEquals(new int[] {0, half * n}, homes[0], "thread 0's rows of B");
            assertArrayEquals(new int[] {half * n, k * n}, homes[1], "thread 1's rows of B");
            ParallelTest.sleepThroughCalls(shared);
            float[] c = random(63, cOff + m * n);
            matmul.gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, bOff, n, 0f, c, cOff);
            assertArrayEquals(expected, c, "workers asleep");
            shared.wakeWorkers(true);
        }
    }

    /**
     * Weight gradients split into row halves at {@link CpuMatmul#depthHalf} ({@link CpuMatmul#splitsRows}), by 2, 3 and
     * 4 threads, accumulating into C, awake and asleep, each bit for bit as one thread computes it.
     */
    @ParameterizedTest(name = "{0} threads, transA={1} m={2} n={3} k={4}")
    @CsvSource({"2, true, 784, 256, 128", "2, true, 600, 64, 200", "3, true, 784, 256, 64", "4, false, 900, 30, 100",
        "2, false, 520, 100, 40"})
    void rowHalvesMatchOneThreadBitForBit(int threads, boolean transA, int m, int n, int k)
            throws InterruptedException {
        assertTrue(CpuMatmul.splitsRows(m, n, k), "split into row halves");
        int cOff = 40;
        float[] a = random(71, m * k);
        float[] b = random(72, k * n);
        float[] expected = random(73, cOff + m * n);
        int lda = transA ? m : k;
        try (Parallel one = new Parallel(1); Parallel shared = new Parallel(threads, 1_000_000)) {
            new CpuMatmul(one, true).gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, 0, n, 1f, expected, cOff);
            CpuMatmul matmul = new CpuMatmul(shared, true);
            for (int rep = 0; rep < 3; rep++) {
                float[] c = random(73, cOff + m * n);
                matmul.gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, 0, n, 1f, c, cOff);
                assertArrayEquals(expected, c, "workers awake, product " + rep);
            }
            int half = CpuMatmul.depthHalf(m);
            int[][] homes = shared.homes.split(expected, cOff, m * n, 2, 1);
            assertEquals(null, homes, "another array: no record");
            float[] c = random(73, cOff + m * n);
            ParallelTest.sleepThroughCalls(shared);
            matmul.gemm(transA, false, m, n, k, 1.5f, a, 0, lda, b, 0, n, 1f, c, cOff);
            assertArrayEquals(expected, c, "workers asleep");
            shared.wakeWorkers(true);
            homes = shared.homes.split(c, cOff, m * n, 2, 1);
            assertArrayEquals(new int[] {0, half * n}, homes[0], "thread 0's rows of C");
            assertArrayEquals(new int[] {half * n, m * n}, homes[1], "thread 1's rows of C");
        }
    }

    /** Which products are summed over depth halves, and which split into row halves: by their shapes alone. */
    @Test
    void depthAndRowHalvesOnlyWhereTheWeightsOrTheirGradientsDominate() {
        assertTrue(CpuMatmul.splitsDepth(false, 128, 256, 784, 0f), "the first layer's forward product");
        assertTrue(CpuMatmul.splitsDepth(false, 256, 256, 784, 0f), "the same at batch 256");
        assertTrue(!CpuMatmul.splitsDepth(false, 512, 256, 784, 0f), "at batch 512 the batch is as deep");
        assertTrue(!CpuMatmul.splitsDepth(true, 128, 256, 784, 0f), "B transposed: its halves are not contiguous");
        assertTrue(!CpuMatmul.splitsDepth(false, 128, 256, 784, 1f), "accumulating into C");
        assertTrue(!CpuMatmul.splitsDepth(false, 128, 10, 128, 0f), "too small to share");
        assertTrue(!CpuMatmul.splitsDepth(false, 128, 128, 256, 0f), "the second layer's: halves of 128 too shallow");
        assertTrue(!CpuMatmul.splitsDepth(false, 256, 1100, 784, 0f), "C over 1 MiB");
        assertEquals(400, CpuMatmul.depthHalf(784));
        assertEquals(128, CpuMatmul.depthHalf(256));
        assertTrue(CpuMatmul.splitsRows(784, 256, 128), "the first layer's weight gradient");
        assertTrue(!CpuMatmul.splitsRows(128, 256, 128), "the second layer's input gradient");
        assertTrue(!CpuMatmul.splitsRows(256, 128, 128), "the second layer's weight gradient: halves of 128");
        assertTrue(!CpuMatmul.splitsRows(1024, 1024, 128), "C over 1 MiB");
    }

    /** Which products have homes: rows of whole chunks per thread, starting at a chunk, B read as stored. */
    @Test
    void productsHaveHomesOnlyWhereEveryRowSplitsIntoTheSameChunks() {
        assertEquals(-1, CpuMatmul.homeBase(2, false, 128, 128, 256, 0, 128, 0), "rows of one chunk");
        assertEquals(-1, CpuMatmul.homeBase(2, false, 128, 256, 256, 64, 256, 100), "B and C off a chunk's start");
        assertEquals(256, CpuMatmul.homeBase(2, false, 128, 256, 256, 64, 256, 256), "B off a chunk: by C");
        assertEquals(0, CpuMatmul.homeBase(2, true, 128, 256, 784, 512, 784, 0), "B transposed: by C");
        assertEquals(-1, CpuMatmul.homeBase(2, true, 128, 784, 256, 0, 256, 0), "784 columns: no whole chunks");
        assertEquals(-1, CpuMatmul.homeBase(3, false, 128, 256, 784, 0, 256, 0), "256 is no multiple of 3 x 128");
    }

    static Stream<Arguments> sharingShapes() {
        return Stream.of(
                // column bands (no more rows than columns): A packed whole by each thread, a partial last row tile
                // and two depth blocks (784: 392 + 392 for the narrow kernel, 4 x 196 for the others)
                Arguments.of(128, 256, 784), Arguments.of(78, 3300, 700), Arguments.of(64, 3300, 40),
                Arguments.of(12, 900, 300),
                // a band wider than a column block (NC): 12,400 columns in 4 bands on 2 threads, 6 on 3
                Arguments.of(9, 12400, 530),
                // row bands (more rows than columns)
                Arguments.of(145, 97, 129), Arguments.of(1000, 20, 600),
                // row bands over an op(B) of 2.25M floats (op(A) too large to pack per thread): packed in groups of
                // blocks, a group reusing the buffer of the group two before (three blocks of 500 deep, one per group,
                // for the narrow kernel; six of 250, two per group, for the others)
                Arguments.of(1100, 1500, 1500),
                // too few row tiles for row bands, and fewer columns than rows: one column band per thread
                Arguments.of(26, 20, 3000),
                // at most ten columns (B packed in pairs): a band of rows per thread, over two blocks of 150 deep, nine
                // of 234 (with the 3-row passes' last group of ten depths), one of 40
                Arguments.of(400, 10, 300), Arguments.of(60, 10, 2100), Arguments.of(4000, 7, 40));
    }

    private static float[] run(Backend be, boolean transA, boolean transB, float alpha, float beta,
                               Shape sa, float[] a, Shape sb, float[] b, float[] c0) {
        int m = transA ? sa.cols() : sa.rows();
        int n = transB ? sb.rows() : sb.cols();
        try (Tensor ta = be.fromHost(sa, a); Tensor tb = be.fromHost(sb, b);
             Tensor tc = be.fromHost(Shape.matrix(m, n), c0)) {
            be.gemm(transA, transB, alpha, ta, tb, beta, tc);
            return tc.download();
        }
    }

    private static void assertClose(String what, float[] expected, float[] actual, int k) {
        assertEquals(expected.length, actual.length, what);
        double atol = GEMM_ATOL_PER_TERM * (k + 2);
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) expected[i] - actual[i]);
            if (!(err <= atol + GEMM_RTOL * Math.abs(expected[i]))) {
                throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
            }
        }
    }
}
