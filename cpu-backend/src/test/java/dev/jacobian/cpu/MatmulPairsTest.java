package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link MatmulPairs}, the products of at most ten columns with A read as stored: its packing of B, its sums against a
 * double-accumulated reference (every count of rows, depths around the groups of sixteen, fewer columns than ten,
 * added to C or overwriting it, infinities), the same bits for a row whichever rows are computed with it, and nothing
 * written outside C's rows and columns. The class runs on sixteen-float vectors whatever the machine's (slowly where
 * they are not native), so these tests run everywhere; {@link CpuMatmulTest} checks the products that choose it.
 */
class MatmulPairsTest {
    /** Relative tolerance of a float-accumulated dot product against the double-accumulated reference. */
    private static final double RTOL = 1e-5;
    /** Absolute tolerance per term of the dot product (inputs in [-1, 1]). */
    private static final double ATOL_PER_TERM = 1e-6;
    private static final int[] DEPTHS = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 130};

    @Test
    void packingLaysOutTheDocumentedOrderWithZerosPastBsColumnsAndDepths() {
        for (int kc : DEPTHS) {
            for (int cols = 1; cols <= MatmulPairs.COLUMNS; cols++) {
                for (boolean transposed : new boolean[] {false, true}) {
                    int ld = (transposed ? kc : cols) + 3;
                    float[] b = CpuMatmulTest.random(kc * 31L + cols, (transposed ? cols : kc) * ld + 5);
                    int depthStride = transposed ? 1 : ld;
                    int columnStride = transposed ? ld : 1;
                    int dst = 7;
                    float[] bq = new float[dst + MatmulPairs.floats(kc) + 9];
                    Arrays.fill(bq, Float.NaN);
                    MatmulPairs.pack(b, 2, depthStride, columnStride, kc, cols, bq, dst);
                    float[] expected = new float[bq.length];
                    Arrays.fill(expected, Float.NaN);
                    int groups = (kc + 15) / 16;
                    Arrays.fill(expected, dst, dst + groups * MatmulPairs.GROUP_FLOATS, 0f);
                    for (int p = 0; p < kc; p++) {
                        for (int j = 0; j < cols; j++) {
                            int at = dst + p / 16 * MatmulPairs.GROUP_FLOATS + p / 8 % 2 * 80 + j / 2 * 16
                                    + 2 * (p % 8) + j % 2;
                            expected[at] = b[2 + p * depthStride + j * columnStride];
                        }
                    }
                    for (int i = 0; i < bq.length; i++) {
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(bq[i]),
                                "kc=" + kc + " cols=" + cols + " transposed=" + transposed + " float " + i);
                    }
                }
            }
        }
    }

    @Test
    void productsMatchTheReferenceAndWriteOnlyTheirRowsAndColumns() {
        float[] tmp = new float[MatmulPairs.TMP_FLOATS];
        for (int kc : DEPTHS) {
            for (int rows : new int[] {1, 2, 3, 5, 12, 13}) {
                for (int cols : new int[] {1, 2, 5, 9, 10}) {
                    int lda = kc + 5;
                    int ldc = cols + 4;
                    float[] a = CpuMatmulTest.random(kc * 7L + rows, 3 + rows * lda);
                    float[] b = CpuMatmulTest.random(kc * 3L + cols, kc * cols);
                    float[] bq = new float[MatmulPairs.floats(kc)];
                    MatmulPairs.pack(b, 0, cols, 1, kc, cols, bq, 0);
                    float[] c0 = CpuMatmulTest.random(rows * 11L + cols, 1 + rows * ldc);
                    for (boolean overwrite : new boolean[] {true, false}) {
                        float[] c = c0.clone();
                        MatmulPairs.run(kc, a, 3, lda, rows, bq, 0, c, 1, ldc, -0.75f, overwrite, cols, tmp);
                        for (int i = 0; i < c.length; i++) {
                            int r = (i - 1) / ldc;
                            int j = (i - 1) % ldc;
                            String where = "kc=" + kc + " rows=" + rows + " cols=" + cols + " overwrite=" + overwrite
                                    + " element " + i;
                            if (i == 0 || j >= cols) {
                                assertEquals(Float.floatToRawIntBits(c0[i]), Float.floatToRawIntBits(c[i]),
                                        where + " is outside C");
                                continue;
                            }
                            double sum = 0;
                            for (int p = 0; p < kc; p++) {
                                sum += (double) a[3 + r * lda + p] * b[p * cols + j];
                            }
                            double expected = -0.75 * sum + (overwrite ? 0 : c0[i]);
                            double err = Math.abs(expected - c[i]);
                            assertTrue(err <= ATOL_PER_TERM * (kc + 2) + RTOL * Math.abs(expected),
                                    where + ": expected " + expected + " got " + c[i]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aRowHasTheSameBitsWhicheverRowsAreComputedWithIt() {
        float[] tmp = new float[MatmulPairs.TMP_FLOATS];
        for (int kc : new int[] {16, 17, 130}) {
            int rows = 9;
            int cols = MatmulPairs.COLUMNS;
            float[] a = CpuMatmulTest.random(kc + 1L, rows * kc);
            float[] b = CpuMatmulTest.random(kc + 2L, kc * cols);
            float[] bq = new float[MatmulPairs.floats(kc)];
            MatmulPairs.pack(b, 0, cols, 1, kc, cols, bq, 0);
            float[] together = new float[rows * cols];
            MatmulPairs.run(kc, a, 0, kc, rows, bq, 0, together, 0, cols, 1f, true, cols, tmp);
            float[] alone = new float[rows * cols];
            for (int r = 0; r < rows; r++) { // each row alone: the last row of its pass
                MatmulPairs.run(kc, a, r * kc, kc, 1, bq, 0, alone, r * cols, cols, 1f, true, cols, tmp);
            }
            float[] shifted = new float[rows * cols];
            MatmulPairs.run(kc, a, 0, kc, 1, bq, 0, shifted, 0, cols, 1f, true, cols, tmp);
            MatmulPairs.run(kc, a, kc, kc, rows - 1, bq, 0, shifted, cols, cols, 1f, true, cols, tmp);
            for (int i = 0; i < together.length; i++) {
                assertEquals(Float.floatToRawIntBits(together[i]), Float.floatToRawIntBits(alone[i]),
                        "kc=" + kc + " element " + i + " alone");
                assertEquals(Float.floatToRawIntBits(together[i]), Float.floatToRawIntBits(shifted[i]),
                        "kc=" + kc + " element " + i + " in the other pair");
            }
        }
    }

    /**
     * An infinity in A gives the reference's infinity, not a NaN: the depths past A's (the last group's padding) and
     * the columns past B's multiply zeros only, or go to no element of C.
     */
    @Test
    void anInfinityInAStaysAnInfinity() {
        float[] tmp = new float[MatmulPairs.TMP_FLOATS];
        for (int kc : new int[] {16, 17, 30}) {
            int cols = 7;
            float[] a = CpuMatmulTest.random(5, 2 * kc);
            a[kc - 1] = Float.POSITIVE_INFINITY; // the first row's last depth, in the last group
            float[] b = CpuMatmulTest.random(6, kc * cols);
            for (int j = 0; j < cols; j++) {
                b[(kc - 1) * cols + j] = j % 2 == 0 ? 0.5f : -0.25f;
            }
            float[] bq = new float[MatmulPairs.floats(kc)];
            MatmulPairs.pack(b, 0, cols, 1, kc, cols, bq, 0);
            float[] c = new float[2 * cols];
            MatmulPairs.run(kc, a, 0, kc, 2, bq, 0, c, 0, cols, 1f, true, cols, tmp);
            for (int j = 0; j < cols; j++) {
                assertEquals(j % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY, c[j], "kc=" + kc
                        + " column " + j);
                assertTrue(Float.isFinite(c[cols + j]), "kc=" + kc + " second row, column " + j);
            }
        }
    }

    @Test
    void theWideKernelOffersPairsOnSixteenLanesOnly() {
        assumeTrue(Simd.L >= MatmulVectorWide.MIN_LANES, "the wide kernel needs sixteen lanes");
        assertEquals(Simd.L == 16 ? MatmulPairs.COLUMNS : 0, new MatmulVectorWide().pairColumns());
        assertEquals(0, new MatmulVector().pairColumns());
    }
}
