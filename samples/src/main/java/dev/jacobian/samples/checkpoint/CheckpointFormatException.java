package dev.jacobian.samples.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be used: missing, truncated, corrupt, or inconsistent with its
 * metadata. The message is one line naming the file and the problem.
 */
public final class CheckpointFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
