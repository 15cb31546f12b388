package dev.jacobian.parallel;

import dev.jacobian.graph.Parameter;
import dev.jacobian.graph.ParameterLayout;
import java.util.List;

/**
 * Between a backend's parameter arena, whose parameters start at that backend's view alignment (zeros between
 * them), and the packed form that replicas exchange: the same parameters in the same order, without gaps. Replicas
 * on backends of different alignments (a CPU backend and an OpenCL device) so exchange value for value.
 */
final class Packing {
    private final int[] arenaOffsets;
    private final int[] packedOffsets;
    private final int[] lengths;
    private final int arenaSize;
    private final int packedSize;

    private Packing(ParameterLayout layout) {
        List<Parameter> order = layout.order();
        arenaOffsets = new int[order.size()];
        packedOffsets = new int[order.size()];
        lengths = new int[order.size()];
        int at = 0;
        for (int i = 0; i < order.size(); i++) {
            Parameter p = order.get(i);
            arenaOffsets[i] = layout.offset(p);
            packedOffsets[i] = at;
            lengths[i] = p.shape().size();
            at += lengths[i];
        }
        this.arenaSize = layout.size();
        this.packedSize = at;
    }

    static Packing of(ParameterLayout layout) {
        return new Packing(layout);
    }

    /** Values in the packed form. */
    int packedSize() {
        return packedSize;
    }

    /** Floats in the arena, gaps included. */
    int arenaSize() {
        return arenaSize;
    }

    /** Whether the arena has no gaps, so it is its own packed form. */
    boolean identity() {
        return packedSize == arenaSize;
    }

    /** Copies each parameter from {@code arena} to its place in {@code packed}. */
    void pack(float[] arena, float[] packed) {
        for (int i = 0; i < lengths.length; i++) {
            System.arraycopy(arena, arenaOffsets[i], packed, packedOffsets[i], lengths[i]);
        }
    }

    /** Copies each parameter from {@code packed} to its place in {@code arena} (the gaps are not written). */
    void unpack(float[] packed, float[] arena) {
        for (int i = 0; i < lengths.length; i++) {
            System.arraycopy(packed, packedOffsets[i], arena, arenaOffsets[i], lengths[i]);
        }
    }
}
