package dev.jacobian.data;

import java.util.SplittableRandom;

/**
 * Seeded permutations and random streams: the per-epoch sample order of a {@link DataLoader} and the validation
 * split of {@link Split}. Each is a pure function of {@code (seed, stream)}, never of earlier draws, so a run
 * resumed at epoch {@code k} sees exactly the order an uninterrupted run would, and the streams of different
 * purposes (and epochs) are independent.
 */
public final class Shuffling {
    /** The stream {@link Split} draws the held-out samples from. */
    public static final long SPLIT_STREAM = 0x5EED_5B117L;
    /** The first of the streams of the epoch orders: epoch {@code e} draws from {@code EPOCH_STREAM + e}. */
    public static final long EPOCH_STREAM = 0xE90C_4L;

    private Shuffling() {
    }

    /**
     * A Fisher–Yates permutation of {@code [0, n)} drawn from {@code random}: for {@code i} from {@code n - 1} down
     * to 1, swap position {@code i} with position {@code random.nextInt(i + 1)}.
     */
    public static int[] permutation(int n, SplittableRandom random) {
        if (n < 0) {
            throw new IllegalArgumentException("cannot permute " + n + " elements");
        }
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * The sample order of epoch {@code epoch} of a set of {@code n} samples: the permutation drawn from
     * {@link #random random(seed, EPOCH_STREAM + epoch)}.
     */
    public static int[] epochOrder(long seed, int epoch, int n) {
        return permutation(n, random(seed, EPOCH_STREAM + epoch));
    }

    /**
     * The random stream {@code stream} of {@code seed}: a {@link SplittableRandom} seeded by SplitMix64's finalizer
     * over the two, so that every {@code (seed, stream)} pair starts an independent stream. The library uses
     * {@link #SPLIT_STREAM} and {@code EPOCH_STREAM + epoch}; a caller's own purposes (e.g. augmentation) should
     * pick other stream numbers.
     */
    public static SplittableRandom random(long seed, long stream) {
        return new SplittableRandom(mix(seed, stream));
    }

    /** SplitMix64's finalizer over the seed and a stream id. */
    static long mix(long seed, long stream) {
        long z = seed + 0x9E3779B97F4A7C15L * (stream + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
