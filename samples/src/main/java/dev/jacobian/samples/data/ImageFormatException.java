package dev.jacobian.samples.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An image file ({@code predict --images}) that cannot be used: missing, unreadable, or not a PNG or JPEG image. The
 * message is one line naming the file and the problem.
 */
public final class ImageFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** A problem with {@code file}, described by {@code problem}. */
    public ImageFormatException(Path file, String problem) {
        super((file + ": " + problem).replaceAll("\\p{Cntrl}", " "));
    }

    /** A problem with {@code file} caused by a lower-level failure (kept as the cause for {@code --verbose}). */
    public ImageFormatException(Path file, String problem, Throwable cause) {
        super((file + ": " + problem).replaceAll("\\p{Cntrl}", " "), cause);
    }
}
