package dev.jacobian.data;

/**
 * Preparing a batch failed: the data set or the sample transform threw while a {@link DataLoader} gathered it (on
 * the loader's thread, or on the caller's without prefetching), or the caller was interrupted while it waited. The
 * message is one line naming the loader's data set, the epoch and the batch; the cause is what was thrown.
 */
public final class DataLoaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A failure described by {@code message} (made one line), caused by {@code cause}. */
    public DataLoaderException(String message, Throwable cause) {
        super(message.replaceAll("\\p{Cntrl}", " "), cause);
    }
}
