package dev.jacobian.samples;

import dev.jacobian.samples.checkpoint.CheckpointFormatException;
import dev.jacobian.samples.training.SavedModel;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options of the commands that use a trained model ({@code eval}, {@code predict}): which checkpoint,
 * and on which backend to run it. A picocli mixin ({@code @Mixin CheckpointOptions checkpoint;}), so both
 * commands spell and describe the options the same way.
 */
final class CheckpointOptions {
    /** The command that mixes these options in (for its usage in errors). */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "A checkpoint-epoch-*.json file, or a run directory (its newest checkpoint).")
    Path checkpoint;

    @Option(names = "--backend", defaultValue = "auto", description = "Backend (default: ${DEFAULT-VALUE}).")
    String backend;

    /**
     * Checks {@code --backend} ({@link JacobianCli#checkBackend}) before the command reads anything.
     *
     * @throws picocli.CommandLine.ParameterException when it names no backend, or one not available here
     */
    void checkBackend() {
        JacobianCli.checkBackend(command.commandLine(), backend);
    }

    /**
     * Loads the checkpoint onto the backend ({@link SavedModel#open}); the caller closes it.
     *
     * @throws dev.jacobian.io.ModelFormatException when the checkpoint is missing or unusable
     * @throws picocli.CommandLine.ParameterException when {@code --backend} names no backend, or one not available here
     */
    SavedModel open() throws dev.jacobian.io.ModelFormatException {
        checkBackend();
        return SavedModel.open(checkpoint, backend);
    }
}
