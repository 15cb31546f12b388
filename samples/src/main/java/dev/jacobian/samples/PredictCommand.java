package dev.jacobian.samples;

import dev.jacobian.backend.LossKind;
import dev.jacobian.data.IdxReader;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.samples.data.DataDirectory;
import dev.jacobian.samples.training.RunData;
import dev.jacobian.samples.training.SavedModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jacobian predict}: classifies images of an IDX file with a checkpoint. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Classifies images [--from, --from + --count) of an IDX image file with a checkpoint. Prints each"
                + " image's class and what the model's loss makes of its output: the softmax probability (softmax-ce), the"
                + " sigmoid probability (bce; the classes' need not sum to 100%), or the score itself (svm, mse: not a"
                + " probability); and the true class when --labels is given.")
final class PredictCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CheckpointOptions checkpoint;

    @Option(names = "--images", paramLabel = "FILE",
            description = "IDX image file (raw or .gz). Default: the shipped Fashion-MNIST test images.")
    Path images;

    @Option(names = "--labels", paramLabel = "FILE",
            description = "IDX label file to compare with. Default: the shipped test labels when --images is not given.")
    Path labels;

    @Option(names = "--from", defaultValue = "0", description = "First image index (default: ${DEFAULT-VALUE}).")
    int from;

    @Option(names = "--count", defaultValue = "10", description = "Number of images (default: ${DEFAULT-VALUE}).")
    int count;

    @Override
    public Integer call() throws Exception {
        checkpoint.checkBackend();
        Path dir = DataDirectory.defaultDirectory();
        Path imageFile = images;
        Path labelFile = labels;
        if (imageFile == null) {
            DataDirectory shipped = new DataDirectory(dir);
            imageFile = shipped.imagesFile("t10k");
            labelFile = labelFile != null ? labelFile : shipped.labelsFile("t10k");
        }
        ImageDataset data = labelFile != null ? IdxReader.load(imageFile, labelFile) : IdxReader.loadImages(imageFile);
        if (from < 0 || count < 1 || from + count > data.size()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--from " + from + " --count " + count
                    + " is outside the " + data.size() + " images of " + imageFile);
        }
        List<String> names = RunData.classNamesFor(images == null ? dir : imageFile.toAbsolutePath().getParent());
        try (SavedModel saved = checkpoint.open()) {
            try {
                saved.checkImages(data, imageFile);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            float[] scores = saved.model().predictScores(data.floats(from, count), 0, count);
            int classes = saved.model().outputSize();
            LossKind loss = saved.model().lossKind();
            var out = spec.commandLine().getOut();
            for (int i = 0; i < count; i++) {
                int best = 0;
                for (int j = 1; j < classes; j++) {
                    if (scores[i * classes + j] > scores[i * classes + best]) {
                        best = j;
                    }
                }
                String name = best < names.size() ? names.get(best) : Integer.toString(best);
                String truth = labelFile == null ? ""
                        : "  (true: " + names.get(data.label(from + i)) + (data.label(from + i) == best ? ")" : ", wrong)");
                out.printf("#%-6d %-12s %s%s%n", from + i, name, confidence(loss, scores, i * classes, classes, best), truth);
            }
            out.flush();
        }
        return 0;
    }

    /**
     * What {@code loss} makes of the output {@code scores[row, row + classes)} for class {@code best}: the softmax
     * probability (softmax cross-entropy), the sigmoid probability (binary cross-entropy: each class on its own), or
     * the score itself (hinge, MSE: no probability).
     */
    static String confidence(LossKind loss, float[] scores, int row, int classes, int best) {
        double top = scores[row + best];
        return switch (loss) {
            case SOFTMAX_CROSS_ENTROPY -> {
                double sum = 0;
                for (int j = 0; j < classes; j++) {
                    sum += Math.exp(scores[row + j] - top);
                }
                yield String.format(Locale.ROOT, "%6.2f%% (softmax)", 100.0 / sum);
            }
            case SIGMOID_BINARY_CROSS_ENTROPY -> String.format(Locale.ROOT, "%6.2f%% (sigmoid)", 100.0 / (1 + Math.exp(-top)));
            default -> String.format(Locale.ROOT, "score %.4f", top);
        };
    }
}
