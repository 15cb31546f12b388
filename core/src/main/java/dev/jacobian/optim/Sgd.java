package dev.jacobian.optim;

import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD}: optional momentum (Polyak) or Nesterov momentum
 * (Sutskever et al. 2013), weight decay on regularized parameters in the coupled L2 form (the term
 * {@code weightDecay * w} is added to the gradient before momentum, as PyTorch's {@code weight_decay}), and
 * gradient clipping by global L2 norm (Pascanu, Mikolov &amp; Bengio 2013, "On the difficulty of training
 * recurrent neural networks", algorithm 1: if {@code ||g|| >= t} then {@code g <- t g / ||g||}, with
 * {@code g} all parameters' gradients together, as {@code torch.nn.utils.clip_grad_norm_}) or by value.
 *
 * <p>A step runs entirely on the backend, over the executor's parameter arena
 * ({@link dev.jacobian.graph.ParameterLayout}): the squared global norm is one sum-of-squares reduction of
 * the gradient arena into a device scalar, and one fused update kernel covers every parameter, with weight
 * decay on the arena's regularized prefix — so a step costs the same few launches for any number of layers.
 * The momentum buffers are one arena of the same layout. Nothing is copied to the host; the
 * {@link StepReport} reads the norm only if asked. If the norm is NaN or infinite the update leaves every
 * weight untouched.
 *
 * <p>Owns its velocity arena and the norm scalar (freed by {@link #close()}). Not thread-safe.
 */
public final class Sgd extends ArenaOptimizer {
    /** The state name of the momentum buffers, as in PyTorch. */
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    private float learningRate;
    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;

    private Sgd(Builder b) {
        super(new ArenaStates("SGD", b.momentum != 0f ? List.of(MOMENTUM_BUFFER) : List.of()), b.clipNorm,
                b.clipValue);
        this.learningRate = b.learningRate;
        this.momentum = b.momentum;
        this.nesterov = b.nesterov;
        this.weightDecay = b.weightDecay;
        if (!(weightDecay >= 0f) || Float.isInfinite(weightDecay)) { // infinite decay: NaN weights at the first step
            throw new IllegalArgumentException("weight decay must be >= 0 and finite: " + weightDecay);
        }
        // validates every hyper-parameter once, with clear messages
        update(Integer.MAX_VALUE);
    }

    /** A builder with the defaults listed on {@link Builder}. */
    public static Builder builder() {
        return new Builder();
    }

    private SgdUpdate update(int decayedPrefix) {
        return new SgdUpdate(learningRate, momentum, nesterov, weightDecay, clipNorm(), clipValue(), decayedPrefix);
    }

    @Override
    void update(Executor exec, Tensor normSq, long step) {
        exec.backend().sgdUpdate(exec.parameterArena(), exec.gradientArena(), states.arena(MOMENTUM_BUFFER), normSq,
                update(exec.layout().regularizedEnd()));
    }

    @Override
    public float learningRate() {
        return learningRate;
    }

    /**
     * Changes the step size (schedules, or halving after a NaN rollback): finite and &gt;= 0; at 0 a step
     * leaves the weights as they are and still updates the momentum buffer, as {@code torch.optim.SGD}.
     */
    @Override
    public void setLearningRate(float lr) {
        this.learningRate = checkLearningRate(lr);
    }

    /** The momentum coefficient in [0, 1); 0 means plain SGD with no velocity buffers. */
    public float momentum() {
        return momentum;
    }

    /** Whether the momentum is Nesterov's rather than heavy-ball. */
    public boolean nesterov() {
        return nesterov;
    }

    /** The coupled L2 weight decay (as {@code torch.optim.SGD}'s {@code weight_decay}) on regularized parameters. */
    public float weightDecay() {
        return weightDecay;
    }

    /** The momentum buffer of {@code p} (a view into the velocity arena), or null before the first step or without momentum. */
    public Tensor velocity(Parameter p) {
        return states.view(MOMENTUM_BUFFER, p);
    }

    /**
     * Restores a momentum buffer (from a checkpoint): {@code data} has {@code p.shape().size()} finite floats;
     * without momentum it is ignored.
     *
     * @throws IllegalArgumentException naming the state when the size is wrong or a value is NaN or infinite
     * @throws IllegalStateException    when this optimizer is closed
     */
    public void setVelocity(Executor exec, Parameter p, float[] data) {
        states.ensureOpen();
        if (momentum == 0f) {
            return;
        }
        states.bind(exec);
        Tensor v = states.view(MOMENTUM_BUFFER, p);
        if (v == null) {
            throw new IllegalArgumentException("parameter " + p + " is not one of the bound executor's");
        }
        states.checkValues(p.name() + "." + MOMENTUM_BUFFER, MOMENTUM_BUFFER, p, data);
        v.upload(data);
    }

    @Override
    public Map<String, float[]> state(Executor exec) {
        return states.download(exec);
    }

    /** Restores momentum buffers written by {@link #state}; without momentum they are checked and ignored. */
    @Override
    public void loadState(Executor exec, Map<String, float[]> state) {
        states.ensureOpen();
        if (momentum == 0f) {
            new ArenaStates("SGD", List.of(MOMENTUM_BUFFER)).check(exec, state, null);
            return;
        }
        states.upload(exec, state, null);
    }

    /** Hyper-parameters; defaults: lr 0.01, no momentum, no weight decay, no clipping. */
    public static final class Builder {
        private float learningRate = 0.01f;
        private float momentum;
        private boolean nesterov;
        private float weightDecay;
        private float clipNorm;
        private float clipValue;

        /** A builder holding the defaults; {@link Sgd#builder()} returns the same. */
        public Builder() {
        }

        /** Step size (default 0.01): finite and &gt;= 0, checked by {@link #build()}. */
        public Builder learningRate(double lr) {
            this.learningRate = (float) lr;
            return this;
        }

        /** Momentum coefficient in [0, 1), checked by {@link #build()} (default 0: no momentum). */
        public Builder momentum(double m) {
            this.momentum = (float) m;
            return this;
        }

        /**
         * Nesterov momentum instead of heavy-ball (default false); needs momentum &gt; 0, checked by
         * {@link #build()}.
         */
        public Builder nesterov(boolean n) {
            this.nesterov = n;
            return this;
        }

        /**
         * Weight decay on regularized parameters (weights, not biases), coupled as in {@code torch.optim.SGD}:
         * {@code g += weightDecay * w} before momentum (L2 regularization folded into the update; not the
         * decoupled form of AdamW).
         */
        public Builder weightDecay(double wd) {
            this.weightDecay = (float) wd;
            return this;
        }

        /** Clip by global L2 norm at this threshold, &gt;= 0 (checked by {@link #build()}); 0 disables. */
        public Builder clipNorm(double t) {
            this.clipNorm = (float) t;
            return this;
        }

        /** Clip each gradient element to [-v, v], &gt;= 0 (checked by {@link #build()}); 0 disables. */
        public Builder clipValue(double v) {
            this.clipValue = (float) v;
            return this;
        }

        /**
         * The optimizer; an {@link IllegalArgumentException} naming the value when the learning rate, momentum,
         * Nesterov flag, weight decay or a clipping threshold is out of range.
         */
        public Sgd build() {
            return new Sgd(this);
        }
    }
}
