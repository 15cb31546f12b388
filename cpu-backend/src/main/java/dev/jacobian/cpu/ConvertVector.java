package dev.jacobian.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API part of {@link CpuByteConverter}: unsigned bytes to floats divided by a divisor, {@link Simd#L} at a
 * time (16 with AVX-512: 16 bytes widened to 16 ints, converted, divided). Loaded only when the Vector API is
 * available.
 */
final class ConvertVector {
    /** Lanes of each step: the backend's float width ({@link Simd#L}). */
    static final int LANES = Simd.L;
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Bytes as many as the float lanes: 128 bits with AVX-512, 64 with AVX2; null below 8 lanes. */
    private static final VectorSpecies<Byte> B = LANES >= 8
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * Byte.SIZE)) : null;

    private ConvertVector() {
    }

    /**
     * Converts the longest prefix of whole vectors of {@code [0, count)} and returns its length (the caller converts
     * the rest); ranges already checked.
     */
    static int toFloats(byte[] src, int srcOffset, float[] dst, int dstOffset, int count, float divisor) {
        int k = 0;
        int bound = count - LANES + 1;
        for (; k < bound; k += LANES) {
            ByteVector b = ByteVector.fromArray(B, src, srcOffset + k);
            FloatVector x = (FloatVector) b.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)
                    .convert(VectorOperators.I2F, 0);
            x.div(divisor).intoArray(dst, dstOffset + k);
        }
        return k;
    }
}
