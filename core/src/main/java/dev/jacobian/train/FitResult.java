package dev.jacobian.train;

import java.util.List;

/**
 * What {@link TrainingLoop#fit} did.
 *
 * @param history    one record per epoch run
 * @param stopReason why a listener stopped training early, or null when every epoch ran
 */
public record FitResult(List<EpochMetrics> history, String stopReason) {
    /** A result over a copy of {@code history}. */
    public FitResult {
        history = List.copyOf(history);
    }

    /** Whether a listener stopped training before the last epoch. */
    public boolean stoppedEarly() {
        return stopReason != null;
    }

    /** Epochs run. */
    public int epochs() {
        return history.size();
    }
}
