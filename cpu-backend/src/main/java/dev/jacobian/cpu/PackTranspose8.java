package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packs a B read transposed for {@link MatmulVectorNarrow} on 8-float vectors (AVX2) in 8 x 8 blocks transposed in
 * registers, as {@link PackTranspose16} does in 16 x 16 blocks for AVX-512: eight rows of B (eight columns of op(B))
 * are loaded eight floats at a time, transposed in three rounds of one lane permute and one blend per row, and stored
 * as eight rows of the panel. Round {@code h} (4, 2, 1) swaps, in each pair of rows {@code i} and {@code i + h}
 * ({@code i & h == 0}), the lanes {@code j} of row {@code i} with {@code j & h != 0} and the lanes {@code j - h} of
 * row {@code i + h}, so after the three rounds element {@code (r, c)} is at {@code (c, r)}.
 *
 * <p>Measured alone, alternating with the scalar copy (whose stores land {@code NR} floats apart) in one process:
 * packing the 784 x 256 B of the input gradient's product took 0.45-0.50x its time (an AMD EPYC of family 25, Zen 3,
 * AVX2; measured SGEMM peak that hour 86-91 GFLOP/s). Loaded only when the Vector API is available and a vector
 * holds 8 floats.
 */
final class PackTranspose8 {
    /** Floats per vector and rows (and columns) of a block. */
    static final int L = 8;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    // round h's constants, h = 4, 2, 1: DOWN moves lane j - h to lane j, UP moves lane j + h to lane j, and BIT
    // selects the lanes j with j & h != 0
    private static final VectorShuffle<Float> DOWN4 = LaneMoves.shift(S, 4, -1);
    private static final VectorShuffle<Float> UP4 = LaneMoves.shift(S, 4, 1);
    private static final VectorMask<Float> BIT4 = LaneMoves.lanesWith(S, 4);
    private static final VectorShuffle<Float> DOWN2 = LaneMoves.shift(S, 2, -1);
    private static final VectorShuffle<Float> UP2 = LaneMoves.shift(S, 2, 1);
    private static final VectorMask<Float> BIT2 = LaneMoves.lanesWith(S, 2);
    private static final VectorShuffle<Float> DOWN1 = LaneMoves.shift(S, 1, -1);
    private static final VectorShuffle<Float> UP1 = LaneMoves.shift(S, 1, 1);
    private static final VectorMask<Float> BIT1 = LaneMoves.lanesWith(S, 1);
    /** Lane {@code 4*p0 + r} from lane {@code 2*r + p0}: see {@link #fourRows}. */
    private static final VectorShuffle<Float> ROWS_OUTER = VectorShuffle.fromValues(S, 0, 2, 4, 6, 1, 3, 5, 7);

    private PackTranspose8() {
    }

    /**
     * The transpose of the 8 x 8 block whose row {@code r} is {@code b[src + r*ldb ... + 8]}: its column {@code q}
     * goes to {@code bp[dst + q*stride ... + 8]}.
     */
    static void block(float[] b, int src, int ldb, float[] bp, int dst, int stride) {
        FloatVector a0 = FloatVector.fromArray(S, b, src);
        FloatVector a1 = FloatVector.fromArray(S, b, src + ldb);
        FloatVector a2 = FloatVector.fromArray(S, b, src + 2 * ldb);
        FloatVector a3 = FloatVector.fromArray(S, b, src + 3 * ldb);
        FloatVector a4 = FloatVector.fromArray(S, b, src + 4 * ldb);
        FloatVector a5 = FloatVector.fromArray(S, b, src + 5 * ldb);
        FloatVector a6 = FloatVector.fromArray(S, b, src + 6 * ldb);
        FloatVector a7 = FloatVector.fromArray(S, b, src + 7 * ldb);
        FloatVector c0 = a0.blend(a4.rearrange(DOWN4), BIT4);
        FloatVector c4 = a0.rearrange(UP4).blend(a4, BIT4);
        FloatVector c1 = a1.blend(a5.rearrange(DOWN4), BIT4);
        FloatVector c5 = a1.rearrange(UP4).blend(a5, BIT4);
        FloatVector c2 = a2.blend(a6.rearrange(DOWN4), BIT4);
        FloatVector c6 = a2.rearrange(UP4).blend(a6, BIT4);
        FloatVector c3 = a3.blend(a7.rearrange(DOWN4), BIT4);
        FloatVector c7 = a3.rearrange(UP4).blend(a7, BIT4);
        FloatVector d0 = c0.blend(c2.rearrange(DOWN2), BIT2);
        FloatVector d2 = c0.rearrange(UP2).blend(c2, BIT2);
        FloatVector d1 = c1.blend(c3.rearrange(DOWN2), BIT2);
        FloatVector d3 = c1.rearrange(UP2).blend(c3, BIT2);
        FloatVector d4 = c4.blend(c6.rearrange(DOWN2), BIT2);
        FloatVector d6 = c4.rearrange(UP2).blend(c6, BIT2);
        FloatVector d5 = c5.blend(c7.rearrange(DOWN2), BIT2);
        FloatVector d7 = c5.rearrange(UP2).blend(c7, BIT2);
        d0.blend(d1.rearrange(DOWN1), BIT1).intoArray(bp, dst);
        d0.rearrange(UP1).blend(d1, BIT1).intoArray(bp, dst + stride);
        d2.blend(d3.rearrange(DOWN1), BIT1).intoArray(bp, dst + 2 * stride);
        d2.rearrange(UP1).blend(d3, BIT1).intoArray(bp, dst + 3 * stride);
        d4.blend(d5.rearrange(DOWN1), BIT1).intoArray(bp, dst + 4 * stride);
        d4.rearrange(UP1).blend(d5, BIT1).intoArray(bp, dst + 5 * stride);
        d6.blend(d7.rearrange(DOWN1), BIT1).intoArray(bp, dst + 6 * stride);
        d6.rearrange(UP1).blend(d7, BIT1).intoArray(bp, dst + 7 * stride);
    }

    /**
     * The transpose of the 4 x 8 block whose row {@code r} is {@code a[src + r*lda ... + 8]}: its column {@code p} goes
     * to {@code ap[dst + 4*p ... + 4]}, 32 consecutive floats (eight p of a packed four-row A panel). A lane's index
     * holds a row's bits and a column's; two rounds each swap one bit of the vector's index (the row) with one of the
     * lane's (the column), as {@link #block} does, and one permutation in each vector then orders its lanes.
     */
    static void fourRows(float[] a, int src, int lda, float[] ap, int dst) {
        FloatVector v0 = FloatVector.fromArray(S, a, src);
        FloatVector v1 = FloatVector.fromArray(S, a, src + lda);
        FloatVector v2 = FloatVector.fromArray(S, a, src + 2 * lda);
        FloatVector v3 = FloatVector.fromArray(S, a, src + 3 * lda);
        // row bit 1 <-> column bit 2: w[2 * p2 + r0] holds lanes (r1, p1, p0)
        FloatVector w0 = v0.blend(v2.rearrange(DOWN4), BIT4);
        FloatVector w2 = v0.rearrange(UP4).blend(v2, BIT4);
        FloatVector w1 = v1.blend(v3.rearrange(DOWN4), BIT4);
        FloatVector w3 = v1.rearrange(UP4).blend(v3, BIT4);
        // row bit 0 <-> column bit 1: x[2 * p2 + p1] holds lanes (r1, r0, p0), columns 2k and 2k + 1 in x[k]
        w0.blend(w1.rearrange(DOWN2), BIT2).rearrange(ROWS_OUTER).intoArray(ap, dst);
        w0.rearrange(UP2).blend(w1, BIT2).rearrange(ROWS_OUTER).intoArray(ap, dst + L);
        w2.blend(w3.rearrange(DOWN2), BIT2).rearrange(ROWS_OUTER).intoArray(ap, dst + 2 * L);
        w2.rearrange(UP2).blend(w3, BIT2).rearrange(ROWS_OUTER).intoArray(ap, dst + 3 * L);
    }
}
