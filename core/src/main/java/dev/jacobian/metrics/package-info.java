/**
 * Classification metrics accumulated over batches: accuracy, top-k accuracy, precision, recall and F1 (per
 * class and macro) from a {@link dev.jacobian.metrics.ConfusionMatrix}, and the mean loss; {@link
 * dev.jacobian.metrics.Evaluator} computes them for a model with the arg-max, the target's rank and the loss
 * on the device, reading back one transfer per batch.
 */
package dev.jacobian.metrics;
