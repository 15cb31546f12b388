package dev.jacobian.samples.training;

import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Adam;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.RmsProp;
import dev.jacobian.optim.Sgd;
import dev.jacobian.optim.schedule.ClosedFormScheduler;
import dev.jacobian.optim.schedule.LrSchedule;
import dev.jacobian.optim.schedule.LrScheduler;
import dev.jacobian.optim.schedule.ReduceLrOnPlateau;
import dev.jacobian.samples.data.Augmentation;
import dev.jacobian.train.Monitor;
import java.util.List;
import java.util.Locale;

/**
 * Everything that defines a training run, as the command line gives it and as a checkpoint records it.
 *
 * @param layers        hidden layer widths, e.g. {@code [256, 128]}
 * @param activation    one of {@link Sequential#ACTIVATIONS}
 * @param loss          one of {@link #LOSSES}: {@code softmax-ce}, {@code svm}, {@code mse} or {@code bce}
 * @param init          {@code he} or {@code xavier}
 * @param epochs        total epochs (a resumed run continues up to this number)
 * @param batch         samples per step
 * @param learningRate  the optimizer's step size at the start
 * @param schedule      one of {@link #SCHEDULES}, tuned by {@code scheduleOptions} (see {@link #scheduler})
 * @param momentum      SGD's or RMSprop's momentum (0 disables)
 * @param nesterov      Nesterov momentum instead of Polyak's
 * @param weightDecay   weight decay on weights: coupled L2 (SGD, Adam, RMSprop) or decoupled (AdamW), as torch.optim
 * @param l2            L2 penalty added to the loss
 * @param clipNorm      clip gradients by global norm at this threshold (0 disables)
 * @param clipValue     clip each gradient element to [-v, v] (0 disables)
 * @param seed          seed of initialization, the validation split and every epoch's shuffle
 * @param validation    samples held out of the training set for validation
 * @param limit         use only the first {@code limit} training samples (0: all)
 * @param onNan         {@code stop} or {@code rollback}
 * @param maxRollbacks  how many rollbacks a run may do before it gives up
 * @param scheduleOptions the settings of the step, warmup and plateau schedules (null: {@link ScheduleOptions#DEFAULTS},
 *                      as in checkpoints written before they existed)
 * @param monitor       what early stopping and the plateau schedule watch: {@code val-loss} or {@code val-accuracy}
 *                      (null: {@code val-loss})
 * @param earlyStopping stop after this many epochs without improvement of {@code monitor} and keep the best
 *                      epoch's weights; 0: off
 * @param optimizer     one of {@link #OPTIMIZERS} (null: {@code sgd}, as in checkpoints written before there was a
 *                      choice); {@code learningRate}, {@code momentum} and {@code weightDecay} are its own
 *                      ({@link #defaultLearningRate}, {@link #defaultMomentum}, {@link #defaultWeightDecay})
 * @param dropout       dropout probability after every hidden layer's activation, in [0, 1); 0: none
 * @param norm          {@code none}, {@code batch} or {@code layer} normalization between every hidden layer's affine map
 *                      and its activation (null: {@code none})
 * @param model         {@code mlp} or {@code cnn} (see {@code Networks.model}; null: {@code mlp}, as in checkpoints written
 *                      before there was a choice)
 * @param channels      the output channels of the CNN's convolution blocks, e.g. {@code [32, 64, 128]} (null:
 *                      {@link #DEFAULT_CHANNELS}); unused by the MLP
 * @param augment       the training-time augmentation, names of {@link Augmentation#NAMES} (null: {@code none}, as in
 *                      checkpoints written before there was any; the command line's default is {@link #defaultAugment})
 */
public record TrainConfig(List<Integer> layers, String activation, String loss, String init, int epochs, int batch,
                          double learningRate, String schedule, double momentum, boolean nesterov, double weightDecay,
                          double l2, double clipNorm, double clipValue, long seed, int validation, int limit,
                          String onNan, int maxRollbacks, ScheduleOptions scheduleOptions, String monitor,
                          int earlyStopping, String optimizer, double dropout, String norm, String model,
                          List<Integer> channels, List<String> augment) implements java.io.Serializable {
    /**
     * Loss names accepted by {@code --loss}: softmax cross-entropy, multiclass hinge, squared error on one-hot targets,
     * and sigmoid binary cross-entropy on one-hot targets (each class a yes/no of its own, multi-label style).
     */
    public static final List<String> LOSSES = List.of("softmax-ce", "svm", "mse", "bce");
    /** Schedule names accepted by {@code --schedule}. */
    public static final List<String> SCHEDULES = List.of("cosine", "constant", "step", "warmup-cosine", "plateau");
    /** Names accepted by {@code --optimizer}. */
    public static final List<String> OPTIMIZERS = List.of("sgd", "adam", "adamw", "rmsprop");
    /** Normalizations: none, {@code --batch-norm}, {@code --layer-norm}. */
    public static final List<String> NORMS = List.of("none", "batch", "layer");

    /** Names accepted by {@code --model}. */
    public static final List<String> MODELS = List.of("mlp", "cnn");
    /** The CNN's convolution channels when {@code --channels} is not given. */
    public static final List<Integer> DEFAULT_CHANNELS = List.of(32, 64, 128);
    /** Most convolution blocks a CNN configuration may have (each halves the image). */
    public static final int MAX_CONV_BLOCKS = 8;
    /** Activations the CNN accepts: the elementwise ones (PReLU and maxout are dense-layer constructions here). */
    public static final List<String> CNN_ACTIVATIONS = List.of("relu", "leaky-relu", "elu", "gelu", "tanh", "sigmoid");

    /** The hidden dense widths of {@code model} when {@code --layers} is not given: 256,128 (MLP), 128 (CNN). */
    public static List<Integer> defaultLayers(String model) {
        return "cnn".equalsIgnoreCase(model) ? List.of(128) : List.of(256, 128);
    }

    /**
     * The augmentation of {@code model} when {@code --augment} is not given: {@code flip} for the CNN (it overfits
     * without; shifts as well slow its 10 epochs down more than they help), {@code none} for the MLP.
     */
    public static List<String> defaultAugment(String model) {
        return "cnn".equalsIgnoreCase(model) ? List.of("flip") : List.of("none");
    }

    /** The augmentation {@link #augment} names. */
    public Augmentation augmentation() {
        return Augmentation.of(augment);
    }

    /** Names accepted by {@code --monitor}. */
    public static final List<String> MONITORS = List.of("val-loss", "val-accuracy");

    /**
     * The settings of the schedules that have some (PyTorch's names in brackets).
     *
     * @param stepSize          {@code step}: epochs between decays ({@code step_size})
     * @param gamma             {@code step}: the factor at each decay ({@code gamma})
     * @param warmupEpochs      {@code warmup-cosine}: epochs of linear warmup ({@code LinearLR total_iters})
     * @param warmupStartFactor {@code warmup-cosine}: the fraction of {@code --lr} in the first epoch ({@code start_factor})
     * @param plateauFactor     {@code plateau}: the factor at each reduction ({@code factor})
     * @param plateauPatience   {@code plateau}: epochs without improvement before a reduction ({@code patience})
     */
    public record ScheduleOptions(int stepSize, double gamma, int warmupEpochs, double warmupStartFactor,
                                  double plateauFactor, int plateauPatience) implements java.io.Serializable {
        /** The command line's defaults. */
        public static final ScheduleOptions DEFAULTS = new ScheduleOptions(3, 0.5, 1, 0.1, 0.5, 2);

        /** Checks each setting, naming the option. */
        public ScheduleOptions {
            check(stepSize >= 1, "--lr-step-size must be at least 1, got " + stepSize);
            check(gamma > 0 && (float) gamma > 0 && Float.isFinite((float) gamma), "--lr-gamma must be positive, got "
                    + gamma + asFloat(gamma));
            check(warmupEpochs >= 1, "--warmup-epochs must be at least 1, got " + warmupEpochs);
            check(warmupStartFactor > 0 && warmupStartFactor <= 1, "--warmup-start-factor must be in (0, 1], got "
                    + warmupStartFactor);
            check(plateauFactor > 0 && plateauFactor < 1, "--plateau-factor must be in (0, 1), got " + plateauFactor);
            check(plateauPatience >= 0, "--plateau-patience must be >= 0, got " + plateauPatience);
        }
    }

    /** Most hidden layers a configuration (from the command line or a checkpoint) may have. */
    public static final int MAX_LAYERS = 256;
    /** Widest hidden layer a configuration may have. */
    public static final int MAX_WIDTH = 1 << 20;

    /**
     * Checks every setting, naming the option; a checkpoint's configuration passes the same checks.
     *
     * @throws IllegalArgumentException naming the option that is missing or out of range
     */
    public TrainConfig {
        check(layers != null && layers.stream().allMatch(java.util.Objects::nonNull), "--layers is missing");
        check(layers.size() <= MAX_LAYERS, "--layers may have at most " + MAX_LAYERS + " hidden layers, got " + layers.size());
        layers = List.copyOf(layers);
        check(layers.stream().allMatch(u -> u <= MAX_WIDTH), "--layers widths may be at most " + MAX_WIDTH);
        activation = lower(activation, "--activation");
        loss = lower(loss, "--loss");
        init = lower(init, "--init");
        schedule = lower(schedule, "--schedule");
        onNan = lower(onNan, "--on-nan");
        scheduleOptions = scheduleOptions == null ? ScheduleOptions.DEFAULTS : scheduleOptions;
        monitor = monitor == null ? "val-loss" : monitor.toLowerCase(Locale.ROOT);
        optimizer = optimizer == null ? "sgd" : optimizer.toLowerCase(Locale.ROOT);
        norm = norm == null ? "none" : norm.toLowerCase(Locale.ROOT);
        model = model == null ? "mlp" : model.toLowerCase(Locale.ROOT);
        channels = channels == null ? DEFAULT_CHANNELS : channels;
        check(channels.stream().allMatch(java.util.Objects::nonNull) && !channels.isEmpty()
                && channels.stream().allMatch(c -> c > 0 && c <= MAX_WIDTH),
                "--channels needs positive widths of at most " + MAX_WIDTH + ", got " + channels);
        channels = List.copyOf(channels);
        augment = augment == null ? List.of("none") : augment;
        check(augment.stream().allMatch(java.util.Objects::nonNull) && !augment.isEmpty(), "--augment is missing");
        augment = augment.stream().map(a -> a.toLowerCase(Locale.ROOT)).toList();
        Augmentation.of(augment); // names the option for an unknown name
        check(channels.size() <= MAX_CONV_BLOCKS, "--channels may name at most " + MAX_CONV_BLOCKS + " blocks, got "
                + channels.size());
        check(MODELS.contains(model), "--model must be one of " + MODELS + ", got '" + model + "'");
        check(OPTIMIZERS.contains(optimizer), "--optimizer must be one of " + OPTIMIZERS + ", got '" + optimizer + "'");
        check(NORMS.contains(norm), "normalization must be one of " + NORMS + ", got '" + norm + "'");
        check(dropout >= 0 && (float) dropout < 1, "--dropout must be in [0, 1), got " + dropout + asFloat(dropout));
        check(!nesterov || optimizer.equals("sgd"), "--nesterov applies to --optimizer sgd only");
        check(momentum == 0 || optimizer.equals("sgd") || optimizer.equals("rmsprop"),
                "--momentum applies to --optimizer sgd and rmsprop, not " + optimizer);
        check(!layers.isEmpty() && layers.stream().allMatch(u -> u > 0), "--layers needs positive widths, got " + layers);
        check(Sequential.ACTIVATIONS.contains(activation), "--activation must be one of " + Sequential.ACTIVATIONS);
        check(LOSSES.contains(loss), "--loss must be one of " + LOSSES);
        check(init.equals("he") || init.equals("xavier"), "--init must be he or xavier");
        check(SCHEDULES.contains(schedule), "--schedule must be one of " + SCHEDULES);
        check(onNan.equals("stop") || onNan.equals("rollback"), "--on-nan must be stop or rollback");
        check(epochs >= 1, "--epochs must be at least 1");
        check(batch >= 1, "--batch must be at least 1");
        check(learningRate > 0 && (float) learningRate > 0 && Float.isFinite((float) learningRate),
                "--lr must be positive, got " + learningRate + asFloat(learningRate));
        check(momentum >= 0 && (float) momentum < 1, "--momentum must be in [0, 1), got " + momentum
                + asFloat(momentum));
        check(weightDecay >= 0 && Float.isFinite((float) weightDecay), "--weight-decay must be >= 0 and finite, got "
                + weightDecay + asFloat(weightDecay));
        check(l2 >= 0 && Float.isFinite((float) l2), "--l2 must be >= 0 and finite, got " + l2 + asFloat(l2));
        check(clipNorm >= 0, "--clip-norm must be >= 0");
        check(clipValue >= 0, "--clip-value must be >= 0");
        check(validation >= 0, "--validation must be >= 0");
        check(limit >= 0, "--limit must be >= 0");
        check(maxRollbacks >= 0, "--max-rollbacks must be >= 0");
        check(MONITORS.contains(monitor), "--monitor must be one of " + MONITORS);
        check(earlyStopping >= 0, "--early-stopping must be >= 0 (0: off), got " + earlyStopping);
        check(!model.equals("cnn") || CNN_ACTIVATIONS.contains(activation),
                "--model cnn takes --activation " + CNN_ACTIVATIONS + ", not " + activation);
        check(!model.equals("cnn") || l2 == 0, "--model cnn has no --l2 penalty: use --weight-decay");
        check(validation > 0 || (earlyStopping == 0 && !schedule.equals("plateau")),
                "--early-stopping and --schedule plateau watch the validation set: --validation must be > 0");
    }

    /**
     * The optimizer, the model and the checkpoints take these settings as 32-bit floats: a note saying what {@code v}
     * becomes as one when that is not {@code v} itself in range (1e300 is infinite, 0.99999999999 is 1), else "".
     */
    private static String asFloat(double v) {
        float f = (float) v;
        return Double.isNaN(v) || f == v || (Float.isFinite(f) && f != 0 && f != 1) ? ""
                : " (" + f + " as a 32-bit float)";
    }

    private static String lower(String value, String option) {
        check(value != null, option + " is missing");
        return value.toLowerCase(Locale.ROOT);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * The learning rate of {@code optimizer} with softmax cross-entropy when {@code --lr} is not given: 0.05 for SGD,
     * 1e-3 for the adaptive ones ({@link #defaultLearningRate(String, String)} for the other losses).
     */
    public static double defaultLearningRate(String optimizer) {
        return defaultLearningRate(optimizer, "softmax-ce");
    }

    /**
     * The learning rate of {@code optimizer} with {@code loss} when {@code --lr} is not given. SGD: 0.05 for softmax-ce;
     * 0.02 for bce (ten sigmoid outputs pulled down together, not one softmax); 0.01 for svm (the hinge's gradient sums
     * up to nine margins) and mse (its curvature is 2 against softmax's at most 1/2). At 0.05 those three diverged
     * within the first epoch with some activations (issue 8). The adaptive optimizers, which scale their steps by
     * the gradients' own size: 1e-3 for every loss.
     */
    public static double defaultLearningRate(String optimizer, String loss) {
        if (optimizer != null && !optimizer.equalsIgnoreCase("sgd")) {
            return 1e-3;
        }
        String l = loss == null ? "softmax-ce" : loss.toLowerCase(Locale.ROOT);
        return switch (l) {
            case "bce" -> 0.02;
            case "svm", "mse" -> 0.01;
            default -> 0.05;
        };
    }

    /**
     * The initialization of {@code activation} when {@code --init} is not given: {@code xavier} for maxout and linear,
     * whose units pass their input's variance on (the max of two pieces has the second moment of one), so He's gain of
     * 2, made for ReLU's halving, would double it layer by layer (both diverged with the defaults, issue 8);
     * {@code he} for the others.
     */
    public static String defaultInit(String activation) {
        String a = activation == null ? "" : activation.toLowerCase(Locale.ROOT);
        return a.equals("maxout") || a.equals("linear") ? "xavier" : "he";
    }

    /**
     * The gradient-norm clip of {@code loss} when {@code --clip-norm} is not given: 5 for mse, 0 (off) for the others.
     * Squared error on pixels in [0, 1] (not centred) is steep: even at SGD's 0.01 it diverged in the first steps with
     * linear units; a clip at 5, above the typical norm of a step (1 to 5), only tames the first steps.
     */
    public static double defaultClipNorm(String loss) {
        return loss != null && loss.equalsIgnoreCase("mse") ? 5 : 0;
    }

    /** The momentum of {@code optimizer} when {@code --momentum} is not given: 0.9 for SGD, else 0. */
    public static double defaultMomentum(String optimizer) {
        return optimizer == null || optimizer.equalsIgnoreCase("sgd") ? 0.9 : 0.0;
    }

    /** The weight decay of {@code optimizer} when {@code --weight-decay} is not given: 0.01 for AdamW (PyTorch's), else 0. */
    public static double defaultWeightDecay(String optimizer) {
        return optimizer != null && optimizer.equalsIgnoreCase("adamw") ? 0.01 : 0.0;
    }

    /** The optimizer this configuration names, at learning rate {@code lr}. */
    public Optimizer newOptimizer(double lr) {
        return switch (optimizer) {
            case "adam" -> Adam.builder().learningRate(lr).weightDecay(weightDecay).clipNorm(clipNorm)
                    .clipValue(clipValue).build();
            case "adamw" -> Adam.adamW().learningRate(lr).weightDecay(weightDecay).clipNorm(clipNorm)
                    .clipValue(clipValue).build();
            case "rmsprop" -> RmsProp.builder().learningRate(lr).momentum(momentum).weightDecay(weightDecay)
                    .clipNorm(clipNorm).clipValue(clipValue).build();
            default -> Sgd.builder().learningRate(lr).momentum(momentum).nesterov(nesterov).weightDecay(weightDecay)
                    .clipNorm(clipNorm).clipValue(clipValue).build();
        };
    }

    /** The core loss this configuration names. */
    public LossKind lossKind() {
        return switch (loss) {
            case "svm" -> LossKind.SVM_HINGE;
            case "mse" -> LossKind.MSE;
            case "bce" -> LossKind.SIGMOID_BINARY_CROSS_ENTROPY;
            default -> LossKind.SOFTMAX_CROSS_ENTROPY;
        };
    }

    /** The core initializer this configuration names. */
    public Sequential.Init initScheme() {
        return init.equals("xavier") ? Sequential.Init.XAVIER : Sequential.Init.HE;
    }

    /** A copy with another epoch count (what {@code --resume --epochs N} changes). */
    public TrainConfig withEpochs(int total) {
        return new TrainConfig(layers, activation, loss, init, total, batch, learningRate, schedule, momentum, nesterov,
                weightDecay, l2, clipNorm, clipValue, seed, validation, limit, onNan, maxRollbacks, scheduleOptions, monitor,
                earlyStopping, optimizer, dropout, norm, model, channels, augment);
    }

    /**
     * A copy with other hidden layer widths, convolution channels and batch size (the JIT warm-up's narrowed model,
     * {@link JitWarmUp}).
     */
    public TrainConfig withShape(List<Integer> hidden, List<Integer> blocks, int batchSize) {
        return new TrainConfig(hidden, activation, loss, init, epochs, batchSize, learningRate, schedule, momentum,
                nesterov, weightDecay, l2, clipNorm, clipValue, seed, validation, limit, onNan, maxRollbacks,
                scheduleOptions, monitor, earlyStopping, optimizer, dropout, norm, model, blocks, augment);
    }

    /** A copy with another base learning rate (what {@code --resume --lr X} changes). */
    public TrainConfig withLearningRate(double lr) {
        return new TrainConfig(layers, activation, loss, init, epochs, batch, lr, schedule, momentum, nesterov,
                weightDecay, l2, clipNorm, clipValue, seed, validation, limit, onNan, maxRollbacks, scheduleOptions, monitor,
                earlyStopping, optimizer, dropout, norm, model, channels, augment);
    }

    /** A copy with another NaN policy. */
    public TrainConfig withOnNan(String policy) {
        return new TrainConfig(layers, activation, loss, init, epochs, batch, learningRate, schedule, momentum, nesterov,
                weightDecay, l2, clipNorm, clipValue, seed, validation, limit, policy, maxRollbacks, scheduleOptions, monitor,
                earlyStopping, optimizer, dropout, norm, model, channels, augment);
    }

    /** What {@code --monitor} names: {@link Monitor#VALIDATION_LOSS} or {@link Monitor#VALIDATION_ACCURACY}. */
    public Monitor monitored() {
        return monitor.equals("val-accuracy") ? Monitor.VALIDATION_ACCURACY : Monitor.VALIDATION_LOSS;
    }

    /**
     * The library scheduler this configuration names, over {@code optimizer} with base rate {@code baseLr}; one
     * period is one epoch (period {@code t} is epoch {@code t + 1}), and it sets the rate of epoch 1 at once:
     * <ul>
     *   <li>{@code constant}: {@code baseLr} throughout;</li>
     *   <li>{@code cosine}: annealed to 0 over {@code epochs} ({@code CosineAnnealingLR(T_max=epochs, eta_min=0)},
     *       Loshchilov &amp; Hutter 2017), held for a whole epoch: epoch {@code e} runs at
     *       {@code baseLr (1 + cos(pi (e - 1) / epochs)) / 2};</li>
     *   <li>{@code step}: {@code StepLR(step_size, gamma)};</li>
     *   <li>{@code warmup-cosine}: {@code warmupEpochs} of {@code LinearLR(start_factor)} from
     *       {@code warmupStartFactor * baseLr}, then cosine to 0 over the remaining epochs;</li>
     *   <li>{@code plateau}: {@code ReduceLROnPlateau(factor, patience)} on {@link #monitored()}.</li>
     * </ul>
     */
    public LrScheduler scheduler(Optimizer optimizer, double baseLr) {
        ScheduleOptions o = scheduleOptions;
        return switch (schedule) {
            case "constant" -> new ClosedFormScheduler(optimizer, LrSchedule.constant(), baseLr);
            case "step" -> new ClosedFormScheduler(optimizer, LrSchedule.step(o.stepSize(), o.gamma()), baseLr);
            case "warmup-cosine" -> new ClosedFormScheduler(optimizer, LrSchedule.cosine(Math.max(1, epochs - o.warmupEpochs()), 0)
                    .withWarmup(o.warmupEpochs(), o.warmupStartFactor()), baseLr);
            case "plateau" -> ReduceLrOnPlateau.builder(optimizer).baseLr(baseLr).mode(monitored().mode())
                    .factor(o.plateauFactor()).patience(o.plateauPatience()).build();
            default -> new ClosedFormScheduler(optimizer, LrSchedule.cosine(epochs, 0), baseLr);
        };
    }
}
