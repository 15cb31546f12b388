package dev.jacobian.optim.schedule;

import dev.jacobian.optim.Optimizer;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link ClosedFormScheduler} and {@link ReduceLrOnPlateau} share: the optimizer they drive, the rate they
 * own and set on it, and the count of periods stepped ({@code "last_epoch"}).
 */
abstract sealed class RateScheduler implements LrScheduler permits ClosedFormScheduler, ReduceLrOnPlateau {
    private final Optimizer optimizer;
    private double lr;
    /** Periods stepped so far. */
    long lastEpoch;

    RateScheduler(Optimizer optimizer) {
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
    }

    /** {@code baseLr}, checked finite and &gt; 0. */
    static double checkBaseLr(double baseLr) {
        if (!(baseLr > 0) || !Double.isFinite(baseLr)) {
            throw new IllegalArgumentException("baseLr must be finite and > 0: " + baseLr);
        }
        return baseLr;
    }

    /**
     * The whole number {@code >= 0} and {@code <= max} under {@code key} in {@code state}, or an
     * {@link IllegalArgumentException} naming the key.
     */
    static long wholeNumber(Map<String, Double> state, String key, double max) {
        Double v = state.get(key);
        if (v == null || !(v >= 0) || v != Math.rint(v) || v > max) {
            throw new IllegalArgumentException("scheduler state " + key + " must be a whole number >= 0: " + v);
        }
        return v.longValue();
    }

    /** Makes {@code rate} the current rate, and the optimizer's. */
    final void setRate(double rate) {
        lr = rate;
        optimizer.setLearningRate((float) rate);
    }

    @Override
    public final long lastEpoch() {
        return lastEpoch;
    }

    @Override
    public final double learningRate() {
        return lr;
    }

    @Override
    public final Optimizer optimizer() {
        return optimizer;
    }
}
