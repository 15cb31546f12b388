package dev.jacobian.samples.training;

import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Sequential;
import java.util.List;
import java.util.Locale;

/**
 * Everything that defines a training run, as the command line gives it and as a checkpoint records it.
 *
 * @param layers        hidden layer widths, e.g. {@code [256, 128]}
 * @param activation    one of {@link Sequential#ACTIVATIONS}
 * @param loss          {@code softmax-ce}, {@code svm} or {@code mse}
 * @param init          {@code he} or {@code xavier}
 * @param epochs        total epochs (a resumed run continues up to this number)
 * @param batch         samples per step
 * @param learningRate  SGD step size at the start
 * @param schedule      {@code cosine} (anneal to 0 over {@code epochs}) or {@code constant}
 * @param momentum      SGD momentum (0 disables)
 * @param nesterov      Nesterov momentum instead of Polyak's
 * @param weightDecay   weight decay on weights, coupled L2 as in torch.optim.SGD
 * @param l2            L2 penalty added to the loss
 * @param clipNorm      clip gradients by global norm at this threshold (0 disables)
 * @param clipValue     clip each gradient element to [-v, v] (0 disables)
 * @param seed          seed of initialization, the validation split and every epoch's shuffle
 * @param validation    samples held out of the training set for validation
 * @param limit         use only the first {@code limit} training samples (0: all)
 * @param onNan         {@code stop} or {@code rollback}
 * @param maxRollbacks  how many rollbacks a run may do before it gives up
 */
public record TrainConfig(List<Integer> layers, String activation, String loss, String init, int epochs, int batch,
                          double learningRate, String schedule, double momentum, boolean nesterov, double weightDecay,
                          double l2, double clipNorm, double clipValue, long seed, int validation, int limit,
                          String onNan, int maxRollbacks) {
    /** Loss names accepted by {@code --loss}. */
    public static final List<String> LOSSES = List.of("softmax-ce", "svm", "mse");
    /** Schedule names accepted by {@code --schedule}. */
    public static final List<String> SCHEDULES = List.of("cosine", "constant");

    public TrainConfig {
        layers = List.copyOf(layers);
        activation = activation.toLowerCase(Locale.ROOT);
        loss = loss.toLowerCase(Locale.ROOT);
        init = init.toLowerCase(Locale.ROOT);
        schedule = schedule.toLowerCase(Locale.ROOT);
        onNan = onNan.toLowerCase(Locale.ROOT);
        check(!layers.isEmpty() && layers.stream().allMatch(u -> u > 0), "--layers needs positive widths, got " + layers);
        check(Sequential.ACTIVATIONS.contains(activation), "--activation must be one of " + Sequential.ACTIVATIONS);
        check(LOSSES.contains(loss), "--loss must be one of " + LOSSES);
        check(init.equals("he") || init.equals("xavier"), "--init must be he or xavier");
        check(SCHEDULES.contains(schedule), "--schedule must be one of " + SCHEDULES);
        check(onNan.equals("stop") || onNan.equals("rollback"), "--on-nan must be stop or rollback");
        check(epochs >= 1, "--epochs must be at least 1");
        check(batch >= 1, "--batch must be at least 1");
        check(learningRate > 0 && Double.isFinite(learningRate), "--lr must be positive");
        check(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1)");
        check(weightDecay >= 0, "--weight-decay must be >= 0");
        check(l2 >= 0, "--l2 must be >= 0");
        check(clipNorm >= 0, "--clip-norm must be >= 0");
        check(clipValue >= 0, "--clip-value must be >= 0");
        check(validation >= 0, "--validation must be >= 0");
        check(limit >= 0, "--limit must be >= 0");
        check(maxRollbacks >= 0, "--max-rollbacks must be >= 0");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The core loss this configuration names. */
    public LossKind lossKind() {
        return switch (loss) {
            case "svm" -> LossKind.SVM_HINGE;
            case "mse" -> LossKind.MSE;
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
                weightDecay, l2, clipNorm, clipValue, seed, validation, limit, onNan, maxRollbacks);
    }

    /** A copy with another NaN policy. */
    public TrainConfig withOnNan(String policy) {
        return new TrainConfig(layers, activation, loss, init, epochs, batch, learningRate, schedule, momentum, nesterov,
                weightDecay, l2, clipNorm, clipValue, seed, validation, limit, policy, maxRollbacks);
    }

    /**
     * The learning rate of epoch {@code epoch} (1-based) before any rollback halving: constant, or
     * cosine-annealed (Loshchilov &amp; Hutter 2017, SGDR, without restarts) from {@code learningRate}
     * towards 0 over {@code epochs}, held for a whole epoch.
     */
    public double learningRateAt(int epoch) {
        if (schedule.equals("constant")) {
            return learningRate;
        }
        return learningRate * 0.5 * (1 + Math.cos(Math.PI * (epoch - 1) / epochs));
    }
}
