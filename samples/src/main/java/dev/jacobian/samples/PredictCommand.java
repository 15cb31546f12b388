package dev.jacobian.samples;

import dev.jacobian.backend.LossKind;
import dev.jacobian.data.IdxReader;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.samples.data.DataDirectory;
import dev.jacobian.samples.data.ImageFiles;
import dev.jacobian.samples.training.RunData;
import dev.jacobian.samples.training.SavedModel;
import dev.jacobian.samples.training.TrainingRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jacobian predict}: classifies images of an IDX file, or PNG/JPEG files, with a checkpoint. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classifies images [--from, --from + --count) of an IDX image file, or PNG/JPEG image files, with a"
                + " checkpoint. Prints each image's class and what the model's loss makes of its output: the softmax"
                + " probability (softmax-ce), the sigmoid probability (bce; the classes' need not sum to 100%%), or the"
                + " score itself (svm, mse: not a probability); and the true class when --labels is given.",
                "PNG/JPEG images are made to look like the training images: grey (luma), inverted when their border is"
                + " light (--invert), trimmed to the object (edges close to the corners' colour cut off, as Fashion-MNIST's"
                + " pictures were) unless already of the model's size, scaled to fit the model's input (28x28 for"
                + " Fashion-MNIST) keeping the aspect ratio, and centred on black."})
final class PredictCommand implements Callable<Integer> {
    /** The largest {@code metrics.json} read for its class names (16 MiB); a larger one is ignored. */
    static final long MAX_METRICS_BYTES = 16L << 20;

    @Spec
    CommandSpec spec;

    @Mixin
    CheckpointOptions checkpoint;

    @Option(names = "--images", paramLabel = "FILE", arity = "1..*",
            description = "An IDX image file (raw or .gz), or PNG/JPEG image files (told apart by their content)."
                    + " Default: the shipped Fashion-MNIST test images.")
    List<Path> images;

    @Option(names = "--labels", paramLabel = "FILE",
            description = "IDX label file to compare with. Default: the shipped test labels when --images is not given.")
    Path labels;

    @Option(names = "--invert", defaultValue = "auto", paramLabel = "auto|yes|no",
            description = "PNG/JPEG images: invert the grey values (the training images are light on black): auto inverts"
                    + " an image whose one-pixel border averages above 50%% grey (default: ${DEFAULT-VALUE}).")
    String invert;

    @Option(names = "--from", defaultValue = "0", description = "First image index (default: ${DEFAULT-VALUE}).")
    int from;

    @Option(names = "--count", description = "Number of images (default: 10 of an IDX file, every PNG/JPEG file given).")
    Integer count;

    @Override
    public Integer call() throws Exception {
        checkpoint.checkBackend();
        ImageFiles.Invert inversion;
        try {
            inversion = ImageFiles.Invert.of(invert);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        for (Path p : images != null ? images : List.<Path>of()) {
            if (java.nio.file.Files.isDirectory(p)) { // one message for either kind of file the path was meant to be
                throw new dev.jacobian.samples.data.ImageFormatException(p, "is a directory, not an image or IDX file");
            }
            if (java.nio.file.Files.exists(p) && !java.nio.file.Files.isRegularFile(p)) { // a pipe: reading its head
                // to tell PNG/JPEG from IDX would block, or consume it
                throw new dev.jacobian.samples.data.ImageFormatException(p, "is not a regular file");
            }
        }
        boolean pictures = images != null && images.stream().anyMatch(ImageFiles::isImage);
        List<Path> others = pictures ? images.stream().filter(p -> !ImageFiles.isImage(p)).toList() : List.of();
        for (Path p : others) {
            if (!java.nio.file.Files.isRegularFile(p)) {
                throw new dev.jacobian.samples.data.ImageFormatException(p, "cannot be read (no such file)");
            }
        }
        if (pictures && (labels != null || !others.isEmpty())) {
            throw new CommandLine.ParameterException(spec.commandLine(), labels != null
                    ? "--labels goes with an IDX image file, not with PNG/JPEG images"
                    : "--images takes one IDX file or PNG/JPEG files, not both: " + others.get(0) + " is no PNG or JPEG");
        }
        if (images != null && !pictures && images.size() != 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--images takes one IDX file (or PNG/JPEG files), got "
                    + images.size() + " files that are not PNG or JPEG images");
        }
        try (SavedModel saved = checkpoint.open()) { // a bad checkpoint is reported before any data is read
            Path dir = DataDirectory.defaultDirectory();
            Path imageFile = images == null ? null : images.get(0);
            Path labelFile = labels;
            ImageDataset data;
            List<String> names;
            if (pictures) {
                int[] size = imageSize(saved);
                data = ImageFiles.load(images, size[0], size[1], inversion);
                names = classNames(saved, dir);
            } else {
                if (imageFile == null) {
                    DataDirectory shipped = new DataDirectory(dir);
                    imageFile = shipped.imagesFile("t10k");
                    labelFile = labelFile != null ? labelFile : shipped.labelsFile("t10k");
                }
                data = labelFile != null ? IdxReader.load(imageFile, labelFile) : IdxReader.loadImages(imageFile);
                IdxReader.requireSamples(data, imageFile, "to classify"); // not "--from 0 --count 10 is outside the 0 images"
                names = RunData.classNamesFor(images == null ? dir : imageFile.toAbsolutePath().getParent());
            }
            if (from < 0 || from >= data.size()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--from " + from + " is outside the "
                        + data.size() + " images of " + (pictures ? "--images" : imageFile));
            }
            // without --count: every PNG/JPEG file, and up to 10 images of an IDX file (fewer when it holds fewer)
            int n = count != null ? count : pictures ? data.size() - from : Math.min(10, data.size() - from);
            if (n < 1 || (long) from + n > data.size()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--from " + from + " --count " + n
                        + " is outside the " + data.size() + " images of " + (pictures ? "--images" : imageFile));
            }
            try {
                saved.checkImages(data, imageFile);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            float[] scores = saved.model().predictScores(data.floats(from, n), 0, n);
            int classes = saved.model().outputSize();
            LossKind loss = saved.model().lossKind();
            var out = spec.commandLine().getOut();
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int j = 1; j < classes; j++) {
                    if (scores[i * classes + j] > scores[i * classes + best]) {
                        best = j;
                    }
                }
                String name = best < names.size() ? names.get(best) : Integer.toString(best);
                String truth = labelFile == null ? ""
                        : "  (true: " + names.get(data.label(from + i)) + (data.label(from + i) == best ? ")" : ", wrong)");
                String which = pictures ? images.get(from + i).toString() : String.format(Locale.ROOT, "#%-6d", from + i);
                out.printf("%s %-12s %s%s%n", which, name, confidence(loss, scores, i * classes, classes, best), truth);
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

    /** The {@code [height, width]} of the images the model takes: its checkpoint's input shape, or a square. */
    private int[] imageSize(SavedModel saved) {
        List<Integer> in = saved.state().inputShape();
        if (in != null) {
            return new int[] {in.get(1), in.get(2)};
        }
        int features = saved.model().inputSize();
        int side = (int) Math.round(Math.sqrt(features));
        if (side * side != features) {
            throw new CommandLine.ParameterException(spec.commandLine(), saved.file()
                    + " records no input shape and its " + features + " inputs are no square image: give an IDX file");
        }
        return new int[] {side, side};
    }

    /**
     * The class names of the run the checkpoint belongs to (its {@code metrics.json}, when a regular file of at most
     * {@link #MAX_METRICS_BYTES}; their control characters removed), else those of the data directory {@code dir}.
     */
    private static List<String> classNames(SavedModel saved, Path dir) {
        Path metrics = saved.file().toAbsolutePath().resolveSibling(TrainingRun.METRICS);
        try {
            // a pipe would block the open, and a huge file be read whole: either is ignored, as a missing one is
            if (java.nio.file.Files.isRegularFile(metrics) && java.nio.file.Files.size(metrics) <= MAX_METRICS_BYTES) {
                var node = CheckpointStore.mapper().readTree(metrics.toFile()).get("class_names");
                if (node != null && node.isArray() && node.size() >= saved.model().outputSize()) {
                    List<String> names = new ArrayList<>();
                    node.forEach(n -> names.add(withoutControlCharacters(n.asText())));
                    return names;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // no readable metrics.json: the data directory's names
        }
        return RunData.classNamesFor(dir);
    }

    /** {@code s} without its control characters (C0, DEL and C1: a terminal's escape sequences among them). */
    static String withoutControlCharacters(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().filter(c -> !Character.isISOControl(c)).forEach(b::appendCodePoint);
        return b.toString();
    }
}
