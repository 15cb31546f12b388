package dev.jacobian.optim.schedule;

/**
 * A learning rate in closed form: the rate of period {@code t} (0, 1, 2, ...: epochs or steps, as the caller
 * steps its {@link ClosedFormScheduler}) for a base rate. The factories follow {@code torch.optim.lr_scheduler}:
 * {@link #constant()}, {@link #step} ({@code StepLR}), {@link #exponential} ({@code ExponentialLR}),
 * {@link #cosine} ({@code CosineAnnealingLR}, its closed form) and {@link #withWarmup} ({@code LinearLR}
 * followed by this schedule through {@code SequentialLR}). Implementations are pure functions.
 */
@FunctionalInterface
public interface LrSchedule {
    /**
     * The learning rate of period {@code t} (&gt;= 0) for base rate {@code baseLr}.
     *
     * @return a finite rate &gt;= 0
     */
    double learningRate(double baseLr, long t);

    /** The base rate in every period. */
    static LrSchedule constant() {
        return (base, t) -> base;
    }

    /**
     * {@code StepLR}: {@code base * gamma^floor(t / stepSize)}.
     *
     * @param stepSize periods between decays, &gt;= 1
     * @param gamma    decay factor, finite and &gt; 0 (above 1 the rate grows, as PyTorch allows)
     */
    static LrSchedule step(long stepSize, double gamma) {
        if (stepSize < 1) {
            throw new IllegalArgumentException("stepSize must be >= 1: " + stepSize);
        }
        checkFactor("gamma", gamma);
        return (base, t) -> base * Math.pow(gamma, Math.floorDiv(t, stepSize));
    }

    /**
     * {@code ExponentialLR}: {@code base * gamma^t}.
     *
     * @param gamma decay factor per period, finite and &gt; 0
     */
    static LrSchedule exponential(double gamma) {
        checkFactor("gamma", gamma);
        return (base, t) -> base * Math.pow(gamma, t);
    }

    /**
     * {@code CosineAnnealingLR} in its closed form (Loshchilov &amp; Hutter 2017, SGDR, without restarts):
     * {@code etaMin + (base - etaMin) * (1 + cos(pi * t / tMax)) / 2}. After {@code tMax} the cosine goes on
     * (rising again), as PyTorch's does; step it at most {@code tMax} times to anneal once. With
     * {@code etaMin = 0} the rate of period {@code tMax} is exactly 0, which {@link dev.jacobian.optim.Sgd}
     * accepts (the weights stay, as in PyTorch).
     *
     * @param tMax   periods of one half cosine, &gt;= 1
     * @param etaMin the lowest rate, finite and &gt;= 0
     */
    static LrSchedule cosine(long tMax, double etaMin) {
        if (tMax < 1) {
            throw new IllegalArgumentException("tMax must be >= 1: " + tMax);
        }
        if (!(etaMin >= 0) || !Double.isFinite(etaMin)) {
            throw new IllegalArgumentException("etaMin must be finite and >= 0: " + etaMin);
        }
        return (base, t) -> etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * t / tMax)) / 2;
    }

    /**
     * A linear warmup followed by this schedule ({@code SequentialLR([LinearLR(start_factor, total_iters=warmup),
     * this], milestones=[warmup])}): {@code base * (startFactor + (1 - startFactor) * t / warmup)} for
     * {@code t < warmup}, then this schedule counted from 0 again: {@code this(base, t - warmup)}.
     *
     * @param warmup      periods of warmup, &gt;= 1
     * @param startFactor the fraction of the base rate in period 0, in (0, 1]
     */
    default LrSchedule withWarmup(long warmup, double startFactor) {
        if (warmup < 1) {
            throw new IllegalArgumentException("warmup must be >= 1: " + warmup);
        }
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("startFactor must be in (0, 1]: " + startFactor);
        }
        LrSchedule after = this;
        return (base, t) -> t < warmup ? base * (startFactor + (1 - startFactor) * t / warmup)
                : after.learningRate(base, t - warmup);
    }

    private static void checkFactor(String name, double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be finite and > 0: " + v);
        }
    }
}
