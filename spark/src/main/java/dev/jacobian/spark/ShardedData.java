package dev.jacobian.spark;

import dev.jacobian.parallel.Shards;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;

/**
 * A training set cut into one {@link Shard} per partition and kept on the executors: persisted and then
 * checkpointed locally, so the steps' tasks carry no data (only the partition's index) and each executor reads its
 * shard from its own block store.
 */
public final class ShardedData implements AutoCloseable {
    private final JavaRDD<Shard> rdd;
    private final int[] rows;

    private ShardedData(JavaRDD<Shard> rdd, int[] rows) {
        this.rdd = rdd;
        this.rows = rows;
    }

    /**
     * {@code x} and {@code targets} ({@code inputSize} and {@code targetColumns} values per sample) cut into
     * {@code partitions} contiguous shards whose sizes differ by at most one, sent once to the executors.
     *
     * @throws IllegalArgumentException when the arrays disagree or there are fewer samples than partitions
     */
    public static ShardedData of(JavaSparkContext sc, float[] x, float[] targets, int inputSize, int targetColumns,
                                 int partitions) {
        if (inputSize <= 0 || targetColumns <= 0 || x.length % inputSize != 0
                || (long) x.length / inputSize * targetColumns != targets.length) {
            throw new IllegalArgumentException("sharded data: " + x.length + " input values of " + inputSize
                    + " per sample do not match " + targets.length + " target values of " + targetColumns);
        }
        int n = x.length / inputSize;
        if (partitions < 1 || n < partitions) {
            throw new IllegalArgumentException("sharded data: " + n + " samples cannot be cut into " + partitions
                    + " partitions");
        }
        List<Shard> shards = new ArrayList<>();
        int[] rows = new int[partitions];
        for (int p = 0; p < partitions; p++) {
            int from = Shards.start(n, partitions, p);
            int to = Shards.start(n, partitions, p + 1);
            rows[p] = to - from;
            shards.add(new Shard(p, Arrays.copyOfRange(x, from * inputSize, to * inputSize),
                    Arrays.copyOfRange(targets, from * targetColumns, to * targetColumns), inputSize, targetColumns));
        }
        JavaRDD<Shard> rdd = sc.parallelize(shards, partitions).persist(StorageLevel.MEMORY_AND_DISK());
        rdd.rdd().localCheckpoint(); // later tasks read the persisted blocks, not the driver's copies
        rdd.count();
        return new ShardedData(rdd, rows);
    }

    /** The shards, one per partition. */
    JavaRDD<Shard> rdd() {
        return rdd;
    }

    /** The number of partitions. */
    public int partitions() {
        return rows.length;
    }

    /** Samples in partition {@code p}. */
    public int rows(int p) {
        return rows[p];
    }

    /** Samples in the smallest shard (an epoch takes as many local batches as it holds). */
    public int minRows() {
        return Arrays.stream(rows).min().orElse(0);
    }

    /** Drops the shards from the executors. */
    @Override
    public void close() {
        rdd.unpersist(false);
    }
}
