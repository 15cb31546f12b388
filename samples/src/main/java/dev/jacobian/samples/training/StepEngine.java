package dev.jacobian.samples.training;

import dev.jacobian.optim.Optimizer;
import dev.jacobian.nn.Model;

/**
 * Where a run's steps are computed when not on this machine's backends: e.g. a Spark cluster (the {@code spark}
 * module's {@code SparkTrain}). The run keeps everything else: data, shuffling and augmentation, schedules,
 * checkpoints, reports; the engine gets each batch and returns its step's numbers.
 */
@FunctionalInterface
public interface StepEngine {
    /**
     * The stepper that updates {@code leader} (on this machine) with {@code optimizer}, with {@code workers} workers
     * whose replicas {@code spec} builds on backends of the kind {@code backend} names.
     */
    Stepper open(Model leader, Optimizer optimizer, ModelSpec spec, int workers, String backend);
}
