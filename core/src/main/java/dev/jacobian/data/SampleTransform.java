package dev.jacobian.data;

/**
 * Changes each sample as a {@link DataLoader} gathers it into a batch, e.g. a random augmentation. A loader asks its
 * {@link DataLoader.Builder#transform transform factory} for one transform per epoch, on the caller's thread, and then
 * applies it to every sample of that epoch in the epoch's order, on its own thread, one sample at a time; so a
 * transform that draws from a random stream made for its epoch makes batches that are a pure function of the seed
 * and the epoch, whatever the prefetching.
 */
@FunctionalInterface
public interface SampleTransform {
    /**
     * Writes the transformed sample to {@code dst[dstOffset ..]}: as many values as the data set has
     * {@link Dataset#features() features}, from the sample at {@code src[srcOffset ..]} (which it must not change).
     *
     * @param src       the sample as the data set gives it
     * @param srcOffset its first value
     * @param dst       the batch being gathered
     * @param dstOffset where the sample goes
     */
    void apply(float[] src, int srcOffset, float[] dst, int dstOffset);
}
