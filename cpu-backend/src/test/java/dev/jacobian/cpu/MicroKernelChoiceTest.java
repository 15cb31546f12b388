package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.reference.ReferenceBackend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which SGEMM micro-kernel runs, and that the ones this machine does not pick are right too: {@link CpuMatmulTest}
 * covers the kernel of the JVM's own vector shape (the 12-row {@link MatmulVectorWide} on AVX-512, the 4-row
 * {@link MatmulVectorNarrow} on AVX2), {@link #everyKernelOfThisVectorShapeMatchesTheReference} runs each kernel the
 * shape allows in this JVM, and {@link Probe} runs in a child JVM narrowed to 256-bit vectors
 * ({@value Simd#BITS_PROPERTY}), over sizes with edge tiles in every direction and all four transpositions, against
 * the reference backend.
 */
class MicroKernelChoiceTest {
    /** Relative tolerance of a float-accumulated dot product against the double-accumulated reference. */
    private static final double GEMM_RTOL = 1e-4;
    /** Absolute tolerance per term of the dot product (inputs of magnitude about one). */
    private static final double GEMM_ATOL_PER_TERM = 2e-6;

    /** The child JVM's entry point: the kernel's name, then one line per product that differs, then "done". */
    public static final class Probe {
        public static void main(String[] args) {
            System.out.println("kernel=" + MatmulVector.widest().getClass().getSimpleName() + " lanes=" + Simd.L);
            int[][] mnk = {{1, 1, 1}, {7, 13, 1}, {6, 16, 9}, {12, 40, 7}, {13, 47, 31}, {65, 31, 513},
                {145, 97, 129}, {128, 256, 100}, {97, 3, 600}, {37, 300, 45}};
            try (ReferenceBackend reference = new ReferenceBackend(); CpuBackend one = new CpuBackend(1);
                 CpuBackend two = new CpuBackend(2)) {
                for (int[] s : mnk) {
                    for (int t = 0; t < 4; t++) {
                        boolean transA = (t & 1) != 0;
                        boolean transB = (t & 2) != 0;
                        float[] expected = product(reference, s, transA, transB);
                        for (CpuBackend be : List.of(one, two)) {
                            String diff = compare(expected, product(be, s, transA, transB), s[2]);
                            if (diff != null) {
                                System.out.println("differs: " + be + " " + s[0] + "x" + s[1] + "x" + s[2] + " transA="
                                        + transA + " transB=" + transB + ": " + diff);
                            }
                        }
                    }
                }
            }
            System.out.println("done");
        }

        private static float[] product(dev.jacobian.backend.Backend be, int[] s, boolean transA, boolean transB) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            Shape sa = transA ? Shape.matrix(k, m) : Shape.matrix(m, k);
            Shape sb = transB ? Shape.matrix(n, k) : Shape.matrix(k, n);
            try (Tensor a = be.fromHost(sa, CpuMatmulTest.random(m * 31L + k, m * k));
                 Tensor b = be.fromHost(sb, CpuMatmulTest.random(n * 17L + k, n * k));
                 Tensor c = be.fromHost(Shape.matrix(m, n), CpuMatmulTest.random(m * 7L + n, m * n))) {
                be.gemm(transA, transB, 0.5f, a, b, -1.25f, c);
                return c.download();
            }
        }

        private static String compare(float[] expected, float[] actual, int k) {
            double atol = GEMM_ATOL_PER_TERM * (k + 2);
            for (int i = 0; i < expected.length; i++) {
                double err = Math.abs((double) expected[i] - actual[i]);
                if (!(err <= atol + GEMM_RTOL * Math.abs(expected[i]))) {
                    return "element " + i + " expected " + expected[i] + " got " + actual[i];
                }
            }
            return null;
        }
    }

    /**
     * The child JVM's entry point for {@link #bothKernelsCompileInEveryTier}: enough products, B as stored and
     * transposed, for C1 and C2 to compile the kernels and the packing; 90 columns of C read A where it lies
     * ({@link CpuMatmul.MicroKernel#directPanelColumns}), 300 pack it; 10 columns of an A read transposed go along C's
     * rows ({@link CpuMatmul.MicroKernel#runColumnsTransposed}).
     */
    public static final class Warm {
        public static void main(String[] args) {
            try (CpuBackend be = new CpuBackend(1)) {
                Tensor a = be.fromHost(Shape.matrix(50, 70), CpuMatmulTest.random(1, 50 * 70));
                Tensor b = be.fromHost(Shape.matrix(70, 90), CpuMatmulTest.random(2, 70 * 90));
                Tensor bt = be.fromHost(Shape.matrix(90, 70), CpuMatmulTest.random(3, 70 * 90));
                Tensor c = be.allocate(Shape.matrix(50, 90));
                Tensor wide = be.fromHost(Shape.matrix(70, 300), CpuMatmulTest.random(4, 70 * 300));
                Tensor cw = be.allocate(Shape.matrix(50, 300));
                Tensor at = be.fromHost(Shape.matrix(70, 130), CpuMatmulTest.random(5, 70 * 130));
                Tensor ten = be.fromHost(Shape.matrix(70, 10), CpuMatmulTest.random(6, 70 * 10));
                Tensor c10 = be.allocate(Shape.matrix(130, 10));
                for (int i = 0; i < 3000; i++) {
                    be.gemm(false, false, 1f, a, b, i % 2 == 0 ? 0f : 1f, c);
                    be.gemm(false, true, 1f, a, bt, 1f, c);
                    be.gemm(false, false, 1f, a, wide, i % 2 == 0 ? 0f : 1f, cw);
                    be.gemm(true, false, 1f, at, ten, i % 2 == 0 ? 0f : 1f, c10);
                }
            }
            System.out.println("done");
        }
    }

    /**
     * Each kernel compiles in C1 and C2 ({@code -Xbatch} makes the compiles synchronous, so the log is complete): a
     * kernel C1 gives up on ("out of virtual registers", as a 12-row kernel with its C update written out per row
     * did) can be left running C1's tier-2 code, with boxed vectors, over a hundred times slower.
     */
    @Test
    void bothKernelsCompileInEveryTier() throws IOException, InterruptedException {
        for (String bits : List.of("256", "512")) {
            String out = ChildJvm.run(Warm.class, "--add-modules=jdk.incubator.vector", "-Xbatch",
                    "-XX:+PrintCompilation", "-D" + Simd.BITS_PROPERTY + "=" + bits);
            assertTrue(out.contains("done"), out);
            for (String line : out.split("\\R")) {
                if (line.contains("dev.jacobian.cpu.MatmulVector") || line.contains("dev.jacobian.cpu.PackTranspose")) {
                    assertTrue(!line.contains("COMPILE SKIPPED") && !line.contains("bailout"), bits + " bits: " + line);
                }
            }
            String kernel = Simd.L >= MatmulVectorWide.MIN_LANES && bits.equals("512") ? "MatmulVectorWide"
                    : Simd.REGISTERS >= 32 ? "MatmulVector" : "MatmulVectorNarrow";
            assertTrue(out.contains("dev.jacobian.cpu." + kernel + "::run"), bits + " bits, " + kernel + " compiled:\n" + out);
            if (kernel.equals("MatmulVectorWide")) {
                assertTrue(out.contains("dev.jacobian.cpu.MatmulVectorWide::wide12"), bits + " bits, wide12 compiled:\n"
                        + out);
                assertTrue(out.contains("dev.jacobian.cpu.MatmulVectorWide::columns4"), bits + " bits, columns4 "
                        + "compiled:\n" + out);
            }
        }
    }

    @Test
    void sixteenLanesGetTheWideKernelSixteenRegistersTheNarrowOne() {
        Class<?> expected = Simd.L >= MatmulVectorWide.MIN_LANES ? MatmulVectorWide.class
                : Simd.REGISTERS >= 32 ? MatmulVector.class : MatmulVectorNarrow.class;
        assertEquals(expected, MatmulVector.widest().getClass());
        assertEquals(Simd.L >= 16 ? 12 : Simd.REGISTERS >= 32 ? 6 : 4, MatmulVector.widest().mr());
        assertEquals(Simd.REGISTERS >= 32 ? 6 : 4, MatmulVector.narrow().mr());
    }

    /**
     * Every kernel this JVM's vector shape can run (the narrow ones always, the wide one on 16 lanes), whichever the
     * machine picks, on 1 and 2 threads, against a double-accumulated product: sizes with edge tiles in every
     * direction, several depth blocks, and whole panels of 4, 6 and 12 rows that end A exactly (a vector copy of a
     * transposed panel must not read past A).
     */
    @Test
    void everyKernelOfThisVectorShapeMatchesTheReference() {
        List<CpuMatmul.MicroKernel> kernels = kernelsOfThisShape();
        int[][] mnk = {{1, 1, 1}, {3, 17, 5}, {4, 16, 9}, {5, 33, 257}, {8, 40, 7}, {12, 40, 7}, {13, 47, 31},
            {24, 64, 300}, {65, 31, 513}, {145, 97, 129}, {128, 256, 100}};
        for (CpuMatmul.MicroKernel kernel : kernels) {
            for (int threads = 1; threads <= 2; threads++) {
                try (Parallel parallel = new Parallel(threads)) {
                    CpuMatmul matmul = new CpuMatmul(parallel, kernel);
                    for (int[] s : mnk) {
                        for (int t = 0; t < 4; t++) {
                            String what = kernel.getClass().getSimpleName() + " threads=" + threads + " " + s[0]
                                    + "x" + s[1] + "x" + s[2] + " transA=" + ((t & 1) != 0) + " transB=" + ((t & 2) != 0);
                            assertProductMatches(what, matmul, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0);
                        }
                    }
                }
            }
        }
    }

    /**
     * A product's blocks are as few as the kernel's {@link CpuMatmul.MicroKernel#maxDepth} allows and all equally deep:
     * the narrow kernel's 512 ({@code 784 = 2 x 392}, {@code 1025 = 3 x 342}), the others' 256 ({@code 784 = 4 x 196}).
     */
    @Test
    void blocksAreAsDeepAsTheKernelAllowsAndEquallyDeep() {
        try (Parallel parallel = new Parallel(1)) {
            CpuMatmul narrow = new CpuMatmul(parallel, new MatmulVectorNarrow());
            assertEquals(392, narrow.depth(784));
            assertEquals(512, narrow.depth(1024));
            assertEquals(342, narrow.depth(1025));
            assertEquals(7, narrow.depth(7));
            CpuMatmul six = new CpuMatmul(parallel, new MatmulVector());
            assertEquals(196, six.depth(784));
            assertEquals(256, six.depth(512));
            for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
                CpuMatmul matmul = new CpuMatmul(parallel, kernel);
                for (int k = 1; k <= 2100; k++) {
                    int depth = matmul.depth(k);
                    int blocks = (k + depth - 1) / depth;
                    String what = kernel.getClass().getSimpleName() + " k=" + k;
                    assertTrue(depth <= kernel.maxDepth(), what);
                    assertEquals((k + kernel.maxDepth() - 1) / kernel.maxDepth(), blocks, what + ": fewest blocks");
                    assertTrue(k - (blocks - 1) * depth > depth - blocks,
                            what + ": the last block is as deep, give or take one per block");
                }
            }
        }
    }

    /**
     * {@link CpuMatmul.MicroKernel#packPanels} lays out each panel as the micro-kernel reads it ({@code nr} floats of
     * B's row {@code p} at {@code p*nr} in the panel, panels {@code nr*kc} apart), for every kernel, from a B wider than
     * the panels (a row stride past them) and at offsets, writing nothing else.
     */
    @Test
    void packingPanelsOfABReadAsStoredLaysThemOutAsTheKernelReadsThem() {
        for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
            int nr = kernel.nr();
            for (int count : new int[] {1, 3}) {
                int kc = 37;
                int ldb = count * nr + 5;
                int src = 3;
                int dst = 2;
                float[] b = CpuMatmulTest.random(count * 11L + nr, src + kc * ldb);
                float[] packed = new float[dst + count * nr * kc + 4];
                java.util.Arrays.fill(packed, -7f);
                float[] expected = packed.clone();
                for (int q = 0; q < count; q++) {
                    for (int p = 0; p < kc; p++) {
                        for (int c = 0; c < nr; c++) {
                            expected[dst + q * nr * kc + p * nr + c] = b[src + p * ldb + q * nr + c];
                        }
                    }
                }
                kernel.packPanels(b, src, ldb, kc, count, packed, dst);
                assertTrue(java.util.Arrays.equals(expected, packed), kernel.getClass().getSimpleName() + " count=" + count);
            }
        }
    }

    /**
     * {@link CpuMatmul.MicroKernel#packRowPanel} lays out a panel of an A read as stored as the micro-kernel reads it
     * ({@code mr} floats of A's column {@code p}, one from each row, at {@code p*mr}), for every kernel, at depths on
     * both sides of its register transposes' blocks (8 or 16 columns), from an A wider than the depth (with rows past
     * the panel, as inside a block) and at offsets, writing nothing else.
     */
    @Test
    void packingRowPanelsOfAnAReadAsStoredLaysThemOutAsTheKernelReadsThem() {
        for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
            int mr = kernel.mr();
            for (int kc : new int[] {1, 7, 8, 9, 16, 17, 33, 392}) {
                int lda = kc + 5;
                int src = 3;
                int dst = 2;
                float[] a = CpuMatmulTest.random(kc * 13L + mr, src + (mr + 4) * lda);
                float[] packed = new float[dst + mr * kc + 4];
                java.util.Arrays.fill(packed, -7f);
                float[] expected = packed.clone();
                for (int p = 0; p < kc; p++) {
                    for (int r = 0; r < mr; r++) {
                        expected[dst + p * mr + r] = a[src + r * lda + p];
                    }
                }
                kernel.packRowPanel(a, src, lda, kc, packed, dst);
                assertTrue(java.util.Arrays.equals(expected, packed), kernel.getClass().getSimpleName() + " kc=" + kc);
            }
        }
    }

    /**
     * The register transposes of a B read transposed, {@link PackTranspose8} and {@link PackTranspose16}, against the
     * transpose written out, on any machine (a species wider than the machine's vectors runs slowly but exactly): each
     * block's column {@code q} lands as row {@code q} of the panel, {@code stride} floats apart, and nothing else is
     * written.
     */
    @Test
    void theRegisterTransposesTransposeTheirBlock() {
        for (int l : new int[] {PackTranspose8.L, PackTranspose16.L}) {
            int ldb = l + 5;
            int src = 2;
            int stride = 2 * l;
            int dst = 3;
            float[] b = CpuMatmulTest.random(l, src + l * ldb);
            float[] packed = new float[dst + l * stride + 4];
            java.util.Arrays.fill(packed, -7f);
            float[] expected = packed.clone();
            for (int r = 0; r < l; r++) {
                for (int q = 0; q < l; q++) {
                    expected[dst + q * stride + r] = b[src + r * ldb + q];
                }
            }
            if (l == PackTranspose8.L) {
                PackTranspose8.block(b, src, ldb, packed, dst, stride);
            } else {
                PackTranspose16.block(b, src, ldb, packed, dst, stride);
            }
            assertTrue(java.util.Arrays.equals(expected, packed), "PackTranspose" + l);
        }
    }

    /**
     * An edge tile (fewer valid rows or columns than the kernel's tile: the last rows of a batch of 64 or 128 on the
     * 12-row kernel, which computes at most {@value MatmulVectorWide#EDGE_ROWS} of them four rows at a time; at most
     * one vector of columns, which it computes one vector wide, as for the output layer's ten classes) has the
     * bits of the same rows of a whole tile, added to C or overwriting it, and writes nothing outside its rows and
     * columns: which loop computed an element must not change it.
     */
    @Test
    void edgeTilesHaveTheBitsOfTheSameRowsOfAWholeTile() {
        for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
            int mr = kernel.mr();
            int nr = kernel.nr();
            for (int kc : new int[] {1, 37, 392}) {
                float[] a = CpuMatmulTest.random(kc * 5L + mr, mr * kc);
                float[] b = CpuMatmulTest.random(kc * 3L + nr, nr * kc);
                float[] c0 = CpuMatmulTest.random(kc + 1L, mr * nr);
                float[] tmp = new float[mr * nr];
                for (boolean overwrite : new boolean[] {true, false}) {
                    float[] whole = c0.clone();
                    kernel.run(kc, a, 0, b, 0, whole, 0, nr, 0.75f, overwrite, mr, nr, tmp);
                    for (int rows = 1; rows <= mr; rows++) {
                        for (int cols : new int[] {nr, nr - 3, Math.min(nr, Simd.L), Math.min(nr, 10), 1}) {
                            float[] c = c0.clone();
                            kernel.run(kc, a, 0, b, 0, c, 0, nr, 0.75f, overwrite, rows, cols, tmp);
                            for (int i = 0; i < mr * nr; i++) {
                                boolean inside = i / nr < rows && i % nr < cols;
                                assertEquals(Float.floatToRawIntBits(inside ? whole[i] : c0[i]),
                                        Float.floatToRawIntBits(c[i]), kernel.getClass().getSimpleName() + " kc=" + kc
                                                + " rows=" + rows + " cols=" + cols + " overwrite=" + overwrite
                                                + " element " + i);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A kernel that reads A where it lies for products of few columns ({@link CpuMatmul.MicroKernel#runDirect}: A as
     * stored, or transposed) gives each element the bits the packed panel gives it, for every count of valid rows (the
     * twelve-row loop, four rows, one row) and columns up to {@code directColumns()}, and, for an A as stored where the
     * kernel reads it so for whole panels ({@code directPanelColumns()}), up to its full width, added to C or
     * overwriting it, and writes nothing outside its rows and columns.
     */
    @Test
    void tilesReadingAWhereItLiesHaveTheBitsOfPackedOnes() {
        for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
            int mr = kernel.mr();
            int nr = kernel.nr();
            if (kernel.directColumns() == 0) {
                continue;
            }
            for (int kc : new int[] {1, 37, 128}) {
                int lda = kc + 3; // rows of A as stored, with a gap
                float[] a = CpuMatmulTest.random(kc * 7L + 1, mr * lda);
                float[] at = new float[kc * (mr + 5)]; // A transposed: [kc, mr] with leading dimension mr + 5
                for (int r = 0; r < mr; r++) {
                    for (int p = 0; p < kc; p++) {
                        at[p * (mr + 5) + r] = a[r * lda + p];
                    }
                }
                float[] ap = new float[mr * kc];
                kernel.packRowPanel(a, 0, lda, kc, ap, 0);
                float[] b = CpuMatmulTest.random(kc * 3L + 2, nr * kc);
                float[] c0 = CpuMatmulTest.random(kc + 2L, mr * nr);
                float[] tmp = new float[mr * nr];
                for (boolean overwrite : new boolean[] {true, false}) {
                    float[] whole = c0.clone();
                    kernel.run(kc, ap, 0, b, 0, whole, 0, nr, 0.75f, overwrite, mr, nr, tmp);
                    for (int rows = 1; rows <= mr; rows++) {
                        int l = kernel.directColumns();
                        int[] widths = kernel.directPanelColumns() > 0 ? new int[] {nr, nr - 1, l + 1, l, 10, 1}
                                : new int[] {l, 10, 1};
                        for (int cols : widths) {
                            for (boolean transposed : new boolean[] {false, true}) {
                                if (transposed && cols > l) {
                                    continue; // whole panels only for an A as stored
                                }
                                float[] c = c0.clone();
                                if (transposed) {
                                    kernel.runDirect(kc, at, 0, 1, mr + 5, b, 0, c, 0, nr, 0.75f, overwrite, rows,
                                            cols, tmp);
                                } else {
                                    kernel.runDirect(kc, a, 0, lda, 1, b, 0, c, 0, nr, 0.75f, overwrite, rows, cols,
                                            tmp);
                                }
                                for (int i = 0; i < mr * nr; i++) {
                                    boolean inside = i / nr < rows && i % nr < cols;
                                    assertEquals(Float.floatToRawIntBits(inside ? whole[i] : c0[i]),
                                            Float.floatToRawIntBits(c[i]), kernel.getClass().getSimpleName() + " kc="
                                                    + kc + " rows=" + rows + " cols=" + cols + " transposed="
                                                    + transposed + " overwrite=" + overwrite + " element " + i);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A kernel that lays vectors along C's rows for few columns and an A read transposed
     * ({@link CpuMatmul.MicroKernel#runColumnsTransposed}) gives each element the bits its one-vector tiles
     * ({@link CpuMatmul.MicroKernel#runDirect}) give it, for any count of rows (whole tiles of four vectors, of one,
     * and the rows left), columns up to {@code directColumns()} (whole and partial passes of columns), added to C or
     * overwriting it, and writes nothing outside its rows and columns.
     */
    @Test
    void columnsOfATransposedAreTheBitsOfOneVectorTiles() {
        for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
            if (!kernel.columnsTransposed()) {
                continue;
            }
            int mr = kernel.mr();
            int nr = kernel.nr();
            float[] tmp = new float[kernel.tmpFloats()];
            for (int kc : new int[] {1, 37, 128}) {
                for (int rows : new int[] {1, 12, 15, 16, 17, 40, 64, 65, 80, 131}) {
                    int lda = rows + 7; // A transposed: [kc, rows] with a gap
                    float[] a = CpuMatmulTest.random(kc * 11L + rows, kc * lda);
                    float[] b = CpuMatmulTest.random(kc * 5L + 1, nr * kc); // the padding columns too
                    for (int cols : new int[] {1, 4, 5, 6, 10, 15, kernel.directColumns()}) {
                        int ldc = cols + 3;
                        float[] c0 = CpuMatmulTest.random(rows * 13L + cols, rows * ldc + 5);
                        for (boolean overwrite : new boolean[] {true, false}) {
                            float[] expected = c0.clone();
                            for (int r = 0; r < rows; r += mr) {
                                kernel.runDirect(kc, a, r, 1, lda, b, 0, expected, r * ldc, ldc, 0.75f, overwrite,
                                        Math.min(mr, rows - r), cols, tmp);
                            }
                            float[] c = c0.clone();
                            kernel.runColumnsTransposed(kc, a, 0, lda, rows, b, 0, c, 0, ldc, 0.75f, overwrite, cols,
                                    tmp);
                            for (int i = 0; i < c.length; i++) {
                                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(c[i]),
                                        kernel.getClass().getSimpleName() + " kc=" + kc + " rows=" + rows + " cols="
                                                + cols + " overwrite=" + overwrite + " element " + i);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A kernel's own packing of a B's last, partial panel ({@link CpuMatmul.MicroKernel#packPartialPanel}) lays out the
     * bits the interface's scalar packing does, zeros in the columns past B's, whatever the buffer held before.
     */
    @Test
    void partialPanelsArePackedAsByTheScalarCopy() {
        for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
            int nr = kernel.nr();
            CpuMatmul.MicroKernel plain = plainPacking(kernel);
            for (int kc : new int[] {1, 5, 37}) {
                for (int cols = 1; cols < nr; cols++) {
                    int ldb = cols + 2;
                    float[] b = CpuMatmulTest.random(kc * 3L + cols, kc * ldb - 2); // the last row ends with B
                    float[] expected = new float[nr * kc + 4];
                    float[] packed = new float[nr * kc + 4];
                    java.util.Arrays.fill(expected, Float.NaN);
                    java.util.Arrays.fill(packed, Float.NaN);
                    plain.packPartialPanel(b, 0, ldb, kc, cols, expected, 2);
                    kernel.packPartialPanel(b, 0, ldb, kc, cols, packed, 2);
                    for (int i = 0; i < packed.length; i++) {
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(packed[i]),
                                kernel.getClass().getSimpleName() + " kc=" + kc + " cols=" + cols + " float " + i);
                    }
                }
            }
        }
    }

    /**
     * A kernel's packing of a whole panel of a B read transposed ({@link CpuMatmul.MicroKernel#packTransposedBPanel})
     * lays out the bits the interface's scalar packing does, for depths below, at and past a vector's, with B's rows
     * packed to the end or followed by more of B (where the last rows' vector reads must not pass B's end), and writes
     * nothing outside the panel.
     */
    @Test
    void transposedPanelsArePackedAsByTheScalarCopy() {
        for (CpuMatmul.MicroKernel kernel : kernelsOfThisShape()) {
            int nr = kernel.nr();
            CpuMatmul.MicroKernel plain = plainPacking(kernel);
            for (int kc : new int[] {1, 5, 10, 16, 17, 37}) {
                for (int ldb : new int[] {kc, kc + 3}) {
                    for (int extra : new int[] {0, 40}) {
                        float[] b = CpuMatmulTest.random(kc * 7L + ldb + extra, 3 + (nr - 1) * ldb + kc + extra);
                        float[] expected = new float[nr * kc + 4];
                        float[] packed = new float[nr * kc + 4];
                        java.util.Arrays.fill(expected, Float.NaN);
                        java.util.Arrays.fill(packed, Float.NaN);
                        plain.packTransposedBPanel(b, 3, ldb, kc, expected, 2, new float[plain.tmpFloats()]);
                        kernel.packTransposedBPanel(b, 3, ldb, kc, packed, 2, new float[kernel.tmpFloats()]);
                        for (int i = 0; i < packed.length; i++) {
                            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(packed[i]),
                                    kernel.getClass().getSimpleName() + " kc=" + kc + " ldb=" + ldb + " extra=" + extra
                                            + " float " + i);
                        }
                    }
                }
            }
        }
    }

    /** A kernel of {@code kernel}'s tile that packs with the interface's scalar defaults and computes nothing. */
    private static CpuMatmul.MicroKernel plainPacking(CpuMatmul.MicroKernel kernel) {
        return new CpuMatmul.MicroKernel() {
            @Override
            public int mr() {
                return kernel.mr();
            }

            @Override
            public int nr() {
                return kernel.nr();
            }

            @Override
            public void run(int kc, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int ldc,
                            float alpha, boolean overwrite, int rows, int cols, float[] tmp) {
                throw new UnsupportedOperationException();
            }
        };
    }

    /** The kernels this JVM's vector shape can run: the narrow ones and the scalar twin always, the wide one on 16 lanes. */
    private static List<CpuMatmul.MicroKernel> kernelsOfThisShape() {
        List<CpuMatmul.MicroKernel> kernels = new java.util.ArrayList<>(List.of(new MatmulVector(),
                new MatmulVectorNarrow(), new CpuMatmul.ScalarKernel()));
        if (Simd.L >= MatmulVectorWide.MIN_LANES) {
            kernels.add(new MatmulVectorWide());
        }
        return kernels;
    }

    private static void assertProductMatches(String what, CpuMatmul matmul, int m, int n, int k, boolean transA,
                                             boolean transB) {
        float[] a = CpuMatmulTest.random(m * 31L + k, m * k);
        float[] b = CpuMatmulTest.random(n * 17L + k, n * k);
        float[] c = CpuMatmulTest.random(m * 7L + n, m * n);
        float alpha = 0.5f;
        float beta = -1.25f;
        float[] expected = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a[transA ? p * m + i : i * k + p] * b[transB ? j * k + p : p * n + j];
                }
                expected[i * n + j] = (float) (alpha * sum + beta * (double) c[i * n + j]);
            }
        }
        matmul.gemm(transA, transB, m, n, k, alpha, a, 0, transA ? m : k, b, 0, transB ? k : n, beta, c, 0);
        String diff = Probe.compare(expected, c, k);
        assertTrue(diff == null, () -> what + ": " + diff);
    }

    @Test
    void theNarrowKernelMatchesTheReferenceOnNarrowVectors() throws IOException, InterruptedException {
        String out = ChildJvm.run(Probe.class, "--add-modules=jdk.incubator.vector", "-D" + Simd.BITS_PROPERTY + "=256");
        assertTrue(out.contains("kernel=" + (Simd.REGISTERS >= 32 ? "MatmulVector" : "MatmulVectorNarrow") + " lanes="),
                out);
        assertTrue(out.contains("done"), out);
        assertTrue(!out.contains("differs:"), out);
    }
}
