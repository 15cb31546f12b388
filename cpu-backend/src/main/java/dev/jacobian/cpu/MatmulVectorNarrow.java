package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SGEMM micro-kernel for machines with 16 vector registers (x86 without AVX-512: AVX2, or SSE when the vector
 * shape is narrowed): a {@code 4 x 2L} tile of C in 8 registers; per step of k, two vector loads of the packed B row,
 * four broadcasts of the packed A column and eight FMAs. Loaded only when the Vector API is available.
 *
 * <p>Why not six rows, as {@link MatmulVector} (the BLIS shape for AVX2): its twelve accumulators, two B vectors and
 * one broadcast need 15 of the 16 registers, and C2 (JDK 25) hoists the broadcasts, which are loads, ahead of the
 * FMAs that use them; with three in flight one accumulator no longer fits, and C2 keeps it on the stack: a load, an
 * FMA and a store per step of k, whose chain through memory (store-to-load forwarding plus the FMA's latency) then
 * sets the loop's pace. Seen in the compiled loop ({@code -XX:CompileCommand=print} with hsdis) on an AMD EPYC of
 * family 25 (Zen 3, AVX2): alone on packed panels in cache, against the machine's measured peak that hour (OpenBLAS's
 * whole 1024^3 product on one thread, 90 GFLOP/s), the 6-row kernel ran at 0.47-0.49x, five rows (ten accumulators)
 * at 0.39-0.41x, these four rows at 0.97-1.02x. Eight accumulators still cover the FMA's latency times its
 * throughput (4 cycles x 2 per cycle) on Zen 3 and on Intel's cores since Skylake.
 *
 * <p>The k loop steps the panels' offsets as its own variables ({@code ap += 4}, {@code bp += 16}, bounded by A's
 * end), as {@link MatmulVectorWide} does. Written as {@code p} from 0 to {@code kc} with both offsets computed from
 * {@code p}, C2 (JDK 25) derived them anew each step (a move, a shift, an add, a lea and a sign extension: 22
 * instructions per eight FMAs, against 19 now). On the Zen 3 machine below, the loop alone on panels in cache then ran at 0.73x this form's
 * speed (alternating in one process), and whole products at 0.82-0.97x (1.03-1.14x for this form on one thread,
 * 1.05-1.23x on two, across the squares and the MLP's products; the sums are the same bit for bit).
 *
 * <p>A whole tile goes from the registers straight to C (eight vector FMAs and stores, or multiplies for an
 * overwrite); an edge tile goes through {@code tmp}, as in {@link MatmulVector}, whose comment in {@code run} says why
 * that kernel does so for every tile. With eight accumulators the direct stores leave C1's register allocator enough
 * room ({@code MicroKernelChoiceTest} checks both compilers take the method). On that machine two single runs of
 * {@code benchmarks/run-gemm-ratio.sh} put the whole product at 0.78x then 0.85x OpenBLAS at 1024^3 and 0.77x then
 * 0.94x on the weight gradient 784x256x128 (A transposed); jars run alternately, two processes each, showed a gain
 * larger than the 10-25% spread between processes only on the smaller products (256x128x128 with A transposed).
 */
final class MatmulVectorNarrow implements CpuMatmul.MicroKernel {
    /** Rows of the tile. */
    static final int MR = 4;
    private static final VectorSpecies<Float> S = Simd.F;
    private static final int L = Simd.L;
    private static final int NR = 2 * L;
    /** Four lanes: one row of a transposed A panel. */
    private static final VectorSpecies<Float> S4 = FloatVector.SPECIES_128;
    /**
     * Blocks up to 512 deep: a B micro-panel of 512 x 16 floats is 32 KiB, Zen 3's L1 data cache, and half as
     * many blocks as with 256 update C half as often. Each update of C reads and writes the tile's rows, which in a
     * large product were last touched a whole C earlier and come from L3 or memory.
     */
    static final int MAX_DEPTH = 512;
    /**
     * Rows of a packed A block: 24 rows of 512 are 48 KiB, so the A block and the B micro-panel stay in L2 together.
     */
    static final int BLOCK_ROWS = 24;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    /**
     * {@value #MAX_DEPTH}. Against 256-deep blocks of 144 rows, alternating in one process on an AMD EPYC of family 25
     * (Zen 3, AVX2, 2 vCPUs), the median of 30 per-round ratios: one thread 1.25x as fast at 1024^3, 1.14x at 2048^3,
     * 1.16x at 512^3, 0.99-1.04x on the MLP's products; two threads 1.17x at 1024^3, 1.11x at 128x256x784, 1.01x on
     * the weight gradient 784x256x128.
     */
    @Override
    public int maxDepth() {
        return MAX_DEPTH;
    }

    /**
     * {@value #BLOCK_ROWS}: against 48 rows in the same kind of runs, 1.06x as fast at 1024^3 on one thread, 1.03x on
     * two, within 2% on the MLP's products; 96 rows were no faster than 48.
     */
    @Override
    public int blockRows() {
        return BLOCK_ROWS;
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
        // the panels' offsets as the loop's own variables, bounded by A's end (see the class comment)
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
        if (cols == NR && rows == MR) {
            // a whole tile straight from the registers (the detour through tmp costs 2 MR stores and loads per tile)
            FloatVector av = FloatVector.broadcast(S, alpha);
            int o1 = cOff + ldc;
            int o2 = o1 + ldc;
            int o3 = o2 + ldc;
            if (overwrite) {
                c00.mul(av).intoArray(c, cOff);
                c01.mul(av).intoArray(c, cOff + L);
                c10.mul(av).intoArray(c, o1);
                c11.mul(av).intoArray(c, o1 + L);
                c20.mul(av).intoArray(c, o2);
                c21.mul(av).intoArray(c, o2 + L);
                c30.mul(av).intoArray(c, o3);
                c31.mul(av).intoArray(c, o3 + L);
            } else {
                c00.fma(av, FloatVector.fromArray(S, c, cOff)).intoArray(c, cOff);
                c01.fma(av, FloatVector.fromArray(S, c, cOff + L)).intoArray(c, cOff + L);
                c10.fma(av, FloatVector.fromArray(S, c, o1)).intoArray(c, o1);
                c11.fma(av, FloatVector.fromArray(S, c, o1 + L)).intoArray(c, o1 + L);
                c20.fma(av, FloatVector.fromArray(S, c, o2)).intoArray(c, o2);
                c21.fma(av, FloatVector.fromArray(S, c, o2 + L)).intoArray(c, o2 + L);
                c30.fma(av, FloatVector.fromArray(S, c, o3)).intoArray(c, o3);
                c31.fma(av, FloatVector.fromArray(S, c, o3 + L)).intoArray(c, o3 + L);
            }
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
        if (cols == NR) {
            MatmulVector.addRows(tmp, c, cOff, ldc, alpha, overwrite, rows);
            return;
        }
        CpuMatmul.addTile(tmp, NR, c, cOff, ldc, alpha, overwrite, rows, cols);
    }

    @Override
    public void packPanels(float[] b, int src, int ldb, int kc, int count, float[] bp, int dst) {
        MatmulVector.copyPanels(b, src, ldb, kc, count, bp, dst);
    }

    /**
     * Eight p at a time by {@link PackTranspose8} on 8-float vectors: a block of the panel's first eight columns, then
     * of the next eight; the last {@code kc % 8} (and every p on other vector shapes) one float at a time.
     */
    @Override
    public void packTransposedBPanel(float[] b, int src, int ldb, int kc, float[] bp, int dst, float[] tmp) {
        int l = PackTranspose8.L;
        int blocked = L == l ? kc - kc % l : 0;
        for (int p = 0; p < blocked; p += l) {
            PackTranspose8.block(b, src + p, ldb, bp, dst + p * NR, NR);
            PackTranspose8.block(b, src + l * ldb + p, ldb, bp, dst + p * NR + l, NR);
        }
        CpuMatmul.packTransposedBScalar(NR, NR, b, src, ldb, blocked, kc, bp, dst);
    }

    /**
     * Eight p at a time by {@link PackTranspose8#fourRows} (the four rows' next eight floats, transposed in registers),
     * the last {@code kc % 8} (and every p on other vector shapes) one float at a time. Against the scalar copy (a load
     * and a store per float), alternating in one process on an AMD EPYC of family 25 (Zen 3, AVX2), the same sums bit
     * for bit: the MLP's products with A read as stored 1.02-1.13x as fast on one thread (128x256x784 1.10x,
     * 128x128x256 1.13x), 1.04-1.15x on two, the last layer's 128x10x128 1.6x; 512^3 unchanged.
     */
    @Override
    public void packRowPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
        int l = PackTranspose8.L;
        int blocked = L == l ? kc - kc % l : 0;
        for (int p = 0; p < blocked; p += l) {
            PackTranspose8.fourRows(a, src + p, lda, ap, dst + p * MR);
        }
        for (int p = blocked, d = dst + blocked * MR; p < kc; p++, d += MR) {
            ap[d] = a[src + p];
            ap[d + 1] = a[src + lda + p];
            ap[d + 2] = a[src + 2 * lda + p];
            ap[d + 3] = a[src + 3 * lda + p];
        }
    }

    /** One 4-lane vector copy per {@code p}; a panel whose last rows end past A is finished one float at a time. */
    @Override
    public void packTransposedPanel(float[] a, int src, int lda, int kc, float[] ap, int dst) {
        int room = a.length - MR - src;
        int vectored = room < 0 ? 0 : Math.min(kc, room / lda + 1);
        for (int p = 0, s = src, d = dst; p < vectored; p++, s += lda, d += MR) {
            FloatVector.fromArray(S4, a, s).intoArray(ap, d);
        }
        CpuMatmul.packTransposedScalar(MR, MR, a, src, lda, vectored, kc, ap, dst);
    }
}
