package dev.jacobian.train;

/**
 * Callbacks of a {@link TrainingLoop}, called on the training thread in this order:
 * {@code onTrainBegin}, then per epoch {@code onEpochBegin}, {@code onStep} after each optimizer step,
 * {@code onEpochEnd} after the validation pass (and after the epoch's scheduler step), and {@code onTrainEnd}
 * once the last epoch ran or a stop was requested. When several listeners are registered, each event reaches
 * them in registration order. Every method does nothing by default.
 *
 * <p>A listener stops training with {@link TrainingLoop#requestStop(String)} (e.g. from {@code onEpochEnd}):
 * the loop finishes the current epoch's callbacks and then ends. An exception thrown by a listener ends
 * {@link TrainingLoop#fit} with that exception ({@code onTrainEnd} is not called).
 */
public interface TrainingListener {
    /** Before the first epoch; {@code loop} gives the trainer, model and settings. */
    default void onTrainBegin(TrainingLoop loop) {
    }

    /** Before epoch {@code epoch} (from 1), with the learning rate it will start at already set. */
    default void onEpochBegin(TrainingLoop loop, int epoch) {
    }

    /** After each optimizer step of epoch {@code epoch}: the step's loss, gradient norm and (if tracked) predictions. */
    default void onStep(TrainingLoop loop, int epoch, StepResult step) {
    }

    /** After an epoch and its validation; may call {@link TrainingLoop#requestStop}. */
    default void onEpochEnd(TrainingLoop loop, EpochMetrics metrics) {
    }

    /** After the last epoch, or after a requested stop (e.g. to restore the best weights). */
    default void onTrainEnd(TrainingLoop loop, FitResult result) {
    }
}
