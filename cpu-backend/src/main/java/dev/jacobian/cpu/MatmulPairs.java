package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products of at most {@link #COLUMNS} columns with A read as stored, on sixteen-float vectors (AVX-512), every lane
 * computing: a classifier's output layer, {@code [batch, hidden] x [hidden, classes]}. A tile of one vector of columns
 * ({@link MatmulVectorWide}'s one-vector tiles) computes ten of its sixteen lanes and broadcasts an element of A for
 * every FMA, and a broadcast costs the FMA units about what an FMA does. Here each vector holds two columns of C at
 * eight depths (lane {@code 2j + q}: column {@code 2i + q} of pair {@code i}, depth {@code j} of eight): sixteen
 * floats of a row of A, loaded once, become two vectors of eight depths with each float twice ({@code rearrange}),
 * and each of those multiplies the five vectors of B's pairs at those depths. Per row and sixteen depths: one load,
 * two lane moves and ten FMAs for 160 multiply-adds, where the one-vector tiles take sixteen broadcasts and sixteen
 * FMAs. A pass computes three rows, so that each vector of B loaded serves three FMAs: with two, B's ten loads per
 * twenty FMAs bound the loop wherever the heap put B's array across cache lines (a Java array's vectors are aligned
 * only by chance), and the same product ran from 0.80x to 1.15x OpenBLAS's rate from one process to the next; three
 * rows a pass took 0.86-0.89x the time of two over seven such placements of B, and the same time where B was
 * aligned (a throwaway harness, 128x10x128, AMD EPYC family 26, Zen 5, AVX-512). Four rows a pass took 1.15x the
 * time of two: twenty accumulators, B's five vectors, four rows of A, the two lane moves' indices and a moved row
 * fill all 32 registers.
 * Each row's eight sums per column are folded at the end, two rows at a time, by three rounds of blends, a lane move
 * and an add (the JDK 21 API has no two-vector permute).
 *
 * <p>Measured (the product alone, {@code GemmRatio}, one thread, against OpenBLAS 0.3.21 with SkylakeX kernels,
 * processes alternating with the one-vector tiles of {@code f830dee}; AMD EPYC family 26, Zen 5, 2 vCPUs; the
 * machine's SGEMM peak 198.7-207.8 GFLOP/s around the runs): 128x10x128 0.93-1.15x OpenBLAS's rate over six processes
 * against 0.69-0.83x, 64x10x128 0.91-1.10x against 0.69-0.85x.
 *
 * <p>B is packed for it by {@link #pack}: groups of sixteen depths, each two halves of eight depths, each half five
 * vectors, one per pair of columns ({@link #GROUP_FLOATS} floats a group, zeros past B's columns and depths).
 *
 * <p>Every element of C is the same chain on any row and in any pass: lane {@code (j, q)} of its pair's accumulator
 * adds the depths {@code 16g + j} and {@code 16g + 8 + j} of group {@code g} in order, then the fold adds the lanes
 * {@code j} and {@code j + 4}, those sums for {@code j} and {@code j + 2}, and the last two. The bits depend on the
 * product's shape only, not on which rows a thread or a pass computes ({@link CpuMatmul} chooses this path by the
 * product's shape, so they do not depend on the thread count either).
 */
final class MatmulPairs {
    /** Most columns of C: five pairs. */
    static final int COLUMNS = 10;
    /** Depths of a group of the packed B: a row's sixteen floats of A. */
    static final int GROUP_DEPTHS = 16;
    /** Pairs of columns. */
    private static final int PAIRS = COLUMNS / 2;
    /** Lanes of a vector: sixteen floats, 512 bits. */
    static final int LANES = 16;
    private static final int L = LANES;
    /** Floats of a half group of the packed B: eight depths of the five pairs. */
    private static final int HALF_FLOATS = PAIRS * L;
    /** Floats of a group of the packed B. */
    static final int GROUP_FLOATS = 2 * HALF_FLOATS;
    /** Rows of A a pass computes. */
    private static final int ROWS = 3;
    /** Floats of a row's accumulators: one vector per pair. */
    private static final int ROW_FLOATS = PAIRS * L;
    /** Floats of {@code tmp} that {@link #run} uses: a pass's accumulators (or its rows' last sixteen depths). */
    static final int TMP_FLOATS = ROWS * ROW_FLOATS;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    /** Floats 0-7 of sixteen, each twice: the first half group's eight depths. */
    private static final VectorShuffle<Float> LOW = VectorShuffle.fromValues(S, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
            6, 7, 7);
    /** Floats 8-15, each twice. */
    private static final VectorShuffle<Float> HIGH = VectorShuffle.fromValues(S, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
            13, 13, 14, 14, 15, 15);
    /** The folds' lanes taken from their second vector: the upper half of each block of 16, 8 and 4 lanes. */
    private static final VectorMask<Float> UPPER8 = upper(8);
    private static final VectorMask<Float> UPPER4 = upper(4);
    private static final VectorMask<Float> UPPER2 = upper(2);
    /** The halves of each block of 16, 8 and 4 lanes swapped. */
    private static final VectorShuffle<Float> SWAP8 = swap(8);
    private static final VectorShuffle<Float> SWAP4 = swap(4);
    private static final VectorShuffle<Float> SWAP2 = swap(2);
    /** Where the folds leave the first row's ten sums (of the first folded vector), in column order. */
    private static final VectorShuffle<Float> FIRST_ROW = VectorShuffle.fromValues(S, 0, 1, 8, 9, 4, 5, 12, 13, 2,
            3, 0, 0, 0, 0, 0, 0);
    /** Where they leave the second row's first six sums (of the first folded vector)... */
    private static final VectorShuffle<Float> SECOND_ROW_FIRST = VectorShuffle.fromValues(S, 10, 11, 6, 7, 14, 15,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    /** ... and its last four (of the second), in lanes 6-9. */
    private static final VectorShuffle<Float> SECOND_ROW_LAST = VectorShuffle.fromValues(S, 0, 0, 0, 0, 0, 0, 0, 1,
            8, 9, 0, 0, 0, 0, 0, 0);
    /** The lanes of the second row's last four sums. */
    private static final VectorMask<Float> SECOND_ROW_LANES = VectorMask.fromLong(S, 0b1111000000L);

    private MatmulPairs() {
    }

    /** The lanes in the upper half of each block of {@code 2 * w}. */
    private static VectorMask<Float> upper(int w) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) {
            bits[i] = i % (2 * w) >= w;
        }
        return VectorMask.fromArray(S, bits, 0);
    }

    /** The halves of each block of {@code 2 * w} lanes swapped. */
    private static VectorShuffle<Float> swap(int w) {
        return VectorShuffle.fromOp(S, i -> i % (2 * w) < w ? i + w : i - w);
    }

    /**
     * {@code x}'s lanes in the lower half of each block of {@code 2w} added to the lanes {@code w} above them, and
     * {@code y}'s in the upper halves to those {@code w} below: a fold of each of two vectors into half its lanes, the
     * two side by side, in two blends, one lane move and one add.
     */
    private static FloatVector fold(FloatVector x, FloatVector y, VectorMask<Float> upper, VectorShuffle<Float> swap) {
        return x.blend(y, upper).add(y.blend(x, upper).rearrange(swap));
    }

    /** Floats of the packed B for {@code kc} depths: whole groups. */
    static int floats(int kc) {
        return (kc + GROUP_DEPTHS - 1) / GROUP_DEPTHS * GROUP_FLOATS;
    }

    /**
     * Packs {@code cols <= COLUMNS} columns of B, {@code kc} deep, element {@code (p, j)} at
     * {@code b[src + p*depthStride + j*columnStride]} (a B read as stored: {@code depthStride} its leading dimension
     * and {@code columnStride} 1; read transposed, the other way round), into {@code bq} from {@code dst}:
     * {@link #floats floats(kc)} floats, the element at {@code dst + (p/16)*GROUP_FLOATS + ((p/8)%2)*80 + (j/2)*16 +
     * 2*(p%8) + j%2}, zeros past B's columns and depths.
     */
    static void pack(float[] b, int src, int depthStride, int columnStride, int kc, int cols, float[] bq, int dst) {
        int end = floats(kc) / GROUP_FLOATS * GROUP_DEPTHS;
        int p = 0;
        if (cols == COLUMNS && columnStride == 1) { // a B as stored with the output layer's ten columns
            for (int s = src; p < kc; p++, s += depthStride) {
                int d = at(dst, p);
                bq[d] = b[s];
                bq[d + 1] = b[s + 1];
                bq[d + L] = b[s + 2];
                bq[d + L + 1] = b[s + 3];
                bq[d + 2 * L] = b[s + 4];
                bq[d + 2 * L + 1] = b[s + 5];
                bq[d + 3 * L] = b[s + 6];
                bq[d + 3 * L + 1] = b[s + 7];
                bq[d + 4 * L] = b[s + 8];
                bq[d + 4 * L + 1] = b[s + 9];
            }
        }
        for (; p < end; p++) {
            int d = at(dst, p);
            for (int j = 0; j < COLUMNS; j++) {
                bq[d + (j >> 1) * L + (j & 1)] = p < kc && j < cols ? b[src + p * depthStride + j * columnStride] : 0f;
            }
        }
    }

    /** Where depth {@code p}'s lanes of the first pair lie in a packed B that starts at {@code dst}. */
    private static int at(int dst, int p) {
        return dst + p / GROUP_DEPTHS * GROUP_FLOATS + (p >> 3 & 1) * HALF_FLOATS + 2 * (p & 7);
    }

    /**
     * {@code C[0:rows, 0:cols] = alpha * A * B} (added to C, or with {@code overwrite} stored without reading it) for
     * A's {@code rows} rows as stored, row {@code r}'s element {@code p} at {@code a[aOff + r*lda + p]}, and B packed
     * by {@link #pack} at {@code bq[bOff]}, {@code kc} deep; C's row {@code r} at {@code c[cOff + r*ldc]}; nothing
     * outside the {@code rows x cols} is written. {@code tmp}: at least {@link #TMP_FLOATS} floats.
     */
    static void run(int kc, float[] a, int aOff, int lda, int rows, float[] bq, int bOff, float[] c, int cOff,
                    int ldc, float alpha, boolean overwrite, int cols, float[] tmp) {
        for (int r = 0; r < rows; r += ROWS) { // the last pass's missing rows read its first row, their sums not stored
            int x = aOff + r * lda;
            int cx = cOff + r * ldc;
            threeRows(kc, a, x, r + 1 < rows ? x + lda : x, r + 2 < rows ? x + 2 * lda : x, bq, bOff, c, cx,
                    r + 1 < rows ? cx + ldc : -1, r + 2 < rows ? cx + 2 * ldc : -1, alpha, overwrite, cols, tmp);
        }
    }

    /**
     * Rows {@code x}, {@code y} and {@code z} of A (offsets of their first depth) into C's rows at {@code cx},
     * {@code cy} and {@code cz} (a negative one: that row's sums are not stored). The fifteen accumulators go through
     * {@code tmp} to {@link #foldAndStore}: with the fold in this method, the JIT stopped inlining the Vector API's
     * calls into it (its node count), and as arguments they would be boxed.
     */
    private static void threeRows(int kc, float[] a, int x, int y, int z, float[] bq, int bOff, float[] c, int cx,
                                  int cy, int cz, float alpha, boolean overwrite, int cols, float[] tmp) {
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector s4 = s0;
        FloatVector t0 = s0;
        FloatVector t1 = s0;
        FloatVector t2 = s0;
        FloatVector t3 = s0;
        FloatVector t4 = s0;
        FloatVector u0 = s0;
        FloatVector u1 = s0;
        FloatVector u2 = s0;
        FloatVector u3 = s0;
        FloatVector u4 = s0;
        // the whole groups from A, then the last depths (fewer than sixteen) from tmp, copied there with zeros after
        // them (B's are zeros too): one loop, which the JIT compiles once
        int whole = kc - kc % GROUP_DEPTHS;
        int q = bOff;
        for (int part = 0; part < 2; part++) {
            float[] src = a;
            int xs = x;
            int ys = y;
            int zs = z;
            int end = whole;
            if (part == 1) {
                if (whole == kc) {
                    break;
                }
                for (int i = 0, rest = kc - whole; i < L; i++) {
                    tmp[i] = i < rest ? a[x + whole + i] : 0f;
                    tmp[L + i] = i < rest ? a[y + whole + i] : 0f;
                    tmp[2 * L + i] = i < rest ? a[z + whole + i] : 0f;
                }
                src = tmp;
                xs = 0;
                ys = L;
                zs = 2 * L;
                end = GROUP_DEPTHS;
            }
            for (int p = 0; p < end; p += GROUP_DEPTHS, q += GROUP_FLOATS) {
                FloatVector ax = FloatVector.fromArray(S, src, xs + p);
                FloatVector ay = FloatVector.fromArray(S, src, ys + p);
                FloatVector az = FloatVector.fromArray(S, src, zs + p);
                FloatVector b0 = FloatVector.fromArray(S, bq, q);
                FloatVector b1 = FloatVector.fromArray(S, bq, q + L);
                FloatVector b2 = FloatVector.fromArray(S, bq, q + 2 * L);
                FloatVector b3 = FloatVector.fromArray(S, bq, q + 3 * L);
                FloatVector b4 = FloatVector.fromArray(S, bq, q + 4 * L);
                FloatVector lo = ax.rearrange(LOW);
                s0 = lo.fma(b0, s0);
                s1 = lo.fma(b1, s1);
                s2 = lo.fma(b2, s2);
                s3 = lo.fma(b3, s3);
                s4 = lo.fma(b4, s4);
                lo = ay.rearrange(LOW);
                t0 = lo.fma(b0, t0);
                t1 = lo.fma(b1, t1);
                t2 = lo.fma(b2, t2);
                t3 = lo.fma(b3, t3);
                t4 = lo.fma(b4, t4);
                lo = az.rearrange(LOW);
                u0 = lo.fma(b0, u0);
                u1 = lo.fma(b1, u1);
                u2 = lo.fma(b2, u2);
                u3 = lo.fma(b3, u3);
                u4 = lo.fma(b4, u4);
                b0 = FloatVector.fromArray(S, bq, q + HALF_FLOATS);
                b1 = FloatVector.fromArray(S, bq, q + HALF_FLOATS + L);
                b2 = FloatVector.fromArray(S, bq, q + HALF_FLOATS + 2 * L);
                b3 = FloatVector.fromArray(S, bq, q + HALF_FLOATS + 3 * L);
                b4 = FloatVector.fromArray(S, bq, q + HALF_FLOATS + 4 * L);
                FloatVector hi = ax.rearrange(HIGH);
                s0 = hi.fma(b0, s0);
                s1 = hi.fma(b1, s1);
                s2 = hi.fma(b2, s2);
                s3 = hi.fma(b3, s3);
                s4 = hi.fma(b4, s4);
                hi = ay.rearrange(HIGH);
                t0 = hi.fma(b0, t0);
                t1 = hi.fma(b1, t1);
                t2 = hi.fma(b2, t2);
                t3 = hi.fma(b3, t3);
                t4 = hi.fma(b4, t4);
                hi = az.rearrange(HIGH);
                u0 = hi.fma(b0, u0);
                u1 = hi.fma(b1, u1);
                u2 = hi.fma(b2, u2);
                u3 = hi.fma(b3, u3);
                u4 = hi.fma(b4, u4);
            }
        }
        s0.intoArray(tmp, 0);
        s1.intoArray(tmp, L);
        s2.intoArray(tmp, 2 * L);
        s3.intoArray(tmp, 3 * L);
        s4.intoArray(tmp, 4 * L);
        t0.intoArray(tmp, ROW_FLOATS);
        t1.intoArray(tmp, ROW_FLOATS + L);
        t2.intoArray(tmp, ROW_FLOATS + 2 * L);
        t3.intoArray(tmp, ROW_FLOATS + 3 * L);
        t4.intoArray(tmp, ROW_FLOATS + 4 * L);
        u0.intoArray(tmp, 2 * ROW_FLOATS);
        u1.intoArray(tmp, 2 * ROW_FLOATS + L);
        u2.intoArray(tmp, 2 * ROW_FLOATS + 2 * L);
        u3.intoArray(tmp, 2 * ROW_FLOATS + 3 * L);
        u4.intoArray(tmp, 2 * ROW_FLOATS + 4 * L);
        foldAndStore(tmp, 0, ROW_FLOATS, c, cx, cy, alpha, overwrite, cols);
        if (cz >= 0) {
            foldAndStore(tmp, 2 * ROW_FLOATS, 2 * ROW_FLOATS, c, cz, -1, alpha, overwrite, cols);
        }
    }

    /**
     * Folds two rows' accumulators, each row's five pairs in {@code tmp} from {@code xo} and {@code yo} (the same
     * offset for one row), into their sums, and adds {@code alpha} times them to C's rows at {@code cx} and
     * {@code cy} ({@code cy < 0}: the second row's are not stored), or stores them there ({@code overwrite}).
     */
    private static void foldAndStore(float[] tmp, int xo, int yo, float[] c, int cx, int cy, float alpha,
                                     boolean overwrite, int cols) {
        // depths j and j + 4 (the first row's pairs 0 and 1 side by side, 2 and 3, 4 and the second's 0, its 1 and 2,
        // 3 and 4)
        FloatVector u0 = fold(FloatVector.fromArray(S, tmp, xo), FloatVector.fromArray(S, tmp, xo + L), UPPER8,
                SWAP8);
        FloatVector u1 = fold(FloatVector.fromArray(S, tmp, xo + 2 * L), FloatVector.fromArray(S, tmp, xo + 3 * L),
                UPPER8, SWAP8);
        FloatVector u2 = fold(FloatVector.fromArray(S, tmp, xo + 4 * L), FloatVector.fromArray(S, tmp, yo), UPPER8,
                SWAP8);
        FloatVector u3 = fold(FloatVector.fromArray(S, tmp, yo + L), FloatVector.fromArray(S, tmp, yo + 2 * L),
                UPPER8, SWAP8);
        FloatVector u4 = fold(FloatVector.fromArray(S, tmp, yo + 3 * L), FloatVector.fromArray(S, tmp, yo + 4 * L),
                UPPER8, SWAP8);
        // depths j and j + 2
        FloatVector v0 = fold(u0, u1, UPPER4, SWAP4);
        FloatVector v1 = fold(u2, u3, UPPER4, SWAP4);
        FloatVector v2 = fold(u4, u4, UPPER4, SWAP4);
        // depths 0 and 1: all of the first row's sums and the second's first six in w0, its last four in w1
        FloatVector w0 = fold(v0, v1, UPPER2, SWAP2);
        FloatVector w1 = fold(v2, v2, UPPER2, SWAP2);
        VectorMask<Float> m = S.indexInRange(0, cols);
        FloatVector av = FloatVector.broadcast(S, alpha);
        FloatVector first = w0.rearrange(FIRST_ROW);
        (overwrite ? first.mul(av) : first.fma(av, FloatVector.fromArray(S, c, cx, m))).intoArray(c, cx, m);
        if (cy >= 0) {
            FloatVector w = w0.rearrange(SECOND_ROW_FIRST).blend(w1.rearrange(SECOND_ROW_LAST), SECOND_ROW_LANES);
            (overwrite ? w.mul(av) : w.fma(av, FloatVector.fromArray(S, c, cy, m))).intoArray(c, cy, m);
        }
    }
}
