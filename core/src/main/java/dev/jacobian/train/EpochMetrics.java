package dev.jacobian.train;

import dev.jacobian.metrics.Evaluation;

/**
 * What one epoch of a {@link TrainingLoop} measured.
 *
 * @param epoch         the epoch, from 1
 * @param steps         optimizer steps in the epoch
 * @param trainLoss     the mean training loss over the epoch's samples, each batch's as the weights were when it
 *                      was seen
 * @param trainAccuracy the accuracy of those predictions, NaN when the trainer does not track predictions
 *                      ({@link Trainer#trackPredictions})
 * @param learningRate  the optimizer's rate at the start of the epoch
 * @param validation    the validation set's loss, confusion matrix and ranks after the epoch, or null without a
 *                      validation set
 */
public record EpochMetrics(int epoch, int steps, double trainLoss, double trainAccuracy, double learningRate,
                           Evaluation validation) {
    /** The validation loss, NaN without a validation set. */
    public double validationLoss() {
        return validation == null ? Double.NaN : validation.loss();
    }

    /** The validation accuracy, NaN without a validation set. */
    public double validationAccuracy() {
        return validation == null ? Double.NaN : validation.accuracy();
    }
}
