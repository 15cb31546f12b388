package dev.jacobian.train;

/**
 * The loss became NaN or infinite: the lecture's exploding gradients, usually. Thrown by
 * {@link Trainer#step}; the message says what happened to the weights and what to try.
 */
public final class NonFiniteLossException extends ArithmeticException {
    private static final long serialVersionUID = 1L;
    /** The trainer's step count including the failing step (counted from 1). */
    private final long step;
    /** The batch loss of the failing step: NaN or infinite, or finite when only the gradient norm was not. */
    private final float loss;
    /** Whether the device-side guard skipped the update because the gradient norm was not finite. */
    private final boolean weightsUntouched;

    /**
     * An exception for step {@code step} whose loss or global gradient norm {@code gradNorm} is not finite;
     * the message reports both and whether the weights were left untouched.
     */
    public NonFiniteLossException(long step, float loss, float gradNorm, boolean weightsUntouched) {
        super((Float.isFinite(loss) ? "gradient norm is " + gradNorm + " at step " + step + " (loss " + loss + "); "
                : "loss is " + loss + " at step " + step + " (gradient norm " + gradNorm + "); ")
                + (weightsUntouched ? "the weights were left as they were before this step. "
                : "this step's update was applied. ")
                + "Exploding gradients end in NaN: lower the learning rate, clip gradients by norm, "
                + "or check the input scale.");
        this.step = step;
        this.loss = loss;
        this.weightsUntouched = weightsUntouched;
    }

    /** The trainer's step count including the failing step (counted from 1). */
    public long step() {
        return step;
    }

    /** The batch loss of the failing step: NaN or infinite, or finite when only the gradient norm was not. */
    public float loss() {
        return loss;
    }

    /** Whether the device-side guard skipped the update (the gradients were not finite either). */
    public boolean weightsUntouched() {
        return weightsUntouched;
    }
}
