package dev.jacobian.optim.schedule;

import dev.jacobian.optim.Optimizer;
import java.util.Map;

/**
 * Drives an optimizer with an {@link LrSchedule} in closed form: the rate of period {@code t} is
 * {@code schedule.learningRate(baseLr, t)}, so resuming needs only {@code t} ({@code "last_epoch"}).
 *
 * <pre>{@code
 * LrScheduler s = new ClosedFormScheduler(sgd, LrSchedule.cosine(epochs, 0).withWarmup(2, 0.1));
 * for (int epoch = 0; epoch < epochs; epoch++) {
 *     ... train one epoch at sgd.learningRate() ...
 *     s.step();
 * }
 * }</pre>
 */
public final class ClosedFormScheduler extends RateScheduler {
    private final LrSchedule schedule;
    private final double baseLr;

    /**
     * A scheduler whose base rate is the optimizer's current rate (a float: give {@code baseLr} to compute from the
     * exact double, as PyTorch does); sets the rate of period 0.
     */
    public ClosedFormScheduler(Optimizer optimizer, LrSchedule schedule) {
        this(optimizer, schedule, java.util.Objects.requireNonNull(optimizer, "optimizer").learningRate());
    }

    /**
     * A scheduler with base rate {@code baseLr} (finite, &gt; 0); sets the rate of period 0 on {@code optimizer}.
     */
    public ClosedFormScheduler(Optimizer optimizer, LrSchedule schedule, double baseLr) {
        this(checkBaseLr(baseLr), optimizer, schedule);
    }

    /** The 3-argument constructor, {@code baseLr} checked before {@code optimizer}. */
    private ClosedFormScheduler(double baseLr, Optimizer optimizer, LrSchedule schedule) {
        super(optimizer);
        this.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
        this.baseLr = baseLr;
        apply();
    }

    private void apply() {
        double next = schedule.learningRate(baseLr, lastEpoch);
        if (!(next >= 0) || !Double.isFinite(next)) {
            throw new IllegalStateException("the schedule gave learning rate " + next + " for period " + lastEpoch);
        }
        setRate(next);
    }

    /** The base rate the schedule scales. */
    public double baseLearningRate() {
        return baseLr;
    }

    /** The schedule. */
    public LrSchedule schedule() {
        return schedule;
    }

    @Override
    public void step() {
        lastEpoch++;
        apply();
    }

    /** Same as {@link #step()}: a closed-form schedule reads no metric. */
    @Override
    public void step(double metric) {
        step();
    }

    @Override
    public boolean needsMetric() {
        return false;
    }

    @Override
    public Map<String, Double> state() {
        return Map.of(LAST_EPOCH, (double) lastEpoch);
    }

    @Override
    public void loadState(Map<String, Double> state) {
        for (String k : state.keySet()) {
            if (!k.equals(LAST_EPOCH)) {
                throw new IllegalArgumentException("unknown scheduler state '" + k + "' (expected " + LAST_EPOCH + ")");
            }
        }
        lastEpoch = wholeNumber(state, LAST_EPOCH, Double.POSITIVE_INFINITY);
        apply();
    }
}
