package dev.jacobian.samples.training;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The records a run reports: per epoch, per layer, per rollback, and the whole run (metrics.json). */
public final class Reports {
    private Reports() {
    }

    /**
     * Health of one layer at the end of an epoch (from core's {@code Diagnostics}); NaN fractions are null.
     *
     * @param layer              layer name
     * @param gradNorm           L2 norm of the weight gradient of the epoch's last step
     * @param deadFraction       fraction of dead ReLU units, or null for other activations
     * @param saturatedFraction  fraction of saturated sigmoid/tanh outputs, or null
     * @param warnings           the diagnostics' warnings (empty when healthy)
     */
    public record LayerRecord(String layer, double gradNorm, Double deadFraction, Double saturatedFraction,
                              List<String> warnings) {
    }

    /**
     * One epoch.
     *
     * @param epoch            1-based
     * @param trainLoss        mean loss over the epoch's steps
     * @param trainAccuracy    accuracy on the epoch's training batches (as the weights were when each was seen)
     * @param valAccuracy      accuracy on the validation set after the epoch; null (and left out of the JSON) when there
     *                         is none ({@code --validation 0})
     * @param seconds          wall time of the epoch, evaluation and checkpoint included
     * @param samplesPerSecond training samples per second of step time
     * @param gradNorm         mean global gradient norm before clipping
     * @param clippedSteps     steps whose gradients were clipped by norm
     * @param steps            steps in the epoch
     * @param learningRate     learning rate used
     * @param layers           per-layer diagnostics
     * @param valLoss          mean loss on the validation set after the epoch (null, and left out of the JSON, without
     *                         one; null in checkpoints written before it was recorded)
     * @param stepTimes        how long the epoch's steps took (null, and left out of the JSON, in checkpoints written
     *                         before it was recorded)
     */
    public record EpochRecord(int epoch, double trainLoss, double trainAccuracy,
                              @JsonInclude(JsonInclude.Include.NON_NULL) Double valAccuracy, double seconds,
                              double samplesPerSecond, double gradNorm, int clippedSteps, int steps, double learningRate,
                              List<LayerRecord> layers, @JsonInclude(JsonInclude.Include.NON_NULL) Double valLoss,
                              @JsonInclude(JsonInclude.Include.NON_NULL) StepTimes stepTimes) {
    }

    /**
     * The wall time of an epoch's steps, each from asking the loader for its batch to the step's reported numbers (the
     * time {@link EpochRecord#samplesPerSecond} counts), in milliseconds: where an epoch's time goes, step by step. The
     * tenths show a slow start (code the JIT compiler has not compiled yet: on the CPU backend the first steps of epoch
     * 1 run several times as long as later ones) or a slowdown within the epoch.
     *
     * @param medianMs     the median step
     * @param p90Ms        the 90th percentile
     * @param maxMs        the longest step
     * @param tenthsMs     the epoch's steps cut into ten runs of consecutive steps (as equal as the count allows, fewer
     *                     runs when the epoch has fewer than ten steps), each run's mean step
     * @param waitingMs    of all the steps' time, how much went to waiting for the loader's batches
     */
    public record StepTimes(double medianMs, double p90Ms, double maxMs, List<Double> tenthsMs, double waitingMs) {

        /**
         * The statistics of {@code count} steps that took {@code nanos[0..count)}, of which {@code waitingNanos} in all
         * went to waiting for batches; null when there are no steps.
         */
        static StepTimes of(long[] nanos, int count, long waitingNanos) {
            if (count <= 0) {
                return null;
            }
            long[] sorted = Arrays.copyOf(nanos, count);
            Arrays.sort(sorted);
            int runs = Math.min(10, count);
            List<Double> tenths = new ArrayList<>(runs);
            for (int r = 0; r < runs; r++) {
                int from = (int) ((long) count * r / runs);
                int to = (int) ((long) count * (r + 1) / runs);
                long sum = 0;
                for (int i = from; i < to; i++) {
                    sum += nanos[i];
                }
                tenths.add(ms((double) sum / (to - from)));
            }
            return new StepTimes(ms(sorted[(count - 1) / 2]), ms(sorted[(int) Math.ceil(0.9 * count) - 1]),
                    ms(sorted[count - 1]), List.copyOf(tenths), ms(waitingNanos));
        }

        /** Nanoseconds to milliseconds, to the microsecond. */
        private static double ms(double nanos) {
            return Math.round(nanos / 1e3) / 1e3;
        }
    }

    /**
     * Early stopping ended the run.
     *
     * @param monitor    what it watched ({@code val-loss} or {@code val-accuracy})
     * @param patience   epochs without improvement it allowed
     * @param lastEpoch  the last epoch trained
     * @param bestEpoch  the epoch whose weights were kept and tested
     * @param best       the monitored value of that epoch
     */
    public record EarlyStopRecord(String monitor, int patience, int lastEpoch, int bestEpoch, double best) {
    }

    /**
     * A NaN/Inf loss that was rolled back.
     *
     * @param epoch          the epoch it happened in
     * @param step           the global step
     * @param message        what the trainer said
     * @param restoredEpoch  the checkpoint restored
     * @param newLrScale     the learning-rate factor from then on
     */
    public record RollbackRecord(int epoch, long step, String message, int restoredEpoch, double newLrScale) {
    }

    /**
     * What {@code metrics.json} holds.
     *
     * @param testAccuracy     accuracy on the test set (null if the run stopped early)
     * @param backend          backend name
     * @param device           the backend's device description
     * @param model            the model's one-line description
     * @param parameters       learnable scalars
     * @param config           the configuration
     * @param epochs           per-epoch records
     * @param rollbacks        NaN rollbacks
     * @param classNames       names of the classes, by label
     * @param confusionMatrix  rows: true class, columns: predicted class (null before the test)
     * @param phases           seconds spent per phase
     * @param status           {@code completed}, {@code running} or {@code stopped: ...}
     * @param testMacroF1      the unweighted mean of the per-class F1 scores on the test set (null before the test)
     * @param earlyStopping    how early stopping ended the run, or null when it did not
     */
    public record RunMetrics(Double testAccuracy, String backend, String device, String model, long parameters,
                             TrainConfig config, List<EpochRecord> epochs, List<RollbackRecord> rollbacks,
                             List<String> classNames, long[][] confusionMatrix, Map<String, Double> phases,
                             String status, Double testMacroF1, EarlyStopRecord earlyStopping) {
    }
}
