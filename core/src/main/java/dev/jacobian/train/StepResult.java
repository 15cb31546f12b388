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
    /**
     * The result of step {@code step} of {@code optimizer} with batch loss {@code loss} and gradient norm
     * {@code gradNorm} as read back from the device ({@code clipped} follows from the optimizer's threshold).
     *
     * @throws NonFiniteLossException when the loss or the norm is NaN or infinite; when the norm is, the optimizer's
     *                                device-side guard left the weights as they were and it is told so
     *                                ({@link dev.jacobian.optim.Optimizer#stepSkipped})
     */
    public static StepResult checked(dev.jacobian.optim.Optimizer optimizer, long step, float loss, float gradNorm,
                                     int[] predictions) {
        if (!Float.isFinite(loss) || !Float.isFinite(gradNorm)) {
            if (!Float.isFinite(gradNorm)) {
                optimizer.stepSkipped(); // the device-side guard left the weights and the state as they were
            }
            throw new NonFiniteLossException(step, loss, gradNorm, !Float.isFinite(gradNorm));
        }
        boolean clipped = optimizer.clipNorm() > 0f && gradNorm >= optimizer.clipNorm();
        return new StepResult(step, loss, gradNorm, clipped, predictions);
    }

    /** How many of the batch's predictions equal {@code labels} (which has one label per sample). */
    public int correct(int[] labels) {
        int hits = 0;
        for (int i = 0; i < predictions.length; i++) {
            hits += predictions[i] == labels[i] ? 1 : 0;
        }
        return hits;
    }
}
