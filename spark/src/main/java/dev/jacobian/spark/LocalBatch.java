package dev.jacobian.spark;

import java.io.Serializable;

/**
 * One task's part of a step's batch: {@code rows} samples, their inputs and targets laid out as
 * {@link dev.jacobian.train.Trainer#step} takes them.
 *
 * @param x       the inputs, row-major
 * @param targets the targets, row-major
 * @param rows    the number of samples
 */
record LocalBatch(float[] x, float[] targets, int rows) implements Serializable {
}
