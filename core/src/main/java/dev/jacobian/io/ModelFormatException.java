package dev.jacobian.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model or tensor file that cannot be used: missing, unreadable, truncated, corrupt, or not fitting the model
 * it is loaded into. The message is one line naming the file and the problem: line breaks and other control
 * characters (which a corrupt file may put into a tensor name) are escaped, and the problem is cut at
 * {@value #MAX_PROBLEM} characters. Every reader in this package reports every problem of its input this way,
 * never with an {@link OutOfMemoryError}, an arithmetic or index exception.
 */
public class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;
    /** Longest problem description kept in the message; longer ones end in an ellipsis. */
    public static final int MAX_PROBLEM = 400;

    /** The file, or null when the bytes came from elsewhere. */
    private final transient Path file;

    /** A problem with {@code file}. */
    public ModelFormatException(Path file, String problem) {
        super(message(file, problem));
        this.file = file;
    }

    /** A problem with {@code file}, caused by {@code cause}. */
    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(message(file, problem), cause);
        this.file = file;
    }

    /** The file the problem is in. */
    public Path file() {
        return file;
    }

    private static String message(Path file, String problem) {
        String p = problem == null ? "unusable" : problem;
        if (p.length() > MAX_PROBLEM) {
            p = p.substring(0, MAX_PROBLEM) + "...";
        }
        return oneLine(String.valueOf(file)) + ": " + oneLine(p);
    }

    /** {@code s} with line breaks and other control characters escaped ({@code \n}, {@code \u0000}). */
    public static String oneLine(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || c == '\u0085') {
                if (b == null) {
                    b = new StringBuilder(s.length() + 8).append(s, 0, i);
                }
                switch (c) {
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> b.append(String.format("\\u%04x", (int) c));
                }
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    /** A value taken from a file, for a message: at most 60 characters, quoted. */
    public static String quote(String s) {
        return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
    }
}
