package dev.jacobian.samples.training;

/**
 * Training stopped before its last epoch: the loss became NaN or infinite (with {@code --on-nan stop},
 * or after too many rollbacks), or a ReLU layer's units died ({@code --stop-dead}). The message says what happened
 * and which checkpoint holds the last good weights.
 */
public final class TrainingStoppedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** A stop, explained by {@code message}, caused by {@code cause} (or null). */
    public TrainingStoppedException(String message, Throwable cause) {
        super(message, cause);
    }
}
