package dev.jacobian.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * SGEMM {@code C = alpha * op(A) * op(B) + beta * C} for row-major float arrays, in the
 * Goto/BLIS shape:
 * <pre>
 *   for jc in n step NC                       (columns of C this thread owns)
 *     for pc in k step kc                     pack op(B)[pc:pc+kc, jc:jc+NC] into NR-wide panels (L3)
 *       for ic in m step MC                   pack op(A)[ic:ic+MC, pc:pc+kc] into MR-tall panels (L2)
 *         for jr in NC step NR                one B micro-panel kc x NR stays in L1
 *           for ir in MC step MR              micro-kernel: an MR x NR tile of C in registers, kc FMAs deep
 * </pre>
 * The depth kc is at most the kernel's {@link MicroKernel#maxDepth} and the same for every block of a product
 * ({@link #depth}); MC is the kernel's {@link MicroKernel#blockRows}.
 * Transposed operands are read transposed while packing, never materialized. Packed panels are padded
 * with zeros to whole tiles; edge tiles are computed whole and only their valid part is written. A kernel may read
 * A where it lies instead of packing it ({@link MicroKernel#runDirect}): always for a B of one narrow panel
 * ({@link MicroKernel#directColumns}), and for an A read as stored where a thread computes few columns
 * ({@link MicroKernel#directPanelColumns}, {@link #blockRead}), where packing A would cost the most against the
 * product; for a B of one narrow panel and an A read transposed, a kernel may lay its vectors along C's rows
 * ({@link MicroKernel#runColumnsTransposed}). A product of at most the kernel's {@link MicroKernel#pairColumns}
 * columns with A read as stored (a classifier's output layer) goes to the kernel's pair path before anything below
 * (blocks, depth or row halves, bands), on any thread count: B packed two columns by eight depths a vector, every lane
 * computing, a band of C's rows per thread ({@link #pairBands}, {@link MatmulPairs}).
 *
 * <p>A product whose B (read as stored: a layer's weights) is much larger than C, with beta 0, is the sum of two depth
 * halves on any thread count ({@link #splitsDepth}, {@link #depthHalves}): on two threads each computes one half,
 * reading only its half of the weights; the product that computes those weights' gradient is split into the same row
 * halves ({@link #splitsRows}, {@link #rowHalves}), and the optimizer's update follows them ({@link Homes}).
 *
 * <p>Threads, for other products large enough to share ({@link #PARALLEL_MIN_MULADDS}): when op(A) fits a thread's
 * workspace once packed and B (read as stored) or C has rows of a whole number of {@link Parallel#HOME_CHUNK}-float
 * chunks per thread, C is cut into bands of one chunk's columns, each computed by its home thread ({@link #homedBands}:
 * a layer's weights read, and its weight gradient written, by the same thread step after step). Otherwise, when op(A)
 * has no more rows than
 * op(B) has columns and fits a thread's workspace once packed ({@link #PRIVATE_A_FLOATS}), C is cut into bands of whole
 * column panels ({@link #COLUMN_BANDS_PER_THREAD} per thread) that the threads claim in turn: each thread packs all of
 * op(A) once, when it takes its first band, and each band packs its own columns of op(B), which then stay in the caches
 * near the core that computes with them (the products of a training step at batch 64 or 128: {@link #columnBands}).
 * Otherwise, when C has at least {@link #MIN_TILES_PER_THREAD} row tiles per thread, C is cut into bands of whole row
 * tiles ({@link #BANDS_PER_THREAD} per thread) that the threads claim in turn, each packing the rows of A of the bands it
 * claims, while B is packed once, by the threads together (each claims chunks of its column panels in turn), into
 * one of two shared buffers, a group of blocks at a time (the whole of B up to {@link #SHARED_B_FLOATS}): a thread
 * computes from a group once all of its chunks are packed, and the second buffer lets the next group's packing start
 * while slower threads still read the one before. No thread waits for work nobody has taken, so a thread that starts
 * late (see {@link Parallel}) finds less or nothing left to do. C with
 * fewer row tiles is split into column bands instead, one per thread, each
 * thread packing its own columns of B and the few rows of A. Every
 * element of C is therefore computed by one thread in the fixed order (pc blocks ascending, k ascending
 * inside a block; for depth halves, each half so and then the two added; on the pair path, eight interleaved chains
 * per block folded in a fixed tree), which makes the result bit-identical from run to run and for any thread count.
 *
 * <p>Beta: each thread first scales its slab of C by {@code beta} ({@code beta = 0} writes zeros without
 * reading C, so old NaNs do not leak); every kc block then adds {@code alpha * tile} to C.
 */
final class CpuMatmul {

    /** Rows of the scalar kernel's tile and of {@link MatmulVector}'s. */
    static final int MR = 6;
    /**
     * Largest depth of a packed block (the micro-kernel's k loop) unless the kernel asks for another; see
     * {@link #depth}.
     */
    static final int KC = 256;
    /** Rows of a packed A block (rounded down to a multiple of the kernel's rows) unless the kernel asks for others. */
    static final int MC_TARGET = 144;
    /** Columns of a packed B block (rounded to a multiple of the kernel's NR). */
    static final int NC_TARGET = 3072;
    /**
     * Below this many multiply-adds (about 50 us of one core) the product runs on the caller's thread
     * alone: handing work to a spinning worker costs a few microseconds, a parked one tens.
     */
    static final long PARALLEL_MIN_MULADDS = 1L << 20;
    /** Row tiles of C per thread below which the threads split C by columns instead of rows. */
    static final int MIN_TILES_PER_THREAD = 4;
    /** Row bands per thread of a product split by rows (claimed in turn). */
    static final int BANDS_PER_THREAD = 3;
    /**
     * Floats of op(B) that the threads of a product split by rows pack as one group (4 MiB): all of B for a training
     * step's products and squares up to 1024; a larger B is packed in groups of blocks this big.
     */
    static final int SHARED_B_FLOATS = 1 << 20;
    /**
     * Column bands per thread of a product split by columns (claimed in turn): two let a thread slowed by another take
     * fewer; more would pass all of op(A) through each band once more.
     */
    static final int COLUMN_BANDS_PER_THREAD = 2;
    /**
     * Largest op(A), in floats once packed, that each thread of a product split by column bands packs whole (4 MiB: the
     * training step's products, and squares up to 1024).
     */
    static final int PRIVATE_A_FLOATS = 1 << 20;
    /** Chunks per thread that a group's column panels are cut into for packing (claimed in turn). */
    static final int PACK_CHUNKS_PER_THREAD = 4;
    /**
     * Largest C, in floats, of a product split into depth halves ({@link #splitsDepth}) or row halves
     * ({@link #splitsRows}): 1 MiB, the partial sum a product split by depth keeps.
     */
    static final int HALVES_MAX_C = 1 << 18;
    /**
     * Smallest half of a split by depth or by rows: a depth half shallower than one block of the AVX-512 kernel would
     * add a pass over C for little work. Halves of 128 (the second layer of the 784-256-128-10 MLP) made its step 1-2%
     * slower on one thread and no faster on two (one process, 30 rounds, Zen 5).
     */
    static final int MIN_HALF = 256;

    /**
     * The register-tiled inner kernel over packed panels: {@code tile = sum_p a[p][r] * b[p][c]} for
     * {@code p < kc}, then {@code C[r][c] += alpha * tile} for the {@code rows x cols} valid part, or with
     * {@code overwrite} {@code C[r][c] = alpha * tile} without reading C (the first block of a product with beta 0).
     */
    interface MicroKernel {
        /** Rows of a tile: the height of a packed A panel. */
        int mr();

        /** Columns of a tile: the width of a packed B panel. */
        int nr();

        /**
         * The largest depth of a packed block for this kernel, {@link #KC} unless it says otherwise: each block adds
         * its tile to C once, so deeper blocks read and write C less often, as long as a B micro-panel
         * ({@code depth x nr} floats) still streams from the caches near the core.
         */
        default int maxDepth() {
            return KC;
        }

        /** Rows of a packed A block for this kernel, {@link #MC_TARGET} unless it says otherwise. */
        default int blockRows() {
            return MC_TARGET;
        }

        void run(int kc, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int ldc,
                 float alpha, boolean overwrite, int rows, int cols, float[] tmp);

        /**
         * Most columns of B for which this kernel reads A where it lies ({@link #runDirect}) instead of from packed
         * panels: 0, the default, for never. With so few columns B has one panel, and each element of A is read once
         * whether packed or not, so packing it (a transposing copy of all of A) would cost as much as the product.
         */
        default int directColumns() {
            return 0;
        }

        /**
         * Most columns that one thread computes of a product whose A, read as stored, this kernel reads where it lies
         * for tiles of any width ({@link #runDirect} with {@code depthStride} 1) instead of packing it: 0, the default,
         * for never. Packing A costs the same whatever the product's width, while the product's work grows with it,
         * so it weighs most on narrow products (a layer's, at a training step's batch sizes), and most of all where
         * each of two threads packs all of A for its half of the columns.
         */
        default int directPanelColumns() {
            return 0;
        }

        /**
         * As {@link #run}, but op(A) read where it lies: element {@code (r, p)} of the tile's rows at
         * {@code a[aOff + r*rowStride + p*depthStride]} ({@code rowStride} A's leading dimension and
         * {@code depthStride} 1 for an A read as stored, the other way round for an A read transposed); only the
         * {@code rows} valid rows are read. Each element is the same chain of FMAs as {@link #run} computes from the
         * packed panel, so the bits are the same. Only for {@code cols <= directColumns()}, or, when
         * {@link #directPanelColumns} is not 0, for any {@code cols} with {@code depthStride} 1.
         */
        default void runDirect(int kc, float[] a, int aOff, int rowStride, int depthStride, float[] b, int bOff,
                               float[] c, int cOff, int ldc, float alpha, boolean overwrite, int rows, int cols,
                               float[] tmp) {
            throw new UnsupportedOperationException("this kernel packs A");
        }

        /**
         * Most columns of a product whose A is read as stored that this kernel computes by {@link #runPairs} from a B
         * packed by {@link #packPairs}: 0, the default, for never. {@link CpuMatmul} then computes every such product
         * so, on any thread count, and its elements need not have the bits of {@link #run}.
         */
        default int pairColumns() {
            return 0;
        }

        /** Floats that {@link #packPairs} writes for {@code kc} depths. Only when {@link #pairColumns} is not 0. */
        default int pairFloats(int kc) {
            throw new UnsupportedOperationException("this kernel has no pair path");
        }

        /**
         * Packs {@code cols <= pairColumns()} columns of B, {@code kc} deep, element {@code (p, j)} at
         * {@code b[src + p*depthStride + j*columnStride]}, into {@code bq} from {@code dst}: {@link #pairFloats}
         * floats, laid out as {@link #runPairs} reads them. Only when {@link #pairColumns} is not 0.
         */
        default void packPairs(float[] b, int src, int depthStride, int columnStride, int kc, int cols, float[] bq,
                               int dst) {
            throw new UnsupportedOperationException("this kernel has no pair path");
        }

        /**
         * {@code C[0:rows, 0:cols] = alpha * A * B} (added to C, or with {@code overwrite} stored without reading it)
         * for an A read as stored, row {@code r}'s element {@code p} at {@code a[aOff + r*lda + p]}, any count of rows,
         * and B packed by {@link #packPairs} at {@code bq[bOff]}; nothing outside the {@code rows x cols} of C is
         * written. A row's elements get the same bits whichever rows are computed with it. Only when
         * {@link #pairColumns} is not 0.
         */
        default void runPairs(int kc, float[] a, int aOff, int lda, int rows, float[] bq, int bOff, float[] c,
                              int cOff, int ldc, float alpha, boolean overwrite, int cols, float[] tmp) {
            throw new UnsupportedOperationException("this kernel has no pair path");
        }

        /** Floats of the {@code tmp} array given to the kernel's methods: one tile, {@code mr() * nr()}, by default. */
        default int tmpFloats() {
            return mr() * nr();
        }

        /**
         * Whether {@link #runColumnsTransposed} computes the products of few columns ({@link #directColumns}) whose A
         * is read transposed: false, the default, for never.
         */
        default boolean columnsTransposed() {
            return false;
        }

        /**
         * {@code C[0:rows, 0:cols] = alpha * op(A) * Bpanel} (added to C, or with {@code overwrite} stored without
         * reading it) for an A read transposed, element {@code (r, p)} at {@code a[aOff + p*lda + r]}, {@code rows}
         * rows of any count, and one packed B panel at {@code b[bOff]} with {@code cols <= directColumns()} valid
         * columns. Where the transposed A holds a row of C's rows contiguously per depth, a kernel can lay vectors
         * along C's rows, every lane computing, instead of along the few columns. Each element is the same chain of
         * FMAs as {@link #runDirect} gives it, so the bits are the same. Only when {@link #columnsTransposed}.
         */
        default void runColumnsTransposed(int kc, float[] a, int aOff, int lda, int rows, float[] b, int bOff,
                                          float[] c, int cOff, int ldc, float alpha, boolean overwrite, int cols,
                                          float[] tmp) {
            throw new UnsupportedOperationException("this kernel has no transposed-column path");
        }

        /**
         * Packs {@code count} consecutive whole panels of a B read as stored: for each {@code p < kc} and panel
         * {@code q < count}, the {@link #nr} values {@code b[src + p*ldb + q*nr ...]} to
         * {@code bp[dst + q*nr*kc + p*nr ...]}. B is read row by row, each row into all the panels, so that it streams
         * through the caches once in the order it is stored.
         */
        default void packPanels(float[] b, int src, int ldb, int kc, int count, float[] bp, int dst) {
            int w = nr();
            for (int p = 0; p < kc; p++) {
                for (int q = 0; q < count; q++) {
                    System.arraycopy(b, src + p * ldb + q * w, bp, dst + q * w * kc + p * w, w);
                }
            }
        }

        /**
         * Packs the last, partial panel of a B read as stored: for each {@code p < kc}, the {@code cols < nr} values
         * {@code b[src + p*ldb ...]} to {@code bp[dst + p*nr ...]}, and zeros to the panel's other columns.
         */
        default void packPartialPanel(float[] b, int src, int ldb, int kc, int cols, float[] bp, int dst) {
            // zeros, then each row's few columns (one fill and plain loops: a copy call per row cost more than the copy
            // of ten floats)
            int w = nr();
            java.util.Arrays.fill(bp, dst, dst + kc * w, 0f);
            for (int p = 0; p < kc; p++) {
                for (int cc = 0, s = src + p * ldb, d = dst + p * w; cc < cols; cc++) {
                    bp[d + cc] = b[s + cc];
                }
            }
        }

        /**
         * Packs one whole panel of a B read transposed: for each {@code p < kc}, the {@link #nr} values
         * {@code b[src + c*ldb + p]} ({@code c < nr}, one from each row of B) to {@code bp[dst + p*nr + c]};
         * {@code tmp} ({@link #tmpFloats} floats) is the kernel's to use meanwhile.
         */
        default void packTransposedBPanel(float[] b, int src, int ldb, int kc, float[] bp, int dst, float[] tmp) {
            packTransposedBScalar(nr(), nr(), b, src, ldb, 0, kc, bp, dst);
        }

        /**
         * Packs one whole panel of an A read as stored: for each {@code p < kc}, the {@link #mr} values
         * {@code a[src + r*lda + p]} ({@code r < mr}, one from each row) to {@code ap[dst + p*mr + r]}.
         */
        default void packRowPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
            packRowsScalar(mr(), mr(), a, src, lda, kc, ap, dst);
        }

        /**
         * Packs one whole panel of an A read transposed: for each {@code p < kc}, the {@link #mr} values
         * {@code a[src + p*lda ...]} (contiguous in A) to {@code ap[dst + p*mr ...]}.
         */
        default void packTransposedPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
            packTransposedScalar(mr(), mr(), a, src, lda, 0, kc, ap, dst);
        }
    }

    /** How a block's op(A) reaches the kernel ({@link #compute}). */
    private enum ARead {
        /** Packed block by block into the workspace. */
        PACKED,
        /** From {@code ws.wholeA}, where {@link #packWholeA} packed all of it. */
        WHOLE,
        /** Read where it lies, as stored ({@link MicroKernel#runDirect}). */
        DIRECT
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        float[] a = new float[0];
        float[] b = new float[0];
        /** All of op(A), packed by a thread that computes column bands ({@link #packWholeA}). */
        float[] wholeA = new float[0];
        /** The rows {@code wholeA} holds per depth, op(A)'s rounded up to whole panels. */
        int wholeRows;
        float[] tmp;
    }

    private final Parallel parallel;
    private final MicroKernel kernel;
    private final int mr;
    private final int nr;
    private final int mc;
    private final int nc;
    /** The largest block depth, the kernel's {@link MicroKernel#maxDepth}. */
    private final int depthLimit;
    private final Workspace[] workspaces;
    /** The two packed-B buffers (groups of blocks) the threads share when they split C by rows. */
    private final float[][] sharedB = {new float[0], new float[0]};
    /** The second depth half's partial product ({@link #depthHalves}). */
    private float[] partial = new float[0];

    CpuMatmul(Parallel parallel, boolean vector) {
        this(parallel, vector ? MatmulVector.widest() : new ScalarKernel());
    }

    /** A product on {@code kernel} (the tests run every kernel this machine's vector shape allows). */
    CpuMatmul(Parallel parallel, MicroKernel kernel) {
        this.parallel = parallel;
        this.kernel = kernel;
        this.mr = kernel.mr();
        this.nr = kernel.nr();
        this.mc = Math.max(mr, kernel.blockRows() / mr * mr);
        this.depthLimit = Math.max(1, kernel.maxDepth());
        this.nc = Math.max(nr, NC_TARGET / nr * nr);
        this.workspaces = new Workspace[parallel.size()];
        for (int i = 0; i < workspaces.length; i++) {
            workspaces[i] = new Workspace();
            workspaces[i].tmp = new float[kernel.tmpFloats()];
        }
    }

    /**
     * Computes the product; {@code a} is {@code [m, k]} (or {@code [k, m]} when {@code transA}) with row
     * stride {@code lda}, starting at {@code a[aOff]}; {@code b} is {@code [k, n]} (or {@code [n, k]}) with
     * stride {@code ldb}, starting at {@code b[bOff]}; {@code c} is {@code [m, n]} with stride {@code n},
     * starting at {@code c[cOff]}. C must not overlap A or B.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        int tilesM = (m + mr - 1) / mr;
        int tilesN = (n + nr - 1) / nr;
        int threads = (long) m * n * k < PARALLEL_MIN_MULADDS ? 1 : parallel.threads();
        if (pairs(transA, n)) {
            pairBands(threads, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff);
            return;
        }
        boolean fitsA = (long) tilesM * mr * k <= PRIVATE_A_FLOATS;
        if (splitsDepth(transB, m, n, k, beta)) {
            depthHalves(threads, transA, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff);
            return;
        }
        if (threads > 1 && splitsRows(m, n, k)) {
            rowHalves(threads, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff);
            return;
        }
        int homeBase = threads > 1 && fitsA ? homeBase(threads, transB, m, n, k, bOff, ldb, cOff) : -1;
        if (homeBase >= 0) {
            homedBands(threads, homeBase, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff);
            return;
        }
        if (threads > 1 && m <= n && tilesN >= threads && fitsA) {
            columnBands(threads, tilesN, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff);
            return;
        }
        if (threads > 1 && tilesM >= threads * MIN_TILES_PER_THREAD) {
            rowBands(threads, tilesM, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff);
            return;
        }
        int workers = Math.min(threads, tilesN);
        if (workers <= 1) {
            blocked(workspaces[0], transA, transB, 0, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, n,
                    blockRead(transA, n));
            return;
        }
        // few rows: column bands, each thread packing its own columns of B (and all of the few rows of A)
        parallel.run(workers, w -> {
            int n0 = bandEdge(tilesN, w, workers, nr, n);
            int n1 = bandEdge(tilesN, w + 1, workers, nr, n);
            blocked(workspaces[w], transA, transB, 0, m, n0, n1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff,
                    n, blockRead(transA, n1 - n0));
        });
    }

    /**
     * Whether a product of {@code n} columns is computed from a B packed in pairs ({@link MicroKernel#runPairs}): an A
     * read as stored and no more columns than the kernel's {@link MicroKernel#pairColumns}. The shape alone decides it,
     * so its bits do not depend on the thread count.
     */
    private boolean pairs(boolean transA, int n) {
        return !transA && n >= 1 && n <= kernel.pairColumns();
    }

    /**
     * A product of few columns ({@link #pairs}) in bands of C's rows, one per thread, cut as evenly as rows allow: each
     * thread packs B for itself, a few floats per depth, and computes its rows. A row's elements get the same bits in
     * any band, so on any thread count.
     */
    private void pairBands(int threads, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff,
                           int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        int bands = Math.min(threads, m);
        if (bands <= 1) {
            pairRows(workspaces[0], transB, 0, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff);
            return;
        }
        parallel.run(bands, w -> pairRows(workspaces[w], transB, (int) ((long) m * w / bands),
                (int) ((long) m * (w + 1) / bands), n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff));
    }

    /**
     * The rows {@code [m0, m1)} of a product of few columns ({@link #pairs}; C's stride {@code n}), block by block of
     * depths ({@link #depth}): B's block packed in pairs into the workspace, then the kernel's
     * {@link MicroKernel#runPairs} over the rows.
     */
    private void pairRows(Workspace ws, boolean transB, int m0, int m1, int n, int k, float alpha, float[] a,
                          int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        int kc = depth(k);
        int floats = kernel.pairFloats(kc);
        if (ws.b.length < floats) {
            ws.b = new float[floats];
        }
        scale(c, cOff, n, m0, m1, 0, n, beta, k);
        for (int pc = 0; pc < k; pc += kc) {
            int kcb = Math.min(kc, k - pc);
            kernel.packPairs(b, transB ? bOff + pc : bOff + pc * ldb, transB ? 1 : ldb, transB ? ldb : 1, kcb, n, ws.b,
                    0);
            kernel.runPairs(kcb, a, aOff + m0 * lda + pc, lda, m1 - m0, ws.b, 0, c, cOff + m0 * n, n, alpha,
                    beta == 0f && pc == 0, n, ws.tmp);
        }
    }

    /**
     * How a thread that computes {@code columns} columns of a product reads op(A) when it does not pack all of it
     * first: where it lies ({@link MicroKernel#directPanelColumns}) for an A read as stored, else packed block by
     * block.
     */
    private ARead blockRead(boolean transA, int columns) {
        return !transA && columns <= kernel.directPanelColumns() ? ARead.DIRECT : ARead.PACKED;
    }

    /**
     * As {@link #blockRead}, for a thread that would pack all of op(A) once for its bands ({@link #columnBands},
     * {@link #homedBands}): where it lies, or {@link ARead#WHOLE}.
     */
    private ARead wholeRead(boolean transA, int columns) {
        return blockRead(transA, columns) == ARead.DIRECT ? ARead.DIRECT : ARead.WHOLE;
    }

    /**
     * Whether a product is large enough to share ({@link #PARALLEL_MIN_MULADDS}), on two threads or more, but splits
     * into neither depth nor row halves (a product of few columns, {@link #pairs}, never does): {@link #gemmAlone} then
     * computes it with the bits {@link #gemm} gives it, so that two such products can run side by side, one per thread
     * ({@code CpuBackend}'s dense backward: a layer's input and weight gradients).
     */
    boolean sharesAlone(boolean transA, boolean transB, int m, int n, int k, float beta) {
        return parallel.threads() >= 2 && (long) m * n * k >= PARALLEL_MIN_MULADDS
                && (pairs(transA, n) || !splitsDepth(transB, m, n, k, beta) && !splitsRows(m, n, k));
    }

    /**
     * The product on one thread, with workspace {@code slot} (below {@link Parallel#size}; no two products at a time
     * on one slot), for a task of a {@link Parallel} call: the blocked algorithm over all of C (or, for a product of
     * few columns, the pair path: {@link #pairs}), which gives every element the chain of multiply-adds {@link #gemm}
     * gives it where {@link #sharesAlone} holds.
     */
    void gemmAlone(int slot, boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff,
                   int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        gemmAloneColumns(slot, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, 0, n);
    }

    /**
     * As {@link #gemmAlone}, for the columns {@code [n0, n1)} of C only (each a multiple of {@link #columnUnit}, or
     * {@code n1 == n}): their elements get the bits that {@link #gemmAlone} gives them. A product of few columns
     * ({@link #pairs}: fewer than {@link #columnUnit}) has no such range but all of its columns or none.
     */
    void gemmAloneColumns(int slot, boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
                          int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int n0,
                          int n1) {
        if (pairs(transA, n)) { // all of C's few columns, or none
            if (n0 != 0 && n0 != n1 || n1 != n && n0 != n1) {
                throw new IllegalArgumentException("columns " + n0 + ".." + n1 + " of a product of " + n
                        + " columns: all of them or none");
            }
            if (n0 < n1) {
                pairRows(workspaces[slot], transB, 0, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff);
            }
            return;
        }
        blocked(workspaces[slot], transA, transB, 0, m, n0, n1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, n,
                blockRead(transA, n1 - n0));
    }

    /** The micro-kernel's tile width: where {@link #gemmAloneColumns} may cut C's columns. */
    int columnUnit() {
        return nr;
    }

    /**
     * Where a split by depth or by rows cuts {@code k} (or {@code m}): half of it, rounded up to a multiple of 16. A
     * weight {@code [k, n]} that a forward product splits by depth at this row is then split at the same row by the
     * product that computes its gradient ({@code [m, n]}, {@code m} being the forward's {@code k}).
     */
    static int depthHalf(int k) {
        return Math.min(k, (k / 2 + 15) / 16 * 16);
    }

    /**
     * Whether {@code C = alpha * op(A) * B} (B read as stored, beta 0) is computed as the sum of two depth halves,
     * {@code C = P0 + P1} with {@code P0} over the depths {@code [0, depthHalf(k))} and {@code P1} over the rest: when B
     * (a layer's weights) is the larger operand by far ({@code k >= 2m}), C is small and the product large enough to
     * share. The shape alone decides it, so one thread sums the same halves as two and the bits do not depend on the
     * thread count. A product of few columns takes the pair path first ({@link #pairs}).
     */
    static boolean splitsDepth(boolean transB, int m, int n, int k, float beta) {
        return !transB && beta == 0f && k >= 2 * m && k >= 2 * MIN_HALF && (long) m * n <= HALVES_MAX_C
                && (long) m * n * k >= PARALLEL_MIN_MULADDS;
    }

    /**
     * Whether a shared product splits C into row halves cut at {@link #depthHalf depthHalf(m)} ({@link #rowHalves}):
     * C (a layer's weight gradient, {@code x^T dz}) has many more rows than the product is deep.
     */
    static boolean splitsRows(int m, int n, int k) {
        return m >= 2 * k && m >= 2 * MIN_HALF && (long) m * n <= HALVES_MAX_C;
    }

    /**
     * {@code C = P0 + P1} ({@link #splitsDepth}): on one thread the two halves one after the other, {@code P1} into a
     * buffer then added to C; on two, thread 0 computes {@code P0} (reading the rows {@code [0, half)} of B) while
     * thread 1 computes {@code P1} (the rest of B), and then each adds a half of C's rows; more threads cut each half
     * into column bands. The halves of B are recorded ({@link Homes}) so that the optimizer's update gives each back to
     * the thread that reads it, and the weight gradient's product ({@link #rowHalves}) writes the same halves from the
     * same threads: so on 2 threads each half of a layer's weights, of its gradient and of the optimizer's state is
     * read and written by one thread only, step after step. Column bands ({@link #homedBands}) gave each thread a
     * column half of the weights instead, and no contiguous split of the arena's update could match those.
     *
     * <p>Measured on an AMD EPYC of family 26 (Zen 5, AVX-512, 2 vCPUs on different dies: a round trip between them
     * 430-460 ns), the first layer's part of a step of the 784-256-128-10 MLP at batch 128 (the batch's upload, the
     * forward and weight-gradient products, the momentum update of the weights) in a throwaway harness on 2 threads:
     * 1.50-1.70x as fast as on one thread with depth halves, 1.16-1.30x with column bands.
     */
    private void depthHalves(int threads, boolean transA, int m, int n, int k, float alpha, float[] a, int aOff,
                             int lda, float[] b, int bOff, int ldb, float[] c, int cOff) {
        int half = depthHalf(k);
        int aOff1 = transA ? aOff + half * lda : aOff + half;
        int bOff1 = bOff + half * ldb;
        if (partial.length < m * n) {
            partial = new float[m * n];
        }
        float[] p = partial;
        parallel.homes.record(b, bOff, bOff1, bOff + (k - 1) * ldb + n);
        if (threads == 1) {
            Workspace ws = workspaces[0];
            ARead read = blockRead(transA, n);
            blocked(ws, transA, false, 0, m, 0, n, half, alpha, a, aOff, lda, b, bOff, ldb, 0f, c, cOff, n, read);
            blocked(ws, transA, false, 0, m, 0, n, k - half, alpha, a, aOff1, lda, b, bOff1, ldb, 0f, p, 0, n, read);
            addInto(c, cOff, p, 0, m * n);
            return;
        }
        int perHalf = threads / 2;
        int tilesN = (n + nr - 1) / nr;
        parallel.runHomed(2 * perHalf, t -> {
            int band = t / 2;
            int n0 = bandEdge(tilesN, band, perHalf, nr, n);
            int n1 = bandEdge(tilesN, band + 1, perHalf, nr, n);
            if (n0 >= n1) {
                return;
            }
            // packed, not read in place: A (a batch the caller has just uploaded) is read from the other core's
            // caches, which the packing's streaming copy does faster than the kernel's twelve rows at a time
            // (the training step on 2 threads, in one process against A read in place here: 1.10x as fast at batch
            // 64, 1.03x at 128; AMD EPYC family 26, 2 vCPUs on two dies, OpenBLAS's peak that evening 173.7-189.7)
            ARead read = ARead.PACKED;
            if (t % 2 == 0) {
                blocked(workspaces[t], transA, false, 0, m, n0, n1, half, alpha, a, aOff, lda, b, bOff, ldb, 0f, c,
                        cOff, n, read);
            } else {
                blocked(workspaces[t], transA, false, 0, m, n0, n1, k - half, alpha, a, aOff1, lda, b, bOff1, ldb, 0f,
                        p, 0, n, read);
            }
        });
        parallel.runHomed(threads, t -> {
            int r0 = (int) ((long) m * t / threads);
            int r1 = (int) ((long) m * (t + 1) / threads);
            addInto(c, cOff + r0 * n, p, r0 * n, (r1 - r0) * n);
        });
    }

    /** {@code c[cOff + i] += p[pOff + i]} for {@code i < count}. */
    private static void addInto(float[] c, int cOff, float[] p, int pOff, int count) {
        for (int i = 0; i < count; i++) {
            c[cOff + i] += p[pOff + i];
        }
    }

    /**
     * C split into two row halves cut at {@link #depthHalf depthHalf(m)} ({@link #splitsRows}), the first computed by
     * thread 0 and the second by thread 1 (more threads cut each half into bands of whole row tiles); each packs all of
     * op(B) (a layer's output gradient, {@code k} rows) and its own rows of op(A). For a weight gradient {@code x^T dz}
     * these are the halves of the weights that the forward product split by depth ({@link #depthHalves}) gave to the
     * same threads.
     */
    private void rowHalves(int threads, boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
                           int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        int half = depthHalf(m);
        int perHalf = threads / 2;
        parallel.homes.record(c, cOff, cOff + half * n, cOff + m * n);
        parallel.runHomed(2 * perHalf, t -> {
            int r0 = t % 2 == 0 ? 0 : half;
            int rows = t % 2 == 0 ? half : m - half;
            int tiles = (rows + mr - 1) / mr;
            int m0 = r0 + bandEdge(tiles, t / 2, perHalf, mr, rows);
            int m1 = r0 + bandEdge(tiles, t / 2 + 1, perHalf, mr, rows);
            if (m0 < m1) {
                blocked(workspaces[t], transA, transB, m0, m1, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c,
                        cOff, n, blockRead(transA, n));
            }
        });
    }

    /**
     * C split into bands of whole column panels, {@link #COLUMN_BANDS_PER_THREAD} per thread, claimed in turn so that a
     * thread slowed by another computes fewer of them. A thread packs all of op(A) once, into its own workspace, when it
     * takes its first band (so op(A) is packed once per thread that computes, against once per band of rows of A in
     * {@link #rowBands}), and each band packs its own columns of op(B), block by block, into the thread's B buffer: the
     * band's B block stays in the caches of the core that computes with it while every row of A passes it, where row
     * bands stream all of the shared packed B, half of it packed by the other core, once per band. Nothing is shared but
     * the counter of bands, and nobody waits but the caller, for the last band.
     *
     * <p>Measured on an AMD EPYC of family 25 (Zen 3, AVX2, 2 vCPUs; OpenBLAS's measured one-thread SGEMM peak that hour
     * 90.6-94.0 GFLOP/s), two threads, alternating with row bands in one process (medians of 15-25 rounds): the training step's products at batch 128 alone in a loop 1.01-1.14x as fast
     * (128x256x784 1.01-1.11x, 128x128x256 1.05-1.12x, 128x784x256 with B transposed 1.08-1.09x, 128x256x128 with B
     * transposed 1.06-1.14x), 1.03-1.08x with A and B rewritten by the caller before each product (as a step's input and
     * update do), 512^3 0.98-1.03x. The whole training step, alternating with the commit before in one process: 1.01x
     * at batch 128 and 1.04x at batch 64, within the spread of the runs; against OpenBLAS ({@code GemmRatio}, separate
     * processes) the gain did not show beyond that hour's noise.
     */
    private void columnBands(int threads, int tilesN, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c,
                             int cOff) {
        int bands = Math.min(tilesN, threads * COLUMN_BANDS_PER_THREAD);
        AtomicInteger next = new AtomicInteger();
        ARead read = wholeRead(transA, (n + threads - 1) / threads);
        parallel.run(threads, w -> {
            Workspace ws = workspaces[w];
            boolean packed = read == ARead.DIRECT;
            for (int band = next.getAndIncrement(); band < bands; band = next.getAndIncrement()) {
                if (!packed) {
                    packWholeA(ws, transA, a, aOff, lda, m, k);
                    packed = true;
                }
                int n0 = bandEdge(tilesN, band, bands, nr, n);
                int n1 = bandEdge(tilesN, band + 1, bands, nr, n);
                blocked(ws, transA, transB, 0, m, n0, n1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, n,
                        read);
            }
        });
    }

    /**
     * Where the homes ({@link Parallel#home}) of a product's column bands are counted from, or -1 when they have none:
     * the homes are those of B's columns when B is read as stored and is the larger of B and C (a layer's forward
     * product, which reads its weights), else C's (a weight gradient), provided that the
     * matrix's rows are a whole number of chunks per thread and start at a chunk, so that each band of
     * {@link Parallel#HOME_CHUNK} columns lies in chunks of one home in every row. Returns the index in its array of
     * that matrix's first column.
     */
    static int homeBase(int threads, boolean transB, int m, int n, int k, int bOff, int ldb, int cOff) {
        int span = Parallel.HOME_CHUNK * threads;
        int chunk = Parallel.HOME_CHUNK;
        boolean byB = !transB && ldb % span == 0 && n % chunk == 0 && bOff % chunk == 0;
        boolean byC = n % span == 0 && cOff % chunk == 0;
        if (byB && (k >= m || !byC)) {
            return bOff;
        }
        return byC ? cOff : -1;
    }

    /**
     * C split into bands of {@link Parallel#HOME_CHUNK} columns, each computed by its home thread
     * ({@link Parallel#runHomed}; a thread takes its home's bands in ascending order, and the other thread takes them
     * when it finds them left), the homes counted from index {@code homeBase} of B's or C's array
     * ({@link #homeBase}). So each column half of a layer's weights (the first layer's of the 784-256-128-10 MLP, on 2
     * threads) is read by the same thread in every forward product, and the same half of its gradient written by that
     * thread in every backward one, where claimed bands gave them to either thread from one step to the next: on a
     * machine whose two vCPUs sit on different dies, fewer of the lines a product reads were last written by the other
     * core. As in {@link #columnBands}, a thread packs all of op(A) once, and each band packs its own columns of op(B).
     *
     * <p>Measured on an AMD EPYC of family 26 (Zen 5, AVX-512, 2 vCPUs on different dies: a round trip between them
     * 450 ns; OpenBLAS's one-thread SGEMM peak that hour 190.7 GFLOP/s): there a 2-thread 128x256x784 product ran
     * 1.57x as fast as one thread on operands it had read before, 1.19x after the caller rewrote A and 1.17x after it
     * rewrote B. The training step of the 784-256-128-10 MLP on 2 threads, against claimed column bands in one process
     * (30 rounds): 1.08x as fast at batch 128 [1.04-1.13], 1.07x at batch 64 [1.04-1.09]; its first layer's forward
     * and backward products 1.35x as fast on 2 threads as on 1, against 1.21-1.27x before. No contiguous split of the
     * optimizer's update could match these bands: split by the same chunks, so that it too touched only its home's,
     * the update ran 2.6-4x as long (two cores writing interleaved chunks of an array lose to each other's
     * prefetchers, see {@link Homes}), and the step slowed down. The first layer's products are now split by depth and
     * row halves instead ({@link #depthHalves}), which the update can follow.
     */
    private void homedBands(int threads, int homeBase, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        int chunk = Parallel.HOME_CHUNK;
        int bands = n / chunk;
        ARead read = wholeRead(transA, (n + threads - 1) / threads);
        parallel.runHomed(threads, h -> {
            Workspace ws = workspaces[h];
            boolean packed = read == ARead.DIRECT;
            for (int band = 0; band < bands; band++) {
                if (Parallel.home(homeBase + band * chunk, threads) != h) {
                    continue;
                }
                if (!packed) {
                    packWholeA(ws, transA, a, aOff, lda, m, k);
                    packed = true;
                }
                blocked(ws, transA, transB, 0, m, band * chunk, (band + 1) * chunk, k, alpha, a, aOff, lda, b, bOff,
                        ldb, beta, c, cOff, n, read);
            }
        });
    }

    /**
     * Packs all of op(A) ({@code m x k}) into {@code ws.wholeA}: the block of depths {@code pc..} (as {@link #depth}
     * cuts k) at {@code ws.wholeRows * pc} ({@code wholeRows = roundUp(m, mr)}), its row panels as {@link #packA} lays
     * them out.
     */
    private void packWholeA(Workspace ws, boolean transA, float[] a, int aOff, int lda, int m, int k) {
        int rows = roundUp(m, mr);
        if (ws.wholeA.length < rows * k) {
            ws.wholeA = new float[rows * k];
        }
        ws.wholeRows = rows;
        int kc = depth(k);
        for (int pc = 0; pc < k; pc += kc) {
            int kcb = Math.min(kc, k - pc);
            packA(transA, a, aOff, lda, 0, m, pc, kcb, ws.wholeA, rows * pc);
        }
    }

    /**
     * C split into bands of whole row tiles, a few per thread, claimed in turn so that a thread slowed by another
     * (a data loader, the JIT, the system) computes fewer of them. The blocks of op(B) are packed once, by the
     * threads together (chunks of column panels, claimed in turn), into a shared buffer that holds as many consecutive
     * blocks as {@link #SHARED_B_FLOATS} allows (all of them, for the products of a training step). A thread computes
     * bands from a group once its last chunk is packed and every band of the group before is done, and packs a group
     * into the buffer of the group two before only once every band of that one is done: it waits only for work other
     * threads have taken. Each band adds the groups, and each group's blocks, in ascending order, so every element sums
     * its blocks in the same order whichever thread computes it.
     */
    private void rowBands(int threads, int tilesM, boolean transA, boolean transB, int m, int n, int k, float alpha,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
        RowBands call = new RowBands(threads, tilesM, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta,
                c, cOff);
        parallel.run(threads, w -> {
            try {
                call.task(w);
            } catch (RuntimeException | Error e) {
                call.broken.set(true); // nobody waits for what this task had taken
                throw e;
            }
        });
    }

    /** One product split by {@link #rowBands}: its blocks, their groups, and the counters its tasks share. */
    private final class RowBands {
        private final int tilesM;
        private final boolean transA;
        private final boolean transB;
        private final int m;
        private final int n;
        private final int k;
        private final float alpha;
        private final float[] a;
        private final int aOff;
        private final int lda;
        private final float[] b;
        private final int bOff;
        private final int ldb;
        private final float beta;
        private final float[] c;
        private final int cOff;
        private final int kc;
        private final int bands;
        private final int packChunks;
        private final int groupCount;
        /** Block {@code blk} covers columns {@code jc[blk]..} and depths {@code pc[blk]..} of op(B). */
        private final int[] jc;
        private final int[] pc;
        /** Where each block's panels start in its group's buffer. */
        private final int[] offset;
        /** The first block of each group, then the end. */
        private final int[] first;
        /** Column panels of each group. */
        private final int[] panels;
        /** Per group: chunks taken and packed, bands taken and done. */
        private final AtomicIntegerArray packNext;
        private final AtomicIntegerArray packed;
        private final AtomicIntegerArray bandNext;
        private final AtomicIntegerArray bandsDone;
        /** Set by a task that failed. */
        final AtomicBoolean broken = new AtomicBoolean();

        RowBands(int threads, int tilesM, boolean transA, boolean transB, int m, int n, int k, float alpha,
                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff) {
            this.tilesM = tilesM;
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.aOff = aOff;
            this.lda = lda;
            this.b = b;
            this.bOff = bOff;
            this.ldb = ldb;
            this.beta = beta;
            this.c = c;
            this.cOff = cOff;
            this.kc = depth(k);
            int blocksK = (k + kc - 1) / kc;
            int blocks = ((n + nc - 1) / nc) * blocksK;
            jc = new int[blocks];
            pc = new int[blocks];
            offset = new int[blocks];
            first = new int[blocks + 1];
            panels = new int[blocks];
            int groups = 0;
            int used = 0;
            int largest = 0;
            for (int blk = 0; blk < blocks; blk++) { // column-block-major order
                jc[blk] = blk / blocksK * nc;
                pc[blk] = blk % blocksK * kc;
                int count = (Math.min(nc, n - jc[blk]) + nr - 1) / nr;
                int size = count * nr * Math.min(kc, k - pc[blk]);
                if (blk > first[groups] && used + size > SHARED_B_FLOATS) {
                    first[++groups] = blk;
                    used = 0;
                }
                offset[blk] = used;
                used += size;
                largest = Math.max(largest, used);
                panels[groups] += count;
            }
            first[++groups] = blocks;
            groupCount = groups;
            for (int i = 0; i < sharedB.length; i++) {
                if (sharedB[i].length < largest) {
                    sharedB[i] = new float[largest];
                }
            }
            bands = Math.min(tilesM, threads * BANDS_PER_THREAD);
            packChunks = threads * PACK_CHUNKS_PER_THREAD;
            packNext = new AtomicIntegerArray(groupCount);
            packed = new AtomicIntegerArray(groupCount);
            bandNext = new AtomicIntegerArray(groupCount);
            bandsDone = new AtomicIntegerArray(groupCount);
        }

        /** Task {@code w} (its workspace): takes chunks to pack and bands to compute, group after group. */
        void task(int w) {
            Workspace ws = workspaces[w];
            int kcMax = Math.min(kc, k);
            int mcMax = Math.min(mc, roundUp(m, mr));
            if (ws.a.length < mcMax * kcMax) {
                ws.a = new float[mcMax * kcMax];
            }
            ARead read = blockRead(transA, n);
            for (int g = 0; g < groupCount; g++) {
                float[] bp = sharedB[g & 1];
                int chunks = Math.min(panels[g], packChunks);
                // the buffer's last readers, the bands of group g - 2, are done: this thread waited for them before
                // it computed from group g - 1
                for (int ch = packNext.getAndIncrement(g); ch < chunks; ch = packNext.getAndIncrement(g)) {
                    packChunk(g, (int) ((long) panels[g] * ch / chunks), (int) ((long) panels[g] * (ch + 1) / chunks),
                            bp, ws.tmp);
                    packed.incrementAndGet(g);
                }
                Parallel.awaitCount(packed, g, chunks, broken);
                if (g >= 1) { // a band adds its groups in order: the group before must be in every band
                    Parallel.awaitCount(bandsDone, g - 1, bands, broken);
                }
                for (int band = bandNext.getAndIncrement(g); band < bands; band = bandNext.getAndIncrement(g)) {
                    int m0 = bandEdge(tilesM, band, bands, mr, m);
                    int m1 = bandEdge(tilesM, band + 1, bands, mr, m);
                    if (g == 0) {
                        scale(c, cOff, n, m0, m1, 0, n, beta, k); // before any block adds to these rows
                    }
                    for (int blk = first[g]; blk < first[g + 1]; blk++) {
                        compute(ws, transA, a, aOff, lda, m0, m1, pc[blk], Math.min(kc, k - pc[blk]), bp,
                                offset[blk], Math.min(nc, n - jc[blk]), alpha, beta, c, cOff + jc[blk], n, read);
                    }
                    bandsDone.incrementAndGet(g);
                }
            }
        }

        /**
         * Packs the column panels {@code [q0, q1)} of group {@code g} (numbered block by block) into {@code bp}, with
         * the calling task's {@code tmp}.
         */
        private void packChunk(int g, int q0, int q1, float[] bp, float[] tmp) {
            for (int blk = first[g], base = 0; blk < first[g + 1] && base < q1; blk++) {
                int ncb = Math.min(nc, n - jc[blk]);
                int kcb = Math.min(kc, k - pc[blk]);
                int count = (ncb + nr - 1) / nr;
                int lo = Math.max(q0, base) - base;
                int hi = Math.min(q1, base + count) - base;
                if (lo < hi) {
                    packB(transB, b, bOff, ldb, pc[blk], kcb, jc[blk] + lo * nr, Math.min(ncb, hi * nr) - lo * nr, bp,
                            offset[blk] + lo * nr * kcb, tmp);
                }
                base += count;
            }
        }
    }

    /**
     * The sequential blocked algorithm on the slab {@code C[m0:m1, n0:n1]}, op(A) read as {@code read} says (for
     * {@link ARead#WHOLE}, {@link #packWholeA} packed it already).
     */
    private void blocked(Workspace ws, boolean transA, boolean transB, int m0, int m1, int n0, int n1, int k,
                         float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta,
                         float[] c, int cOff, int ldc, ARead read) {
        int kc = depth(k);
        int kcMax = Math.min(kc, k);
        int ncMax = Math.min(nc, roundUp(n1 - n0, nr));
        int mcMax = Math.min(mc, roundUp(m1 - m0, mr));
        if (read == ARead.PACKED && ws.a.length < mcMax * kcMax) {
            ws.a = new float[mcMax * kcMax];
        }
        if (ws.b.length < ncMax * kcMax) {
            ws.b = new float[ncMax * kcMax];
        }
        float[] bp = ws.b;
        scale(c, cOff, ldc, m0, m1, n0, n1, beta, k);
        for (int jc = n0; jc < n1; jc += nc) {
            int ncb = Math.min(nc, n1 - jc);
            for (int pc = 0; pc < k; pc += kc) {
                int kcb = Math.min(kc, k - pc);
                packB(transB, b, bOff, ldb, pc, kcb, jc, ncb, bp, 0, ws.tmp);
                compute(ws, transA, a, aOff, lda, m0, m1, pc, kcb, bp, 0, ncb, alpha, beta, c, cOff + jc, ldc,
                        read);
            }
        }
    }

    /**
     * {@code C[m0:m1, 0:ncb] += alpha * op(A)[m0:m1, pc:pc+kcb] * Bblock} for one packed block of B (at
     * {@code bp[bpOff]}, {@code ncb} columns, {@code kcb} deep); op(A) read as {@code read} says: packed into the
     * workspace mc rows at a time, from {@code ws.wholeA}, or where it lies, also for {@link ARead#PACKED} when B is
     * one narrow panel ({@link MicroKernel#directColumns}), then for an A read transposed by the kernel's
     * {@link MicroKernel#runColumnsTransposed} where it has one.
     * {@code c[cOff]} is the block's first column of row 0. With {@code beta == 0} the first block ({@code pc == 0})
     * stores {@code alpha * Ablock * Bblock} without reading C: C was not scaled (see {@link #scale}).
     */
    private void compute(Workspace ws, boolean transA, float[] a, int aOff, int lda, int m0, int m1, int pc, int kcb,
                         float[] bp, int bpOff, int ncb, float alpha, float beta, float[] c, int cOff, int ldc,
                         ARead read) {
        boolean wholeA = read == ARead.WHOLE;
        float[] ap = wholeA ? ws.wholeA : ws.a;
        boolean overwrite = beta == 0f && pc == 0;
        if (transA && !wholeA && ncb <= kernel.directColumns() && kernel.columnsTransposed()) {
            kernel.runColumnsTransposed(kcb, a, aOff + pc * lda + m0, lda, m1 - m0, bp, bpOff, c, cOff + m0 * ldc, ldc,
                    alpha, overwrite, ncb, ws.tmp);
            return;
        }
        if (read == ARead.DIRECT || (!wholeA && ncb <= kernel.directColumns())) { // A read where it lies, not packed
            int rowStride = transA ? 1 : lda;
            int depthStride = transA ? lda : 1;
            for (int ic = m0; ic < m1; ic += mc) { // mc rows at a time, as packed: they stay near the core meanwhile
                int icEnd = Math.min(m1, ic + mc);
                for (int jr = 0; jr < ncb; jr += nr) {
                    int cols = Math.min(nr, ncb - jr);
                    for (int ir = ic; ir < icEnd; ir += mr) {
                        kernel.runDirect(kcb, a, aOff + ir * rowStride + pc * depthStride, rowStride, depthStride, bp,
                                bpOff + jr * kcb, c, cOff + ir * ldc + jr, ldc, alpha, overwrite,
                                Math.min(mr, icEnd - ir), cols, ws.tmp);
                    }
                }
            }
            return;
        }
        for (int ic = m0; ic < m1; ic += mc) {
            int mcb = Math.min(mc, m1 - ic);
            int apOff;
            if (wholeA) { // the block of depths pc.. starts at wholeRows * pc, its panels in row order from row 0
                apOff = ws.wholeRows * pc + ic * kcb;
            } else {
                packA(transA, a, aOff, lda, ic, mcb, pc, kcb, ap, 0);
                apOff = 0;
            }
            for (int jr = 0; jr < ncb; jr += nr) {
                int cols = Math.min(nr, ncb - jr);
                for (int ir = 0; ir < mcb; ir += mr) {
                    int rows = Math.min(mr, mcb - ir);
                    kernel.run(kcb, ap, apOff + ir * kcb, bp, bpOff + jr * kcb, c, cOff + (ic + ir) * ldc + jr, ldc,
                            alpha, overwrite, rows, cols, ws.tmp);
                }
            }
        }
    }

    /**
     * {@code C[m0:m1, n0:n1] *= beta} (C starting at {@code c[cOff]}) before the blocks add to it. Nothing for
     * {@code beta == 1}, and nothing for {@code beta == 0} unless {@code k == 0}: the first block then overwrites C
     * (see {@link #compute}), saving a pass over C; with no block at all, zeros are stored without reading C.
     */
    private static void scale(float[] c, int cOff, int ldc, int m0, int m1, int n0, int n1, float beta, int k) {
        if (beta == 1f || (beta == 0f && k > 0)) {
            return;
        }
        for (int i = m0; i < m1; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row + n0, row + n1, 0f);
            } else {
                for (int j = n0; j < n1; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    /**
     * The depth of the packed blocks of a product {@code k} deep: as few blocks as the kernel's
     * {@link MicroKernel#maxDepth} allows, all of the same depth (with 256, 784 is 4 x 196, not 3 x 256 + 16: a block
     * a few deep would pay a whole update of C for a few multiply-adds per element).
     */
    int depth(int k) {
        int blocks = Math.max(1, (k + depthLimit - 1) / depthLimit);
        return (k + blocks - 1) / blocks;
    }

    /**
     * Where band {@code band} of {@code bands} starts, when {@code tiles} tiles of {@code unit} rows or columns (the
     * last one cut at {@code limit}) are shared out as evenly as whole tiles allow; band {@code bands} ends at
     * {@code limit}.
     */
    private static int bandEdge(int tiles, int band, int bands, int unit, int limit) {
        return Math.min(limit, (int) ((long) tiles * band / bands) * unit);
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /**
     * Packs {@code op(A)[i0:i0+mc, p0:p0+kc]} as mr-row panels: panel {@code q} starts at {@code q*mr*kc}
     * and holds, for each {@code p}, the mr values {@code op(A)[i0+q*mr+r, p0+p]} (zeros past row {@code mc});
     * A starts at {@code a[aOff]}.
     */
    private void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] ap,
                       int apOff) {
        for (int ir = 0; ir < mc; ir += mr) {
            int rows = Math.min(mr, mc - ir);
            int base = apOff + ir * kc;
            if (transA) {
                int src = aOff + p0 * lda + i0 + ir;
                if (rows == mr) {
                    kernel.packTransposedPanel(a, src, lda, kc, ap, base);
                } else {
                    packTransposedScalar(mr, rows, a, src, lda, 0, kc, ap, base);
                }
            } else {
                int src = aOff + (i0 + ir) * lda + p0;
                if (rows == mr) {
                    kernel.packRowPanel(a, src, lda, kc, ap, base);
                } else {
                    packRowsScalar(mr, rows, a, src, lda, kc, ap, base);
                }
            }
        }
    }

    /**
     * Packs {@code op(B)[p0:p0+kc, j0:j0+nc]} as NR-column panels: panel {@code q} starts at
     * {@code q*NR*kc} and holds, for each {@code p}, the NR values {@code op(B)[p0+p, j0+q*NR+c]}
     * (zeros past column {@code nc}); B starts at {@code b[bOff]}, the panels at {@code bp[bpOff]}.
     */
    private void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] bp,
                       int bpOff, float[] tmp) {
        int whole = transB ? 0 : nc / nr; // the whole panels of a B read as stored, row by row
        if (whole > 0) {
            kernel.packPanels(b, bOff + p0 * ldb + j0, ldb, kc, whole, bp, bpOff);
        }
        for (int jr = whole * nr; jr < nc; jr += nr) {
            int cols = Math.min(nr, nc - jr);
            int base = bpOff + jr * kc;
            if (transB && cols == nr) {
                kernel.packTransposedBPanel(b, bOff + (j0 + jr) * ldb + p0, ldb, kc, bp, base, tmp);
            } else if (transB) {
                packTransposedBScalar(nr, cols, b, bOff + (j0 + jr) * ldb + p0, ldb, 0, kc, bp, base);
            } else {
                kernel.packPartialPanel(b, bOff + p0 * ldb + j0 + jr, ldb, kc, cols, bp, base);
            }
        }
    }

    /**
     * {@link MicroKernel#packTransposedBPanel} for {@code from <= p < to}, one float at a time, walking each row of B
     * contiguously; only the first {@code valid} of the panel's {@code nr} columns exist in B, the others are zeros.
     */
    static void packTransposedBScalar(int nr, int valid, float[] b, int src, int ldb, int from, int to, float[] bp,
                                      int dst) {
        for (int cc = 0; cc < valid; cc++) {
            for (int p = from, s = src + cc * ldb + from; p < to; p++, s++) {
                bp[dst + p * nr + cc] = b[s];
            }
        }
        for (int cc = valid; cc < nr; cc++) {
            for (int p = from; p < to; p++) {
                bp[dst + p * nr + cc] = 0f;
            }
        }
    }

    /**
     * {@link MicroKernel#packTransposedPanel} for {@code from <= p < to}, one float at a time (a
     * {@code System.arraycopy} of six floats costs more than the copy); only the first {@code valid} of the panel's
     * {@code mr} rows exist in A, the others are zeros.
     */
    static void packTransposedScalar(int mr, int valid, float[] a, int src, int lda, int from, int to, float[] ap,
                                     int dst) {
        for (int p = from, s = src + from * lda, d = dst + from * mr; p < to; p++, s += lda, d += mr) {
            for (int r = 0; r < valid; r++) {
                ap[d + r] = a[s + r];
            }
            for (int r = valid; r < mr; r++) {
                ap[d + r] = 0f;
            }
        }
    }

    /**
     * {@link MicroKernel#packRowPanel} one row of A at a time, each walked contiguously; only the first {@code valid}
     * of the panel's {@code mr} rows exist in A, the others are zeros.
     */
    static void packRowsScalar(int mr, int valid, float[] a, int src, int lda, int kc, float[] ap, int dst) {
        for (int r = 0; r < valid; r++) {
            for (int p = 0, s = src + r * lda; p < kc; p++) {
                ap[dst + p * mr + r] = a[s + p];
            }
        }
        for (int r = valid; r < mr; r++) {
            for (int p = 0; p < kc; p++) {
                ap[dst + p * mr + r] = 0f;
            }
        }
    }

    /**
     * Adds {@code alpha *} the tile held in {@code tmp} (row-major, {@code nr} wide) to the valid part of C, or with
     * {@code overwrite} stores it there without reading C.
     */
    static void addTile(float[] tmp, int nr, float[] c, int cOff, int ldc, float alpha, boolean overwrite, int rows,
                        int cols) {
        for (int r = 0; r < rows; r++) {
            int row = cOff + r * ldc;
            for (int j = 0; j < cols; j++) {
                c[row + j] = overwrite ? alpha * tmp[r * nr + j] : Math.fma(alpha, tmp[r * nr + j], c[row + j]);
            }
        }
    }

    /** The scalar twin of the vector micro-kernel: same packed layout, a {@code MR x 8} tile. */
    static final class ScalarKernel implements MicroKernel {
        private static final int NR = 8;

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
            java.util.Arrays.fill(tmp, 0, MR * NR, 0f);
            for (int p = 0; p < kc; p++) {
                int ap = aOff + p * MR;
                int bq = bOff + p * NR;
                for (int r = 0; r < MR; r++) {
                    float av = a[ap + r];
                    int t = r * NR;
                    for (int j = 0; j < NR; j++) {
                        tmp[t + j] += av * b[bq + j];
                    }
                }
            }
            addTile(tmp, NR, c, cOff, ldc, alpha, overwrite, rows, cols);
        }
    }
}
