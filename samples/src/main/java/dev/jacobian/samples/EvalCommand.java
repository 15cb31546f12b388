package dev.jacobian.samples;

import dev.jacobian.metrics.ConfusionMatrix;
import dev.jacobian.data.IdxReader;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.data.DataDirectory;
import dev.jacobian.samples.training.RunData;
import dev.jacobian.samples.training.SavedModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jacobian eval}: a checkpoint's accuracy and confusion matrix on a test set. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluates a checkpoint on the test set (t10k-*) of an MNIST-format directory.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CheckpointOptions checkpoint;

    @Option(names = "--data", paramLabel = "DIR", description = "MNIST-format directory. Default: the shipped Fashion-MNIST.")
    Path data;

    @Option(names = "--batch", defaultValue = "1000", description = "Samples per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
        if (batch < 1) { // it was taken as 1
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        try (SavedModel saved = checkpoint.open()) { // a bad checkpoint is reported before any data is read
            Path dir = data != null ? data : DataDirectory.defaultDirectory();
            DataDirectory files = new DataDirectory(dir);
            ImageDataset test = IdxReader.requireSamples(files.test(), files.imagesFile("t10k"), "to evaluate on");
            try {
                saved.checkImages(test, files.imagesFile("t10k"));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            List<String> names = RunData.classNamesFor(dir);
            int outputs = saved.model().outputSize();
            if (outputs > names.size()) { // a prediction beyond the labels would not fit the confusion matrix
                throw new CheckpointFormatException(saved.file(), "its model has " + outputs
                        + " outputs, more than the " + names.size() + " classes of the data in " + dir);
            }
            long t0 = System.nanoTime();
            int[] predicted = saved.model().predictClasses(test.floats(0, test.size()), batch);
            double seconds = (System.nanoTime() - t0) / 1e9;
            ConfusionMatrix cm = ConfusionMatrix.of(test.labels(), predicted, names.size());
            var out = spec.commandLine().getOut();
            out.printf("checkpoint %s (epoch %d, %s)%n", saved.file(), saved.state().epoch(), saved.model().describe());
            out.printf("test accuracy %.2f%% on %d samples of %s (%s, %.2f s)%n", 100 * cm.accuracy(), test.size(), dir,
                    saved.backend().name(), seconds);
            out.print(cm.format(names));
            out.flush();
        }
        return 0;
    }
}
