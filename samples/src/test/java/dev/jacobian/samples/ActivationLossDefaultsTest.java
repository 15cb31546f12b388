package dev.jacobian.samples;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jacobian.backend.Backend;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.data.Shuffling;
import dev.jacobian.nn.Diagnostics;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.samples.data.DataDirectory;
import dev.jacobian.samples.training.Networks;
import dev.jacobian.samples.training.TrainConfig;
import dev.jacobian.samples.training.TrainingRun;
import dev.jacobian.tensor.Shape;
import dev.jacobian.train.NonFiniteLossException;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every {@code --activation} with every {@code --loss} the command line offers trains with the command line's own
 * defaults for everything else (issue 8: maxout and mse diverged with them): one short epoch of {@value #SAMPLES}
 * samples of the shipped Fashion-MNIST in the run's shuffled order, on the default 784-256-128-10 MLP with the default
 * optimizer, batch and seed, taken from {@code jacobian train}'s parsed options. Every step's loss must be finite, no
 * ReLU layer may die (the {@code --stop-dead} stop), and the last steps must have learned: their mean loss below
 * {@value #MAX_LOSS_RATIO} of the first steps', their accuracy at least {@value #MIN_ACCURACY}.
 */
class ActivationLossDefaultsTest {
    /** 80 steps of the default batch of 64. */
    private static final int SAMPLES = 5120;
    /** Steps averaged at the start and at the end. */
    private static final int WINDOW = 16;
    private static final double MAX_LOSS_RATIO = 0.7;
    /** Two and a half times chance: sigmoid units start slowly (about 0.8 after a whole epoch, but 0.3 here). */
    private static final double MIN_ACCURACY = 0.25;

    private static ImageDataset slice;

    @BeforeAll
    static void load() throws Exception {
        slice = new DataDirectory(DataDirectory.defaultDirectory()).train().head(SAMPLES);
    }

    static Stream<Arguments> combinations() {
        List<Arguments> out = new ArrayList<>();
        for (String loss : TrainConfig.LOSSES) {
            for (String activation : Sequential.ACTIVATIONS) {
                out.add(Arguments.of(activation, loss));
            }
        }
        return out.stream();
    }

    /** What {@code jacobian train --activation A --loss L} runs with. */
    static TrainConfig defaults(String activation, String loss) {
        CommandLine.ParseResult parsed = JacobianCli.commandLine().parseArgs("train", "--activation", activation, "--loss",
                loss, "--backend", "cpu");
        return ((TrainCommand) parsed.subcommand().commandSpec().userObject()).config();
    }

    @ParameterizedTest(name = "--activation {0} --loss {1}")
    @MethodSource("combinations")
    void trainsOneShortEpochWithTheDefaults(String activation, String loss) {
        TrainConfig config = defaults(activation, loss);
        String name = "--activation " + activation + " --loss " + loss + String.format(Locale.ROOT,
                " (lr %s, init %s, clip-norm %s)", config.learningRate(), config.init(), config.clipNorm());
        int rows = config.batch();
        int steps = SAMPLES / rows;
        int f = slice.features();
        try (Backend b = new CpuBackend(2);
             Model model = Networks.model(config, Shape.of(f), 10, b);
             Optimizer opt = Networks.optimizer(config, config.learningRate());
             Trainer t = new Trainer(model, opt).trackPredictions(true)) {
            int tc = model.targetColumns();
            float[] targets = model.encodeTargets(slice.labels());
            int[] order = Shuffling.epochOrder(config.seed(), 1, SAMPLES);
            float[] bx = new float[rows * f];
            float[] by = new float[rows * tc];
            int[] labels = new int[rows];
            double first = 0;
            double last = 0;
            double sum = 0;
            long hits = 0;
            for (int s = 0; s < steps; s++) {
                for (int i = 0; i < rows; i++) {
                    int src = order[s * rows + i];
                    slice.copyFeatures(src, bx, i * f);
                    System.arraycopy(targets, src * tc, by, i * tc, tc);
                    labels[i] = slice.label(src);
                }
                StepResult r;
                try {
                    r = t.step(bx, by, 0, rows);
                } catch (NonFiniteLossException e) {
                    fail(name + " diverged: " + e.getMessage());
                    return;
                }
                sum += r.loss();
                first += s < WINDOW ? r.loss() : 0;
                last += s >= steps - WINDOW ? r.loss() : 0;
                hits += s >= steps - WINDOW ? r.correct(labels) : 0;
            }
            double accuracy = (double) hits / (WINDOW * rows);
            System.out.printf(Locale.ROOT, "%-45s epoch loss %.4f  first %d steps %.4f  last %d steps %.4f, accuracy %.3f%n",
                    name, sum / steps, WINDOW, first / WINDOW, WINDOW, last / WINDOW, accuracy);
            for (Diagnostics.LayerHealth h : Diagnostics.inspect(model)) {
                assertTrue(!(h.deadFraction() > TrainingRun.DEFAULT_STOP_DEAD), name + ": " + h.layer() + " died");
            }
            assertTrue(last < MAX_LOSS_RATIO * first, name + ": loss from " + first / WINDOW + " to " + last / WINDOW);
            assertTrue(accuracy >= MIN_ACCURACY, name + ": accuracy " + accuracy + " in the last " + WINDOW + " steps");
        }
    }
}
