/**
 * Data-parallel training on an Apache Spark cluster: one model replica per task, on the backend of the executor
 * that runs it, and the leader model and optimizer on the driver.
 *
 * <ul>
 *   <li>{@link dev.jacobian.spark.SparkDataParallel}: per-step synchronous SGD (one Spark job per step, the
 *       shards' gradients summed in partition order, bit-identical to {@link dev.jacobian.parallel.DataParallel}
 *       on backends of one kind) or parameter averaging every {@code k} steps.</li>
 *   <li>{@link dev.jacobian.spark.BackendFactory}, {@link dev.jacobian.spark.ModelFactory} and
 *       {@link dev.jacobian.spark.OptimizerFactory}: what Spark ships to the executors to build a replica there;
 *       {@link dev.jacobian.spark.ShardedData}: a training set the executors hold, one
 *       {@link dev.jacobian.spark.Shard} per partition.</li>
 *   <li>{@link dev.jacobian.spark.SparkTrain}: {@code jacobian train} for {@code spark-submit}.</li>
 * </ul>
 *
 * Spark itself is not a dependency of the published artifact ({@code provided}): the cluster brings it.
 */
package dev.jacobian.spark;
