package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The wide SGEMM micro-kernel on the Vector API, for 16-float vectors (AVX-512): a {@code 12 x 2L} tile of C
 * held in 24 of the 32 vector registers; per step of k, two vector loads of the packed B row, twelve broadcasts of
 * the packed A column and 24 FMAs, so the loop's dozen scalar instructions (indices, bounds, the branch) come once
 * per 24 FMAs instead of once per 12 as in {@link MatmulVector}. On 16 registers (AVX2) the tile would spill, so
 * {@link MatmulVector#widest} picks it only for 16 lanes. Loaded only when the Vector API is available.
 *
 * <p>Measured: the 6- and 12-row kernels alone on packed panels in cache, alternating with OpenBLAS's whole 1024^3
 * product in one process, reach 1.01-1.03x and 1.10-1.17x OpenBLAS's rate; in the whole product, with
 * {@link PackTranspose16}, the vector copies of transposed A panels and the overwrite of C for beta 0, Jacobian's
 * SGEMM went from 0.71-0.81x to 0.86-0.91x OpenBLAS at 512^3 and 1024^3, from 0.72x to 0.97-1.01x on the weight
 * gradient 784x256x128 (A transposed) and from 0.68x to 0.84-0.93x on the input gradients (B transposed), one thread
 * ({@code benchmarks/run-gemm-ratio.sh}'s alternating measurement, the "before" with the 6-row kernel's classes of
 * {@code c4328c5}; Intel Xeon family 6 model 207, AVX-512, 2 vCPUs, OpenBLAS 0.3.21 with SkylakeX kernels, measured
 * SGEMM peak 154-181 GFLOP/s that morning).
 *
 * <p>The tile reaches C through {@code tmp}: see the comment in {@link #run}.
 */
final class MatmulVectorWide implements CpuMatmul.MicroKernel {
    /** Rows of the tile. */
    static final int MR = 12;
    /**
     * Most valid rows of an edge tile computed in one or two passes of {@link #edge4}'s four rows: a batch of 64 ends in
     * a tile of 4 rows, one of 128 in a tile of 8, which the twelve-row loop would compute as 12.
     */
    static final int EDGE_ROWS = 8;
    /** Most columns a thread computes for which A, as stored, is read in place ({@link #directPanelColumns}). */
    static final int DIRECT_PANEL_COLUMNS = 256;
    /** Rows of C per pass of {@link #runColumnsTransposed}: four vectors. */
    static final int COLUMN_ROWS = 64;
    /** Columns of C per pass of {@link #runColumnsTransposed}. */
    static final int COLUMN_GROUP = 5;
    /**
     * Floats of {@code tmp} that {@link #runColumnsTransposed} uses: the columns of a tile of {@link #COLUMN_ROWS}
     * rows, as many as whole passes cover for sixteen, and a transposed 16 x 16 block.
     */
    static final int COLUMN_TMP = (PackTranspose16.L + COLUMN_GROUP - 1) / COLUMN_GROUP * COLUMN_GROUP * COLUMN_ROWS
            + PackTranspose16.L * PackTranspose16.L;
    /** Lanes a vector must hold for this kernel to be chosen. */
    static final int MIN_LANES = 16;
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;
    private static final int NR = 2 * L;
    /** Sixteen lanes, for copying the twelve floats of a transposed A panel's row. */
    private static final VectorSpecies<Float> S16 = FloatVector.SPECIES_512;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void run(int kc, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int ldc,
                    float alpha, boolean overwrite, int rows, int cols, float[] tmp) {
        if (cols <= L) { // one vector wide: the packed panel holds A's element (r, p) at aOff + p * MR + r
            runDirect(kc, a, aOff, 1, MR, b, bOff, c, cOff, ldc, alpha, overwrite, rows, cols, tmp);
            return;
        }
        if (rows <= EDGE_ROWS) {
            edge4(kc, a, aOff, b, bOff, tmp, 0);
            if (rows > 4) {
                edge4(kc, a, aOff + 4, b, bOff, tmp, 4 * NR);
            }
            store(tmp, c, cOff, ldc, alpha, overwrite, rows, cols);
            return;
        }
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        FloatVector c80 = c00;
        FloatVector c81 = c00;
        FloatVector c90 = c00;
        FloatVector c91 = c00;
        FloatVector ca0 = c00;
        FloatVector ca1 = c00;
        FloatVector cb0 = c00;
        FloatVector cb1 = c00;
        for (int ap = aOff, bp = bOff, end = aOff + kc * MR; ap < end; ap += MR, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector a0 = FloatVector.broadcast(S, a[ap]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ap + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ap + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ap + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ap + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ap + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[ap + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[ap + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(S, a[ap + 8]);
            c80 = a8.fma(b0, c80);
            c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(S, a[ap + 9]);
            c90 = a9.fma(b0, c90);
            c91 = a9.fma(b1, c91);
            FloatVector aa = FloatVector.broadcast(S, a[ap + 10]);
            ca0 = aa.fma(b0, ca0);
            ca1 = aa.fma(b1, ca1);
            FloatVector ab = FloatVector.broadcast(S, a[ap + 11]);
            cb0 = ab.fma(b0, cb0);
            cb1 = ab.fma(b1, cb1);
        }
        // a whole tile written over C goes there from the registers; any other through tmp: written out per row for
        // the added, edge and overwrite variants, the method outgrew C1's register allocator ("out of virtual
        // registers"), and the JVM then kept running C1's tier-2 code of it, where vectors are boxed (over a hundred
        // times slower), instead of moving on to C2; the detour costs 2 MR stores and loads per kc steps of 2 MR FMAs.
        // The register store is written out again in wide12 on purpose: a method taking the 24 vectors was not inlined
        // by C2 past a few calls (NodeCountInliningCutoff), and the vectors it got boxed ran 0.11-0.14x OpenBLAS
        if (overwrite && rows == MR && cols == NR) {
            FloatVector av = FloatVector.broadcast(S, alpha);
            c00.mul(av).intoArray(c, cOff);
            c01.mul(av).intoArray(c, cOff + L);
            c10.mul(av).intoArray(c, cOff + ldc);
            c11.mul(av).intoArray(c, cOff + ldc + L);
            c20.mul(av).intoArray(c, cOff + 2 * ldc);
            c21.mul(av).intoArray(c, cOff + 2 * ldc + L);
            c30.mul(av).intoArray(c, cOff + 3 * ldc);
            c31.mul(av).intoArray(c, cOff + 3 * ldc + L);
            c40.mul(av).intoArray(c, cOff + 4 * ldc);
            c41.mul(av).intoArray(c, cOff + 4 * ldc + L);
            c50.mul(av).intoArray(c, cOff + 5 * ldc);
            c51.mul(av).intoArray(c, cOff + 5 * ldc + L);
            c60.mul(av).intoArray(c, cOff + 6 * ldc);
            c61.mul(av).intoArray(c, cOff + 6 * ldc + L);
            c70.mul(av).intoArray(c, cOff + 7 * ldc);
            c71.mul(av).intoArray(c, cOff + 7 * ldc + L);
            c80.mul(av).intoArray(c, cOff + 8 * ldc);
            c81.mul(av).intoArray(c, cOff + 8 * ldc + L);
            c90.mul(av).intoArray(c, cOff + 9 * ldc);
            c91.mul(av).intoArray(c, cOff + 9 * ldc + L);
            ca0.mul(av).intoArray(c, cOff + 10 * ldc);
            ca1.mul(av).intoArray(c, cOff + 10 * ldc + L);
            cb0.mul(av).intoArray(c, cOff + 11 * ldc);
            cb1.mul(av).intoArray(c, cOff + 11 * ldc + L);
            return;
        }
        c00.intoArray(tmp, 0);
        c01.intoArray(tmp, L);
        c10.intoArray(tmp, NR);
        c11.intoArray(tmp, NR + L);
        c20.intoArray(tmp, 2 * NR);
        c21.intoArray(tmp, 2 * NR + L);
        c30.intoArray(tmp, 3 * NR);
        c31.intoArray(tmp, 3 * NR + L);
        c40.intoArray(tmp, 4 * NR);
        c41.intoArray(tmp, 4 * NR + L);
        c50.intoArray(tmp, 5 * NR);
        c51.intoArray(tmp, 5 * NR + L);
        c60.intoArray(tmp, 6 * NR);
        c61.intoArray(tmp, 6 * NR + L);
        c70.intoArray(tmp, 7 * NR);
        c71.intoArray(tmp, 7 * NR + L);
        c80.intoArray(tmp, 8 * NR);
        c81.intoArray(tmp, 8 * NR + L);
        c90.intoArray(tmp, 9 * NR);
        c91.intoArray(tmp, 9 * NR + L);
        ca0.intoArray(tmp, 10 * NR);
        ca1.intoArray(tmp, 10 * NR + L);
        cb0.intoArray(tmp, 11 * NR);
        cb1.intoArray(tmp, 11 * NR + L);
        store(tmp, c, cOff, ldc, alpha, overwrite, rows, cols);
    }

    /** Adds {@code alpha *} the tile in {@code tmp} to the valid {@code rows x cols} of C (or writes it: overwrite). */
    private static void store(float[] tmp, float[] c, int cOff, int ldc, float alpha, boolean overwrite, int rows,
                              int cols) {
        if (cols == NR) {
            MatmulVector.addRows(tmp, c, cOff, ldc, alpha, overwrite, rows);
            return;
        }
        // a part of the panel: its whole first vector, if any, then the rest through a mask (the output layer's ten
        // classes), where the scalar loop made ten loads, multiply-adds and stores per row
        FloatVector av = FloatVector.broadcast(S, alpha);
        int v = cols > L ? L : 0;
        VectorMask<Float> m = S.indexInRange(0, cols - v);
        for (int r = 0, t = 0, o = cOff; r < rows; r++, t += NR, o += ldc) {
            if (v > 0) {
                FloatVector x = FloatVector.fromArray(S, tmp, t);
                (overwrite ? x.mul(av) : x.fma(av, FloatVector.fromArray(S, c, o))).intoArray(c, o);
            }
            FloatVector x = FloatVector.fromArray(S, tmp, t + v);
            (overwrite ? x.mul(av) : x.fma(av, FloatVector.fromArray(S, c, o + v, m))).intoArray(c, o + v, m);
        }
    }

    /**
     * Four rows of a tile, from the packed A panel's four floats per k at {@code aOff} (of its {@link #MR}), into
     * {@code tmp} from {@code t}: an edge tile of at most {@link #EDGE_ROWS} valid rows runs this once or twice instead
     * of the twelve-row loop, whose other rows would multiply the panel's zero padding. Each element is the same chain
     * of FMAs, in the same order, as in the twelve-row loop, so the bits do not depend on which computed it.
     */
    private static void edge4(int kc, float[] a, int aOff, float[] b, int bOff, float[] tmp, int t) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        for (int ap = aOff, bp = bOff, end = aOff + kc * MR; ap < end; ap += MR, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector a0 = FloatVector.broadcast(S, a[ap]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ap + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ap + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ap + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(tmp, t);
        c01.intoArray(tmp, t + L);
        c10.intoArray(tmp, t + NR);
        c11.intoArray(tmp, t + NR + L);
        c20.intoArray(tmp, t + 2 * NR);
        c21.intoArray(tmp, t + 2 * NR + L);
        c30.intoArray(tmp, t + 3 * NR);
        c31.intoArray(tmp, t + 3 * NR + L);
    }

    /** One vector of columns: {@link #runDirect} reads A where it lies for products with no more columns of B. */
    @Override
    public int directColumns() {
        return L;
    }

    /**
     * {@value #DIRECT_PANEL_COLUMNS}: see {@link CpuMatmul.MicroKernel#directPanelColumns}. Measured in one process,
     * the kernel's own product alone on 1 and 2 threads, A read in place against packed, processes alternating (AMD
     * EPYC family 26, Zen 5, AVX-512, 2 vCPUs; OpenBLAS's 1-thread peak that evening 173.7-189.7 GFLOP/s; the same
     * bits): 128x128x256 0.85-0.93x as long on 1 thread and 0.74-0.90x on 2 (each of the
     * two threads packed all of A before), 64x128x256 0.86-0.88x and 0.80-0.83x, 128x256x784 0.95-0.99x on 1 thread,
     * 1024x128x1024 0.93x and 0.88x; where a thread computes more columns it lost: 512^3 1.06x on 1 thread (0.96x on
     * 2, 256 columns each), 1024^3 1.07-1.11x.
     */
    @Override
    public int directPanelColumns() {
        return DIRECT_PANEL_COLUMNS;
    }

    @Override
    public void runDirect(int kc, float[] a, int aOff, int rowStride, int depthStride, float[] b, int bOff, float[] c,
                          int cOff, int ldc, float alpha, boolean overwrite, int rows, int cols, float[] tmp) {
        // twelve rows in one pass, then passes of four and of one; a whole panel of two vectors (wide*) only for an A
        // as stored, one vector (direct*) for A as stored or, with rowStride 1, transposed or a packed panel
        boolean wide = cols > L;
        boolean asStored = depthStride == 1;
        int r = 0;
        if (rows == MR) {
            if (wide) {
                boolean toC = cols == NR && overwrite; // a whole tile written over C: from the registers
                wide12(kc, a, aOff, rowStride, b, bOff, tmp, c, cOff, ldc, alpha, toC);
                if (toC) {
                    return;
                }
            } else if (asStored) {
                direct12(kc, a, aOff, rowStride, b, bOff, tmp);
            } else {
                direct12Transposed(kc, a, aOff, depthStride, b, bOff, tmp);
            }
            r = MR;
        }
        for (; r + 4 <= rows; r += 4) {
            if (wide) {
                wide4(kc, a, aOff + r * rowStride, rowStride, b, bOff, tmp, r * NR);
            } else if (asStored) {
                direct4(kc, a, aOff + r * rowStride, rowStride, b, bOff, tmp, r * NR);
            } else {
                direct4Transposed(kc, a, aOff + r, depthStride, b, bOff, tmp, r * NR);
            }
        }
        for (; r < rows; r++) {
            if (wide) {
                wide1(kc, a, aOff + r * rowStride, b, bOff, tmp, r * NR);
            } else {
                direct1(kc, a, aOff + r * rowStride, depthStride, b, bOff, tmp, r * NR);
            }
        }
        store(tmp, c, cOff, ldc, alpha, overwrite, rows, cols);
    }

    @Override
    public boolean columnsTransposed() {
        return true;
    }

    /**
     * Vectors along C's rows: {@link #COLUMN_ROWS} rows (four vectors) at a time, then sixteen rows (one vector), by
     * {@link #COLUMN_GROUP} columns a pass, and the last rows, fewer than sixteen, by {@link #runDirect}. Where the
     * one-vector tiles of {@link #direct12Transposed} compute ten columns in sixteen lanes (the output layer's weight
     * gradient), every lane here computes: per depth four vector loads of A, five broadcasts of B and twenty FMAs. The
     * passes leave the tile in {@code tmp} column by column ({@link #COLUMN_ROWS} floats each), and
     * {@link PackTranspose16} turns each sixteen rows of it into rows of C, stored through a mask of {@code cols}
     * lanes. Against the one-vector tiles, with the same bits (1 thread, AMD EPYC family 26, Zen 5, AVX-512; OpenBLAS's
     * peak that hour 207.2-213.7 GFLOP/s): the weight gradient at batch 64, 128x10x64 with A transposed, from 0.51x
     * OpenBLAS's rate to 0.98x, at batch 128 from 0.54x to 1.03x (0.70x and 0.79x with the tile transposed into C one
     * float at a time).
     */
    @Override
    public void runColumnsTransposed(int kc, float[] a, int aOff, int lda, int rows, float[] b, int bOff, float[] c,
                                     int cOff, int ldc, float alpha, boolean overwrite, int cols, float[] tmp) {
        int r = 0;
        for (; r + COLUMN_ROWS <= rows; r += COLUMN_ROWS) {
            for (int j = 0; j < cols; j += COLUMN_GROUP) {
                columns4(kc, a, aOff + r, lda, b, bOff + j, tmp, j * COLUMN_ROWS);
            }
            storeColumns(tmp, COLUMN_ROWS, c, cOff + r * ldc, ldc, alpha, overwrite, cols);
        }
        for (; r + L <= rows; r += L) {
            for (int j = 0; j < cols; j += COLUMN_GROUP) {
                columns1(kc, a, aOff + r, lda, b, bOff + j, tmp, j * COLUMN_ROWS);
            }
            storeColumns(tmp, L, c, cOff + r * ldc, ldc, alpha, overwrite, cols);
        }
        for (; r < rows; r += MR) {
            runDirect(kc, a, aOff + r, 1, lda, b, bOff, c, cOff + r * ldc, ldc, alpha, overwrite,
                    Math.min(MR, rows - r), cols, tmp);
        }
    }

    /**
     * Floats of {@code tmp} this kernel needs: {@link #runColumnsTransposed}'s columns and a transposed block, and
     * at least {@link MatmulPairs#TMP_FLOATS}.
     */
    @Override
    public int tmpFloats() {
        return Math.max(Math.max(MR * NR, COLUMN_TMP), MatmulPairs.TMP_FLOATS);
    }

    /**
     * {@link MatmulPairs#COLUMNS} on sixteen lanes, else 0: products of a few columns with A as stored, every lane
     * computing ({@link MatmulPairs}).
     */
    @Override
    public int pairColumns() {
        return L == MatmulPairs.LANES ? MatmulPairs.COLUMNS : 0;
    }

    @Override
    public int pairFloats(int kc) {
        return MatmulPairs.floats(kc);
    }

    @Override
    public void packPairs(float[] b, int src, int depthStride, int columnStride, int kc, int cols, float[] bq,
                          int dst) {
        MatmulPairs.pack(b, src, depthStride, columnStride, kc, cols, bq, dst);
    }

    @Override
    public void runPairs(int kc, float[] a, int aOff, int lda, int rows, float[] bq, int bOff, float[] c, int cOff,
                         int ldc, float alpha, boolean overwrite, int cols, float[] tmp) {
        MatmulPairs.run(kc, a, aOff, lda, rows, bq, bOff, c, cOff, ldc, alpha, overwrite, cols, tmp);
    }

    /**
     * {@code C[r][j] = alpha * tmp[j*COLUMN_ROWS + r]} (or added to C) for {@code r < rows} (16 or
     * {@link #COLUMN_ROWS}) and {@code j < cols} (at most sixteen): each sixteen rows' block of {@code tmp}'s first
     * sixteen columns transposed by {@link PackTranspose16} into {@code tmp}'s last {@code L * L} floats, then each row
     * through a mask of {@code cols} lanes.
     */
    private static void storeColumns(float[] tmp, int rows, float[] c, int cOff, int ldc, float alpha,
                                     boolean overwrite, int cols) {
        VectorMask<Float> m = S.indexInRange(0, cols);
        FloatVector av = FloatVector.broadcast(S, alpha);
        int t = COLUMN_TMP - L * L;
        for (int r0 = 0; r0 < rows; r0 += L) {
            PackTranspose16.block(tmp, r0, COLUMN_ROWS, tmp, t, L);
            for (int i = 0, o = cOff + r0 * ldc; i < L; i++, o += ldc) {
                FloatVector x = FloatVector.fromArray(S, tmp, t + i * L);
                (overwrite ? x.mul(av) : x.fma(av, FloatVector.fromArray(S, c, o, m))).intoArray(c, o, m);
            }
        }
    }

    /**
     * {@link #COLUMN_ROWS} rows by {@link #COLUMN_GROUP} columns, A transposed at {@code a[aOff + p*lda + r]} and the
     * packed B panel's columns from {@code b[bOff]}, into {@code tmp}: column {@code j} at {@code t + j*COLUMN_ROWS}.
     * The four loads and the five broadcasts of a step sit at constant distances from one index each, so that the JIT
     * checks their bounds once or twice per step.
     */
    private static void columns4(int kc, float[] a, int aOff, int lda, float[] b, int bOff, float[] tmp, int t) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c04 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c14 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c24 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        FloatVector c34 = c00;
        for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += lda, bp += NR) {
            FloatVector a0 = FloatVector.fromArray(S, a, ap);
            FloatVector a1 = FloatVector.fromArray(S, a, ap + L);
            FloatVector a2 = FloatVector.fromArray(S, a, ap + 2 * L);
            FloatVector a3 = FloatVector.fromArray(S, a, ap + 3 * L);
            FloatVector b0 = FloatVector.broadcast(S, b[bp]);
            c00 = a0.fma(b0, c00);
            c10 = a1.fma(b0, c10);
            c20 = a2.fma(b0, c20);
            c30 = a3.fma(b0, c30);
            FloatVector b1 = FloatVector.broadcast(S, b[bp + 1]);
            c01 = a0.fma(b1, c01);
            c11 = a1.fma(b1, c11);
            c21 = a2.fma(b1, c21);
            c31 = a3.fma(b1, c31);
            FloatVector b2 = FloatVector.broadcast(S, b[bp + 2]);
            c02 = a0.fma(b2, c02);
            c12 = a1.fma(b2, c12);
            c22 = a2.fma(b2, c22);
            c32 = a3.fma(b2, c32);
            FloatVector b3 = FloatVector.broadcast(S, b[bp + 3]);
            c03 = a0.fma(b3, c03);
            c13 = a1.fma(b3, c13);
            c23 = a2.fma(b3, c23);
            c33 = a3.fma(b3, c33);
            FloatVector b4 = FloatVector.broadcast(S, b[bp + 4]);
            c04 = a0.fma(b4, c04);
            c14 = a1.fma(b4, c14);
            c24 = a2.fma(b4, c24);
            c34 = a3.fma(b4, c34);
        }
        int w = COLUMN_ROWS;
        c00.intoArray(tmp, t);
        c10.intoArray(tmp, t + L);
        c20.intoArray(tmp, t + 2 * L);
        c30.intoArray(tmp, t + 3 * L);
        c01.intoArray(tmp, t + w);
        c11.intoArray(tmp, t + w + L);
        c21.intoArray(tmp, t + w + 2 * L);
        c31.intoArray(tmp, t + w + 3 * L);
        c02.intoArray(tmp, t + 2 * w);
        c12.intoArray(tmp, t + 2 * w + L);
        c22.intoArray(tmp, t + 2 * w + 2 * L);
        c32.intoArray(tmp, t + 2 * w + 3 * L);
        c03.intoArray(tmp, t + 3 * w);
        c13.intoArray(tmp, t + 3 * w + L);
        c23.intoArray(tmp, t + 3 * w + 2 * L);
        c33.intoArray(tmp, t + 3 * w + 3 * L);
        c04.intoArray(tmp, t + 4 * w);
        c14.intoArray(tmp, t + 4 * w + L);
        c24.intoArray(tmp, t + 4 * w + 2 * L);
        c34.intoArray(tmp, t + 4 * w + 3 * L);
    }

    /** Sixteen rows of {@link #columns4}, into {@code tmp}: column {@code j} at {@code t + j*COLUMN_ROWS}. */
    private static void columns1(int kc, float[] a, int aOff, int lda, float[] b, int bOff, float[] tmp, int t) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += lda, bp += NR) {
            FloatVector a0 = FloatVector.fromArray(S, a, ap);
            c0 = a0.fma(FloatVector.broadcast(S, b[bp]), c0);
            c1 = a0.fma(FloatVector.broadcast(S, b[bp + 1]), c1);
            c2 = a0.fma(FloatVector.broadcast(S, b[bp + 2]), c2);
            c3 = a0.fma(FloatVector.broadcast(S, b[bp + 3]), c3);
            c4 = a0.fma(FloatVector.broadcast(S, b[bp + 4]), c4);
        }
        c0.intoArray(tmp, t);
        c1.intoArray(tmp, t + COLUMN_ROWS);
        c2.intoArray(tmp, t + 2 * COLUMN_ROWS);
        c3.intoArray(tmp, t + 3 * COLUMN_ROWS);
        c4.intoArray(tmp, t + 4 * COLUMN_ROWS);
    }

    /**
     * Twelve rows of one vector, for a tile of at most {@code L} valid columns (the output layer's ten classes; the last
     * panel of a product whose columns leave a remainder of at most one vector), from the first {@code L} floats of each
     * packed B row into {@code tmp}'s first {@code L} columns: the two-vector loop would spend half its FMAs or more on
     * the panel's zero padding. A is read where it lies, as stored: row {@code r}'s element {@code p} at
     * {@code a[aOff + r*rowStride + p]}, indexed from the loop's counter, so that the JIT drops the bounds checks from
     * the loop ({@link #direct12Transposed} reads A transposed, or a packed panel). Each element is the same chain of
     * FMAs, in the same order, as in the two-vector loop, so the bits do not depend on which computed it.
     */
    private static void direct12(int kc, float[] a, int aOff, int rowStride, float[] b, int bOff, float[] tmp) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        FloatVector c8 = c0;
        FloatVector c9 = c0;
        FloatVector ca = c0;
        FloatVector cb = c0;
        int r0 = aOff;
        int r1 = aOff + rowStride;
        int r2 = aOff + 2 * rowStride;
        int r3 = aOff + 3 * rowStride;
        int r4 = aOff + 4 * rowStride;
        int r5 = aOff + 5 * rowStride;
        int r6 = aOff + 6 * rowStride;
        int r7 = aOff + 7 * rowStride;
        int r8 = aOff + 8 * rowStride;
        int r9 = aOff + 9 * rowStride;
        int ra = aOff + 10 * rowStride;
        int rb = aOff + 11 * rowStride;
        for (int p = 0, bp = bOff; p < kc; p++, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[r0 + p]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, a[r1 + p]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, a[r2 + p]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, a[r3 + p]).fma(b0, c3);
            c4 = FloatVector.broadcast(S, a[r4 + p]).fma(b0, c4);
            c5 = FloatVector.broadcast(S, a[r5 + p]).fma(b0, c5);
            c6 = FloatVector.broadcast(S, a[r6 + p]).fma(b0, c6);
            c7 = FloatVector.broadcast(S, a[r7 + p]).fma(b0, c7);
            c8 = FloatVector.broadcast(S, a[r8 + p]).fma(b0, c8);
            c9 = FloatVector.broadcast(S, a[r9 + p]).fma(b0, c9);
            ca = FloatVector.broadcast(S, a[ra + p]).fma(b0, ca);
            cb = FloatVector.broadcast(S, a[rb + p]).fma(b0, cb);
        }
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, NR);
        c2.intoArray(tmp, 2 * NR);
        c3.intoArray(tmp, 3 * NR);
        c4.intoArray(tmp, 4 * NR);
        c5.intoArray(tmp, 5 * NR);
        c6.intoArray(tmp, 6 * NR);
        c7.intoArray(tmp, 7 * NR);
        c8.intoArray(tmp, 8 * NR);
        c9.intoArray(tmp, 9 * NR);
        ca.intoArray(tmp, 10 * NR);
        cb.intoArray(tmp, 11 * NR);
    }

    /**
     * {@link #direct12} for an A read transposed (or a packed panel): row {@code r}'s element {@code p} at
     * {@code a[aOff + p*depthStride + r]}. The twelve reads of a step sit at constant distances from one index, so the
     * JIT checks the step's bounds twice, not twelve times (with the distances a multiple of a stride it does not know,
     * as when one method served both layouts, it checked each: the output layer's weight gradient at batch 64,
     * 128x10x64 with A transposed, ran at 0.35x OpenBLAS's rate so and at 0.47x now, measured in the same hour).
     */
    private static void direct12Transposed(int kc, float[] a, int aOff, int depthStride, float[] b, int bOff,
                                           float[] tmp) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        FloatVector c8 = c0;
        FloatVector c9 = c0;
        FloatVector ca = c0;
        FloatVector cb = c0;
        for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += depthStride, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[ap]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, a[ap + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, a[ap + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, a[ap + 3]).fma(b0, c3);
            c4 = FloatVector.broadcast(S, a[ap + 4]).fma(b0, c4);
            c5 = FloatVector.broadcast(S, a[ap + 5]).fma(b0, c5);
            c6 = FloatVector.broadcast(S, a[ap + 6]).fma(b0, c6);
            c7 = FloatVector.broadcast(S, a[ap + 7]).fma(b0, c7);
            c8 = FloatVector.broadcast(S, a[ap + 8]).fma(b0, c8);
            c9 = FloatVector.broadcast(S, a[ap + 9]).fma(b0, c9);
            ca = FloatVector.broadcast(S, a[ap + 10]).fma(b0, ca);
            cb = FloatVector.broadcast(S, a[ap + 11]).fma(b0, cb);
        }
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, NR);
        c2.intoArray(tmp, 2 * NR);
        c3.intoArray(tmp, 3 * NR);
        c4.intoArray(tmp, 4 * NR);
        c5.intoArray(tmp, 5 * NR);
        c6.intoArray(tmp, 6 * NR);
        c7.intoArray(tmp, 7 * NR);
        c8.intoArray(tmp, 8 * NR);
        c9.intoArray(tmp, 9 * NR);
        ca.intoArray(tmp, 10 * NR);
        cb.intoArray(tmp, 11 * NR);
    }

    /** Four rows of {@link #direct12}, into {@code tmp} from {@code t}. */
    private static void direct4(int kc, float[] a, int aOff, int rowStride, float[] b, int bOff, float[] tmp, int t) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        int r0 = aOff;
        int r1 = aOff + rowStride;
        int r2 = aOff + 2 * rowStride;
        int r3 = aOff + 3 * rowStride;
        for (int p = 0, bp = bOff; p < kc; p++, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[r0 + p]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, a[r1 + p]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, a[r2 + p]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, a[r3 + p]).fma(b0, c3);
        }
        c0.intoArray(tmp, t);
        c1.intoArray(tmp, t + NR);
        c2.intoArray(tmp, t + 2 * NR);
        c3.intoArray(tmp, t + 3 * NR);
    }

    /** Four rows of {@link #direct12Transposed}, into {@code tmp} from {@code t}. */
    private static void direct4Transposed(int kc, float[] a, int aOff, int depthStride, float[] b, int bOff,
                                          float[] tmp, int t) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += depthStride, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[ap]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, a[ap + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, a[ap + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, a[ap + 3]).fma(b0, c3);
        }
        c0.intoArray(tmp, t);
        c1.intoArray(tmp, t + NR);
        c2.intoArray(tmp, t + 2 * NR);
        c3.intoArray(tmp, t + 3 * NR);
    }

    /** One row of {@link #direct12} or {@link #direct12Transposed}, into {@code tmp} from {@code t}. */
    private static void direct1(int kc, float[] a, int aOff, int depthStride, float[] b, int bOff, float[] tmp,
                                int t) {
        FloatVector c0 = FloatVector.zero(S);
        for (int p = 0, ap = aOff, bp = bOff; p < kc; p++, ap += depthStride, bp += NR) {
            c0 = FloatVector.broadcast(S, a[ap]).fma(FloatVector.fromArray(S, b, bp), c0);
        }
        c0.intoArray(tmp, t);
    }

    /**
     * The twelve-row loop of {@link #run} with A read where it lies, as stored, into {@code tmp}, or with
     * {@code overwriteC} written over C, times {@code alpha}, from the registers: each row's element {@code p} at
     * {@code a[aOff + r*rowStride + p]}, indexed from the loop's counter so that the JIT drops the bounds checks from
     * the loop (an index stepped by a stride it does not know keeps twelve per step). Each element is the same chain of
     * FMAs, in the same order, as in {@link #run}, and C gets what {@link #store} would give it from {@code tmp}, so
     * the bits are the same.
     *
     * <p>A whole tile written over C skips {@code tmp}'s 24 stores and {@link #store}'s 24 loads: the output layer's
     * input gradient, ten deep, went from 0.75-0.81x OpenBLAS's rate to 0.98-1.00x with it (1 thread, AMD EPYC family
     * 26, Zen 5, AVX-512; OpenBLAS's peak that hour 207.8-212.2 GFLOP/s). The tile added to C stays in {@code tmp}:
     * written out here too, the method outgrew C1's register allocator ("out of virtual registers", see
     * {@code MicroKernelChoiceTest.bothKernelsCompileInEveryTier}).
     */
    private static void wide12(int kc, float[] a, int aOff, int rowStride, float[] b, int bOff, float[] tmp,
                               float[] c, int cOff, int ldc, float alpha, boolean overwriteC) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        FloatVector c80 = c00;
        FloatVector c81 = c00;
        FloatVector c90 = c00;
        FloatVector c91 = c00;
        FloatVector ca0 = c00;
        FloatVector ca1 = c00;
        FloatVector cb0 = c00;
        FloatVector cb1 = c00;
        int r0 = aOff;
        int r1 = aOff + rowStride;
        int r2 = aOff + 2 * rowStride;
        int r3 = aOff + 3 * rowStride;
        int r4 = aOff + 4 * rowStride;
        int r5 = aOff + 5 * rowStride;
        int r6 = aOff + 6 * rowStride;
        int r7 = aOff + 7 * rowStride;
        int r8 = aOff + 8 * rowStride;
        int r9 = aOff + 9 * rowStride;
        int ra = aOff + 10 * rowStride;
        int rb = aOff + 11 * rowStride;
        for (int p = 0, bp = bOff; p < kc; p++, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector a0 = FloatVector.broadcast(S, a[r0 + p]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[r1 + p]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[r2 + p]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[r3 + p]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[r4 + p]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[r5 + p]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[r6 + p]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[r7 + p]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(S, a[r8 + p]);
            c80 = a8.fma(b0, c80);
            c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(S, a[r9 + p]);
            c90 = a9.fma(b0, c90);
            c91 = a9.fma(b1, c91);
            FloatVector aa = FloatVector.broadcast(S, a[ra + p]);
            ca0 = aa.fma(b0, ca0);
            ca1 = aa.fma(b1, ca1);
            FloatVector ab = FloatVector.broadcast(S, a[rb + p]);
            cb0 = ab.fma(b0, cb0);
            cb1 = ab.fma(b1, cb1);
        }
        if (overwriteC) {
            FloatVector av = FloatVector.broadcast(S, alpha);
            c00.mul(av).intoArray(c, cOff);
            c01.mul(av).intoArray(c, cOff + L);
            c10.mul(av).intoArray(c, cOff + ldc);
            c11.mul(av).intoArray(c, cOff + ldc + L);
            c20.mul(av).intoArray(c, cOff + 2 * ldc);
            c21.mul(av).intoArray(c, cOff + 2 * ldc + L);
            c30.mul(av).intoArray(c, cOff + 3 * ldc);
            c31.mul(av).intoArray(c, cOff + 3 * ldc + L);
            c40.mul(av).intoArray(c, cOff + 4 * ldc);
            c41.mul(av).intoArray(c, cOff + 4 * ldc + L);
            c50.mul(av).intoArray(c, cOff + 5 * ldc);
            c51.mul(av).intoArray(c, cOff + 5 * ldc + L);
            c60.mul(av).intoArray(c, cOff + 6 * ldc);
            c61.mul(av).intoArray(c, cOff + 6 * ldc + L);
            c70.mul(av).intoArray(c, cOff + 7 * ldc);
            c71.mul(av).intoArray(c, cOff + 7 * ldc + L);
            c80.mul(av).intoArray(c, cOff + 8 * ldc);
            c81.mul(av).intoArray(c, cOff + 8 * ldc + L);
            c90.mul(av).intoArray(c, cOff + 9 * ldc);
            c91.mul(av).intoArray(c, cOff + 9 * ldc + L);
            ca0.mul(av).intoArray(c, cOff + 10 * ldc);
            ca1.mul(av).intoArray(c, cOff + 10 * ldc + L);
            cb0.mul(av).intoArray(c, cOff + 11 * ldc);
            cb1.mul(av).intoArray(c, cOff + 11 * ldc + L);
            return;
        }
        c00.intoArray(tmp, 0);
        c01.intoArray(tmp, L);
        c10.intoArray(tmp, NR);
        c11.intoArray(tmp, NR + L);
        c20.intoArray(tmp, 2 * NR);
        c21.intoArray(tmp, 2 * NR + L);
        c30.intoArray(tmp, 3 * NR);
        c31.intoArray(tmp, 3 * NR + L);
        c40.intoArray(tmp, 4 * NR);
        c41.intoArray(tmp, 4 * NR + L);
        c50.intoArray(tmp, 5 * NR);
        c51.intoArray(tmp, 5 * NR + L);
        c60.intoArray(tmp, 6 * NR);
        c61.intoArray(tmp, 6 * NR + L);
        c70.intoArray(tmp, 7 * NR);
        c71.intoArray(tmp, 7 * NR + L);
        c80.intoArray(tmp, 8 * NR);
        c81.intoArray(tmp, 8 * NR + L);
        c90.intoArray(tmp, 9 * NR);
        c91.intoArray(tmp, 9 * NR + L);
        ca0.intoArray(tmp, 10 * NR);
        ca1.intoArray(tmp, 10 * NR + L);
        cb0.intoArray(tmp, 11 * NR);
        cb1.intoArray(tmp, 11 * NR + L);
    }

    /**
     * Four rows of {@link #wide12}, into {@code tmp} from {@code t}.
     */
    private static void wide4(int kc, float[] a, int aOff, int rowStride, float[] b, int bOff, float[] tmp, int t) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        int r0 = aOff;
        int r1 = aOff + rowStride;
        int r2 = aOff + 2 * rowStride;
        int r3 = aOff + 3 * rowStride;
        for (int p = 0, bp = bOff; p < kc; p++, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector a0 = FloatVector.broadcast(S, a[r0 + p]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[r1 + p]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[r2 + p]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[r3 + p]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(tmp, t);
        c01.intoArray(tmp, t + L);
        c10.intoArray(tmp, t + NR);
        c11.intoArray(tmp, t + NR + L);
        c20.intoArray(tmp, t + 2 * NR);
        c21.intoArray(tmp, t + 2 * NR + L);
        c30.intoArray(tmp, t + 3 * NR);
        c31.intoArray(tmp, t + 3 * NR + L);
    }

    /** One row of {@link #wide12}, into {@code tmp} from {@code t}. */
    private static void wide1(int kc, float[] a, int aOff, float[] b, int bOff, float[] tmp, int t) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        for (int p = 0, bp = bOff; p < kc; p++, bp += NR) {
            FloatVector a0 = FloatVector.broadcast(S, a[aOff + p]);
            c00 = a0.fma(FloatVector.fromArray(S, b, bp), c00);
            c01 = a0.fma(FloatVector.fromArray(S, b, bp + L), c01);
        }
        c00.intoArray(tmp, t);
        c01.intoArray(tmp, t + L);
    }

    @Override
    public void packPanels(float[] b, int src, int ldb, int kc, int count, float[] bp, int dst) {
        MatmulVector.copyPanels(b, src, ldb, kc, count, bp, dst);
    }

    /**
     * Two vectors per row, each loaded through a mask of the row's valid columns (zeros in the others): the output
     * layer's ten columns took a fill of the panel and ten scalar copies per row.
     */
    @Override
    public void packPartialPanel(float[] b, int src, int ldb, int kc, int cols, float[] bp, int dst) {
        VectorMask<Float> m0 = S.indexInRange(0, cols);
        VectorMask<Float> m1 = S.indexInRange(L, cols);
        for (int p = 0, s = src, d = dst; p < kc; p++, s += ldb, d += NR) {
            FloatVector.fromArray(S, b, s, m0).intoArray(bp, d);
            FloatVector.fromArray(S, b, s + L, m1).intoArray(bp, d + L);
        }
    }

    /**
     * Sixteen p at a time by {@link PackTranspose16}: a block of the panel's first sixteen columns, then of the next
     * sixteen. The last {@code kc % 16} (all of them for a product fewer than sixteen deep: the output layer's input
     * gradient, ten) as two more blocks transposed into {@code tmp}, of which their rows are copied; each block reads
     * sixteen floats of each of its rows of B, so where the last would read past B it starts as many floats earlier
     * (the rows it then transposes first are left in {@code tmp}); where that would need more than the block's spare
     * rows, one float at a time. The output layer's input gradient, 128x128x10 with B transposed, went from 0.72x
     * OpenBLAS's rate to 0.75x with it, 64x128x10 from 0.71x to 0.81x (1 thread, AMD EPYC family 26, Zen 5;
     * OpenBLAS's peak that hour 207.8 GFLOP/s).
     */
    @Override
    public void packTransposedBPanel(float[] b, int src, int ldb, int kc, float[] bp, int dst, float[] tmp) {
        int l = PackTranspose16.L;
        int blocked = NR == 2 * l ? kc - kc % l : 0;
        for (int p = 0; p < blocked; p += l) {
            PackTranspose16.block(b, src + p, ldb, bp, dst + p * NR, NR);
            PackTranspose16.block(b, src + l * ldb + p, ldb, bp, dst + p * NR + l, NR);
        }
        int rest = kc - blocked;
        int start = src + blocked;
        int shift = Math.max(0, start + (NR - 1) * ldb + l - b.length); // floats the last block would read past B
        if (NR == 2 * l && rest > 0 && shift + rest <= l && start - shift >= 0) {
            for (int h = 0; h < NR; h += l) {
                PackTranspose16.block(b, start + h * ldb - shift, ldb, tmp, 0, l);
                for (int p = 0; p < rest; p++) {
                    FloatVector.fromArray(S16, tmp, (shift + p) * l).intoArray(bp, dst + (blocked + p) * NR + h);
                }
            }
            return;
        }
        CpuMatmul.packTransposedBScalar(NR, NR, b, src, ldb, blocked, kc, bp, dst);
    }

    /**
     * Sixteen p at a time by {@link PackTranspose16} (sixteen rows' next sixteen floats each, transposed in
     * registers and stored as sixteen overlapping groups, twelve floats apart), at least the last p one float at a
     * time with the twelve rows read side by side and the panel written in order.
     */
    @Override
    public void packRowPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
        // the blocks read four rows past the panel (the next panel's, or any row of A: their floats are stored only
        // where later stores overwrite them) and store sixteen floats per p where twelve belong: a block's extra four
        // land on the next p's first four, the last block's on those of the first p left to the scalar loop
        int l = PackTranspose16.L;
        boolean inA = src + (l - 1) * lda + kc <= a.length;
        int blocked = MR == 12 && inA && kc > l ? (kc - 1) / l * l : 0;
        for (int p = 0; p < blocked; p += l) {
            PackTranspose16.block(a, src + p, lda, ap, dst + p * MR, MR);
        }
        int r0 = src;
        int r1 = r0 + lda;
        int r2 = r1 + lda;
        int r3 = r2 + lda;
        int r4 = r3 + lda;
        int r5 = r4 + lda;
        int r6 = r5 + lda;
        int r7 = r6 + lda;
        int r8 = r7 + lda;
        int r9 = r8 + lda;
        int r10 = r9 + lda;
        int r11 = r10 + lda;
        for (int p = blocked, d = dst + blocked * MR; p < kc; p++, d += MR) {
            ap[d] = a[r0 + p];
            ap[d + 1] = a[r1 + p];
            ap[d + 2] = a[r2 + p];
            ap[d + 3] = a[r3 + p];
            ap[d + 4] = a[r4 + p];
            ap[d + 5] = a[r5 + p];
            ap[d + 6] = a[r6 + p];
            ap[d + 7] = a[r7 + p];
            ap[d + 8] = a[r8 + p];
            ap[d + 9] = a[r9 + p];
            ap[d + 10] = a[r10 + p];
            ap[d + 11] = a[r11 + p];
        }
    }

    /**
     * One vector load and one store of 16 lanes per {@code p} (the scalar copy makes twelve of each): each store
     * also writes four floats past the {@code p}-th group of {@link #MR}, which the next {@code p} overwrites; the
     * last {@code p}, and a panel whose last load would read past A, are copied one by one.
     */
    @Override
    public void packTransposedPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
        int vectored = src + (kc - 2) * lda + 16 <= a.length ? kc - 1 : 0;
        for (int p = 0, s = src, d = dst; p < vectored; p++, s += lda, d += MR) {
            FloatVector.fromArray(S16, a, s).intoArray(ap, d);
        }
        CpuMatmul.packTransposedScalar(MR, MR, a, src, lda, vectored, kc, ap, dst);
    }
}
