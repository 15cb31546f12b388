package dev.jacobian.data;

import java.util.Arrays;

/**
 * One batch a {@link DataLoader} prepared: the first {@link #rows()} samples of each array are this batch's; the
 * arrays hold room for a whole batch ({@link DataLoader#batchSize()}), so the last batch of an epoch may leave stale
 * values behind its rows. What a training step needs is here:
 *
 * <pre>{@code
 * StepResult r = trainer.step(batch.features(), batch.targets(), 0, batch.rows());
 * hits += r.correct(batch.labels());
 * }</pre>
 *
 * <p><b>The arrays are the loader's and are reused.</b> A batch is valid until the next call to
 * {@link DataLoader.Epoch#next()} of its epoch, or until the epoch or the loader is closed; after that the loader
 * fills the same arrays with a later batch. A training step that returns has finished reading its host arrays (the
 * backends copy them on upload; {@code Trainer.submit} as well), so stepping on a batch and then asking for the next
 * one is safe. Keep a batch longer with {@link #copy()}.
 */
public final class Batch {
    private final float[] features;
    private final float[] targets;
    private final int[] labels;
    private final int[] indices;
    private int rows;
    private int epoch;
    private int index;

    /** A batch whose arrays have room for {@code capacity} samples (and their targets when {@code hasTargets}). */
    Batch(int capacity, int features, int targetColumns, boolean hasTargets) {
        this.features = new float[Math.multiplyExact(capacity, features)];
        this.targets = hasTargets ? new float[Math.multiplyExact(capacity, targetColumns)] : null;
        this.labels = new int[capacity];
        this.indices = new int[capacity];
    }

    private Batch(float[] features, float[] targets, int[] labels, int[] indices, int rows, int epoch, int index) {
        this.features = features;
        this.targets = targets;
        this.labels = labels;
        this.indices = indices;
        this.rows = rows;
        this.epoch = epoch;
        this.index = index;
    }

    /** Sets what the arrays now hold (the loader, after it filled them). */
    void set(int rows, int epoch, int index) {
        this.rows = rows;
        this.epoch = epoch;
        this.index = index;
    }

    /** The samples' features, row-major: sample {@code i}'s values from {@code i * dataset.features()}. */
    public float[] features() {
        return features;
    }

    /**
     * The samples' encoded targets, row-major, as the loader's {@link DataLoader.Builder#targets encoder} laid them out
     * (e.g. {@code model::encodeTargets}: {@code model.targetColumns()} values per sample).
     *
     * @throws IllegalStateException when the loader encodes no targets
     */
    public float[] targets() {
        if (targets == null) {
            throw new IllegalStateException("this data loader encodes no targets (DataLoader.Builder.targets)");
        }
        return targets;
    }

    /** Whether the loader encoded targets ({@link #targets()}). */
    public boolean hasTargets() {
        return targets != null;
    }

    /** The samples' class labels. */
    public int[] labels() {
        return labels;
    }

    /** The samples' indices in the loader's data set. */
    public int[] indices() {
        return indices;
    }

    /** The number of samples in this batch: the batch size, or fewer for an epoch's last batch. */
    public int rows() {
        return rows;
    }

    /** The epoch this batch belongs to. */
    public int epoch() {
        return epoch;
    }

    /** This batch's position in its epoch, from 0. */
    public int index() {
        return index;
    }

    /** An independent copy of this batch whose arrays hold exactly its {@link #rows()} samples. */
    public Batch copy() {
        int f = rows == 0 ? 0 : features.length / labels.length;
        int tc = targets == null || rows == 0 ? 0 : targets.length / labels.length;
        return new Batch(Arrays.copyOf(features, rows * f), targets == null ? null : Arrays.copyOf(targets, rows * tc),
                Arrays.copyOf(labels, rows), Arrays.copyOf(indices, rows), rows, epoch, index);
    }

    @Override
    public String toString() {
        return "Batch[epoch " + epoch + ", batch " + index + ", " + rows + " rows]";
    }
}
