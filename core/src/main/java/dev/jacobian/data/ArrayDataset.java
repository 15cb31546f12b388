package dev.jacobian.data;

import java.util.Objects;

/**
 * What the in-memory sets share: labels in an array, samples stored row by row, and an optional index array that
 * makes the set a view of some of the rows ({@link #subset}) without copying them.
 */
abstract class ArrayDataset implements Dataset {
    private final String name;
    private final int[] labels;
    /** The stored row of each sample, or null for all rows in order. */
    private final int[] rows;
    private final int[] shape;
    private final int features;

    /** A set of all rows of {@code labels}; the caller has checked the arrays. */
    ArrayDataset(String name, int[] labels, int[] shape) {
        this.name = Objects.requireNonNull(name, "name");
        this.labels = labels;
        this.rows = null;
        this.shape = shape.clone();
        this.features = Subsets.features(name, this.shape);
    }

    /** A view of {@code base}'s samples at {@code indices} (already checked against {@code base.size()}). */
    ArrayDataset(ArrayDataset base, int[] indices, String name) {
        this.name = Objects.requireNonNull(name, "name");
        this.labels = base.labels;
        if (base.rows != null) {
            for (int j = 0; j < indices.length; j++) {
                indices[j] = base.rows[indices[j]];
            }
        }
        this.rows = indices;
        this.shape = base.shape;
        this.features = base.features;
    }

    /**
     * Writes the {@link #features()} values of stored row {@code row} to {@code dst[dstOffset ..]}.
     *
     * @param row       a row of the stored arrays (not a sample index of a view)
     * @param dst       where to write
     * @param dstOffset the first value written
     */
    abstract void copyRow(int row, float[] dst, int dstOffset);

    /** The checked copy of {@code indices} a view of this set is made from. */
    final int[] viewIndices(int[] indices) {
        return Subsets.checked(Objects.requireNonNull(indices, "indices"), size(), name);
    }

    /** The stored row of sample {@code index}. */
    final int row(int index) {
        if (rows == null) {
            return Subsets.sample(index, labels.length, name);
        }
        return rows[Subsets.sample(index, rows.length, name)];
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int size() {
        return rows == null ? labels.length : rows.length;
    }

    @Override
    public final int[] sampleShape() {
        return shape.clone();
    }

    @Override
    public final int features() {
        return features;
    }

    @Override
    public final int label(int index) {
        return labels[row(index)];
    }

    @Override
    public final int[] labels() {
        if (rows == null) {
            return labels.clone();
        }
        int[] y = new int[rows.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels[rows[i]];
        }
        return y;
    }

    @Override
    public final void copyFeatures(int index, float[] dst, int dstOffset) {
        int row = row(index);
        Subsets.checkDestination(name, features, dst, dstOffset);
        copyRow(row, dst, dstOffset);
    }

    @Override
    public final void copyFeatures(int[] indices, int from, int count, float[] dst, int dstOffset) {
        Objects.checkFromIndexSize(from, count, indices.length);
        Subsets.checkDestination(name, count, features, dst, dstOffset);
        int[] stored = new int[count];
        for (int i = 0; i < count; i++) {
            stored[i] = row(indices[from + i]);
        }
        copyRows(stored, dst, dstOffset);
    }

    /**
     * Writes stored rows {@code rows[0]}, {@code rows[1]}, ... one after another from {@code dst[dstOffset]}, as
     * {@link #copyRow} would one by one (the caller has checked the rows and the room in {@code dst}); a set that
     * reads a batch faster whole overrides it.
     */
    void copyRows(int[] rows, float[] dst, int dstOffset) {
        for (int i = 0; i < rows.length; i++) {
            copyRow(rows[i], dst, dstOffset + i * features);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + ", " + size() + " samples of " + java.util.Arrays.toString(shape)
                + "]";
    }
}
