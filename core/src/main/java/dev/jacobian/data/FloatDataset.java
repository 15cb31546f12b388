package dev.jacobian.data;

import java.util.Objects;

/**
 * Labelled samples whose features are already floats: sample {@code i}'s {@link #features()} values lie at
 * {@code features[i * features() ..]}, laid out as the sample shape says. The arrays are used as they are, not
 * copied, and must not change afterwards; {@link #subset} and {@link #head} give views that share them. Immutable;
 * safe to read from several threads.
 */
public final class FloatDataset extends ArrayDataset {
    private final float[] values;

    /**
     * A set of {@code labels.length} samples of shape {@code sampleShape}.
     *
     * @param name        where the samples came from, for messages
     * @param features    {@code labels.length} times the product of {@code sampleShape} floats, row-major; not copied
     * @param labels      the class of each sample, each {@code >= 0}; not copied
     * @param sampleShape the shape of one sample, e.g. {@code 784} or {@code 1, 28, 28}
     * @throws IllegalArgumentException when a size is below 1, the value count does not match, or a label is negative
     */
    public FloatDataset(String name, float[] features, int[] labels, int... sampleShape) {
        super(name, Objects.requireNonNull(labels, "labels"), Objects.requireNonNull(sampleShape, "sampleShape"));
        Subsets.checkArrays(name, Objects.requireNonNull(features, "features").length, features(), labels, "values");
        this.values = features;
    }

    private FloatDataset(FloatDataset base, int[] indices, String name) {
        super(base, indices, name);
        this.values = base.values;
    }

    @Override
    void copyRow(int row, float[] dst, int dstOffset) {
        int f = features();
        System.arraycopy(values, row * f, dst, dstOffset, f);
    }

    /** A view of the samples at {@code indices}, in that order; shares the values (see {@link Dataset#subset}). */
    @Override
    public FloatDataset subset(int[] indices, String name) {
        return new FloatDataset(this, viewIndices(indices), name);
    }

    /** A view of the first {@code n} samples (all when {@code n >= size()}), named as this set. */
    @Override
    public FloatDataset head(int n) {
        return subset(Subsets.range(n, size()), name());
    }
}
