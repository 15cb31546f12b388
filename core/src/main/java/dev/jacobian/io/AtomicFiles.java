package dev.jacobian.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that readers see either the old content or the complete new one: the bytes go to a
 * temporary file in the same directory, are flushed to the device ({@link FileChannel#force}), and the
 * temporary file is then renamed over the target with {@link StandardCopyOption#ATOMIC_MOVE}; the directory is
 * then flushed too where the platform allows it, so the rename survives a power loss. On any failure the temporary
 * file is deleted and the target is left as it was. The file gets the permissions of any new file (the process's
 * umask), not the owner-only permissions of {@link Files#createTempFile}.
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
        Path temp = null;
        for (int attempt = 0; temp == null; attempt++) {
            Path candidate = dir.resolve("." + target.getFileName() + "."
                    + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + TEMP_SUFFIX);
            try {
                Files.createFile(candidate);
                temp = candidate;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
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
        syncDirectory(dir);
    }

    /** Writes {@code bytes} to {@code target}, atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ByteBuffer.wrap(bytes));
    }

    /** Flushes a directory's entries (the rename) to the device; a no-op where directories cannot be opened. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows and some file systems cannot open or flush a directory: the rename itself is still atomic
        }
    }
}
