package dev.jacobian.train;

/**
 * The numbers one {@link Trainer#step} reports, read back from the device in a single transfer.
 *
 * @param step        the step's number, from 1
 * @param loss        the training objective on this batch, before the update
 * @param gradNorm    the global L2 norm of all gradients before clipping
 * @param clipped     whether clipping by global norm scaled this step's gradients
 * @param predictions the arg-max class of each sample of the batch (before the update), when the
 *                    trainer tracks predictions; otherwise an empty array
 */
public record StepResult(long step, float loss, float gradNorm, boolean clipped, int[] predictions) {
    /** How many of the batch's predictions equal {@code labels} (which has one label per sample). */
    public int correct(int[] labels) {
        int hits = 0;
        for (int i = 0; i < predictions.length; i++) {
            hits += predictions[i] == labels[i] ? 1 : 0;
        }
        return hits;
    }
}
