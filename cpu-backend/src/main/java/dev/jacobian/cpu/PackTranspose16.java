package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packs a B read transposed for {@link MatmulVectorWide} in 16 x 16 blocks transposed in registers: sixteen rows of B
 * (sixteen columns of op(B)) are loaded sixteen floats at a time, transposed in four rounds of one lane permute and
 * one blend per row, and stored as sixteen rows of the panel. The scalar copy makes one load and one store per float,
 * with the stores {@code NR} floats apart; this makes 2/16 of a load and a store, 4/16 of a permute and 4/16 of a
 * blend per float.
 *
 * <p>Round {@code h} (8, 4, 2, 1) swaps, in each pair of rows {@code i} and {@code i + h} ({@code i & h == 0}), the
 * lanes {@code j} of row {@code i} with {@code j & h != 0} and the lanes {@code j - h} of row {@code i + h}: every
 * element whose row and lane differ in bit {@code h} crosses, so after the four rounds element {@code (r, c)} is at
 * {@code (c, r)}. Loaded only when the Vector API is available and a vector holds 16 floats.
 */
final class PackTranspose16 {
    /** Floats per vector and rows (and columns) of a block. */
    static final int L = 16;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    // round h's constants, h = 8, 4, 2, 1: DOWN moves lane j - h to lane j, UP moves lane j + h to lane j, and BIT
    // selects the lanes j with j & h != 0
    private static final VectorShuffle<Float> DOWN8 = LaneMoves.shift(S, 8, -1);
    private static final VectorShuffle<Float> UP8 = LaneMoves.shift(S, 8, 1);
    private static final VectorMask<Float> BIT8 = LaneMoves.lanesWith(S, 8);
    private static final VectorShuffle<Float> DOWN4 = LaneMoves.shift(S, 4, -1);
    private static final VectorShuffle<Float> UP4 = LaneMoves.shift(S, 4, 1);
    private static final VectorMask<Float> BIT4 = LaneMoves.lanesWith(S, 4);
    private static final VectorShuffle<Float> DOWN2 = LaneMoves.shift(S, 2, -1);
    private static final VectorShuffle<Float> UP2 = LaneMoves.shift(S, 2, 1);
    private static final VectorMask<Float> BIT2 = LaneMoves.lanesWith(S, 2);
    private static final VectorShuffle<Float> DOWN1 = LaneMoves.shift(S, 1, -1);
    private static final VectorShuffle<Float> UP1 = LaneMoves.shift(S, 1, 1);
    private static final VectorMask<Float> BIT1 = LaneMoves.lanesWith(S, 1);

    private PackTranspose16() {
    }

    /**
     * The transpose of the 16 x 16 block whose row {@code r} is {@code b[src + r*ldb ... + 16]}: its column
     * {@code q} goes to {@code bp[dst + q*stride ... + 16]}.
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
        FloatVector a8 = FloatVector.fromArray(S, b, src + 8 * ldb);
        FloatVector a9 = FloatVector.fromArray(S, b, src + 9 * ldb);
        FloatVector a10 = FloatVector.fromArray(S, b, src + 10 * ldb);
        FloatVector a11 = FloatVector.fromArray(S, b, src + 11 * ldb);
        FloatVector a12 = FloatVector.fromArray(S, b, src + 12 * ldb);
        FloatVector a13 = FloatVector.fromArray(S, b, src + 13 * ldb);
        FloatVector a14 = FloatVector.fromArray(S, b, src + 14 * ldb);
        FloatVector a15 = FloatVector.fromArray(S, b, src + 15 * ldb);
        FloatVector b0 = a0.blend(a8.rearrange(DOWN8), BIT8);
        FloatVector b8 = a0.rearrange(UP8).blend(a8, BIT8);
        FloatVector b1 = a1.blend(a9.rearrange(DOWN8), BIT8);
        FloatVector b9 = a1.rearrange(UP8).blend(a9, BIT8);
        FloatVector b2 = a2.blend(a10.rearrange(DOWN8), BIT8);
        FloatVector b10 = a2.rearrange(UP8).blend(a10, BIT8);
        FloatVector b3 = a3.blend(a11.rearrange(DOWN8), BIT8);
        FloatVector b11 = a3.rearrange(UP8).blend(a11, BIT8);
        FloatVector b4 = a4.blend(a12.rearrange(DOWN8), BIT8);
        FloatVector b12 = a4.rearrange(UP8).blend(a12, BIT8);
        FloatVector b5 = a5.blend(a13.rearrange(DOWN8), BIT8);
        FloatVector b13 = a5.rearrange(UP8).blend(a13, BIT8);
        FloatVector b6 = a6.blend(a14.rearrange(DOWN8), BIT8);
        FloatVector b14 = a6.rearrange(UP8).blend(a14, BIT8);
        FloatVector b7 = a7.blend(a15.rearrange(DOWN8), BIT8);
        FloatVector b15 = a7.rearrange(UP8).blend(a15, BIT8);
        FloatVector c0 = b0.blend(b4.rearrange(DOWN4), BIT4);
        FloatVector c4 = b0.rearrange(UP4).blend(b4, BIT4);
        FloatVector c1 = b1.blend(b5.rearrange(DOWN4), BIT4);
        FloatVector c5 = b1.rearrange(UP4).blend(b5, BIT4);
        FloatVector c2 = b2.blend(b6.rearrange(DOWN4), BIT4);
        FloatVector c6 = b2.rearrange(UP4).blend(b6, BIT4);
        FloatVector c3 = b3.blend(b7.rearrange(DOWN4), BIT4);
        FloatVector c7 = b3.rearrange(UP4).blend(b7, BIT4);
        FloatVector c8 = b8.blend(b12.rearrange(DOWN4), BIT4);
        FloatVector c12 = b8.rearrange(UP4).blend(b12, BIT4);
        FloatVector c9 = b9.blend(b13.rearrange(DOWN4), BIT4);
        FloatVector c13 = b9.rearrange(UP4).blend(b13, BIT4);
        FloatVector c10 = b10.blend(b14.rearrange(DOWN4), BIT4);
        FloatVector c14 = b10.rearrange(UP4).blend(b14, BIT4);
        FloatVector c11 = b11.blend(b15.rearrange(DOWN4), BIT4);
        FloatVector c15 = b11.rearrange(UP4).blend(b15, BIT4);
        FloatVector d0 = c0.blend(c2.rearrange(DOWN2), BIT2);
        FloatVector d2 = c0.rearrange(UP2).blend(c2, BIT2);
        FloatVector d1 = c1.blend(c3.rearrange(DOWN2), BIT2);
        FloatVector d3 = c1.rearrange(UP2).blend(c3, BIT2);
        FloatVector d4 = c4.blend(c6.rearrange(DOWN2), BIT2);
        FloatVector d6 = c4.rearrange(UP2).blend(c6, BIT2);
        FloatVector d5 = c5.blend(c7.rearrange(DOWN2), BIT2);
        FloatVector d7 = c5.rearrange(UP2).blend(c7, BIT2);
        FloatVector d8 = c8.blend(c10.rearrange(DOWN2), BIT2);
        FloatVector d10 = c8.rearrange(UP2).blend(c10, BIT2);
        FloatVector d9 = c9.blend(c11.rearrange(DOWN2), BIT2);
        FloatVector d11 = c9.rearrange(UP2).blend(c11, BIT2);
        FloatVector d12 = c12.blend(c14.rearrange(DOWN2), BIT2);
        FloatVector d14 = c12.rearrange(UP2).blend(c14, BIT2);
        FloatVector d13 = c13.blend(c15.rearrange(DOWN2), BIT2);
        FloatVector d15 = c13.rearrange(UP2).blend(c15, BIT2);
        FloatVector e0 = d0.blend(d1.rearrange(DOWN1), BIT1);
        FloatVector e1 = d0.rearrange(UP1).blend(d1, BIT1);
        FloatVector e2 = d2.blend(d3.rearrange(DOWN1), BIT1);
        FloatVector e3 = d2.rearrange(UP1).blend(d3, BIT1);
        FloatVector e4 = d4.blend(d5.rearrange(DOWN1), BIT1);
        FloatVector e5 = d4.rearrange(UP1).blend(d5, BIT1);
        FloatVector e6 = d6.blend(d7.rearrange(DOWN1), BIT1);
        FloatVector e7 = d6.rearrange(UP1).blend(d7, BIT1);
        FloatVector e8 = d8.blend(d9.rearrange(DOWN1), BIT1);
        FloatVector e9 = d8.rearrange(UP1).blend(d9, BIT1);
        FloatVector e10 = d10.blend(d11.rearrange(DOWN1), BIT1);
        FloatVector e11 = d10.rearrange(UP1).blend(d11, BIT1);
        FloatVector e12 = d12.blend(d13.rearrange(DOWN1), BIT1);
        FloatVector e13 = d12.rearrange(UP1).blend(d13, BIT1);
        FloatVector e14 = d14.blend(d15.rearrange(DOWN1), BIT1);
        FloatVector e15 = d14.rearrange(UP1).blend(d15, BIT1);
        e0.intoArray(bp, dst);
        e1.intoArray(bp, dst + stride);
        e2.intoArray(bp, dst + 2 * stride);
        e3.intoArray(bp, dst + 3 * stride);
        e4.intoArray(bp, dst + 4 * stride);
        e5.intoArray(bp, dst + 5 * stride);
        e6.intoArray(bp, dst + 6 * stride);
        e7.intoArray(bp, dst + 7 * stride);
        e8.intoArray(bp, dst + 8 * stride);
        e9.intoArray(bp, dst + 9 * stride);
        e10.intoArray(bp, dst + 10 * stride);
        e11.intoArray(bp, dst + 11 * stride);
        e12.intoArray(bp, dst + 12 * stride);
        e13.intoArray(bp, dst + 13 * stride);
        e14.intoArray(bp, dst + 14 * stride);
        e15.intoArray(bp, dst + 15 * stride);
    }
}
