package dev.jacobian.samples.training;

import java.util.List;
import java.util.Map;

/**
 * What a checkpoint's JSON records besides the tensors: enough to resume bit-for-bit. The per-epoch
 * shuffle and the validation split are pure functions of {@code config.seed()} and the epoch number
 * (see {@code Shuffling}), so the seed is the whole random state.
 *
 * @param epoch        epochs completed
 * @param steps        optimizer steps taken
 * @param lrScale      factor on the scheduled learning rate (halved by each rollback)
 * @param config       the run's configuration
 * @param model        the model's description
 * @param backend      the backend it was trained on
 * @param optimizer    the optimizer's state
 * @param rng          how the random streams derive from the seed
 * @param history      epochs so far
 * @param rollbacks    rollbacks so far
 * @param savedAt      ISO-8601 time of writing
 * @param scheduler    the learning-rate scheduler's state for the next epoch (PyTorch's names, see
 *                     {@code LrScheduler.state()}); null in checkpoints written before schedulers were
 * @param earlyStopping the early-stopping counters ({@code EarlyStopping.state()}), null when it is off; its best
 *                     weights are the tensor {@value Networks#BEST_PARAMETERS}
 * @param forwardCount the executor's forward passes so far, the position of dropout's random stream (null in
 *                     checkpoints written before it was recorded)
 * @param inputShape   the shape of one sample, {@code [channels, height, width]} (null in checkpoints written before
 *                     it was recorded; the CNN needs it, the MLP sizes its input from {@code dense1.weight})
 */
public record TrainingState(int epoch, long steps, double lrScale, TrainConfig config, String model, String backend,
                            OptimizerState optimizer, RngState rng, List<Reports.EpochRecord> history,
                            List<Reports.RollbackRecord> rollbacks, String savedAt, Map<String, Double> scheduler,
                            Map<String, Double> earlyStopping, Long forwardCount,
                            List<Integer> inputShape) {
    /**
     * Checks what a checkpoint may have corrupted: the configuration is present, the counters are non-negative (and
     * the epoch below {@code Integer.MAX_VALUE}, so the next one exists), the learning-rate factor is positive and
     * finite, and the lists and maps hold no nulls; absent lists become empty ones.
     *
     * @throws IllegalArgumentException naming the field that is missing or out of range
     */
    public TrainingState {
        check(config != null, "config is missing");
        check(epoch >= 0 && epoch < Integer.MAX_VALUE, "epoch must be in [0, 2^31 - 1), got " + epoch);
        check(steps >= 0, "steps must be >= 0, got " + steps);
        check(lrScale > 0 && Double.isFinite(lrScale), "lr_scale must be positive and finite, got " + lrScale);
        check(forwardCount == null || forwardCount >= 0, "forward_count must be >= 0, got " + forwardCount);
        check(inputShape == null || (inputShape.size() == 3 && inputShape.stream().allMatch(d -> d != null && d > 0
                && d <= 1 << 16)), "input_shape must be [channels, height, width] of 1 to 65536 each, got " + inputShape);
        check(inputShape == null || (long) inputShape.get(0) * inputShape.get(1) * inputShape.get(2) <= MAX_SAMPLE_VALUES,
                "input_shape " + inputShape + " holds more than " + MAX_SAMPLE_VALUES + " values per sample");
        history = history == null ? List.of() : history;
        rollbacks = rollbacks == null ? List.of() : rollbacks;
        check(history.stream().allMatch(java.util.Objects::nonNull) && rollbacks.stream().allMatch(java.util.Objects::nonNull),
                "history and rollbacks may not hold null");
        check(scheduler == null || scheduler.values().stream().allMatch(java.util.Objects::nonNull),
                "scheduler may not hold null");
        check(earlyStopping == null || earlyStopping.values().stream().allMatch(java.util.Objects::nonNull),
                "early_stopping may not hold null");
    }

    /** Most values one sample ({@code input_shape}) may hold: 2^24, a 4096x4096 image. */
    public static final int MAX_SAMPLE_VALUES = 1 << 24;

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * The optimizer's state: its name ({@code sgd}, {@code adam}, {@code adamw}, {@code rmsprop}), hyper-parameters,
     * current learning rate, and the names of its state tensors (momentum buffers, moments, step counts) in the
     * safetensors file ({@code momentumTensors} in checkpoints of SGD-only versions).
     */
    public record OptimizerState(String type, double learningRate, double momentum, boolean nesterov, double weightDecay,
                                 double clipNorm, double clipValue,
                                 @com.fasterxml.jackson.annotation.JsonAlias("momentumTensors") List<String> stateTensors) {
    }

    /** The random state: the seed and the derivation of each stream from it. */
    public record RngState(long seed, String initialization, String validationSplit, String epochShuffle) {
        /** The streams of this sample, for a seed. */
        public static RngState of(long seed) {
            return new RngState(seed, "SplittableRandom(seed), parameters in creation order",
                    "SplittableRandom(mix(seed, split stream)), Fisher-Yates",
                    "SplittableRandom(mix(seed, epoch stream + epoch)), Fisher-Yates");
        }
    }
}
