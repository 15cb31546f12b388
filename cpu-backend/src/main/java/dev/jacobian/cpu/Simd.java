package dev.jacobian.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place the vector shape is chosen: {@link FloatVector#SPECIES_PREFERRED} (16 floats with
 * AVX-512, 8 with AVX2, 4 with NEON). Loaded only when {@link VectorSupport#available()} is true.
 */
final class Simd {
    /** The float species every vector kernel uses. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Lanes of {@link #F}. */
    static final int L = F.length();

    private Simd() {
    }
}
