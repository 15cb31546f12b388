package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The 6-row SGEMM micro-kernel on the Vector API: a {@code 6 x 2L} tile of C ({@code L} = lanes of
 * {@link Simd#F}) held in 12 vector registers; per step of k, two vector loads of the packed B row, six
 * broadcasts of the packed A column and twelve FMAs. It runs where the JIT has 32 vector registers and the vector
 * holds fewer than 16 floats (NEON; AVX-512 with a narrowed shape), and for {@link CpuWinograd} on AVX-512; with 16
 * registers (AVX2) C2 spills one of its accumulators, and {@link MatmulVectorNarrow} takes its place; with 16-float
 * vectors {@link MatmulVectorWide} computes twice the rows per step. Loaded only when the Vector API is available.
 *
 * <p>C2 (JDK 25) compiles the k loop to what it says: memory-operand broadcasts ({@code vbroadcastss zmm, [mem]},
 * a load, not a shuffle on an FMA port), two loads and twelve FMAs per trip, plus about nine scalar instructions of
 * index arithmetic and loop control. Unrolling the loop by two by hand gains nothing measurable, and written with a
 * helper per row of C it made the product six times slower: the larger method crossed C2's inlining node budget
 * ({@code NodeCountInliningCutoff}, seen with {@code -XX:+PrintInlining}), so the helper and some of the Vector API
 * calls were not inlined and their vectors went through boxed objects.
 */
final class MatmulVector implements CpuMatmul.MicroKernel {
    /** Rows of the tile. */
    static final int MR = CpuMatmul.MR;
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;
    private static final int NR = 2 * L;
    /** Eight lanes, for copying the six floats of a transposed A panel's row. */
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;

    /**
     * The widest kernel the machine's vector registers hold: {@link MatmulVectorWide} when a vector holds 16 floats
     * (AVX-512, whose 32 registers hold its 24 accumulators), this one on other machines with 32 vector registers
     * (AVX-512 with a narrowed vector shape, NEON), and {@link MatmulVectorNarrow} on 16 (AVX2), where this one's
     * tile spills.
     */
    static CpuMatmul.MicroKernel widest() {
        if (L >= MatmulVectorWide.MIN_LANES) {
            return new MatmulVectorWide();
        }
        return narrow();
    }

    /**
     * The two-vector-wide kernel the machine's vector registers hold: this one with 32 (its 12 accumulators, two B
     * vectors and the broadcasts fit), {@link MatmulVectorNarrow} with 16.
     */
    static CpuMatmul.MicroKernel narrow() {
        return Simd.REGISTERS >= 32 ? new MatmulVector() : new MatmulVectorNarrow();
    }

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
        for (int p = 0; p < kc; p++) {
            int ap = aOff + p * MR;
            int bp = bOff + p * NR;
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
        }
        // the tile goes to C through tmp, whatever its shape: written out per row (full, overwrite and edge variants)
        // the method outgrew C1's register allocator ("out of virtual registers"), and the JVM then kept running C1's
        // tier-2 code of it, where vectors are boxed (over a hundred times slower), instead of moving on to C2;
        // the detour costs 2 MR stores and loads per kc steps of 2 MR FMAs
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
        if (cols == NR) {
            addRows(tmp, c, cOff, ldc, alpha, overwrite, rows);
            return;
        }
        CpuMatmul.addTile(tmp, NR, c, cOff, ldc, alpha, overwrite, rows, cols);
    }

    /**
     * The first {@code rows} rows of the tile in {@code tmp} (row-major, two vectors wide, as both kernels store it),
     * all their columns, to C.
     */
    static void addRows(float[] tmp, float[] c, int cOff, int ldc, float alpha, boolean overwrite, int rows) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        for (int r = 0, t = 0, o = cOff; r < rows; r++, t += NR, o += ldc) {
            for (int v = 0; v < NR; v += L) {
                FloatVector x = FloatVector.fromArray(S, tmp, t + v);
                (overwrite ? x.mul(av) : x.fma(av, FloatVector.fromArray(S, c, o + v))).intoArray(c, o + v);
            }
        }
    }

    @Override
    public void packPanels(float[] b, int src, int ldb, int kc, int count, float[] bp, int dst) {
        copyPanels(b, src, ldb, kc, count, bp, dst);
    }

    /**
     * {@link CpuMatmul.MicroKernel#packPanels} of the vector kernels (all are two vectors wide): two vector copies per
     * row of each panel. Reading B row by row into all the panels, where packing one panel at a time strode down B a
     * row at a time, on the 784 x 256 weights of the MLP's first layer, one thread, an AMD EPYC of family 25 (Zen 3,
     * AVX2): the product 128 x 256 x 784 took 0.97-0.98x the time it took with the panels packed one by one (three
     * processes, each alternating the two over 70 rounds); on other shapes the difference was within the noise.
     */
    static void copyPanels(float[] b, int src, int ldb, int kc, int count, float[] bp, int dst) {
        int step = NR * kc;
        for (int p = 0; p < kc; p++, src += ldb) {
            for (int q = 0, s = src, d = dst + p * NR; q < count; q++, s += NR, d += step) {
                FloatVector.fromArray(S, b, s).intoArray(bp, d);
                FloatVector.fromArray(S, b, s + L).intoArray(bp, d + L);
            }
        }
    }

    /**
     * One vector load and one store of 8 lanes per {@code p} (the scalar copy makes six of each): each store
     * also writes two floats past the {@code p}-th group of {@link #MR}, which the next {@code p} overwrites; the
     * last {@code p}, and a panel whose last load would read past A, are copied one by one.
     */
    @Override
    public void packTransposedPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
        int vectored = L >= 8 && src + (kc - 2) * lda + 8 <= a.length ? kc - 1 : 0;
        for (int p = 0, s = src, d = dst; p < vectored; p++, s += lda, d += MR) {
            FloatVector.fromArray(S8, a, s).intoArray(ap, d);
        }
        CpuMatmul.packTransposedScalar(MR, MR, a, src, lda, vectored, kc, ap, dst);
    }
}
