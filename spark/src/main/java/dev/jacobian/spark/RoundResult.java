package dev.jacobian.spark;

import java.io.Serializable;
import java.util.Map;

/**
 * What a task sends back from a round of local steps ({@link SparkDataParallel#fitAveraging}).
 *
 * @param partition  the task's partition
 * @param parameters the replica's packed parameters after its steps
 * @param buffers    its packed buffers after its steps (batch norm's running statistics; empty when none)
 * @param state      its optimizer's state ({@link dev.jacobian.optim.Optimizer#state})
 * @param lossSum    the sum of its steps' losses
 * @param steps      the steps it took
 * @param nonFinite  whether a step's loss or gradient norm was not finite (the round is then not applied)
 * @param computeNanos the task's time from its parameters' arrival to its results' download
 */
record RoundResult(int partition, float[] parameters, float[] buffers, Map<String, float[]> state, double lossSum, int steps,
                   boolean nonFinite, long computeNanos) implements Serializable {
}
