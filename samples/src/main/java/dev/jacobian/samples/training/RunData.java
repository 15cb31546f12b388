package dev.jacobian.samples.training;

import dev.jacobian.data.IdxFormatException;
import dev.jacobian.data.IdxReader;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.data.Split;
import dev.jacobian.samples.data.ClassNames;
import dev.jacobian.samples.data.DataDirectory;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The three sets of a run: training (after {@code --limit} and the validation split), validation and
 * test, and the class names to show. The training and validation sets are views of the training file's images
 * ({@link Split}), which stay in bytes.
 *
 * @param train       what the optimizer sees
 * @param validation  held out of the training file, seeded by {@code config.seed()}; may be empty
 * @param test        the {@code t10k} files
 * @param classNames  names by label
 */
public record RunData(ImageDataset train, ImageDataset validation, ImageDataset test, List<String> classNames) {
    private static final Logger LOG = LoggerFactory.getLogger(RunData.class);

    /**
     * Loads {@code dir}'s files and splits off the validation set.
     *
     * @throws IdxFormatException when a file is missing or corrupt, or the training or test set is empty
     */
    public static RunData load(Path dir, TrainConfig config) throws IdxFormatException {
        DataDirectory data = new DataDirectory(dir);
        ImageDataset all = IdxReader.requireSamples(data.train(), data.imagesFile("train"), "to train on");
        if (config.limit() > 0) {
            all = all.head(config.limit());
        }
        ImageDataset test = IdxReader.requireSamples(data.test(), data.imagesFile("t10k"), "to test on");
        if (test.features() != all.features()) {
            throw new IdxFormatException(data.imagesFile("t10k"), "images are " + test.height() + "x" + test.width()
                    + " but the training images are " + all.height() + "x" + all.width());
        }
        int held = config.validation();
        if (held >= all.size() / 2) {
            int reduced = all.size() / 10;
            LOG.info("holding out {} samples for validation instead of {} (only {} training samples)", reduced, held,
                    all.size());
            held = reduced;
        }
        Split<ImageDataset> split = Split.holdOut(all, held, config.seed());
        return new RunData(split.train(), split.validation(), test, classNamesFor(dir));
    }

    /** Fashion-MNIST's names when the directory's name says fashion, else the digits. */
    public static List<String> classNamesFor(Path dir) {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        boolean fashion = name != null && name.toString().toLowerCase(Locale.ROOT).contains("fashion");
        return ClassNames.forData(fashion, IdxReader.DEFAULT_CLASSES);
    }
}
