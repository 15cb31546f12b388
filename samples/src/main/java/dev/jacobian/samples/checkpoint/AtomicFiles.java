package dev.jacobian.samples.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that readers see either the old content or the complete new one: the bytes go to a
 * temporary file in the same directory, are flushed to the device ({@link FileChannel#force}), and the
 * temporary file is then renamed over the target with {@link StandardCopyOption#ATOMIC_MOVE}. On any
 * failure the temporary file is deleted and the target is left as it was.
 */
public final class AtomicFiles {
    /** Suffix of temporary files; a directory holding one after a crash can simply delete it. */
    public static final String TEMP_SUFFIX = ".tmp";

    private AtomicFiles() {
    }

    /** Writes {@code buffers} in order to {@code target}, atomically. */
    public static void write(Path target, ByteBuffer... buffers) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", TEMP_SUFFIX);
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                for (ByteBuffer b : buffers) {
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                }
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Writes {@code bytes} to {@code target}, atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ByteBuffer.wrap(bytes));
    }
}
