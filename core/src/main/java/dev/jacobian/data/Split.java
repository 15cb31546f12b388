package dev.jacobian.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * A training part and a validation part held out of one data set, both views of it ({@link Dataset#subset}): nothing
 * but their index arrays is copied. {@link #holdOut} draws a seeded permutation ({@link Shuffling#SPLIT_STREAM}) and
 * holds out its first {@code validation} samples; each part keeps the set's order, so the split is a pure function
 * of the seed and the set's size, and the two parts are disjoint and cover the set.
 *
 * @param <D>        the type of the parts: {@link ImageDataset} and {@link FloatDataset} split into their own kind
 * @param train      the samples not held out
 * @param validation the held-out samples
 */
public record Split<D extends Dataset>(D train, D validation) {
    /** Checks that neither part is null. */
    public Split {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(validation, "validation");
    }

    /**
     * Holds {@code validation} samples of {@code data}, chosen by {@code seed}, out of it: the parts are named
     * {@code name + " (train part)"} and {@code name + " (validation)"}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= validation < data.size()} (the training part is never empty)
     */
    public static Split<Dataset> holdOut(Dataset data, int validation, long seed) {
        return split(data, validation, seed, Dataset::subset);
    }

    /** {@link #holdOut(Dataset, int, long)} for images: the parts are image views sharing {@code data}'s pixels. */
    public static Split<ImageDataset> holdOut(ImageDataset data, int validation, long seed) {
        return split(data, validation, seed, ImageDataset::subset);
    }

    /** {@link #holdOut(Dataset, int, long)} for float samples: the parts are views sharing {@code data}'s values. */
    public static Split<FloatDataset> holdOut(FloatDataset data, int validation, long seed) {
        return split(data, validation, seed, FloatDataset::subset);
    }

    /** How a set of type {@code D} makes a view of its own type. */
    @FunctionalInterface
    private interface Viewer<D> {
        D subset(D data, int[] indices, String name);
    }

    private static <D extends Dataset> Split<D> split(D data, int validation, long seed, Viewer<D> viewer) {
        int n = Objects.requireNonNull(data, "data").size();
        if (validation < 0 || validation >= n) {
            throw new IllegalArgumentException(data.name() + ": cannot hold out " + validation + " of " + n + " samples");
        }
        int[] p = Shuffling.permutation(n, Shuffling.random(seed, Shuffling.SPLIT_STREAM));
        int[] val = Arrays.copyOfRange(p, 0, validation);
        int[] train = Arrays.copyOfRange(p, validation, n);
        Arrays.sort(val);
        Arrays.sort(train);
        return new Split<>(viewer.subset(data, train, data.name() + " (train part)"),
                viewer.subset(data, val, data.name() + " (validation)"));
    }
}
