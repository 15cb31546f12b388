package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import dev.jacobian.backend.Backends;
import dev.jacobian.data.Batch;
import dev.jacobian.data.DataLoader;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.data.Shuffling;
import dev.jacobian.io.AtomicFiles;
import dev.jacobian.io.ModelFile;
import dev.jacobian.io.SafeTensors;
import dev.jacobian.metrics.ConfusionMatrix;
import dev.jacobian.metrics.Evaluation;
import dev.jacobian.metrics.Evaluator;
import dev.jacobian.nn.Diagnostics;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.schedule.LrScheduler;
import dev.jacobian.optim.schedule.ReduceLrOnPlateau;
import dev.jacobian.parallel.DataParallel;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.data.Augmentation;
import dev.jacobian.train.EarlyStopping;
import dev.jacobian.train.NonFiniteLossException;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code jacobian train}: loads the data, builds the model on the chosen backend, and runs the
 * epochs. After every epoch it logs one line, checks layer health ({@link Diagnostics}), writes a
 * checkpoint ({@link CheckpointStore}), {@code metrics.json} and the plots; at the end it evaluates the
 * test set and prints the confusion matrix and the phase timings.
 *
 * <p>The learning rate comes from the library scheduler {@link TrainConfig#scheduler} names, stepped after
 * each epoch (with the monitored validation value for {@code plateau}); its state goes into every checkpoint.
 * With {@code --early-stopping} an {@link EarlyStopping} watches the validation loss or accuracy, keeps the best
 * epoch's parameters on the device (and in each checkpoint, as {@value Networks#BEST_PARAMETERS}), ends the run
 * when its patience is spent, and puts those parameters back for the test and a last checkpoint.
 *
 * <p>A checkpoint of the initial weights (epoch 0) is written first, so a NaN in the first epoch still
 * has a last good checkpoint. With {@code onNan = rollback} a NaN/Inf loss restores the newest
 * checkpoint, halves the learning rate and continues from there; with {@code stop} the run ends with
 * {@link TrainingStoppedException}.
 *
 * <p>Each epoch visits the samples in {@link Shuffling#epochOrder} order (augmented as the configuration says, from
 * {@link Augmentation#stream}), drops the last incomplete batch, and is a pure function of the checkpointed state, so resuming is bit-identical on a
 * deterministic backend. A {@link DataLoader} gathers each batch on a thread of its own while the previous step runs.
 */
public final class TrainingRun {
    /** The name of the metrics file in the output directory. */
    public static final String METRICS = "metrics.json";
    private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);
    /** Samples per batch of an evaluation (the validation set after each epoch, the test set at the end). */
    static final int EVAL_BATCH = 1000;
    private static final int PROGRESS_EVERY = 25;

    private final Settings settings;
    private final PhaseTimer timer = new PhaseTimer();
    /** One sample's shape {@code [1, height, width]}, known once the data is loaded; recorded in checkpoints. */
    private List<Integer> inputShape;
    private final CheckpointStore store;
    private TrainConfig config;
    private List<Reports.EpochRecord> history = new ArrayList<>();
    private List<Reports.RollbackRecord> rollbacks = new ArrayList<>();
    private double lrScale = 1.0;
    private LrScheduler scheduler;
    private EarlyStopping earlyStopping;
    private Evaluator evaluator;
    private Reports.EarlyStopRecord stopped;
    private final Map<String, List<String>> previousWarnings = new LinkedHashMap<>();
    /** Batches the training loader prepares ahead ({@link Settings#prefetch}, or its default for the backends). */
    private int prefetch = 1;

    /** The backends of workers 2..N ({@code --workers}); empty for one. */
    private List<Backend> others = List.of();

    /**
     * How to run.
     *
     * @param config    the configuration (for {@code resume}, only its epochs and NaN policy are used;
     *                  the rest comes from the checkpoint)
     * @param dataDir   MNIST-format directory
     * @param out       output directory: checkpoints, metrics.json, plots
     * @param backend   backend name ({@code auto}, {@code cpu}, …)
     * @param resume    continue from the newest checkpoint in {@code out}
     * @param progress  show a progress bar per epoch on stderr
     * @param workers   backends to train on together ({@link DataParallel}: each batch split across them); 1: the
     *                  plain {@link Trainer}
     * @param engine    where the steps are computed; null: on this machine's backends
     * @param resumeLr  with {@code resume}: the base learning rate to go on with (e.g. lower, after a stop), replacing
     *                  the checkpoint's and any rollback's halving (a plateau schedule's reductions so far
     *                  still apply); null: the checkpoint's
     * @param stopDead  stop when, after an epoch, more than this fraction of a ReLU layer's units is dead (output 0 for
     *                  every sample of the last batch); 0: never
     * @param warmUp    on the CPU backend, let the JIT compile the kernels on a small model while the data loads
     *                  ({@link JitWarmUp}), so that epoch 1 runs at full speed
     * @param prefetch  training batches the data loader prepares ahead of the step
     *                  ({@link DataLoader.Builder#prefetch}; 0: prepared between the steps, on the training thread);
     *                  null: {@link #defaultPrefetch}
     */
    public record Settings(TrainConfig config, Path dataDir, Path out, String backend, boolean resume, boolean progress,
                           int workers, StepEngine engine, Double resumeLr, double stopDead, boolean warmUp,
                           Integer prefetch) {
        /** One worker, on this machine, the default dead-unit stop, the JIT warm-up, the default prefetch. */
        public Settings(TrainConfig config, Path dataDir, Path out, String backend, boolean resume, boolean progress) {
            this(config, dataDir, out, backend, resume, progress, 1, null, null, DEFAULT_STOP_DEAD, true, null);
        }
    }

    /**
     * The loader's prefetch when the settings name none, given how many cores the steps keep busy
     * ({@link Backend#hostThreads()}, summed over the workers' backends) and how many the machine has.
     *
     * <p>With a core left free, the loader's thread works there and sleeps whenever all its buffers are filled; waking
     * it is what costs, since the training thread pays for it (on 2 vCPUs under KVM, where the host has to start the
     * idle vCPU, about a twenty-fifth of a 1-thread step at batch 64), so the most batches ahead
     * ({@link DataLoader#MAX_PREFETCH}), whose used buffers go back in groups of half, wake it a quarter as often: on
     * 1 thread 0.96x (batch 64) and 0.98x (128) the epoch time of one batch ahead.
     *
     * <p>With every core busy, a loader's thread of its own runs in the place of a training thread, and switching to
     * it and back costs more than its work; so none (0): each batch is prepared between the steps. On 2 threads that
     * took 0.88x (batch 64) and 0.93x (128) the epoch time of one batch ahead on the loader's thread, with the batches
     * gathered on the backend's threads ({@link DataLoader.Builder#gatherOn}); gathering on the training thread alone,
     * 0.94x and 0.98x. A batch of image bytes ({@link DataLoader.Builder#keepBytes}, the plain trainer's) is gathered
     * by the backend as it uploads it, so that then only the targets and the rows' places are prepared.
     *
     * <p>Measured with {@code benchmarks/run-epoch-loop.sh} (configurations alternating epoch by epoch in one process,
     * 8 rounds, the 784-256-128-10 MLP on the shipped Fashion-MNIST), 2 vCPUs of an AMD EPYC of family 26 on two dies.
     */
    static int defaultPrefetch(int busyCores, int cores) {
        return busyCores < cores ? DataLoader.MAX_PREFETCH : 0;
    }

    /**
     * The default of {@link Settings#stopDead}: a ReLU layer of which more than 99% of the units output 0 for every
     * sample passes (almost) nothing on, and no gradient brings those units back; a learning rate far too high kills
     * them all without any NaN.
     */
    public static final double DEFAULT_STOP_DEAD = 0.99;

    /** The outcome of a completed run. */
    public record Result(Reports.RunMetrics metrics, Path out) {
    }

    /** A run as {@code settings} say (nothing is read or written until {@link #run()}). */
    public TrainingRun(Settings settings) {
        this.settings = settings;
        this.config = settings.config();
        this.store = new CheckpointStore(settings.out());
    }

    /** Runs to the last epoch and the test evaluation. */
    public Result run() throws IOException, TrainingStoppedException {
        List<Path> leftovers = store.removeLeftovers();
        if (!leftovers.isEmpty()) {
            LOG.info("removed {} file(s) an interrupted run left in {}: {}", leftovers.size(), settings.out(),
                    leftovers.stream().map(p -> p.getFileName().toString()).toList());
        }
        CheckpointStore.Loaded<TrainingState> resumed = null;
        if (settings.resume()) {
            if (store.latest().isEmpty()) {
                throw new CheckpointFormatException(settings.out(), "--resume: no checkpoint-epoch-*.json to resume from");
            }
            resumed = CheckpointStore.load(settings.out(), TrainingState.class);
            TrainingState s = resumed.state();
            config = s.config().withEpochs(settings.config().epochs()).withOnNan(settings.config().onNan());
            if (settings.resumeLr() != null) {
                LOG.info("resuming with learning rate {} (the checkpoint's: {}, scaled by {} after rollbacks)",
                        settings.resumeLr(), config.learningRate(), s.lrScale());
                config = config.withLearningRate(settings.resumeLr());
            }
            history = new ArrayList<>(s.history());
            rollbacks = new ArrayList<>(s.rollbacks());
            lrScale = settings.resumeLr() != null ? 1.0 : s.lrScale();
            LOG.info("resuming from {} (epoch {}, step {}); configuration from the checkpoint, epochs {}",
                    resumed.file(), s.epoch(), s.steps(), config.epochs());
        }
        // the backend's kind, once (auto probes the machine and logs its choice); on the CPU backend the JIT then
        // compiles the kernels on a small model while the data loads (JitWarmUp)
        BackendProvider provider = timer.time("start backend", () -> Backends.resolve(settings.backend()));
        JitWarmUp warmUp = settings.warmUp() && settings.engine() == null && provider.name().equals("cpu")
                ? JitWarmUp.start(provider, config) : null;
        RunData data = timer.time("load data", () -> RunData.load(settings.dataDir(), config));
        inputShape = List.of(1, data.train().height(), data.train().width());
        try {
            Networks.checkFits(config, sampleShape(data));
        } catch (IllegalArgumentException e) {
            throw new dev.jacobian.data.IdxFormatException(settings.dataDir(), e.getMessage());
        }
        int rows = Math.min(config.batch(), data.train().size()); // a batch, as epoch() cuts them
        if (settings.workers() > rows) { // each batch is split across the workers, one sample at least each
            throw new dev.jacobian.data.IdxFormatException(settings.dataDir(), "a batch holds " + rows
                    + " samples (--batch " + config.batch() + ", " + data.train().size() + " training samples after"
                    + " --limit and --validation), fewer than --workers " + settings.workers() + " to split it across");
        }
        LOG.info("data {}: {} training, {} validation, {} test samples of {}x{}", settings.dataDir(), data.train().size(),
                data.validation().size(), data.test().size(), data.train().height(), data.train().width());
        if (resumed != null) {
            Networks.checkShapes(resumed, config, sampleShape(data), data.classNames().size());
        }
        List<Backend> backends = timer.time("start backend", () -> Workers.open(provider,
                settings.engine() == null ? settings.workers() : 1)); // an engine has workers of its own
        others = backends.subList(1, backends.size());
        // an engine computes the steps elsewhere: here only its caller waits for them
        int busy = settings.engine() != null ? 1 : backends.stream().mapToInt(Backend::hostThreads).sum();
        prefetch = settings.prefetch() != null ? settings.prefetch()
                : defaultPrefetch(busy, Runtime.getRuntime().availableProcessors());
        try (Backend backend = backends.get(0);
             Model model = Networks.model(config, sampleShape(data), data.classNames().size(), backend);
             Evaluator ev = new Evaluator(model)) {
            evaluator = ev;
            LOG.info("backend {}: {}", backend.name(), backend.deviceDescription());
            if (!others.isEmpty()) {
                LOG.info("data parallel: {} workers, each batch of {} split across them ({} more backends: {})",
                        backends.size(), config.batch(), others.size(), others.get(0).deviceDescription());
            }
            LOG.info("model {} ({} parameters), batch {}, optimizer {}, lr {} ({}), momentum {}, weight decay {}, augment {}{}",
                    model.describe(), model.parameterCount(), config.batch(), config.optimizer(), config.learningRate(),
                    config.schedule(), config.momentum(), config.weightDecay(), String.join(",", config.augment()),
                    config.earlyStopping() > 0 ? ", early stopping on " + config.monitor() + " after "
                            + config.earlyStopping() + " epochs" : "");
            Optimizer sgd = Networks.optimizer(config, config.learningRate());
            Stepper trainer = stepper(model, sgd);
            scheduler = config.scheduler(sgd, config.learningRate());
            earlyStopping = config.earlyStopping() > 0
                    ? new EarlyStopping(config.monitored(), config.earlyStopping(), 0, true) : null;
            int epoch = 1;
            try {
                // checkpoint 0 (or the resumed state) while the JIT warm-up, which shares nothing with the run, ends
                // on its own thread: this thread would only wait for it meanwhile. Launch to the first step 0.95x at
                // batch 128 and 0.97x at 64 (the default run) against waiting first (6 runs each, alternating; AMD
                // EPYC family 26, 2 vCPUs)
                if (resumed != null) {
                    Networks.restore(resumed, model, sgd);
                    restoreSchedule(resumed, model);
                    trainer.setSteps(resumed.state().steps());
                    epoch = resumed.state().epoch() + 1;
                } else {
                    checkpoint(0, model, trainer, backend, null);
                }
                awaitWarmUp(warmUp);
                while (epoch <= config.epochs() && (earlyStopping == null || !earlyStopping.shouldStop())) {
                    try {
                        Reports.EpochRecord rec = epoch(epoch, data, model, trainer);
                        history.add(rec);
                        stopIfDead(epoch, rec, model, backend, data);
                        endOfEpoch(epoch, rec, model);
                        checkpoint(epoch, model, trainer, backend, null);
                        writeReports(model, backend, data, null, "running", false);
                        epoch++;
                    } catch (NonFiniteLossException nan) {
                        sgd.close();
                        trainer.close();
                        sgd = Networks.optimizer(config, config.learningRate());
                        trainer = stepper(model, sgd);
                        scheduler = config.scheduler(sgd, config.learningRate());
                        epoch = onNan(epoch, nan, model, trainer, backend, data);
                    }
                }
                if (earlyStopping != null && earlyStopping.shouldStop()) {
                    stopEarly(epoch - 1, model, trainer, backend);
                }
                return finish(model, backend, data);
            } finally {
                trainer.close();
                sgd.close();
                if (earlyStopping != null) {
                    earlyStopping.close();
                }
            }
        } finally {
            others.forEach(Backend::close);
        }
    }

    /**
     * Stops the run when a ReLU layer died in epoch {@code epoch} (see {@link Settings#stopDead}): the epoch's weights
     * are not checkpointed, and the message names the last checkpoint and how to go on from it.
     */
    private void stopIfDead(int epoch, Reports.EpochRecord rec, Model model, Backend backend, RunData data)
            throws IOException, TrainingStoppedException {
        if (settings.stopDead() <= 0) {
            return;
        }
        for (Reports.LayerRecord l : rec.layers()) {
            if (l.deadFraction() != null && l.deadFraction() > settings.stopDead()) {
                Path last = store.latest().orElseThrow(() -> new IllegalStateException("no checkpoint in " + store.directory()));
                String message = String.format(java.util.Locale.ROOT, "training stopped after epoch %d: %.0f%% of the"
                        + " ReLU units of layer %s are dead (0 for every sample of the last batch), so it passes nothing"
                        + " on and learns nothing (test accuracy near chance); the learning rate (%.4g) is far too high."
                        + " The last good checkpoint is %s; go on from it with a lower one, e.g. --resume --lr %.4g",
                        epoch, 100 * l.deadFraction(), l.layer(), rec.learningRate(), last,
                        Math.min(TrainConfig.defaultLearningRate(config.optimizer(), config.loss()),
                                rec.learningRate() / 10));
                writeReports(model, backend, data, null, "stopped: dead ReLU units in epoch " + epoch, true);
                throw new TrainingStoppedException(message, null);
            }
        }
    }

    /** Waits for the JIT warm-up, if one runs, to end (the wait is the phase "JIT warm-up (waiting)"). */
    private void awaitWarmUp(JitWarmUp warmUp) {
        if (warmUp == null) {
            return;
        }
        try {
            int steps = timer.time("JIT warm-up (waiting)", warmUp::await);
            if (steps > 0) {
                LOG.debug("JIT warm-up done: {} steps", steps);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The step: the plain trainer, or data parallel over the other workers' backends too. */
    private Stepper stepper(Model model, Optimizer optimizer) {
        ModelSpec spec = new ModelSpec(config, inputShape.stream().mapToInt(i -> i).toArray(), model.outputSize());
        if (settings.engine() != null) {
            return settings.engine().open(model, optimizer, spec, settings.workers(), settings.backend());
        }
        if (others.isEmpty()) {
            return Stepper.of(new Trainer(model, optimizer));
        }
        return Stepper.of(DataParallel.create(model, optimizer, others, 1 + others.size(), spec::build));
    }

    /** Steps the scheduler (with the monitored value) and the early stopping after epoch {@code epoch}. */
    private void endOfEpoch(int epoch, Reports.EpochRecord rec, Model model) {
        Double value = config.monitor().equals("val-accuracy") ? rec.valAccuracy() : rec.valLoss();
        double monitored = value == null ? Double.NaN : value;
        scheduler.step(monitored);
        if (earlyStopping != null && earlyStopping.update(model.executor(), epoch, monitored)) {
            LOG.info("early stopping: {} did not improve for {} epochs (best {} in epoch {})", config.monitor(),
                    config.earlyStopping(), earlyStopping.best(), earlyStopping.bestEpoch());
        }
    }

    /** Puts back the best epoch's parameters and writes them as the last checkpoint (what eval and the test see). */
    private void stopEarly(int lastEpoch, Model model, Stepper trainer, Backend backend) throws IOException {
        earlyStopping.restoreBest(model.executor());
        stopped = new Reports.EarlyStopRecord(config.monitor(), config.earlyStopping(), lastEpoch,
                earlyStopping.bestEpoch(), earlyStopping.best());
        checkpoint(lastEpoch, model, trainer, backend, earlyStopping.bestEpoch());
        LOG.info("restored the weights of epoch {} ({} {}); checkpoint {} holds them", earlyStopping.bestEpoch(),
                config.monitor(), earlyStopping.best(), lastEpoch);
    }

    /**
     * Restores the scheduler and early-stopping state of a checkpoint (a resume or a rollback). Checkpoints
     * written before schedulers were recorded hold none: their closed-form schedule is at their epoch.
     */
    private void restoreSchedule(CheckpointStore.Loaded<TrainingState> loaded, Model model)
            throws CheckpointFormatException {
        TrainingState s = loaded.state();
        if (s.forwardCount() != null) {
            model.executor().setForwardCount(s.forwardCount()); // dropout draws the masks an unbroken run would
        }
        try {
            Map<String, Double> schedule = s.scheduler() != null ? s.scheduler()
                    : Map.of(LrScheduler.LAST_EPOCH, (double) s.epoch());
            Double rate = schedule.get(ReduceLrOnPlateau.LR);
            if (rate != null && s.config().learningRate() != config.learningRate()) {
                // a schedule that keeps its own rate (plateau) goes on from the base rate of this run (--resume --lr,
                // or a rollback to a checkpoint written before it), with the reductions it made so far
                schedule = new LinkedHashMap<>(schedule);
                schedule.put(ReduceLrOnPlateau.LR, rate / s.config().learningRate() * config.learningRate());
            }
            scheduler.loadState(schedule);
            if (earlyStopping != null && s.earlyStopping() != null) {
                earlyStopping.loadState(s.earlyStopping());
                SafeTensors.Entry best = Networks.bestParameters(loaded);
                if (best != null) {
                    earlyStopping.loadBestWeights(model.executor(), best.data());
                }
            }
        } catch (RuntimeException e) { // whatever the library's loadState makes of a corrupt map
            throw new CheckpointFormatException(loaded.file(), "has a scheduler or early-stopping state this run cannot use: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
    }

    private Reports.EpochRecord epoch(int epoch, RunData data, Model model, Stepper trainer) {
        long t0 = System.nanoTime();
        int n = data.train().size();
        int rows = Math.min(config.batch(), n);
        int steps = n / rows;
        // the scheduler has set the epoch's rate; a rollback's halving scales it
        double lr = scheduler.learningRate() * lrScale;
        trainer.optimizer().setLearningRate((float) lr);
        double lossSum = 0;
        double normSum = 0;
        int clipped = 0;
        long hits = 0;
        long stepNanos = 0;
        long waitNanos = 0;
        long[] stepTimes = new long[steps];
        float[] lastBatch = null;
        try (DataLoader loader = trainLoader(data.train(), rows, model, trainer.stepsOnBytes());
             DataLoader.Epoch batches = loader.epoch(epoch);
             ProgressBar bar = progressBar(epoch, steps)) {
            Batch batch = null;
            for (int s = 0; s < steps; s++) {
                long a = System.nanoTime();
                // gathered (and augmented) on the loader's thread while the previous step ran
                batch = batches.next();
                long b = System.nanoTime();
                // loss, gradient norm and predicted classes come back in one transfer; a non-finite loss
                // or gradient norm throws NonFiniteLossException
                StepResult r = trainer.step(batch);
                float norm = r.gradNorm();
                hits += r.correct(batch.labels());
                long c = System.nanoTime();
                timer.add("data (waiting for a batch)", b - a);
                timer.add("forward+backward+update", c - b);
                stepNanos += c - a;
                waitNanos += b - a;
                stepTimes[s] = c - a;
                lossSum += r.loss();
                normSum += norm;
                clipped += r.clipped() ? 1 : 0;
                if (bar != null && (s % PROGRESS_EVERY == PROGRESS_EVERY - 1 || s == steps - 1)) {
                    bar.stepTo(s + 1);
                    bar.setExtraMessage(String.format(" loss %.4g  %,.0f samples/s", lossSum / (s + 1),
                            (s + 1) * (double) rows / (stepNanos / 1e9)));
                }
            }
            if (!trainer.forwardsOnLeader() && batch != null) {
                lastBatch = batch.features().clone(); // the loader reuses its buffers once closed
            }
        }
        // when the steps ran elsewhere, the diagnostics look at one evaluation-mode forward of the last batch here (no
        // running statistic moves, the random stream stays where it was)
        float[] diagnosed = lastBatch;
        List<Reports.LayerRecord> layers = timer.time("diagnostics", () -> diagnostics(epoch, model, diagnosed, rows));
        Evaluation validation = timer.time("validation", () -> data.validation().size() == 0 ? null
                : evaluator.evaluate(data.validation(), EVAL_BATCH));
        Double val = validation == null ? null : validation.accuracy();
        Double valLoss = validation == null ? null : validation.loss();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double sps = steps * (double) rows / (stepNanos / 1e9);
        Reports.EpochRecord rec = new Reports.EpochRecord(epoch, lossSum / steps, (double) hits / ((long) steps * rows),
                val, seconds, sps, normSum / steps, clipped, steps, lr, layers, valLoss,
                Reports.StepTimes.of(stepTimes, steps, waitNanos));
        LOG.info(String.format("epoch %d/%d  loss %.4g  train acc %.2f%%  val acc %s  val loss %s  %.1f s"
                        + "  %,.0f samples/s  |g| %.3f  clipped %d/%d  lr %.4g", epoch, config.epochs(), rec.trainLoss(),
                100 * rec.trainAccuracy(), val == null ? "n/a" : String.format("%.2f%%", 100 * val),
                valLoss == null ? "n/a" : String.format("%.4g", valLoss), seconds, sps, rec.gradNorm(), clipped, steps, lr));
        return rec;
    }

    /**
     * The loader of one epoch's batches: the training set in {@link Shuffling#epochOrder} order of the seed, {@code rows}
     * samples per batch, the last incomplete batch dropped, each sample augmented as configured from
     * {@link Augmentation#stream} as the loader's thread gathers it. Without augmentation, and when the step uploads
     * bytes ({@link Stepper#stepsOnBytes}), the images stay bytes until the backend converts them as it uploads them.
     */
    private DataLoader trainLoader(ImageDataset train, int rows, Model model, boolean bytes) {
        DataLoader.Builder loader = DataLoader.builder(train).batchSize(rows).shuffle(config.seed()).dropLast(true)
                .prefetch(prefetch).targets(model::encodeTargets);
        Augmentation augmentation = config.augmentation();
        loader.keepBytes(bytes && !augmentation.active());
        if (augmentation.active()) {
            int height = train.height();
            int width = train.width();
            loader.transform(epoch -> {
                SplittableRandom draws = Augmentation.stream(config.seed(), epoch);
                return (src, from, dst, to) -> augmentation.apply(src, from, dst, to, height, width, draws);
            });
        }
        return loader.build();
    }

    private ProgressBar progressBar(int epoch, int steps) {
        if (!settings.progress()) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("epoch " + epoch + "/" + config.epochs()).setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).setUnit(" steps", 1)
                .continuousUpdate().build();
    }

    /** Layer health after an epoch: from the last step, or from {@code batch} ({@code rows} samples) when not null. */
    private List<Reports.LayerRecord> diagnostics(int epoch, Model model, float[] batch, int rows) {
        List<Reports.LayerRecord> out = new ArrayList<>();
        List<Diagnostics.LayerHealth> health = batch == null ? Diagnostics.inspect(model)
                : Diagnostics.inspect(model, batch, 0, rows);
        for (Diagnostics.LayerHealth h : health) {
            List<String> warnings = h.warnings();
            List<String> before = previousWarnings.getOrDefault(h.layer(), List.of());
            for (String w : warnings) {
                // warn when a threshold is crossed, not again every epoch while it stays crossed
                if (before.stream().noneMatch(b -> sameKind(b, w))) {
                    LOG.warn("epoch {}: {}", epoch, w);
                } else {
                    LOG.debug("epoch {}: still {}", epoch, w);
                }
            }
            previousWarnings.put(h.layer(), warnings);
            LOG.debug("epoch {} {}: |grad| {} dead {} saturated {}", epoch, h.layer(), h.gradNorm(), h.deadFraction(),
                    h.saturatedFraction());
            out.add(new Reports.LayerRecord(h.layer(), h.gradNorm(), finiteOrNull(h.deadFraction()),
                    finiteOrNull(h.saturatedFraction()), warnings));
        }
        return out;
    }

    /** One sample of {@code data} as the model takes it: {@code [1, height, width]} (one grey channel). */
    private static dev.jacobian.tensor.Shape sampleShape(RunData data) {
        return dev.jacobian.tensor.Shape.of(1, data.train().height(), data.train().width());
    }

    /** Two warnings are of the same kind when they name the same condition. */
    private static boolean sameKind(String a, String b) {
        for (String kind : List.of("vanishing", "exploding", "dead", "saturated")) {
            if (a.contains(kind)) {
                return b.contains(kind);
            }
        }
        return a.equals(b);
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private int onNan(int epoch, NonFiniteLossException nan, Model model, Stepper trainer, Backend backend, RunData data)
            throws IOException, TrainingStoppedException {
        Path last = store.latest().orElseThrow(() -> new IllegalStateException("no checkpoint in " + store.directory()));
        if (config.onNan().equals("stop") || rollbacks.size() >= config.maxRollbacks()) {
            String why = config.onNan().equals("stop") ? "" : " after " + rollbacks.size() + " rollbacks";
            String message = "training stopped in epoch " + epoch + ": " + nan.getMessage() + why
                    + " The last good checkpoint is " + last + ".";
            writeReports(model, backend, data, null, "stopped: loss not finite in epoch " + epoch, true);
            throw new TrainingStoppedException(message, nan);
        }
        CheckpointStore.Loaded<TrainingState> good = CheckpointStore.load(last, TrainingState.class);
        Networks.restore(good, model, trainer.optimizer());
        restoreSchedule(good, model);
        trainer.setSteps(good.state().steps());
        lrScale /= 2;
        int restored = good.state().epoch();
        history = new ArrayList<>(history.subList(0, Math.min(history.size(), restored)));
        rollbacks.add(new Reports.RollbackRecord(epoch, nan.step(), nan.getMessage(), restored, lrScale));
        LOG.warn("epoch {}: loss is {} at step {}; rolled back to {} and halved the learning rate to {} (rollback {} of {})",
                epoch, nan.loss(), nan.step(), good.file().getFileName(), scheduler.learningRate() * lrScale,
                rollbacks.size(), config.maxRollbacks());
        return restored + 1;
    }

    /**
     * Writes the checkpoint of epoch {@code epoch}; {@code weightsOfEpoch} is the epoch whose weights the model
     * holds when they are not epoch {@code epoch}'s (early stopping put the best back), else null.
     */
    private void checkpoint(int epoch, Model model, Stepper trainer, Backend backend, Integer weightsOfEpoch)
            throws IOException {
        long t0 = System.nanoTime();
        Optimizer opt = trainer.optimizer();
        var tensors = Networks.tensors(model, opt, earlyStopping == null ? null : earlyStopping.bestWeights());
        var optimizer = new TrainingState.OptimizerState(config.optimizer(), opt.learningRate(), config.momentum(),
                config.nesterov(), config.weightDecay(), opt.clipNorm(), config.clipValue(),
                Networks.optimizerStateNames(tensors));
        var state = new TrainingState(epoch, trainer.steps(), lrScale, config, model.describe(), backend.name(), optimizer,
                TrainingState.RngState.of(config.seed()), history, rollbacks, Instant.now().toString(), scheduler.state(),
                earlyStopping == null ? null : earlyStopping.state(), model.executor().forwardCount(), inputShape);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelFile.INPUT_SCALE, Double.toString(1 / 255.0)); // IdxReader: pixel bytes / 255
        meta.put("model", model.describe());
        meta.put("epoch", Integer.toString(epoch));
        meta.put("step", Long.toString(trainer.steps()));
        if (weightsOfEpoch != null) {
            meta.put("weights_of_epoch", Integer.toString(weightsOfEpoch));
        }
        Path file = store.save(epoch, tensors, ModelFile.metadata(model, opt, meta), state);
        timer.add("checkpoint", System.nanoTime() - t0);
        LOG.debug("checkpoint {}", file);
    }

    private Result finish(Model model, Backend backend, RunData data) throws IOException {
        ImageDataset test = data.test();
        ConfusionMatrix cm = timer.time("test evaluation", () -> evaluator.evaluate(test, EVAL_BATCH))
                .confusionMatrix();
        Reports.RunMetrics metrics = writeReports(model, backend, data, cm, "completed", true);
        double perEpoch = history.stream().mapToDouble(Reports.EpochRecord::seconds).average().orElse(0);
        double samples = 0;
        double stepSeconds = 0;
        for (Reports.EpochRecord e : history) {
            double n = (double) e.steps() * Math.min(config.batch(), data.train().size());
            samples += n;
            stepSeconds += n / e.samplesPerSecond();
        }
        double sps = stepSeconds > 0 ? samples / stepSeconds : 0;
        LOG.info(String.format("test accuracy %.2f%%, macro F1 %.4f on %d samples  (%.1f s per epoch, %,.0f training"
                + " samples/s, %s)", 100 * cm.accuracy(), cm.macroF1(), test.size(), perEpoch, sps, backend.name()));
        LOG.info("confusion matrix (rows: true class, columns: predicted)\n{}", cm.format(data.classNames()));
        LOG.info("phases, slowest first:\n  {}", String.join("\n  ", timer.slowestFirst()));
        LOG.info("wrote {} (metrics.json, plots, checkpoints)", settings.out());
        return new Result(metrics, settings.out());
    }

    private Reports.RunMetrics writeReports(Model model, Backend backend, RunData data, ConfusionMatrix cm, String status,
                                            boolean plots) throws IOException {
        long t0 = System.nanoTime();
        Reports.RunMetrics m = new Reports.RunMetrics(cm == null ? null : cm.accuracy(), backend.name(),
                backend.deviceDescription(), model.describe(), model.parameterCount(), config, List.copyOf(history),
                List.copyOf(rollbacks), data.classNames(), cm == null ? null : cm.counts(), timer.seconds(), status,
                cm == null ? null : cm.macroF1(), stopped);
        AtomicFiles.write(settings.out().resolve(METRICS), CheckpointStore.mapper().writeValueAsBytes(m));
        timer.add("metrics.json", System.nanoTime() - t0);
        if (plots) {
            long t1 = System.nanoTime();
            Plots.write(settings.out(), history);
            timer.add("plots", System.nanoTime() - t1);
        }
        return m;
    }
}
