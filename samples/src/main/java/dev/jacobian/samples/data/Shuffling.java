package dev.jacobian.samples.data;

import java.util.SplittableRandom;

/**
 * Seeded permutations: the validation split and the per-epoch shuffle (and the augmentation's stream). Each permutation is a pure
 * function of {@code (seed, purpose, epoch)}, never of earlier draws, so a run resumed at epoch {@code k}
 * sees exactly the order an uninterrupted run would.
 */
public final class Shuffling {
    private static final long SPLIT_STREAM = 0x5EED_5B117L;
    private static final long EPOCH_STREAM = 0xE90C_4L;
    private static final long AUGMENT_STREAM = 0xA_06_E47L;

    private Shuffling() {
    }

    /** A Fisher–Yates permutation of {@code [0, n)} drawn from {@code random}. */
    public static int[] permutation(int n, SplittableRandom random) {
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

    /** The sample order of epoch {@code epoch} (1-based) of a training set of {@code n} samples. */
    public static int[] epochOrder(long seed, int epoch, int n) {
        return permutation(n, new SplittableRandom(mix(seed, EPOCH_STREAM + epoch)));
    }

    /**
     * The random stream of epoch {@code epoch}'s {@link Augmentation} draws: independent of the shuffle's, and a pure
     * function of {@code (seed, epoch)}, so a resumed or rolled-back epoch draws what an unbroken one would.
     */
    public static SplittableRandom augmentStream(long seed, int epoch) {
        return new SplittableRandom(mix(seed, AUGMENT_STREAM + epoch));
    }

    /**
     * Splits {@code data} into training and validation parts: a seeded permutation, the first
     * {@code validation} samples of which are held out.
     */
    public static Split split(Dataset data, int validation, long seed) {
        if (validation < 0 || validation >= data.size()) {
            throw new IllegalArgumentException("cannot hold out " + validation + " of " + data.size() + " samples");
        }
        int[] p = permutation(data.size(), new SplittableRandom(mix(seed, SPLIT_STREAM)));
        int[] val = java.util.Arrays.copyOfRange(p, 0, validation);
        int[] train = java.util.Arrays.copyOfRange(p, validation, p.length);
        java.util.Arrays.sort(val);
        java.util.Arrays.sort(train);
        return new Split(data.select(train, data.name() + " (train part)"), data.select(val, data.name() + " (validation)"));
    }

    /** SplitMix64's finalizer over the seed and a stream id: independent streams per purpose and epoch. */
    static long mix(long seed, long stream) {
        long z = seed + 0x9E3779B97F4A7C15L * (stream + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A training set and the validation set held out of it. */
    public record Split(Dataset train, Dataset validation) {
    }
}
