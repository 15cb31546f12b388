package dev.jacobian.optim;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Reduction;
import dev.jacobian.backend.SgdUpdate;
import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with optional momentum (Polyak) or Nesterov momentum (Sutskever et al.
 * 2013), weight decay on regularized parameters in the coupled L2 form of {@code torch.optim.SGD} (the
 * decay term {@code weightDecay * w} is added to the gradient before momentum), and gradient clipping by global L2 norm
 * (Pascanu, Mikolov &amp; Bengio 2013, "On the difficulty of training recurrent neural networks",
 * algorithm 1: if {@code ||g|| >= t} then {@code g <- t g / ||g||}, with {@code g} all parameters'
 * gradients together) or by value.
 *
 * <p>A step runs entirely on the backend: the squared global norm is accumulated into one device
 * scalar (a sum-of-squares reduction per parameter), and each parameter then gets one fused update
 * kernel that derives the clip scale from that scalar. Nothing is copied to the host; the
 * {@link StepReport} reads the norm only if asked. If the norm is NaN or infinite the update kernels
 * leave every weight untouched.
 *
 * <p>Owns its velocity buffers and the norm scalar (freed by {@link #close()}). Not thread-safe.
 */
public final class Sgd implements AutoCloseable {
    private float learningRate;
    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;
    private final float clipNorm;
    private final float clipValue;
    private final Map<Parameter, Tensor> velocities = new IdentityHashMap<>();
    private Tensor normSq;
    private Backend backend;
    private long steps;

    private Sgd(Builder b) {
        this.learningRate = b.learningRate;
        this.momentum = b.momentum;
        this.nesterov = b.nesterov;
        this.weightDecay = b.weightDecay;
        this.clipNorm = b.clipNorm;
        this.clipValue = b.clipValue;
        // validates every hyper-parameter once, with clear messages
        update(true);
    }

    public static Builder builder() {
        return new Builder();
    }

    private SgdUpdate update(boolean regularized) {
        return new SgdUpdate(learningRate, momentum, nesterov, regularized ? weightDecay : 0f, clipNorm, clipValue);
    }

    /**
     * Updates every parameter of the executor's graph from the gradients of the last backward pass.
     *
     * @return a report whose gradient norm is read from the device only when asked, and only until the
     *     next step overwrites it
     */
    public StepReport step(Executor exec) {
        List<Parameter> params = exec.graph().parameters();
        Backend b = exec.backend();
        if (backend == null) {
            backend = b;
            normSq = b.allocate(Shape.scalar());
        } else if (backend != b) {
            throw new IllegalArgumentException("this optimizer already runs on backend " + backend.name());
        }
        for (int i = 0; i < params.size(); i++) {
            b.reduce(Reduction.SUM_SQUARES, Axis.ALL, exec.gradient(params.get(i)), normSq, i > 0);
        }
        for (Parameter p : params) {
            Tensor v = momentum == 0f ? null : velocities.computeIfAbsent(p, q -> b.allocate(q.shape()));
            b.sgdUpdate(exec.value(p), exec.gradient(p), v, normSq, update(p.regularized()));
        }
        steps++;
        return new StepReport(this, steps, normSq, clipNorm);
    }

    long steps() {
        return steps;
    }

    public float learningRate() {
        return learningRate;
    }

    /** Changes the step size (schedules, or halving after a NaN rollback). */
    public void setLearningRate(float lr) {
        if (!(lr > 0f) || !Float.isFinite(lr)) {
            throw new IllegalArgumentException("learning rate must be positive and finite: " + lr);
        }
        this.learningRate = lr;
    }

    public float momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public float weightDecay() {
        return weightDecay;
    }

    public float clipNorm() {
        return clipNorm;
    }

    public float clipValue() {
        return clipValue;
    }

    /** The momentum buffer of {@code p}, or null before the first step or without momentum (for checkpoints). */
    public Tensor velocity(Parameter p) {
        return velocities.get(p);
    }

    /** Restores a momentum buffer (from a checkpoint): {@code data} has {@code p.shape().size()} floats. */
    public void setVelocity(Executor exec, Parameter p, float[] data) {
        if (momentum == 0f) {
            return;
        }
        Backend b = exec.backend();
        if (backend == null) {
            backend = b;
            normSq = b.allocate(Shape.scalar());
        }
        velocities.computeIfAbsent(p, q -> b.allocate(q.shape())).upload(data);
    }

    @Override
    public void close() {
        velocities.values().forEach(Tensor::close);
        velocities.clear();
        if (normSq != null) {
            normSq.close();
        }
    }

    /** Hyper-parameters; defaults: lr 0.01, no momentum, no weight decay, no clipping. */
    public static final class Builder {
        private float learningRate = 0.01f;
        private float momentum;
        private boolean nesterov;
        private float weightDecay;
        private float clipNorm;
        private float clipValue;

        public Builder learningRate(double lr) {
            this.learningRate = (float) lr;
            return this;
        }

        public Builder momentum(double m) {
            this.momentum = (float) m;
            return this;
        }

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

        /** Clip by global L2 norm at this threshold; 0 disables. */
        public Builder clipNorm(double t) {
            this.clipNorm = (float) t;
            return this;
        }

        /** Clip each gradient element to [-v, v]; 0 disables. */
        public Builder clipValue(double v) {
            this.clipValue = (float) v;
            return this;
        }

        public Sgd build() {
            return new Sgd(this);
        }
    }
}
