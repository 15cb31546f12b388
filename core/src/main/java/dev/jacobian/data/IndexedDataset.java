package dev.jacobian.data;

/**
 * The view {@link Dataset#subset} gives of a set that has no view of its own: sample {@code j} is sample
 * {@code indices[j]} of the base set. A view of a view reads the base set directly.
 */
final class IndexedDataset implements Dataset {
    private final Dataset base;
    private final int[] indices;
    private final String name;

    /** A view of {@code base} through {@code indices} (checked and owned by the caller's copy). */
    IndexedDataset(Dataset base, int[] indices, String name) {
        this.name = java.util.Objects.requireNonNull(name, "name");
        if (base instanceof IndexedDataset view) {
            for (int j = 0; j < indices.length; j++) {
                indices[j] = view.indices[indices[j]];
            }
            base = view.base;
        }
        this.base = base;
        this.indices = indices;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public int[] sampleShape() {
        return base.sampleShape();
    }

    @Override
    public int features() {
        return base.features();
    }

    @Override
    public int label(int index) {
        return base.label(indices[Subsets.sample(index, indices.length, name)]);
    }

    @Override
    public void copyFeatures(int index, float[] dst, int dstOffset) {
        base.copyFeatures(indices[Subsets.sample(index, indices.length, name)], dst, dstOffset);
    }

    /** The base set's bulk read of the samples the view's indices select (see {@link Dataset#copyFeatures}). */
    @Override
    public void copyFeatures(int[] samples, int from, int count, float[] dst, int dstOffset) {
        java.util.Objects.checkFromIndexSize(from, count, samples.length);
        Subsets.checkDestination(name, count, features(), dst, dstOffset);
        int[] mapped = new int[count];
        for (int i = 0; i < count; i++) {
            mapped[i] = indices[Subsets.sample(samples[from + i], indices.length, name)];
        }
        base.copyFeatures(mapped, 0, count, dst, dstOffset);
    }
}
