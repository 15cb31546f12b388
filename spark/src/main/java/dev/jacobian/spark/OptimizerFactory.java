package dev.jacobian.spark;

import dev.jacobian.optim.Optimizer;
import java.io.Serializable;

/**
 * Builds the optimizer each replica runs between two parameter averages ({@link SparkDataParallel#fitAveraging}),
 * e.g. {@code () -> Sgd.builder().learningRate(0.05).momentum(0.9).build()}. Serializable, since Spark ships it.
 */
@FunctionalInterface
public interface OptimizerFactory extends Serializable {
    /** A new optimizer, bound to no model yet. */
    Optimizer create();
}
