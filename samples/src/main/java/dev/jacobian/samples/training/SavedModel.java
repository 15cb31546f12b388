package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Backends;
import dev.jacobian.io.ModelFormatException;
import dev.jacobian.io.SafeTensors;
import dev.jacobian.nn.Model;
import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.checkpoint.CheckpointStore;
import dev.jacobian.tensor.Shape;
import java.nio.file.Path;

/**
 * A trained model loaded from a checkpoint onto a backend, for {@code eval} and {@code predict}. Owns
 * the backend and the model; close it.
 */
public final class SavedModel implements AutoCloseable {
    private final Backend backend;
    private final Model model;
    private final TrainingState state;
    private final Path file;

    private final Shape sample;

    private SavedModel(Backend backend, Model model, TrainingState state, Path file, Shape sample) {
        this.backend = backend;
        this.model = model;
        this.state = state;
        this.file = file;
        this.sample = sample;
    }

    /**
     * Checks that the images of {@code data} (read from {@code source}) fit this model: a CNN takes images of the
     * channel count (1: the images are grey), height and width it was trained on, an MLP as many pixels per image as it
     * has inputs.
     *
     * @throws IllegalArgumentException naming {@code source}, the images' size and what the model takes
     */
    public void checkImages(dev.jacobian.data.ImageDataset data, Path source) {
        boolean fits = sample.rank() == 3
                ? sample.dim(0) == 1 && data.height() == sample.dim(1) && data.width() == sample.dim(2)
                : data.features() == sample.size();
        if (!fits) {
            throw new IllegalArgumentException(source + ": images of " + data.height() + "x" + data.width()
                    + " (1 channel) do not fit the model of " + file + ", which takes " + (sample.rank() == 3
                    ? sample.dim(0) + "-channel " + sample.dim(1) + "x" + sample.dim(2) + " images"
                    : sample.size() + " pixels per image"));
        }
    }

    /**
     * Loads {@code checkpoint} (a checkpoint JSON file, or a run directory: its newest checkpoint) onto
     * the backend called {@code backendName}. The checkpoint's tensors are checked against its configuration
     * ({@link Networks#checkShapes}) before the backend starts or the model is built.
     *
     * @throws ModelFormatException with a one-line message naming the file, for every problem of the checkpoint
     */
    public static SavedModel open(Path checkpoint, String backendName) throws ModelFormatException {
        CheckpointStore.Loaded<TrainingState> loaded = CheckpointStore.load(checkpoint, TrainingState.class);
        SafeTensors.Entry first = loaded.tensors().get("dense1.weight");
        if (first == null || first.shape().length != 2) {
            throw new CheckpointFormatException(loaded.file(), "has no 2-D tensor 'dense1.weight' to size the input from");
        }
        String outputBias = "dense" + (loaded.state().config().layers().size() + 1) + ".bias";
        SafeTensors.Entry last = loaded.tensors().get(outputBias);
        if (last == null || last.shape().length == 0) {
            throw new CheckpointFormatException(loaded.file(), "has no tensor '" + outputBias + "' to size the output from");
        }
        int classes = last.shape()[last.shape().length - 1];
        int inputs = first.shape()[loaded.model() != null ? 1 : 0]; // [out, in] in a model file, legacy [in, out]
        TrainConfig config = loaded.state().config();
        Shape sample;
        if (config.model().equals("cnn")) {
            java.util.List<Integer> in = loaded.state().inputShape();
            if (in == null) {
                throw new CheckpointFormatException(loaded.file(), "is a cnn checkpoint without input_shape");
            }
            sample = Shape.of(in.get(0), in.get(1), in.get(2));
        } else {
            if (inputs < 1 || classes < 1) {
                throw new CheckpointFormatException(loaded.file(), "its tensors give the model " + inputs
                        + " inputs and " + classes + " outputs; both must be at least 1");
            }
            sample = Shape.of(inputs);
        }
        Networks.checkShapes(loaded, config, sample, classes);
        Backend backend = Backends.create(backendName);
        Model model = null;
        try {
            try {
                model = Networks.model(config, sample, classes, backend);
            } catch (IllegalArgumentException e) { // the configuration does not fit its own input shape
                throw new CheckpointFormatException(loaded.file(), "its config does not fit its input: " + e.getMessage());
            }
            Networks.restore(loaded, model, null);
            return new SavedModel(backend, model, loaded.state(), loaded.file(), sample);
        } catch (ModelFormatException | RuntimeException e) {
            if (model != null) {
                model.close();
            }
            backend.close();
            throw e;
        }
    }

    /** The model, holding the checkpoint's weights. */
    public Model model() {
        return model;
    }

    /** The backend the model runs on. */
    public Backend backend() {
        return backend;
    }

    /** The checkpoint's state. */
    public TrainingState state() {
        return state;
    }

    /** The checkpoint JSON it came from. */
    public Path file() {
        return file;
    }

    @Override
    public void close() {
        model.close();
        backend.close();
    }
}
