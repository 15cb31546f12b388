package dev.jacobian.spark;

import java.io.Serializable;

/**
 * What a task sends back from a data-parallel step: the gradient of its shard's mean loss (packed, as
 * {@link dev.jacobian.parallel.Replica#gradient} reads it) and that loss.
 *
 * @param partition    the task's partition
 * @param rows         the shard's samples
 * @param loss         the shard's mean loss
 * @param gradient     the packed gradient
 * @param computeNanos the task's time from its parameters' arrival to its gradient's download
 * @param predictions  the shard's predicted classes, when asked for; otherwise null
 * @param buffers      partition 0's buffers after its forward (batch norm's running statistics), packed, for the
 *                     leader; null from the other tasks and for a model without buffers
 */
record ShardGradient(int partition, int rows, float loss, float[] gradient, long computeNanos, int[] predictions,
                     float[] buffers)
        implements Serializable {
}
