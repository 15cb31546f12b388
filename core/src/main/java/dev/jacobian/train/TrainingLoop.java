package dev.jacobian.train;

import dev.jacobian.metrics.Evaluation;
import dev.jacobian.metrics.Evaluator;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.schedule.LrScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Epochs of {@link Trainer#step} over in-memory arrays of a classification task, with shuffling, a validation
 * pass, a learning-rate scheduler and {@link TrainingListener}s (early stopping, checkpoints, logging):
 *
 * <pre>{@code
 * try (EarlyStopping stop = new EarlyStopping(Monitor.VALIDATION_LOSS, 3)) {
 *     FitResult r = TrainingLoop.builder(trainer).epochs(20).batchSize(64).shuffleSeed(42)
 *             .validation(xVal, yVal)
 *             .scheduler(new ClosedFormScheduler(sgd, LrSchedule.cosine(20, 0)), TrainingLoop.Interval.EPOCH)
 *             .listener(stop).build()
 *             .fit(x, labels);
 * }
 * }</pre>
 *
 * <p>Each epoch visits the samples in an order drawn from {@code shuffleSeed} and the epoch number (or in order
 * when shuffling is off), in batches of {@code batchSize} (the last, smaller batch is kept unless
 * {@code dropLast}), gathered on the host and uploaded by the trainer. After the epoch the validation set, if
 * any, is evaluated by an {@link Evaluator} in evaluation mode; then the scheduler (if stepped per epoch) takes
 * its step — with the monitored value when it {@link LrScheduler#needsMetric() needs one} — and the listeners
 * get {@code onEpochEnd}. A scheduler stepped per step is stepped after each step's listeners.
 *
 * <p>A {@link NonFiniteLossException} of the trainer ends {@code fit} with it. The loop does not own the trainer,
 * the scheduler or the listeners; it owns its evaluator (freed by {@link #close()}). Not thread-safe.
 */
public final class TrainingLoop implements AutoCloseable {
    /** When a scheduler takes its step. */
    public enum Interval {
        /** After every epoch (PyTorch's usual {@code scheduler.step()} after each epoch). */
        EPOCH,
        /** After every optimizer step. */
        STEP
    }

    private final Trainer trainer;
    private final int epochs;
    private final int batchSize;
    private final boolean shuffle;
    private final long shuffleSeed;
    private final boolean dropLast;
    private final float[] validationX;
    private final int[] validationLabels;
    private final int validationBatch;
    private final LrScheduler scheduler;
    private final Interval interval;
    private final Monitor schedulerMonitor;
    private final List<TrainingListener> listeners;
    private final Evaluator evaluator;
    private String stopReason;

    private TrainingLoop(Builder b) {
        this.trainer = b.trainer;
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.shuffleSeed = b.shuffleSeed;
        this.dropLast = b.dropLast;
        this.validationX = b.validationX;
        this.validationLabels = b.validationLabels;
        long features = trainer.model().inputSize();
        if (validationX != null && validationLabels.length == 0) { // its loss would be NaN every epoch
            throw new IllegalArgumentException("the validation set has no samples");
        }
        if (validationX != null && validationLabels.length * features != validationX.length) {
            throw new IllegalArgumentException("validation x must have validation labels.length * " + features + " = "
                    + validationLabels.length * features + " values: " + validationX.length);
        }
        this.validationBatch = b.validationBatch;
        this.scheduler = b.scheduler;
        this.interval = b.interval;
        this.listeners = List.copyOf(b.listeners);
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1: " + epochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1: " + batchSize);
        }
        if (validationBatch < 1) {
            throw new IllegalArgumentException("validationBatch must be >= 1: " + validationBatch);
        }
        Monitor m = b.schedulerMonitor != null ? b.schedulerMonitor
                : validationX != null ? Monitor.VALIDATION_LOSS : Monitor.TRAIN_LOSS;
        if (m.needsValidation() && validationX == null) {
            throw new IllegalArgumentException("schedulerMonitor " + m + " needs a validation set");
        }
        if (scheduler != null && scheduler.needsMetric() && interval == Interval.STEP) {
            throw new IllegalArgumentException("interval STEP: a scheduler that needs a metric is stepped per epoch");
        }
        if (scheduler != null && scheduler.optimizer() != trainer.optimizer()) {
            throw new IllegalArgumentException("scheduler drives another optimizer than the trainer's");
        }
        this.schedulerMonitor = m;
        this.evaluator = validationX == null ? null : new Evaluator(trainer.model());
    }

    /** A builder of a loop over {@code trainer}. */
    public static Builder builder(Trainer trainer) {
        return new Builder(trainer);
    }

    /** The trainer whose steps the loop runs. */
    public Trainer trainer() {
        return trainer;
    }

    /** The trainer's model. */
    public Model model() {
        return trainer.model();
    }

    /** The scheduler, or null. */
    public LrScheduler scheduler() {
        return scheduler;
    }

    /** Epochs {@link #fit} runs at most. */
    public int epochs() {
        return epochs;
    }

    /** Asks the loop to end after the current epoch's callbacks; the first reason given is kept. */
    public void requestStop(String reason) {
        if (stopReason == null) {
            stopReason = reason == null ? "stop requested" : reason;
        }
    }

    /** Whether a stop was requested in the current {@link #fit}. */
    public boolean stopRequested() {
        return stopReason != null;
    }

    /**
     * Trains on {@code labels.length} samples of {@code x} (row-major, {@code model.inputSize()} values each) for
     * up to {@code epochs} epochs.
     */
    public FitResult fit(float[] x, int[] labels) {
        Model model = trainer.model();
        int n = labels.length;
        int f = model.inputSize();
        if ((long) n * f != x.length) {
            throw new IllegalArgumentException("x must have labels.length * " + f + " = " + (long) n * f + " values: "
                    + x.length);
        }
        if (n == 0 || (dropLast && n < batchSize)) {
            throw new IllegalArgumentException("labels has " + n + " samples: no batch of " + batchSize + " to train on");
        }
        stopReason = null;
        int tc = model.targetColumns();
        float[] targets = model.encodeTargets(labels);
        // in long, and no batch array larger than the set: a batch size beyond it (one batch of everything) must
        // neither overflow an int nor allocate room for samples that do not exist
        int steps = (int) (dropLast ? n / batchSize : (n + (long) batchSize - 1) / batchSize);
        int capacity = Math.min(batchSize, n);
        float[] bx = new float[capacity * f];
        float[] by = new float[capacity * tc];
        int[] batchLabels = new int[capacity];
        List<EpochMetrics> history = new ArrayList<>();
        listeners.forEach(l -> l.onTrainBegin(this));
        for (int epoch = 1; epoch <= epochs && stopReason == null; epoch++) {
            double lr = trainer.optimizer().learningRate();
            for (TrainingListener l : listeners) {
                l.onEpochBegin(this, epoch);
            }
            trainer.model().train(); // as model.train() at the top of a PyTorch epoch: a listener may have left eval
            int[] order = order(epoch, n);
            double lossSum = 0;
            long hits = 0;
            long tracked = 0;
            for (int s = 0; s < steps; s++) {
                int first = s * batchSize;
                int rows = Math.min(batchSize, n - first);
                for (int i = 0; i < rows; i++) {
                    int src = order[first + i];
                    System.arraycopy(x, src * f, bx, i * f, f);
                    System.arraycopy(targets, src * tc, by, i * tc, tc);
                    batchLabels[i] = labels[src];
                }
                StepResult r = trainer.step(bx, by, 0, rows);
                lossSum += (double) r.loss() * rows;
                if (r.predictions().length == rows) {
                    hits += r.correct(batchLabels);
                    tracked += rows;
                }
                for (TrainingListener l : listeners) {
                    l.onStep(this, epoch, r);
                }
                if (scheduler != null && interval == Interval.STEP) {
                    scheduler.step();
                }
            }
            long seen = dropLast ? (long) steps * batchSize : n;
            Evaluation validation = evaluator == null ? null
                    : evaluator.evaluate(validationX, validationLabels, validationBatch);
            EpochMetrics m = new EpochMetrics(epoch, steps, lossSum / seen,
                    tracked == 0 ? Double.NaN : (double) hits / tracked, lr, validation);
            history.add(m);
            if (scheduler != null && interval == Interval.EPOCH) {
                scheduler.step(schedulerMonitor.of(m));
            }
            for (TrainingListener l : listeners) {
                l.onEpochEnd(this, m);
            }
        }
        FitResult result = new FitResult(history, stopReason);
        for (TrainingListener l : listeners) {
            l.onTrainEnd(this, result);
        }
        return result;
    }

    /** The visiting order of epoch {@code epoch}: a Fisher-Yates shuffle seeded by the seed and the epoch. */
    private int[] order(int epoch, int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom r = new SplittableRandom(shuffleSeed * 0x9E3779B97F4A7C15L + epoch);
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    @Override
    public void close() {
        if (evaluator != null) {
            evaluator.close();
        }
    }

    /** Settings of a {@link TrainingLoop}; defaults: 1 epoch, batch 32, shuffled with seed 0, last batch kept. */
    public static final class Builder {
        private final Trainer trainer;
        private int epochs = 1;
        private int batchSize = 32;
        private boolean shuffle = true;
        private long shuffleSeed;
        private boolean dropLast;
        private float[] validationX;
        private int[] validationLabels;
        private int validationBatch = 512;
        private LrScheduler scheduler;
        private Interval interval = Interval.EPOCH;
        private Monitor schedulerMonitor;
        private final List<TrainingListener> listeners = new ArrayList<>();

        private Builder(Trainer trainer) {
            this.trainer = java.util.Objects.requireNonNull(trainer, "trainer");
        }

        /** Epochs to run at most, &gt;= 1. */
        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /** Samples per step, &gt;= 1. */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffles each epoch with this seed (the default, seed 0). */
        public Builder shuffleSeed(long seed) {
            this.shuffle = true;
            this.shuffleSeed = seed;
            return this;
        }

        /** Visits the samples in their order every epoch. */
        public Builder noShuffle() {
            this.shuffle = false;
            return this;
        }

        /** Whether to skip the last batch when it is smaller than the batch size (default: keep it). */
        public Builder dropLast(boolean drop) {
            this.dropLast = drop;
            return this;
        }

        /**
         * A validation set evaluated after each epoch ({@code x} row-major, one label per sample; at least one,
         * checked by {@link #build()}).
         */
        public Builder validation(float[] x, int[] labels) {
            this.validationX = java.util.Objects.requireNonNull(x, "x");
            this.validationLabels = java.util.Objects.requireNonNull(labels, "labels");
            return this;
        }

        /** Samples per validation batch, &gt;= 1 (default 512). */
        public Builder validationBatch(int batch) {
            this.validationBatch = batch;
            return this;
        }

        /** A scheduler over the trainer's optimizer, stepped per epoch or per step. */
        public Builder scheduler(LrScheduler scheduler, Interval interval) {
            this.scheduler = java.util.Objects.requireNonNull(scheduler, "scheduler");
            this.interval = java.util.Objects.requireNonNull(interval, "interval");
            return this;
        }

        /**
         * What a metric-driven scheduler is given each epoch (default: the validation loss with a validation set,
         * else the training loss).
         */
        public Builder schedulerMonitor(Monitor monitor) {
            this.schedulerMonitor = java.util.Objects.requireNonNull(monitor, "monitor");
            return this;
        }

        /** Adds a listener; listeners get each event in the order they were added. */
        public Builder listener(TrainingListener listener) {
            listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** The loop. */
        public TrainingLoop build() {
            return new TrainingLoop(this);
        }
    }
}
