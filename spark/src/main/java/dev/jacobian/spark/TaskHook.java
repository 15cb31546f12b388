package dev.jacobian.spark;

import java.io.Serializable;

/**
 * Called by every task before it computes, on the executor: instrumentation, or fault injection in tests (a hook
 * that throws makes the task fail; Spark then retries it, up to {@code spark.task.maxFailures}).
 */
@FunctionalInterface
public interface TaskHook extends Serializable {
    /**
     * Task {@code partition} of exchange {@code exchange} (a step, or a round of local steps, counted from 1) is about
     * to compute; {@code attempt} counts its retries from 0.
     */
    void beforeTask(long exchange, int partition, int attempt);
}
