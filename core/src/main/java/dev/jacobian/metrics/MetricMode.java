package dev.jacobian.metrics;

/**
 * Whether smaller or larger values of a monitored metric are better ({@code mode="min"} / {@code "max"} of
 * PyTorch's {@code ReduceLROnPlateau} and Keras' {@code EarlyStopping}): {@link #MIN} for a loss, {@link #MAX}
 * for an accuracy.
 */
public enum MetricMode {
    /** Smaller is better (a loss). */
    MIN,
    /** Larger is better (an accuracy). */
    MAX;

    /**
     * Whether {@code value} improves on {@code best} by more than {@code minDelta} (absolute):
     * {@code value < best - minDelta} for {@link #MIN}, {@code value > best + minDelta} for {@link #MAX}.
     * NaN never improves.
     */
    public boolean improvesAbsolute(double value, double best, double minDelta) {
        return this == MIN ? value < best - minDelta : value > best + minDelta;
    }

    /**
     * Whether {@code value} improves on {@code best} by more than the fraction {@code threshold} of it
     * ({@code threshold_mode="rel"}): {@code value < best * (1 - threshold)} for {@link #MIN},
     * {@code value > best * (1 + threshold)} for {@link #MAX}. NaN never improves.
     */
    public boolean improvesRelative(double value, double best, double threshold) {
        return this == MIN ? value < best * (1 - threshold) : value > best * (1 + threshold);
    }

    /** The worst possible value: {@code +Inf} for {@link #MIN}, {@code -Inf} for {@link #MAX}. */
    public double worst() {
        return this == MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }
}
