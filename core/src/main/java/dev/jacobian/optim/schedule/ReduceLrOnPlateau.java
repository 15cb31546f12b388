package dev.jacobian.optim.schedule;

import dev.jacobian.metrics.MetricMode;
import dev.jacobian.optim.Optimizer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code torch.optim.lr_scheduler.ReduceLROnPlateau}: multiplies the rate by {@code factor} (not below
 * {@code minLr}) when the monitored metric has not improved for more than {@code patience} periods, then waits
 * {@code cooldown} periods before counting bad periods again. With {@code threshold_mode="rel"} (the default)
 * a value improves on the best when it is below {@code best * (1 - threshold)} in {@link MetricMode#MIN}
 * ({@code best * (1 + threshold)} in {@link MetricMode#MAX}); with {@code absolute} thresholds, below
 * {@code best - threshold}. A reduction smaller than {@code eps} (1e-8) is skipped, as in PyTorch. A NaN
 * metric counts as a bad period.
 *
 * <p>Each {@link #step(double)} runs PyTorch's order: compare with the best, count a bad period, spend a
 * cooldown period (which clears the bad count), then reduce when the bad count exceeds the patience.
 *
 * <p>Unlike PyTorch, which reduces whatever rate the optimizer's parameter groups hold, the scheduler owns the
 * rate: it reduces its own value ({@link #learningRate()}, saved in {@link #state()}) and sets it on the optimizer
 * at each step, so a rate set on the optimizer from outside in between is overwritten. A caller that scales the
 * rate (the CLI halves it after a NaN rollback) applies its factor after each step.
 */
public final class ReduceLrOnPlateau extends RateScheduler {
    /** State key of the best value seen. */
    public static final String BEST = "best";
    /** State key of the number of bad periods in a row. */
    public static final String NUM_BAD_EPOCHS = "num_bad_epochs";
    /** State key of the cooldown periods left. */
    public static final String COOLDOWN_COUNTER = "cooldown_counter";
    /** State key of the current rate (PyTorch keeps it in the optimizer's parameter groups). */
    public static final String LR = "lr";
    private static final double EPS = 1e-8;

    private final MetricMode mode;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final boolean relative;
    private final int cooldown;
    private final double minLr;
    private double best;
    private int badEpochs;
    private int cooldownCounter;

    private ReduceLrOnPlateau(Builder b) {
        super(b.optimizer);
        this.mode = java.util.Objects.requireNonNull(b.mode, "mode");
        this.factor = b.factor;
        this.patience = b.patience;
        this.threshold = b.threshold;
        this.relative = b.relative;
        this.cooldown = b.cooldown;
        this.minLr = b.minLr;
        if (!(factor > 0 && factor < 1)) {
            throw new IllegalArgumentException("factor must be in (0, 1): " + factor);
        }
        if (patience < 0) {
            throw new IllegalArgumentException("patience must be >= 0: " + patience);
        }
        if (!(threshold >= 0) || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("threshold must be finite and >= 0: " + threshold);
        }
        if (cooldown < 0) {
            throw new IllegalArgumentException("cooldown must be >= 0: " + cooldown);
        }
        if (!(minLr >= 0) || !Double.isFinite(minLr)) {
            throw new IllegalArgumentException("minLr must be finite and >= 0: " + minLr);
        }
        double lr = checkBaseLr(b.baseLr != null ? b.baseLr : optimizer().learningRate());
        this.best = mode.worst();
        setRate(lr);
    }

    /** A builder over {@code optimizer}, with PyTorch's defaults (min, factor 0.1, patience 10, rel 1e-4). */
    public static Builder builder(Optimizer optimizer) {
        return new Builder(optimizer);
    }

    /** Always throws: this scheduler needs the monitored metric, see {@link #step(double)}. */
    @Override
    public void step() {
        throw new IllegalStateException("ReduceLrOnPlateau needs the monitored metric: call step(metric)");
    }

    @Override
    public void step(double metric) {
        lastEpoch++;
        boolean better = relative ? mode.improvesRelative(metric, best, threshold)
                : mode.improvesAbsolute(metric, best, threshold);
        if (better) {
            best = metric;
            badEpochs = 0;
        } else {
            badEpochs++;
        }
        if (cooldownCounter > 0) {
            cooldownCounter--;
            badEpochs = 0;
        }
        if (badEpochs > patience) {
            double lr = learningRate();
            double next = Math.max(lr * factor, minLr);
            if (lr - next > EPS) {
                setRate(next);
            }
            cooldownCounter = cooldown;
            badEpochs = 0;
        }
    }

    @Override
    public boolean needsMetric() {
        return true;
    }

    /** The best monitored value so far ({@link MetricMode#worst()} before the first step). */
    public double best() {
        return best;
    }

    /** Bad periods in a row. */
    public int badEpochs() {
        return badEpochs;
    }

    /** Cooldown periods left. */
    public int cooldownCounter() {
        return cooldownCounter;
    }

    /** Whether the monitored metric should fall ({@link MetricMode#MIN}) or rise ({@link MetricMode#MAX}). */
    public MetricMode mode() {
        return mode;
    }

    @Override
    public Map<String, Double> state() {
        Map<String, Double> s = new LinkedHashMap<>();
        s.put(LAST_EPOCH, (double) lastEpoch);
        s.put(BEST, best);
        s.put(NUM_BAD_EPOCHS, (double) badEpochs);
        s.put(COOLDOWN_COUNTER, (double) cooldownCounter);
        s.put(LR, learningRate());
        return s;
    }

    @Override
    public void loadState(Map<String, Double> state) {
        Set<String> keys = Set.of(LAST_EPOCH, BEST, NUM_BAD_EPOCHS, COOLDOWN_COUNTER, LR);
        for (String k : state.keySet()) {
            if (!keys.contains(k)) {
                throw new IllegalArgumentException("unknown scheduler state '" + k + "' (expected " + keys + ")");
            }
        }
        long e = wholeNumber(state, LAST_EPOCH, Integer.MAX_VALUE);
        int bad = (int) wholeNumber(state, NUM_BAD_EPOCHS, Integer.MAX_VALUE);
        int cool = (int) wholeNumber(state, COOLDOWN_COUNTER, Integer.MAX_VALUE);
        Double b = state.get(BEST);
        Double rate = state.get(LR);
        if (b == null || Double.isNaN(b)) {
            throw new IllegalArgumentException("scheduler state " + BEST + " must be a number: " + b);
        }
        if (rate == null || !(rate > 0) || !Double.isFinite(rate)) {
            throw new IllegalArgumentException("scheduler state " + LR + " must be finite and > 0: " + rate);
        }
        lastEpoch = e;
        badEpochs = bad;
        cooldownCounter = cool;
        best = b;
        setRate(rate);
    }

    /** Settings of a {@link ReduceLrOnPlateau}; defaults as PyTorch's. */
    public static final class Builder {
        private final Optimizer optimizer;
        private MetricMode mode = MetricMode.MIN;
        private double factor = 0.1;
        private int patience = 10;
        private double threshold = 1e-4;
        private boolean relative = true;
        private int cooldown;
        private double minLr;
        private Double baseLr;

        private Builder(Optimizer optimizer) {
            this.optimizer = optimizer;
        }

        /** {@link MetricMode#MIN} (a loss; the default) or {@link MetricMode#MAX} (an accuracy). */
        public Builder mode(MetricMode mode) {
            this.mode = mode;
            return this;
        }

        /** The factor on the rate at each reduction, in (0, 1); default 0.1. */
        public Builder factor(double factor) {
            this.factor = factor;
            return this;
        }

        /** Bad periods tolerated before a reduction, &gt;= 0; default 10. */
        public Builder patience(int patience) {
            this.patience = patience;
            return this;
        }

        /** The relative improvement that counts ({@code threshold_mode="rel"}), &gt;= 0; default 1e-4. */
        public Builder threshold(double threshold) {
            this.threshold = threshold;
            this.relative = true;
            return this;
        }

        /** The absolute improvement that counts ({@code threshold_mode="abs"}), &gt;= 0. */
        public Builder absoluteThreshold(double threshold) {
            this.threshold = threshold;
            this.relative = false;
            return this;
        }

        /** Periods to wait after a reduction before counting bad periods again, &gt;= 0; default 0. */
        public Builder cooldown(int cooldown) {
            this.cooldown = cooldown;
            return this;
        }

        /** The lowest rate, &gt;= 0; default 0. */
        public Builder minLr(double minLr) {
            this.minLr = minLr;
            return this;
        }

        /** The starting rate; default the optimizer's current rate. */
        public Builder baseLr(double baseLr) {
            this.baseLr = baseLr;
            return this;
        }

        /** The scheduler; sets the starting rate on the optimizer. */
        public ReduceLrOnPlateau build() {
            return new ReduceLrOnPlateau(this);
        }
    }
}
