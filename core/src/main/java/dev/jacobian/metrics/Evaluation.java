package dev.jacobian.metrics;

/**
 * What an {@link Evaluator} measured over a data set: the mean loss, the confusion matrix of arg-max
 * predictions (accuracy, precision, recall, F1) and the ranks of the targets (top-k accuracy for any k).
 * Owns its accumulators: the evaluator starts new ones after handing these out.
 *
 * @param loss            the model's loss node averaged over all samples ({@link MeanLoss}): the batch-mean loss
 *                        plus the model's L2 penalty, if any; NaN for no samples
 * @param confusionMatrix true class against arg-max prediction
 * @param topK            the histogram of target ranks
 */
public record Evaluation(double loss, ConfusionMatrix confusionMatrix, TopK topK) {
    /** The arg-max accuracy. */
    public double accuracy() {
        return confusionMatrix.accuracy();
    }

    /** The top-{@code k} accuracy (ties in the target's favour, see {@link TopK}). */
    public double topKAccuracy(int k) {
        return topK.accuracy(k);
    }

    /** Samples evaluated. */
    public long samples() {
        return confusionMatrix.total();
    }
}
