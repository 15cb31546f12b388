package dev.jacobian.samples;

import dev.jacobian.data.DataLoader;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.data.DataDirectory;
import dev.jacobian.samples.training.TrainConfig;
import dev.jacobian.samples.training.TrainingRun;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jacobian train}: trains an MLP, with checkpoints, metrics.json and plots in {@code --out}. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains an MLP with SGD on MNIST-format data (Fashion-MNIST by default).",
                "Reports test accuracy, a confusion matrix and where the time went; writes checkpoints",
                "(safetensors + JSON), metrics.json and PNG plots into --out."})
final class TrainCommand implements Callable<Integer> {
    /** Where runs go when {@code --out} is not given. */
    static final Path RUNS = Path.of("runs");

    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR",
            description = "MNIST-format directory (train-/t10k- images and labels, raw or .gz). Default: the shipped Fashion-MNIST.")
    Path data;

    @Option(names = "--model", defaultValue = "mlp",
            description = "mlp, or cnn: convolution blocks (3x3 conv, batch norm, activation, 2x2 max pool) of --channels, "
                    + "then the dense layers of --layers (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--channels", split = ",", paramLabel = "N,N",
            description = "--model cnn: output channels of each convolution block (default: 32,64,128).")
    List<Integer> channels;

    @Option(names = "--augment", split = ",", paramLabel = "NAME,NAME",
            description = "Training-time augmentation: flip (left-right, half the samples), shift (up to 2 pixels each way, "
                    + "zero fill), or none (default: flip for cnn, none for mlp).")
    List<String> augment;

    @Option(names = "--layers", split = ",", paramLabel = "N,N",
            description = "Hidden dense layer widths (default: 256,128 for mlp, 128 for cnn).")
    List<Integer> layers;

    @Option(names = "--activation", defaultValue = "relu",
            description = "relu, leaky-relu, prelu, elu, gelu, tanh, sigmoid, maxout or linear (default: ${DEFAULT-VALUE}).")
    String activation;

    @Option(names = "--loss", defaultValue = "softmax-ce",
            description = "softmax-ce, svm (multiclass hinge), mse (squared error on one-hot targets) or bce (sigmoid binary"
                    + " cross-entropy on one-hot targets: each class a yes/no of its own) (default: ${DEFAULT-VALUE}).")
    String loss;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs in total (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "Samples per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--optimizer", defaultValue = "sgd",
            description = "sgd, adam, adamw or rmsprop, as torch.optim with PyTorch's defaults (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", description = "Learning rate (default: for sgd 0.05 with --loss softmax-ce, 0.02 with bce, 0.01"
            + " with svm and mse, whose gradients are larger or steeper; 0.001 for adam, adamw and rmsprop).")
    Double lr;

    @Option(names = "--schedule", defaultValue = "cosine",
            description = "Learning-rate schedule, stepped per epoch: cosine (to 0 over --epochs), constant, step, warmup-cosine"
                    + " or plateau (on --monitor) (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--lr-step-size", defaultValue = "3", description = "--schedule step: epochs between decays (default: ${DEFAULT-VALUE}).")
    int lrStepSize;

    @Option(names = "--lr-gamma", defaultValue = "0.5", description = "--schedule step: factor at each decay (default: ${DEFAULT-VALUE}).")
    double lrGamma;

    @Option(names = "--warmup-epochs", defaultValue = "1", description = "--schedule warmup-cosine: epochs of linear warmup (default: ${DEFAULT-VALUE}).")
    int warmupEpochs;

    @Option(names = "--warmup-start-factor", defaultValue = "0.1",
            description = "--schedule warmup-cosine: fraction of --lr in the first epoch (default: ${DEFAULT-VALUE}).")
    double warmupStartFactor;

    @Option(names = "--plateau-factor", defaultValue = "0.5", description = "--schedule plateau: factor at each reduction (default: ${DEFAULT-VALUE}).")
    double plateauFactor;

    @Option(names = "--plateau-patience", defaultValue = "2",
            description = "--schedule plateau: epochs without improvement before a reduction (default: ${DEFAULT-VALUE}).")
    int plateauPatience;

    @Option(names = "--monitor", defaultValue = "val-loss",
            description = "What --early-stopping and --schedule plateau watch: val-loss or val-accuracy (default: ${DEFAULT-VALUE}).")
    String monitor;

    @Option(names = "--early-stopping", defaultValue = "0", paramLabel = "PATIENCE",
            description = "Stop after PATIENCE epochs without improvement of --monitor, and test the best epoch's weights; 0: off (default).")
    int earlyStopping;

    @Option(names = "--momentum", description = "Momentum of sgd (default 0.9) or rmsprop (default 0); 0 for none.")
    Double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum.")
    boolean nesterov;

    @Option(names = "--weight-decay", description = "Weight decay on the weights: coupled L2 for sgd, adam and rmsprop (default 0),"
            + " decoupled for adamw (default 0.01), as torch.optim.")
    Double weightDecay;

    @Option(names = "--dropout", defaultValue = "0", paramLabel = "P",
            description = "Dropout probability after every hidden layer's activation; 0: none (default).")
    double dropout;

    @Option(names = "--batch-norm", description = "Batch normalization between every hidden layer's affine map and its activation.")
    boolean batchNorm;

    @Option(names = "--layer-norm", description = "Layer normalization between every hidden layer's affine map and its activation.")
    boolean layerNorm;

    @Option(names = "--l2", defaultValue = "0", description = "L2 penalty on weights in the loss (default: ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--clip-norm", description = "Clip gradients by global L2 norm; 0: off (default: 5 with --loss mse,"
            + " whose squared error on unnormalized pixels is steep enough to diverge early without it; else 0).")
    Double clipNorm;

    @Option(names = "--clip-value", defaultValue = "0", description = "Clip each gradient to [-v, v]; 0: off (default: ${DEFAULT-VALUE}).")
    double clipValue;

    @Option(names = "--init", description = "Weight init: he or xavier (default: xavier for --activation maxout and linear,"
            + " whose units keep their input's variance, which he's gain of 2 would double layer by layer; he for the others).")
    String init;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of init, validation split and shuffles (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--validation", defaultValue = "5000", description = "Training samples held out for validation (default: ${DEFAULT-VALUE}).")
    int validation;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Use only the first N training samples; 0: all.")
    int limit;

    @Option(names = "--backend", defaultValue = "auto",
            description = "auto, cpu, opencl or reference (default: ${DEFAULT-VALUE}; see 'jacobian info').")
    String backend;

    /** The most {@code --workers}: each is a backend of its own, with its threads and a copy of the model. */
    static final int MAX_WORKERS = 256;

    @Option(names = "--workers", defaultValue = "1", paramLabel = "N",
            description = "Train on N backends of --backend's kind together, each batch split across them (data parallel;"
                    + " CPU backends share the cores), 1-" + MAX_WORKERS + " and at most --batch."
                    + " Default: ${DEFAULT-VALUE}.")
    int workers;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: runs/<timestamp>; with"
            + " --resume, the newest run). A new run refuses one that holds another run's checkpoints.")
    Path out;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in --out (up to --epochs in total).")
    boolean resume;

    @Option(names = "--on-nan", defaultValue = "stop",
            description = "On a NaN/Inf loss: stop (keep the last good checkpoint) or rollback (restore it, halve the lr, go on). Default: ${DEFAULT-VALUE}.")
    String onNan;

    @Option(names = "--max-rollbacks", defaultValue = "5", description = "Rollbacks allowed before giving up (default: ${DEFAULT-VALUE}).")
    int maxRollbacks;

    @Option(names = "--stop-dead", defaultValue = "0.99", paramLabel = "FRACTION",
            description = "Stop when more than this fraction of a ReLU layer's units is dead after an epoch (a learning"
                    + " rate far too high); the last good checkpoint stays, --resume --lr goes on from it. 0: never."
                    + " Default: ${DEFAULT-VALUE}.")
    double stopDead;

    @Option(names = "--warm-up", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "On the CPU backend, train a small copy of the model on random data for a moment while the"
                    + " data loads, so that the JIT has compiled the kernels when epoch 1 starts (default: on;"
                    + " --no-warm-up skips it).")
    boolean warmUp;

    @Option(names = "--prefetch", paramLabel = "N", description = "Training batches the data loader prepares ahead of"
            + " the step, 0-" + DataLoader.MAX_PREFETCH + "; 0 gathers each between the steps, on the backend's threads"
            + " (default: " + DataLoader.MAX_PREFETCH + " when the backend leaves a core free, else 0).")
    Integer prefetch;

    @Option(names = "--no-progress", description = "No progress bar (default: a bar when the console is a terminal).")
    boolean noProgress;

    /** Most runs without {@code --out} started within one second ({@link #newRunDir}). */
    static final int MAX_RUNS_PER_SECOND = 1000;

    /** Where the steps are computed (a cluster's engine); null: this machine. */
    private final dev.jacobian.samples.training.StepEngine engine;

    /** The command on this machine's backends. */
    TrainCommand() {
        this(null);
    }

    /** The command with its steps computed by {@code engine}. */
    TrainCommand(dev.jacobian.samples.training.StepEngine engine) {
        this.engine = engine;
    }

    @Override
    public Integer call() throws IOException, dev.jacobian.samples.training.TrainingStoppedException {
        TrainConfig config = config();
        Path dir = out != null ? out : resume ? newestRun(RUNS).orElseThrow(() ->
                new CheckpointFormatException(RUNS, "--resume without --out: no run with a checkpoint here")) : newRunDir();
        checkOut(dir);
        if (!resume) {
            checkNoRunIn(dir);
        }
        Path dataDir = data != null ? data : DataDirectory.defaultDirectory();
        new TrainingRun(new TrainingRun.Settings(config, dataDir, dir, backend, resume, !noProgress && interactive(),
                workers, engine, resume ? lr : null, stopDead, warmUp, prefetch)).run();
        return 0;
    }

    /**
     * The run's configuration: the options given, and the defaults for those not given.
     *
     * @throws CommandLine.ParameterException naming the option that is out of range or does not fit the others
     */
    TrainConfig config() {
        try {
            if (batchNorm && layerNorm) {
                throw new IllegalArgumentException("--batch-norm and --layer-norm exclude each other: choose one");
            }
            String norm = batchNorm ? "batch" : layerNorm ? "layer" : "none";
            if (!(stopDead >= 0 && stopDead <= 1)) {
                throw new IllegalArgumentException("--stop-dead must be a fraction in [0, 1]: " + stopDead);
            }
            JacobianCli.checkBackend(spec.commandLine(), backend);
            if (batch < 1) { // before --workers, whose check names --batch: "--workers must be between 1 and --batch (0)"
                throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
            }
            if (workers < 1 || workers > batch) {
                throw new IllegalArgumentException("--workers must be between 1 and --batch (" + batch + "): " + workers);
            }
            if (workers > MAX_WORKERS) {
                throw new IllegalArgumentException("--workers must be at most " + MAX_WORKERS + ": " + workers);
            }
            if (prefetch != null && (prefetch < 0 || prefetch > DataLoader.MAX_PREFETCH)) {
                throw new IllegalArgumentException("--prefetch must be between 0 and " + DataLoader.MAX_PREFETCH + ": "
                        + prefetch);
            }
            return new TrainConfig(layers != null ? layers : TrainConfig.defaultLayers(model), activation, loss,
                    init != null ? init : TrainConfig.defaultInit(activation), epochs, batch,
                    lr != null ? lr : TrainConfig.defaultLearningRate(optimizer, loss), schedule,
                    momentum != null ? momentum : TrainConfig.defaultMomentum(optimizer), nesterov,
                    weightDecay != null ? weightDecay : TrainConfig.defaultWeightDecay(optimizer), l2,
                    clipNorm != null ? clipNorm : TrainConfig.defaultClipNorm(loss), clipValue,
                    seed, validation, limit, onNan, maxRollbacks,
                    new TrainConfig.ScheduleOptions(lrStepSize, lrGamma, warmupEpochs, warmupStartFactor, plateauFactor,
                            plateauPatience), monitor, earlyStopping, optimizer, dropout, norm, model, channels,
                    augment != null ? augment : TrainConfig.defaultAugment(model));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /**
     * Checks that the run can write into {@code dir} before any data is read: an existing {@code dir} must be a writable
     * directory; a new one is created later, so its nearest existing ancestor must be a writable directory (a regular
     * file on the way failed at the first write, with exit code 1 and the exception's name).
     *
     * @throws CommandLine.ParameterException naming {@code --out} and what is wrong
     */
    private void checkOut(Path dir) {
        Path p = dir.toAbsolutePath();
        String problem = null;
        if (Files.exists(p)) {
            if (!Files.isDirectory(p)) {
                problem = "is a file, not a directory";
            } else if (!Files.isWritable(p)) {
                problem = "is not writable";
            }
        } else {
            Path a = p.getParent();
            while (a != null && !Files.exists(a)) {
                a = a.getParent();
            }
            if (a != null && !Files.isDirectory(a)) {
                problem = "cannot be created: " + a + " is a file, not a directory";
            } else if (a != null && !Files.isWritable(a)) {
                problem = "cannot be created: " + a + " is not writable";
            }
        }
        if (problem != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--out " + dir + " " + problem);
        }
    }

    /**
     * Checks that a new run (no {@code --resume}) does not go into a directory that holds another run's checkpoints:
     * its own checkpoints would sort below that run's newer epochs and be pruned as soon as written, and that run's
     * checkpoints would pass for its own (eval, predict, a rollback, a later --resume).
     *
     * @throws CommandLine.ParameterException naming {@code --out}, its newest checkpoint and what to do instead
     */
    private void checkNoRunIn(Path dir) throws IOException {
        Optional<Path> newest = new CheckpointStore(dir).latest();
        if (newest.isPresent()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--out " + dir + " already holds the"
                    + " checkpoints of a run (newest: " + newest.get().getFileName() + "): --resume goes on with that"
                    + " run; a new run needs another --out");
        }
    }

    /** Whether the console is a terminal (on JDK 22+ {@code System.console()} exists even when redirected). */
    static boolean interactive() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException e) {
            return true; // JDK 21: a console exists only for a terminal
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Console.isTerminal() failed", e);
        }
    }

    /**
     * A new, empty directory for a run without {@code --out}: {@code runs/<yyyyMMdd-HHmmss>}, or with {@code -2},
     * {@code -3}, ... after it when a run started in the same second already has that one (created here, so that two
     * runs started at once do not share it; {@link #newestRun} takes the last in name order).
     */
    private static Path newRunDir() throws IOException {
        return newRunDir(RUNS, LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    /** {@link #newRunDir()} in {@code runs} for a run started at {@code stamp}. */
    static Path newRunDir(Path runs, String stamp) throws IOException {
        Files.createDirectories(runs);
        for (int i = 1; i <= MAX_RUNS_PER_SECOND; i++) {
            Path dir = runs.resolve(i == 1 ? stamp : stamp + "-" + i);
            try {
                Files.createDirectory(dir);
                return dir;
            } catch (FileAlreadyExistsException taken) {
                // another run's: try the next name
            }
        }
        throw new IOException(runs.resolve(stamp) + ": " + MAX_RUNS_PER_SECOND + " runs started in this second already;"
                + " give --out");
    }

    /**
     * The newest run in {@code runs} (the last in name order) that holds a checkpoint, for {@code --resume} without
     * {@code --out}.
     *
     * @throws CheckpointFormatException naming {@code runs} or a run in it that cannot be listed (exit 2, one line)
     */
    static Optional<Path> newestRun(Path runs) throws CheckpointFormatException {
        if (!Files.isDirectory(runs)) {
            return Optional.empty();
        }
        List<Path> dirs;
        try (Stream<Path> s = Files.list(runs)) {
            dirs = s.filter(Files::isDirectory).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw cannotList(runs, e);
        }
        Path newest = null;
        for (Path dir : dirs) {
            try {
                if (new CheckpointStore(dir).latest().isPresent() && (newest == null
                        || dir.getFileName().toString().compareTo(newest.getFileName().toString()) > 0)) {
                    newest = dir;
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                throw cannotList(dir, e);
            }
        }
        return Optional.ofNullable(newest);
    }

    private static CheckpointFormatException cannotList(Path dir, Exception e) {
        Throwable cause = e instanceof java.io.UncheckedIOException u ? u.getCause() : e;
        return new CheckpointFormatException(dir, "--resume without --out: cannot list the directory ("
                + cause.getClass().getSimpleName() + "); give --out", e);
    }
}
