package dev.jacobian.samples.training;

import dev.jacobian.data.Batch;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.parallel.DataParallel;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;

/**
 * The training step a run takes: the library's {@link Trainer} on one backend, or {@link DataParallel} over several
 * ({@code --workers}), or another {@link StepEngine}'s (a cluster's). Each reports the loss, the gradient norm and the
 * batch's predicted classes when it can.
 */
public interface Stepper extends AutoCloseable {
    /** One step on {@code rows} samples from {@code first}. */
    StepResult step(float[] x, float[] targets, int first, int rows);

    /** One step on a loader's batch; this one steps on its floats ({@link Batch#features()}). */
    default StepResult step(Batch batch) {
        return step(batch.features(), batch.targets(), 0, batch.rows());
    }

    /**
     * Whether {@link #step(Batch)} uploads a batch's bytes as they are ({@link Batch#byteRows()}), so that the run's
     * loader should keep them ({@link dev.jacobian.data.DataLoader.Builder#keepBytes}); else it would only move the
     * conversion to the step's thread.
     */
    default boolean stepsOnBytes() {
        return false;
    }

    /** The optimizer the step updates with. */
    Optimizer optimizer();

    /** Steps taken, counting those of the run this one resumed. */
    long steps();

    /** Sets the step counter (a resume or a rollback). */
    void setSteps(long steps);

    /**
     * Whether the leader model itself runs each step's forward pass, so that its activations are there for the
     * diagnostics after an epoch; false when every forward runs on other machines.
     */
    default boolean forwardsOnLeader() {
        return true;
    }

    @Override
    void close();

    /** The plain step, with predictions tracked. */
    static Stepper of(Trainer trainer) {
        trainer.trackPredictions(true);
        return new Stepper() {
            @Override
            public StepResult step(float[] x, float[] targets, int first, int rows) {
                return trainer.step(x, targets, first, rows);
            }

            @Override
            public StepResult step(Batch batch) {
                return trainer.step(batch);
            }

            @Override
            public boolean stepsOnBytes() {
                return true;
            }

            @Override
            public Optimizer optimizer() {
                return trainer.optimizer();
            }

            @Override
            public long steps() {
                return trainer.steps();
            }

            @Override
            public void setSteps(long steps) {
                trainer.setSteps(steps);
            }

            @Override
            public void close() {
                trainer.close();
            }
        };
    }

    /** The data-parallel step, with predictions tracked. */
    static Stepper of(DataParallel dp) {
        dp.trackPredictions(true);
        return counting(dp::step, dp.optimizer(), dp::steps, dp::close, true);
    }

    /** A step function: one step on {@code rows} samples from {@code first}. */
    @FunctionalInterface
    interface Step {
        /** The step's numbers (their step number is replaced by the stepper's count). */
        StepResult step(float[] x, float[] targets, int first, int rows);
    }

    /**
     * A stepper around {@code step}, whose own count of steps taken is {@code taken}: it numbers the steps from where
     * {@link #setSteps} puts it (a resume), and closes with {@code close}.
     */
    static Stepper counting(Step step, Optimizer optimizer, java.util.function.LongSupplier taken, Runnable close,
                            boolean forwardsOnLeader) {
        return new Stepper() {
            private long base;

            @Override
            public StepResult step(float[] x, float[] targets, int first, int rows) {
                StepResult r = step.step(x, targets, first, rows);
                return new StepResult(steps(), r.loss(), r.gradNorm(), r.clipped(), r.predictions());
            }

            @Override
            public Optimizer optimizer() {
                return optimizer;
            }

            @Override
            public long steps() {
                return base + taken.getAsLong();
            }

            @Override
            public void setSteps(long steps) {
                base = steps - taken.getAsLong();
            }

            @Override
            public boolean forwardsOnLeader() {
                return forwardsOnLeader;
            }

            @Override
            public void close() {
                close.run();
            }
        };
    }
}
