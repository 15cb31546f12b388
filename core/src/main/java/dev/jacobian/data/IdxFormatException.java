package dev.jacobian.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An IDX file that cannot be used: missing, truncated, corrupt, of the wrong kind, or disagreeing with
 * its companion file. The message is one line that names the file and the problem, fit to show a user
 * as it is.
 */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** A problem with {@code file}, described by {@code problem}. */
    public IdxFormatException(Path file, String problem) {
        super(oneLine(file + ": " + problem));
    }

    /** A problem with {@code file} caused by a lower-level failure (kept as the cause). */
    public IdxFormatException(Path file, String problem, Throwable cause) {
        super(oneLine(file + ": " + problem), cause);
    }

    /** {@code s} with every line break (and other control character) shown as a space, so the message stays one line. */
    private static String oneLine(String s) {
        return s.replaceAll("\\p{Cntrl}", " ");
    }
}
