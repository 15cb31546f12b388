package dev.jacobian.optim.schedule;

import dev.jacobian.optim.Optimizer;
import java.util.Map;

/**
 * Sets an {@link Optimizer}'s learning rate period by period, as the schedulers of
 * {@code torch.optim.lr_scheduler} do: made over an optimizer, it sets the rate of period 0 at once; each
 * {@link #step()} (or {@link #step(double)} with the monitored metric) ends a period and sets the rate of
 * the next through {@link Optimizer#setLearningRate}. Whether a period is an epoch or an optimizer step is
 * the caller's choice: step it after each epoch, or after each {@code Trainer.step}.
 *
 * <p>{@link #state()} returns what a resumed run needs ({@code "last_epoch"} and, for
 * {@link ReduceLrOnPlateau}, its best value, bad epochs, cooldown and current rate), under PyTorch's names;
 * {@link #loadState} restores it and sets the optimizer's rate accordingly. Not thread-safe.
 */
public interface LrScheduler {
    /** The key of the number of periods stepped so far in {@link #state()}. */
    String LAST_EPOCH = "last_epoch";

    /** Ends a period and sets the next one's rate; a scheduler that needs a metric throws {@link IllegalStateException}. */
    void step();

    /**
     * Ends a period whose monitored value was {@code metric} (e.g. the validation loss) and sets the next
     * period's rate. Schedulers in closed form ignore the metric.
     */
    void step(double metric);

    /** Whether {@link #step(double)} must be given the monitored metric ({@link ReduceLrOnPlateau}). */
    boolean needsMetric();

    /** Periods stepped so far ({@code last_epoch}); 0 right after construction. */
    long lastEpoch();

    /** The rate of the current period (what it last set on the optimizer). */
    double learningRate();

    /** The optimizer this scheduler drives. */
    Optimizer optimizer();

    /** What a resumed run needs to continue the schedule, keyed as PyTorch's {@code state_dict()} (a copy). */
    Map<String, Double> state();

    /**
     * Restores a {@link #state()} and sets the optimizer's rate to that of the restored period.
     *
     * @throws IllegalArgumentException naming the key when one is missing, unknown or out of range
     */
    void loadState(Map<String, Double> state);
}
