package dev.jacobian.samples;

import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.training.SavedModel;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of the commands that use a trained model ({@code eval}, {@code predict}): which checkpoint,
 * and on which backend to run it. A picocli mixin ({@code @Mixin CheckpointOptions checkpoint;}), so both
 * commands spell and describe the options the same way.
 */
final class CheckpointOptions {
    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "A checkpoint-epoch-*.json file, or a run directory (its newest checkpoint).")
    Path checkpoint;

    @Option(names = "--backend", defaultValue = "auto", description = "Backend (default: ${DEFAULT-VALUE}).")
    String backend;

    /**
     * Loads the checkpoint onto the backend ({@link SavedModel#open}); the caller closes it.
     *
     * @throws dev.jacobian.io.ModelFormatException when the checkpoint is missing or unusable
     */
    SavedModel open() throws dev.jacobian.io.ModelFormatException {
        return SavedModel.open(checkpoint, backend);
    }
}
