package dev.jacobian.optim;

import dev.jacobian.backend.AdaptiveUpdate;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * What {@link Adam} and {@link RmsProp} share: hyper-parameters validated once ({@link AdaptiveUpdate}), two
 * state arenas (first moment or momentum buffer, second moment) laid out like the parameter arena, and a step
 * of one norm reduction and one fused {@link dev.jacobian.backend.Backend#adaptiveUpdate} over the arena.
 * The state carries PyTorch's names, and the step count as {@code "<parameter>.step"} (one value), as
 * {@code torch.optim} keeps it.
 */
abstract sealed class AdaptiveOptimizer extends ArenaOptimizer permits Adam, RmsProp {
    /** The per-parameter key of the step count in {@link #state}. */
    static final String STEP = "step";
    /** A loaded step count must be below this (2^62), so that counting on from it cannot overflow a long. */
    static final float MAX_STEPS = 0x1p62f;

    private final AdaptiveUpdate.Rule rule;
    private double learningRate;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final String firstName;
    private final String secondName;

    /**
     * {@code beta1} is Adam's first-moment decay or RMSprop's momentum, {@code beta2} the second-moment decay or
     * RMSprop's {@code alpha}; the rest of the hyper-parameters come from {@code b}.
     */
    AdaptiveOptimizer(String name, AdaptiveUpdate.Rule rule, Builder<?> b, double beta1, double beta2,
                      String firstName, String secondName) {
        super(new ArenaStates(name, rule.usesFirstMoment(beta1) ? List.of(firstName, secondName) : List.of(secondName),
                java.util.Set.of(secondName)), b.clipNorm, b.clipValue);
        this.rule = rule;
        this.learningRate = b.learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        if (Double.isFinite(b.learningRate) && Float.isInfinite((float) b.learningRate)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0 as a float: " + b.learningRate);
        }
        update(Integer.MAX_VALUE, 1); // validates every hyper-parameter once, naming it
        this.firstName = firstName;
        this.secondName = secondName;
    }

    private AdaptiveUpdate update(int decayedPrefix, long step) {
        return new AdaptiveUpdate(rule, learningRate, beta1, beta2, eps, weightDecay, clipNorm(), clipValue(),
                decayedPrefix, step);
    }

    @Override
    final void update(Executor exec, Tensor normSq, long step) {
        Tensor first = rule.usesFirstMoment(beta1) ? states.arena(firstName) : null;
        exec.backend().adaptiveUpdate(exec.parameterArena(), exec.gradientArena(), first, states.arena(secondName),
                normSq, update(exec.layout().regularizedEnd(), step));
    }

    /** Takes back the count of a step the NaN guard skipped, so the next bias correction uses the right {@code t}. */
    @Override
    public void stepSkipped() {
        if (steps > 0) {
            steps--;
        }
    }

    @Override
    public float learningRate() {
        return (float) learningRate;
    }

    @Override
    public void setLearningRate(float lr) {
        this.learningRate = checkLearningRate(lr);
    }

    /** The weight decay on regularized parameters (coupled for Adam and RMSprop, decoupled for AdamW). */
    public double weightDecay() {
        return weightDecay;
    }

    /** The denominator's epsilon. */
    public double eps() {
        return eps;
    }

    /** The state named {@code name} of {@code p} (a view into its arena), or null before the first step. */
    Tensor stateOf(String name, Parameter p) {
        return states.view(name, p);
    }

    /** The moments (or buffers) of every parameter, and {@code "<parameter>.step"}; empty before the first step. */
    @Override
    public Map<String, float[]> state(Executor exec) {
        Map<String, float[]> out = states.download(exec);
        if (!out.isEmpty()) {
            for (Parameter p : exec.layout().order()) {
                out.put(p.name() + "." + STEP, new float[] {steps});
            }
        }
        return out;
    }

    /**
     * Restores state written by {@link #state} (or by {@code torch.optim}, names being PyTorch's); the step
     * count is taken from the {@code "<parameter>.step"} entries, which must agree.
     */
    @Override
    public void loadState(Executor exec, Map<String, float[]> state) {
        states.check(exec, state, STEP);
        Long step = null;
        for (Map.Entry<String, float[]> e : state.entrySet()) {
            if (e.getKey().endsWith("." + STEP)) {
                float v = e.getValue()[0];
                // below 2^62: (long) v would saturate at Long.MAX_VALUE, and the next step's count overflow
                if (!(v >= 0f) || v != Math.rint(v) || v >= MAX_STEPS) {
                    throw new IllegalArgumentException("state '" + e.getKey() + "' is not a step count: " + v);
                }
                if (step != null && step != (long) v) {
                    throw new IllegalArgumentException("state '" + e.getKey() + "' says step " + (long) v
                            + " where another parameter says " + step);
                }
                step = (long) v;
            }
        }
        states.upload(exec, state, STEP);
        if (step != null) {
            steps = step;
        }
    }

    /**
     * The hyper-parameters {@link Adam.Builder} and {@link RmsProp.Builder} share, and the setters of those whose
     * meaning and default are the same for both; each setter returns the concrete builder {@code B}.
     *
     * @param <B> the concrete builder
     */
    abstract static sealed class Builder<B extends Builder<B>> permits Adam.Builder, RmsProp.Builder {
        double learningRate;
        double eps = 1e-8;
        double weightDecay;
        double clipNorm;
        double clipValue;

        Builder(double learningRate, double weightDecay) {
            this.learningRate = learningRate;
            this.weightDecay = weightDecay;
        }

        /** This builder as its concrete type. */
        @SuppressWarnings("unchecked")
        final B self() {
            return (B) this;
        }

        /** Added to the denominator, &gt;= 0 (default 1e-8). */
        public B eps(double eps) {
            this.eps = eps;
            return self();
        }

        /** Clip by global L2 norm at this threshold, &gt;= 0 (checked when built); 0 disables. */
        public B clipNorm(double t) {
            this.clipNorm = t;
            return self();
        }

        /** Clip each gradient element to [-v, v], &gt;= 0 (checked when built); 0 disables. */
        public B clipValue(double v) {
            this.clipValue = v;
            return self();
        }
    }
}
