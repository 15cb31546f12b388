package dev.jacobian.metrics;

/**
 * The mean of a per-sample loss over batches of any sizes: each batch's mean is weighted by its number of
 * samples, so the result is the mean over all samples (not the mean of the batch means). Not thread-safe.
 */
public final class MeanLoss {
    private double sum;
    private long samples;

    /** An empty mean: {@link #value()} is NaN until a batch is added. */
    public MeanLoss() {
    }

    /** Adds a batch of {@code rows} (&gt;= 1) samples whose mean loss was {@code batchMean} (NaN propagates). */
    public void add(double batchMean, int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("rows must be >= 1: " + rows);
        }
        sum += batchMean * rows;
        samples += rows;
    }

    /** The mean over all samples added; NaN when none was. */
    public double value() {
        return samples == 0 ? Double.NaN : sum / samples;
    }

    /** Samples added. */
    public long samples() {
        return samples;
    }

    /** Forgets every batch. */
    public void reset() {
        sum = 0;
        samples = 0;
    }
}
