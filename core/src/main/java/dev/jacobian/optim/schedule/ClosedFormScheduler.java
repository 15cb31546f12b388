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
public final class ClosedFormScheduler implements LrScheduler {
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final double baseLr;
    private long t;
    private double lr;

    /**
     * A scheduler whose base rate is the optimizer's current rate (a float: give {@code baseLr} to compute from the
     * exact double, as PyTorch does); sets the rate of period 0.
     */
    public ClosedFormScheduler(Optimizer optimizer, LrSchedule schedule) {
        this(optimizer, schedule, optimizer.learningRate());
    }

    /**
     * A scheduler with base rate {@code baseLr} (finite, &gt; 0); sets the rate of period 0 on {@code optimizer}.
     */
    public ClosedFormScheduler(Optimizer optimizer, LrSchedule schedule, double baseLr) {
        if (!(baseLr > 0) || !Double.isFinite(baseLr)) {
            throw new IllegalArgumentException("baseLr must be finite and > 0: " + baseLr);
        }
        this.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
        this.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
        this.baseLr = baseLr;
        apply();
    }

    private void apply() {
        double next = schedule.learningRate(baseLr, t);
        if (!(next >= 0) || !Double.isFinite(next)) {
            throw new IllegalStateException("the schedule gave learning rate " + next + " for period " + t);
        }
        lr = next;
        optimizer.setLearningRate((float) lr);
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
        t++;
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
    public long lastEpoch() {
        return t;
    }

    @Override
    public double learningRate() {
        return lr;
    }

    @Override
    public Optimizer optimizer() {
        return optimizer;
    }

    @Override
    public Map<String, Double> state() {
        return Map.of(LAST_EPOCH, (double) t);
    }

    @Override
    public void loadState(Map<String, Double> state) {
        for (String k : state.keySet()) {
            if (!k.equals(LAST_EPOCH)) {
                throw new IllegalArgumentException("unknown scheduler state '" + k + "' (expected " + LAST_EPOCH + ")");
            }
        }
        Double e = state.get(LAST_EPOCH);
        if (e == null || !(e >= 0) || e != Math.rint(e)) {
            throw new IllegalArgumentException("scheduler state " + LAST_EPOCH + " must be a whole number >= 0: " + e);
        }
        t = e.longValue();
        apply();
    }
}
