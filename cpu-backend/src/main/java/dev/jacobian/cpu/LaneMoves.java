package dev.jacobian.cpu;

import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The lane permutes and masks of the register transposes ({@link PackTranspose8}, {@link PackTranspose16}): round
 * {@code h} of a transpose swaps, between two rows, the lanes whose index has bit {@code h} set in one row with those
 * {@code h} lower in the other. Loaded only when the Vector API is available.
 */
final class LaneMoves {
    private LaneMoves() {
    }

    /**
     * Round {@code h}'s lane move on {@code species}: with {@code direction} -1, lane {@code j} takes lane
     * {@code j - h} where {@code j & h != 0}; with +1, lane {@code j + h} where {@code j & h == 0}; other lanes keep
     * their own (the blend drops them).
     */
    static VectorShuffle<Float> shift(VectorSpecies<Float> species, int h, int direction) {
        int[] from = new int[species.length()];
        for (int j = 0; j < from.length; j++) {
            boolean set = (j & h) != 0;
            from[j] = direction < 0 ? (set ? j - h : j) : (set ? j : j + h);
        }
        return VectorShuffle.fromArray(species, from, 0);
    }

    /** The lanes {@code j} of {@code species} with {@code j & h != 0}. */
    static VectorMask<Float> lanesWith(VectorSpecies<Float> species, int h) {
        boolean[] set = new boolean[species.length()];
        for (int j = 0; j < set.length; j++) {
            set[j] = (j & h) != 0;
        }
        return VectorMask.fromArray(species, set, 0);
    }
}
