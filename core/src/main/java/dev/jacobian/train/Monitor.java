package dev.jacobian.train;

import dev.jacobian.metrics.MetricMode;

/**
 * A number an epoch reports and whether smaller or larger is better: what {@link EarlyStopping} and a
 * metric-driven scheduler ({@link dev.jacobian.optim.schedule.ReduceLrOnPlateau}) watch.
 */
public enum Monitor {
    /** The validation loss (smaller is better). */
    VALIDATION_LOSS(MetricMode.MIN),
    /** The validation accuracy (larger is better). */
    VALIDATION_ACCURACY(MetricMode.MAX),
    /** The mean training loss of the epoch (smaller is better). */
    TRAIN_LOSS(MetricMode.MIN),
    /** The training accuracy of the epoch (larger is better; needs tracked predictions). */
    TRAIN_ACCURACY(MetricMode.MAX);

    private final MetricMode mode;

    Monitor(MetricMode mode) {
        this.mode = mode;
    }

    /** Whether smaller or larger values are better. */
    public MetricMode mode() {
        return mode;
    }

    /** Whether this monitor reads the validation set. */
    public boolean needsValidation() {
        return this == VALIDATION_LOSS || this == VALIDATION_ACCURACY;
    }

    /** The monitored value of an epoch (NaN when the epoch did not measure it). */
    public double of(EpochMetrics m) {
        return switch (this) {
            case VALIDATION_LOSS -> m.validationLoss();
            case VALIDATION_ACCURACY -> m.validationAccuracy();
            case TRAIN_LOSS -> m.trainLoss();
            case TRAIN_ACCURACY -> m.trainAccuracy();
        };
    }
}
