package dev.jacobian.spark;

import dev.jacobian.data.Shuffling;
import java.io.Serializable;
import java.util.SplittableRandom;

/**
 * One partition's part of a training set, held by the executor that computes it ({@link ShardedData}): its samples'
 * inputs and targets, and the order in which an epoch visits them.
 *
 * @param partition     the partition
 * @param x             the inputs, row-major, {@code inputSize} each
 * @param targets       the targets, row-major, {@code targetColumns} each
 * @param inputSize     values per input
 * @param targetColumns values per target
 */
public record Shard(int partition, float[] x, float[] targets, int inputSize, int targetColumns) implements Serializable {
    /** The number of samples. */
    public int rows() {
        return x.length / inputSize;
    }

    /**
     * The order in which epoch {@code epoch} visits a shard of {@code rows} samples: a Fisher–Yates shuffle seeded by
     * {@code seed}, the epoch and the partition, the same on every machine.
     */
    public static int[] order(long seed, int epoch, int partition, int rows) {
        return Shuffling.permutation(rows,
                new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + partition));
    }

    /** Step {@code step}'s local batch of {@code size} samples in epoch {@code epoch} (see {@link #order}). */
    LocalBatch batch(long seed, int epoch, int step, int size) {
        int[] order = order(seed, epoch, partition, rows());
        float[] bx = new float[size * inputSize];
        float[] by = new float[size * targetColumns];
        for (int i = 0; i < size; i++) {
            int src = order[step * size + i];
            System.arraycopy(x, src * inputSize, bx, i * inputSize, inputSize);
            System.arraycopy(targets, src * targetColumns, by, i * targetColumns, targetColumns);
        }
        return new LocalBatch(bx, by, size);
    }
}
