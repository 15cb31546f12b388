package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.schedule.LrScheduler;
import dev.jacobian.samples.data.DataDirectory;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every combination of the command line's training options — optimizer, normalization and dropout — with every
 * activation trains with the defaults without diverging: 240 steps of batch 64 (the default) on a slice of the shipped
 * Fashion-MNIST (a 784-64-32-10 MLP on the CPU backend; and a small CNN with every optimizer and activation), each
 * schedule taken in turn with 40 steps as its epoch. The loss must stay finite and fall well below where it started.
 */
class TrainingOptionsTest {
    private static final int STEPS = 240;
    private static final int BATCH = 64;
    private static final int STEPS_PER_EPOCH = 40;
    /** The mean loss of the last 40 steps must be below this fraction of the first 40 steps' mean. */
    private static final double MAX_LOSS_RATIO = 0.8;

    private static ImageDataset slice;
    /** The slice's images as floats. */
    private static float[] images;

    @BeforeAll
    static void load() throws Exception {
        slice = new DataDirectory(DataDirectory.defaultDirectory()).train().head(STEPS * BATCH);
        images = slice.floats(0, slice.size());
    }

    static Stream<Arguments> combinations() {
        List<Arguments> out = new ArrayList<>();
        int k = 0;
        for (String optimizer : TrainConfig.OPTIMIZERS) {
            for (String activation : Sequential.ACTIVATIONS) {
                for (String norm : TrainConfig.NORMS) {
                    for (double dropout : new double[] {0, 0.2}) {
                        String schedule = TrainConfig.SCHEDULES.get(k++ % TrainConfig.SCHEDULES.size());
                        out.add(Arguments.of(optimizer, activation, norm, dropout, schedule));
                    }
                }
            }
        }
        return out.stream();
    }

    /**
     * The CNN (two blocks of 4 and 8 channels, a dense layer of 16) with every activation it takes, the optimizers,
     * the normalization of the dense layer, dropout and the schedule taken in turn (every one at least once; a CNN step
     * costs ten MLP steps, so not every combination).
     */
    static Stream<Arguments> cnnCombinations() {
        List<Arguments> out = new ArrayList<>();
        int k = 0;
        // sigmoid units learn slowly (saturated, not centred): with the adaptive optimizers' lr of 1e-3 a sigmoid CNN
        // takes more than 240 steps to lose a fifth of its loss, so it is paired with SGD
        String[] optimizers = {"sgd", "adam", "adamw", "rmsprop", "adam", "sgd"};
        for (String activation : TrainConfig.CNN_ACTIVATIONS) {
            String optimizer = optimizers[k];
            String norm = TrainConfig.NORMS.get(k % TrainConfig.NORMS.size());
            String schedule = TrainConfig.SCHEDULES.get(k % TrainConfig.SCHEDULES.size());
            out.add(Arguments.of(optimizer, activation, norm, k % 2 == 0 ? 0.0 : 0.2, schedule));
            k++;
        }
        return out.stream();
    }

    static TrainConfig config(String optimizer, String activation, String norm, double dropout, String schedule) {
        return config(optimizer, activation, norm, dropout, schedule, "mlp");
    }

    static TrainConfig config(String optimizer, String activation, String norm, double dropout, String schedule,
                              String model) {
        boolean cnn = model.equals("cnn");
        return new TrainConfig(cnn ? List.of(16) : List.of(64, 32), activation, "softmax-ce", "he", STEPS / STEPS_PER_EPOCH,
                BATCH, TrainConfig.defaultLearningRate(optimizer), schedule, TrainConfig.defaultMomentum(optimizer), false,
                TrainConfig.defaultWeightDecay(optimizer), 0, 0, 0, 42, 500, 0, "stop", 5, null, null, 0, optimizer,
                dropout, norm, model, cnn ? List.of(4, 8) : null, TrainConfig.defaultAugment(model));
    }

    @ParameterizedTest(name = "{0} {1} norm {2} dropout {3} {4}")
    @MethodSource("combinations")
    void trainsWithoutDiverging(String optimizer, String activation, String norm, double dropout, String schedule) {
        trains(config(optimizer, activation, norm, dropout, schedule), dev.jacobian.tensor.Shape.of(slice.features()));
    }

    @ParameterizedTest(name = "cnn {0} {1} norm {2} dropout {3} {4}")
    @MethodSource("cnnCombinations")
    void cnnTrainsWithoutDiverging(String optimizer, String activation, String norm, double dropout, String schedule) {
        trains(config(optimizer, activation, norm, dropout, schedule, "cnn"),
                dev.jacobian.tensor.Shape.of(1, slice.height(), slice.width()));
    }

    private static void trains(TrainConfig config, dev.jacobian.tensor.Shape sample) {
        try (Backend b = new CpuBackend(1);
             Model model = Networks.model(config, sample, 10, b);
             Optimizer opt = Networks.optimizer(config, config.learningRate());
             Trainer t = new Trainer(model, opt)) {
            LrScheduler scheduler = config.scheduler(opt, config.learningRate());
            float[] targets = model.encodeTargets(slice.labels());
            double first = 0;
            double last = 0;
            double epochLoss = 0;
            for (int s = 0; s < STEPS; s++) {
                float loss = t.step(images, targets, s * BATCH, BATCH).loss();
                assertTrue(Float.isFinite(loss), "step " + s + ": loss " + loss);
                first += s < STEPS_PER_EPOCH ? loss : 0;
                last += s >= STEPS - STEPS_PER_EPOCH ? loss : 0;
                epochLoss += loss;
                if ((s + 1) % STEPS_PER_EPOCH == 0) {
                    if (scheduler.needsMetric()) {
                        scheduler.step(epochLoss / STEPS_PER_EPOCH);
                    } else {
                        scheduler.step();
                    }
                    epochLoss = 0;
                }
            }
            assertTrue(last < MAX_LOSS_RATIO * first, "mean loss of the first " + STEPS_PER_EPOCH + " steps "
                    + first / STEPS_PER_EPOCH + ", of the last " + last / STEPS_PER_EPOCH);
        }
    }

    /** Options that do not fit together, or are out of range, are named. */
    @Test
    void badCombinationsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config("adam", "relu", "none", 1.0, "cosine"));
        assertTrue(e.getMessage().contains("--dropout must be in [0, 1), got 1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> config("lbfgs", "relu", "none", 0, "cosine"));
        assertTrue(e.getMessage().contains("--optimizer must be one of"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TrainConfig(List.of(8), "relu", "softmax-ce", "he",
                1, 32, 1e-3, "cosine", 0.9, false, 0, 0, 0, 0, 42, 0, 0, "stop", 5, null, null, 0, "adam", 0, "none", null, null, null));
        assertTrue(e.getMessage().contains("--momentum applies to --optimizer sgd and rmsprop, not adam"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TrainConfig(List.of(8), "relu", "softmax-ce", "he",
                1, 32, 0.05, "cosine", 0.9, false, 0, 0, 0, 0, 42, 0, 0, "stop", 5, null, null, 0, null, 0, null, "cnn",
                null, List.of("flip", "rotate")));
        assertTrue(e.getMessage().contains("--augment takes [none, flip, shift], got 'rotate'"), e.getMessage());
        assertEquals(List.of("flip"), TrainConfig.defaultAugment("cnn"));
        assertEquals(List.of("none"), TrainConfig.defaultAugment("mlp"));
        assertEquals(List.of("none"), SchedulesAndEarlyStoppingTest.config("cosine", 1).augment(),
                "a configuration without augmentation (a checkpoint from before it existed) has none");
        assertEquals(0.01, TrainConfig.defaultWeightDecay("adamw"));
        assertEquals(1e-3, TrainConfig.defaultLearningRate("adam"));
    }
}
