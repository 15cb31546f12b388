package dev.jacobian.spark;

import dev.jacobian.backend.Backend;
import dev.jacobian.nn.Model;
import java.io.Serializable;

/**
 * Builds the model on a backend, on whichever machine runs it: Spark ships the factory (not the model) to its
 * executors, so it must be serializable and build the same model each time, e.g.
 * {@code b -> Sequential.builder(784).hidden(256, "relu").output(10, LossKind.SOFTMAX_CROSS_ENTROPY).build(b)}.
 */
@FunctionalInterface
public interface ModelFactory extends Serializable {
    /** The model, with its parameters on {@code backend} (their values are replaced by the leader's). */
    Model create(Backend backend);
}
