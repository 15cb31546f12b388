package dev.jacobian.samples.data;

import dev.jacobian.data.IdxFormatException;
import dev.jacobian.data.IdxReader;
import dev.jacobian.data.ImageDataset;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory of MNIST-format files: {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each optionally gzip-compressed
 * ({@code .gz}); the dotted spelling {@code train-images.idx3-ubyte} of some MNIST mirrors works too.
 *
 * <p>{@link #defaultDirectory()} finds the Fashion-MNIST copy that ships with the project in
 * {@code samples/data/fashion-mnist}.
 */
public final class DataDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirectory.class);
    /** The shipped data set's directory, relative to the {@code samples} module. */
    public static final String SHIPPED = "data/fashion-mnist";

    private final Path dir;

    /** The files in {@code dir} (nothing is read until a set is asked for). */
    public DataDirectory(Path dir) {
        this.dir = dir;
    }

    /** The directory. */
    public Path path() {
        return dir;
    }

    /** The training set ({@code train-*}). */
    public ImageDataset train() throws IdxFormatException {
        return load("train");
    }

    /** The test set ({@code t10k-*}). */
    public ImageDataset test() throws IdxFormatException {
        return load("t10k");
    }

    /** The images file of split {@code prefix} ({@code train} or {@code t10k}). */
    public Path imagesFile(String prefix) throws IdxFormatException {
        return find(prefix, "images", "idx3");
    }

    /** The labels file of split {@code prefix}. */
    public Path labelsFile(String prefix) throws IdxFormatException {
        return find(prefix, "labels", "idx1");
    }

    private ImageDataset load(String prefix) throws IdxFormatException {
        return IdxReader.load(imagesFile(prefix), labelsFile(prefix));
    }

    private Path find(String prefix, String kind, String idx) throws IdxFormatException {
        if (!Files.isDirectory(dir)) {
            throw new IdxFormatException(dir, Files.exists(dir) ? "is not a directory (a data directory is needed)"
                    : "data directory not found");
        }
        List<String> names = List.of(prefix + "-" + kind + "-" + idx + "-ubyte", prefix + "-" + kind + "." + idx + "-ubyte");
        for (String n : names) {
            for (String suffix : new String[] {".gz", ""}) {
                Path p = dir.resolve(n + suffix);
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        }
        throw new IdxFormatException(dir.resolve(names.get(0) + ".gz"), "file not found (looked for "
                + String.join(", ", names) + ", with or without .gz)");
    }

    /**
     * The shipped Fashion-MNIST directory: {@code samples/data/fashion-mnist} found from where this class
     * was loaded ({@code samples/target/classes} or {@code samples/target/jacobian-samples.jar}), else from
     * the working directory ({@code samples/data/fashion-mnist} or {@code data/fashion-mnist}).
     */
    public static Path defaultDirectory() {
        List<Path> candidates = new ArrayList<>();
        try {
            var source = DataDirectory.class.getProtectionDomain().getCodeSource();
            if (source != null) {
                Path loc = Path.of(source.getLocation().toURI()).toAbsolutePath();
                // .../samples/target/classes or .../samples/target/x.jar -> .../samples
                Path target = loc.getParent();
                if (target != null && target.getParent() != null) {
                    candidates.add(target.getParent().resolve(SHIPPED));
                }
            }
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            LOG.debug("cannot locate the class path entry of {}; looking for {} from the working directory",
                    DataDirectory.class.getName(), SHIPPED, e);
        }
        candidates.add(Path.of("samples", SHIPPED));
        candidates.add(Path.of(SHIPPED));
        for (Path c : candidates) {
            if (Files.isDirectory(c)) {
                return c.normalize();
            }
        }
        return Path.of("samples", SHIPPED);
    }
}
