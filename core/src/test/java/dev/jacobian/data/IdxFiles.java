package dev.jacobian.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests. */
public final class IdxFiles {
    private IdxFiles() {
    }

    /** The bytes of an unsigned-byte IDX file with {@code dims} and {@code data}. */
    public static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    /** {@code count} images of {@code rows x cols} whose pixel {@code k} of image {@code i} is {@code (i * 7 + k) % 256}. */
    public static byte[] images(int count, int rows, int cols) {
        byte[] px = new byte[count * rows * cols];
        for (int i = 0; i < count; i++) {
            for (int k = 0; k < rows * cols; k++) {
                px[i * rows * cols + k] = (byte) ((i * 7 + k) % 256);
            }
        }
        return idx(new int[] {count, rows, cols}, px);
    }

    /** Labels {@code i % 10}. */
    public static byte[] labels(int count) {
        byte[] y = new byte[count];
        for (int i = 0; i < count; i++) {
            y[i] = (byte) (i % 10);
        }
        return idx(new int[] {count}, y);
    }

    /** Gzip of {@code bytes}. */
    public static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    /** Writes an MNIST-format directory of {@code train} and {@code test} samples of 4x4 images. */
    public static Path directory(Path dir, int train, int test, boolean gzip) throws IOException {
        Files.createDirectories(dir);
        String ext = gzip ? ".gz" : "";
        write(dir.resolve("train-images-idx3-ubyte" + ext), images(train, 4, 4), gzip);
        write(dir.resolve("train-labels-idx1-ubyte" + ext), labels(train), gzip);
        write(dir.resolve("t10k-images-idx3-ubyte" + ext), images(test, 4, 4), gzip);
        write(dir.resolve("t10k-labels-idx1-ubyte" + ext), labels(test), gzip);
        return dir;
    }

    private static void write(Path p, byte[] bytes, boolean gzip) throws IOException {
        Files.write(p, gzip ? gzip(bytes) : bytes);
    }
}
