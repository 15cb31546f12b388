package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place the vector shape is chosen: {@link FloatVector#SPECIES_PREFERRED} (16 floats with
 * AVX-512, 8 with AVX2, 4 with NEON). Loaded only when {@link VectorSupport#available()} is true.
 */
final class Simd {
    /** System property that narrows the vector shape for tuning ({@code 128}, {@code 256} or {@code 512}). */
    static final String BITS_PROPERTY = "jacobian.cpu.vectorBits";
    /** The float species every vector kernel uses. */
    static final VectorSpecies<Float> F = choose();
    /** Lanes of {@link #F}. */
    static final int L = F.length();
    /**
     * Vector registers the JIT can allocate: 32 on AArch64 and on x86 with AVX-512 (whatever shape {@link #F} is
     * narrowed to, 256-bit vectors use the upper 16 too), else 16. The micro-kernels' tiles are sized to them.
     */
    static final int REGISTERS = "aarch64".equals(System.getProperty("os.arch"))
            || FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? 32 : 16;

    private Simd() {
    }

    /**
     * The sum of a vector's lanes in a fixed order (lane 0 first). {@code reduceLanes(ADD)} may add the
     * lanes in a different order in interpreted and compiled code, so a loss or a gradient could differ
     * in the last bit between a cold and a warm JVM; this keeps every run bit-identical.
     */
    static float sumLanes(FloatVector v) {
        float[] lanes = new float[L];
        v.intoArray(lanes, 0);
        float s = 0f;
        for (float x : lanes) {
            s += x;
        }
        return s;
    }

    /** {@link FloatVector#SPECIES_PREFERRED}, or a narrower shape asked for with {@value #BITS_PROPERTY}. */
    private static VectorSpecies<Float> choose() {
        String bits = System.getProperty(BITS_PROPERTY);
        if (bits != null) {
            for (VectorSpecies<Float> s : java.util.List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256,
                    FloatVector.SPECIES_512)) {
                if (Integer.toString(s.vectorBitSize()).equals(bits.trim())
                        && s.vectorBitSize() <= FloatVector.SPECIES_PREFERRED.vectorBitSize()) {
                    return s;
                }
            }
        }
        return FloatVector.SPECIES_PREFERRED;
    }
}
