package dev.jacobian.samples.checkpoint;

import dev.jacobian.io.ModelFormatException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be used: missing, truncated, corrupt, or inconsistent with its
 * metadata. The message is one line naming the file and the problem (see {@link ModelFormatException}, whose
 * problems a checkpoint's model file reports as they are).
 */
public final class CheckpointFormatException extends ModelFormatException {
    private static final long serialVersionUID = 1L;

    /** A problem with {@code file}. */
    public CheckpointFormatException(Path file, String problem) {
        super(file, problem);
    }

    /** A problem with {@code file}, caused by {@code cause}. */
    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file, problem, cause);
    }
}
