package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.nn.Model;
import dev.jacobian.tensor.Shape;
import java.io.Serializable;

/**
 * What builds a run's model, in a form that travels (to a cluster's executors): the configuration, one sample's
 * shape and the number of classes.
 *
 * @param config      the run's configuration
 * @param sampleShape one sample's shape, e.g. {@code [1, 28, 28]}
 * @param classes     the number of classes
 */
public record ModelSpec(TrainConfig config, int[] sampleShape, int classes) implements Serializable {
    /** The model on {@code backend}, as {@link Networks#model} builds it. */
    public Model build(Backend backend) {
        return Networks.model(config, Shape.of(sampleShape), classes, backend);
    }
}
