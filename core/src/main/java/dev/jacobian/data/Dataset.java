package dev.jacobian.data;

/**
 * Labelled samples in memory, read by index: sample {@code i} has {@link #features()} float values (laid out as
 * {@link #sampleShape()} in row-major order) and a class label {@link #label(int) label(i)} {@code >= 0}.
 *
 * <p>The in-memory sets are {@link ImageDataset} (pixels kept as bytes and scaled to floats only when a sample is
 * read) and {@link FloatDataset}; {@link #subset} and {@link Split} give views that select samples by index without
 * copying them. A {@link DataLoader} reads a set in shuffled batches.
 *
 * <p>Implementations must not change while they are read and must allow reads from several threads at once: a
 * {@link DataLoader} reads its set on a thread of its own. The sets of this package are immutable views of arrays
 * they do not copy; whoever made them must leave those arrays unchanged.
 */
public interface Dataset {
    /** Where the samples came from, for messages and logs (e.g. an image file's name). */
    String name();

    /** The number of samples. */
    int size();

    /** The shape of one sample, e.g. {@code [1, 28, 28]} for one-channel 28x28 images (a new array). */
    int[] sampleShape();

    /** The float values per sample: the product of {@link #sampleShape()}. */
    int features();

    /**
     * The class label of sample {@code index}.
     *
     * @throws IndexOutOfBoundsException when {@code index} is not in {@code [0, size())}
     */
    int label(int index);

    /**
     * Writes the {@link #features()} values of sample {@code index} to {@code dst[dstOffset ..]}.
     *
     * @throws IndexOutOfBoundsException when {@code index} is not in {@code [0, size())} or {@code dst} is too short
     */
    void copyFeatures(int index, float[] dst, int dstOffset);

    /**
     * Writes the features of samples {@code indices[from]}, ..., {@code indices[from + count - 1]} one after another
     * from {@code dst[dstOffset]}: what {@link #copyFeatures(int, float[], int)} writes for each, value for value. The
     * in-memory sets of this package read a batch of scattered samples this way faster than one by one (see
     * {@link ImageDataset}); a {@link DataLoader} gathers its batches with it.
     *
     * @throws IndexOutOfBoundsException when {@code [from, from + count)} is not within {@code indices}, an index is
     *                                   not in {@code [0, size())}, or the samples do not fit in {@code dst}
     */
    default void copyFeatures(int[] indices, int from, int count, float[] dst, int dstOffset) {
        java.util.Objects.checkFromIndexSize(from, count, indices.length);
        Subsets.checkDestination(name(), count, features(), dst, dstOffset);
        int f = features();
        for (int i = 0; i < count; i++) {
            copyFeatures(indices[from + i], dst, dstOffset + i * f);
        }
    }

    /** The labels of all samples, in order (a new array). */
    default int[] labels() {
        int[] y = new int[size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = label(i);
        }
        return y;
    }

    /**
     * The features of samples {@code [first, first + count)} as a new row-major array of {@code count * features()}
     * floats, e.g. to hand a model a whole (small) set. Training reads batches through a {@link DataLoader} instead.
     *
     * @throws IndexOutOfBoundsException when the range is not within {@code [0, size())}
     * @throws IllegalArgumentException  when the array would exceed {@link Integer#MAX_VALUE} floats
     */
    default float[] floats(int first, int count) {
        java.util.Objects.checkFromIndexSize(first, count, size());
        int f = features();
        long total = (long) count * f;
        if (total > dev.jacobian.backend.Checks.MAX_ARRAY_LENGTH) {
            throw new IllegalArgumentException(name() + ": " + count + " samples of " + f
                    + " values do not fit one float array");
        }
        float[] x = new float[(int) total];
        for (int i = 0; i < count; i++) {
            copyFeatures(first + i, x, i * f);
        }
        return x;
    }

    /**
     * A view of the samples at {@code indices}, in that order (a sample may appear more than once): sample {@code j}
     * of the view is sample {@code indices[j]} of this set. Nothing but the index array is copied.
     *
     * @param indices positions in {@code [0, size())}; copied
     * @param name    the view's {@link #name()}
     * @throws IndexOutOfBoundsException when an index is outside {@code [0, size())}
     */
    default Dataset subset(int[] indices, String name) {
        return new IndexedDataset(this, Subsets.checked(indices, size(), name()), name);
    }

    /** A view of the first {@code n} samples (all of them when {@code n >= size()}), named as this set. */
    default Dataset head(int n) {
        return subset(Subsets.range(n, size()), name());
    }

    /** The largest label plus one: the classes a model needs for this set (0 when it is empty). */
    default int classCount() {
        int max = -1;
        for (int i = 0, n = size(); i < n; i++) {
            max = Math.max(max, label(i));
        }
        return max + 1;
    }
}
