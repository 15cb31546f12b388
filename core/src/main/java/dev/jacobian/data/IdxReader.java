package dev.jacobian.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., "THE MNIST DATABASE"): a
 * 4-byte magic {@code 0x00 0x00 type ndims}, then {@code ndims} big-endian 32-bit sizes, then the data
 * as unsigned bytes ({@code type = 0x08}) in row-major order. Files may be gzip-compressed; that is
 * detected by the gzip magic {@code 0x1f 0x8b}, not by the file name.
 *
 * <p>Every problem (missing file, bad magic, wrong type or rank, truncation, trailing bytes, corrupt
 * gzip, sizes that overflow or exceed {@link #MAX_DATA_BYTES}, labels out of range, image and label
 * counts that disagree) raises {@link IdxFormatException} with a one-line message naming the file; a
 * corrupt file never causes an {@link OutOfMemoryError} or a runtime exception, and a header is checked
 * (against the file's size, for raw files) before its declared size is allocated. A file may declare
 * zero samples ({@code [0, rows, columns]}); {@link #requireSamples} is the check for callers that
 * cannot use an empty set.
 *
 * <p>{@link #load} gives an {@link ImageDataset} that keeps the pixels as the file's bytes (scaled to
 * {@code [0, 1]} per sample as it is read); {@link #read} gives any unsigned-byte IDX file's sizes and bytes.
 * Stateless; the methods may be called from any thread.
 */
public final class IdxReader {
    /** The IDX type code of unsigned bytes, the only one MNIST-format files use. */
    static final int TYPE_UBYTE = 0x08;
    /** The classes of MNIST and Fashion-MNIST: {@link #load(Path, Path)} accepts labels in {@code [0, 10)}. */
    public static final int DEFAULT_CLASSES = 10;
    /** The values a label can take: labels are single unsigned bytes. */
    private static final int LABEL_VALUES = 256;
    /**
     * The most data bytes (the product of the sizes) one file may declare: 1 GiB, about twenty times
     * MNIST's training images and more than EMNIST's largest split. A header beyond it is rejected
     * before anything is allocated. (The bytes are kept as they are: an {@link ImageDataset} scales them to
     * floats per sample.)
     */
    public static final long MAX_DATA_BYTES = 1L << 30;
    /** Bytes read at a time (and the least a gzip file's data array starts at). */
    private static final int CHUNK = 1 << 16;
    /** Deflate's largest expansion: a gzip file decompresses to at most about this many times its own size. */
    private static final long GZIP_MAX_RATIO = 1032;

    private IdxReader() {
    }

    /**
     * The sizes and raw bytes of one IDX file.
     *
     * @param dims the sizes the header declares, each {@code >= 0} (only the first may be 0)
     * @param data the product of {@code dims} unsigned bytes, row-major
     */
    public record IdxData(int[] dims, byte[] data) {
    }

    /**
     * Reads an image file ({@code ndims = 3}: count, rows, columns) and a label file, checks that they agree and that
     * every label lies in {@code [0, }{@value #DEFAULT_CLASSES}{@code )} (MNIST's and Fashion-MNIST's ten classes).
     *
     * @return one-channel images named after the image file, their pixels kept as bytes
     * @throws IdxFormatException naming the file at fault, for any problem with either file
     */
    public static ImageDataset load(Path imagesFile, Path labelsFile) throws IdxFormatException {
        return load(imagesFile, labelsFile, DEFAULT_CLASSES);
    }

    /**
     * Reads an image file and a label file as {@link #load(Path, Path)} does, accepting labels in {@code [0, classes)}
     * (e.g. 26 or 62 for EMNIST's letters or its {@code byclass} split).
     *
     * @param classes the number of classes, in {@code [1, 256]}
     * @throws IdxFormatException       naming the file at fault, for any problem with either file
     * @throws IllegalArgumentException when {@code classes} is outside {@code [1, 256]}
     */
    public static ImageDataset load(Path imagesFile, Path labelsFile, int classes) throws IdxFormatException {
        if (classes < 1 || classes > LABEL_VALUES) {
            throw new IllegalArgumentException("classes must be in [1, " + LABEL_VALUES + "]: " + classes);
        }
        IdxData images = read(imagesFile, 3);
        IdxData labels = read(labelsFile, 1);
        int count = images.dims()[0];
        if (labels.dims()[0] != count) {
            throw new IdxFormatException(labelsFile, "has " + labels.dims()[0] + " labels but "
                    + imagesFile.getFileName() + " has " + count + " images");
        }
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int label = labels.data()[i] & 0xff;
            if (label >= classes) {
                throw new IdxFormatException(labelsFile, "label " + label + " of sample " + i
                        + " is outside 0.." + (classes - 1));
            }
            y[i] = label;
        }
        return images(imagesFile, images, y);
    }

    /**
     * Reads only the images of an image file (e.g. to predict their classes), with every label 0.
     *
     * @throws IdxFormatException naming the file, for any problem with it
     */
    public static ImageDataset loadImages(Path imagesFile) throws IdxFormatException {
        IdxData images = read(imagesFile, 3);
        return images(imagesFile, images, new int[images.dims()[0]]);
    }

    private static ImageDataset images(Path file, IdxData images, int[] labels) {
        return new ImageDataset(file.getFileName().toString(), images.data(), labels, 1, images.dims()[1],
                images.dims()[2]);
    }

    /**
     * Returns {@code data} when it holds at least one sample, else raises an {@link IdxFormatException}
     * naming {@code imagesFile} (where {@code data}'s images came from) and what it was needed for.
     *
     * @param data        a loaded set
     * @param imagesFile  the file it was read from, for the message
     * @param use         what the samples are for, e.g. {@code "to train on"}
     * @return {@code data}
     * @throws IdxFormatException when {@code data} is empty
     */
    public static ImageDataset requireSamples(ImageDataset data, Path imagesFile, String use) throws IdxFormatException {
        if (data.size() == 0) {
            throw new IdxFormatException(imagesFile, "holds no images (dimensions [0, " + data.height() + ", "
                    + data.width() + "]), nothing " + use);
        }
        return data;
    }

    /**
     * Reads an unsigned-byte IDX file of rank {@code expectedRank}. Nothing is allocated from the header
     * until it has been checked: the sizes' product is computed exactly and must not exceed
     * {@link #MAX_DATA_BYTES}; a raw file's size must equal the header plus that product before the data
     * array is made; a gzip stream's data is read in chunks into an array made as large as the file can fill
     * (deflate expands at most about 1032-fold) and grown only as bytes arrive (never beyond the declared size), so
     * a short stream costs memory in proportion to the file's size, not to what its header claims, and a real file
     * is read without the copies of a growing array.
     *
     * @param file         the file, raw or gzip-compressed (told by its first two bytes)
     * @param expectedRank the number of dimensions the file must declare (3 for images, 1 for labels)
     * @throws IdxFormatException with a one-line message naming {@code file}, for any problem with it
     */
    public static IdxData read(Path file, int expectedRank) throws IdxFormatException {
        if (expectedRank < 1 || expectedRank > 255) {
            throw new IllegalArgumentException("an IDX file has 1 to 255 dimensions, not " + expectedRank);
        }
        if (!Files.exists(file)) {
            throw new IdxFormatException(file, "file not found");
        }
        if (Files.isDirectory(file)) {
            throw new IdxFormatException(file, "is a directory, not an IDX file");
        }
        if (!Files.isRegularFile(file)) { // a named pipe or a device: reading it could block for ever
            throw new IdxFormatException(file, "is not a regular file (a pipe or a device?), so not an IDX file");
        }
        try (InputStream in = open(file)) {
            boolean gzip = isGzip(in);
            byte[] magic = readFully(in, file, 4, "the 4-byte magic number");
            if (magic[0] != 0 || magic[1] != 0) {
                throw new IdxFormatException(file, String.format(
                        "bad magic number 0x%02x%02x%02x%02x (an IDX file starts with 0x0000, then type and rank)",
                        magic[0], magic[1], magic[2], magic[3]));
            }
            int type = magic[2] & 0xff;
            int rank = magic[3] & 0xff;
            if (type != TYPE_UBYTE) {
                throw new IdxFormatException(file, String.format("data type 0x%02x is not unsigned bytes (0x08)", type));
            }
            if (rank != expectedRank) {
                throw new IdxFormatException(file, "has " + rank + " dimensions, expected " + expectedRank
                        + (expectedRank == 3 ? " (images: count, rows, columns)" : expectedRank == 1 ? " (labels: count)" : ""));
            }
            byte[] sizeBytes = readFully(in, file, 4 * rank, "the dimension sizes");
            int[] dims = new int[rank];
            for (int i = 0; i < rank; i++) {
                dims[i] = ((sizeBytes[4 * i] & 0xff) << 24) | ((sizeBytes[4 * i + 1] & 0xff) << 16)
                        | ((sizeBytes[4 * i + 2] & 0xff) << 8) | (sizeBytes[4 * i + 3] & 0xff);
            }
            for (int i = 0; i < rank; i++) {
                if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                    throw new IdxFormatException(file, "invalid dimension sizes " + Arrays.toString(dims)
                            + " (sizes must be positive; only the count may be 0)");
                }
            }
            long total = payloadBytes(file, dims);
            long header = 4L + 4L * rank;
            long size = Files.size(file);
            if (!gzip) {
                if (size < header + total) {
                    throw new IdxFormatException(file, "truncated: dimensions " + Arrays.toString(dims) + " need "
                            + total + " data bytes, found " + (size - header));
                }
                if (size > header + total) {
                    throw new IdxFormatException(file, "has " + (size - header - total) + " bytes after the " + total
                            + " data bytes that dimensions " + Arrays.toString(dims) + " describe");
                }
            }
            // The array the data is read into starts as large as the file can fill: all of it for a raw file (its size
            // was checked above), for a gzip file at most GZIP_MAX_RATIO times its size (deflate expands no further),
            // and at most an eighth of the heap. A real file is so read without the copies of a growing array (about
            // 64 MB of them for Fashion-MNIST's training images), and a file that claims more than it holds costs no
            // more than a real one of its size.
            long room = gzip ? Math.max(CHUNK, Math.min(saturatedProduct(size, GZIP_MAX_RATIO),
                    Runtime.getRuntime().maxMemory() / 8)) : total;
            byte[] data = readData(in, file, (int) total, dims, (int) Math.min(total, room));
            if (in.read() != -1) {
                throw new IdxFormatException(file, "has bytes after the " + data.length + " data bytes that dimensions "
                        + Arrays.toString(dims) + " describe");
            }
            return new IdxData(dims, data);
        } catch (IdxFormatException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new IdxFormatException(file, "file not found", e);
        } catch (ZipException e) {
            throw new IdxFormatException(file, "corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw new IdxFormatException(file, "truncated gzip stream", e);
        } catch (IOException e) {
            throw new IdxFormatException(file, "cannot be read (" + e + ")", e);
        }
    }

    /** The exact number of data bytes {@code dims} describe, or an exception when it exceeds {@link #MAX_DATA_BYTES}. */
    private static long payloadBytes(Path file, int[] dims) throws IdxFormatException {
        long total = 1;
        for (int d : dims) {
            try {
                // each factor is below 2^31, so a product still at most MAX_DATA_BYTES times it fits a long;
                // multiplyExact keeps that true should the cap ever grow
                total = Math.multiplyExact(total, (long) d);
            } catch (ArithmeticException e) {
                total = Long.MAX_VALUE;
            }
            if (total > MAX_DATA_BYTES) {
                throw new IdxFormatException(file, "dimensions " + Arrays.toString(dims) + " describe more than "
                        + MAX_DATA_BYTES + " data bytes, too large to load");
            }
        }
        return total;
    }

    /** {@code a * b} for non-negative factors, or {@link Long#MAX_VALUE} when that overflows. */
    private static long saturatedProduct(long a, long b) {
        return a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
    }

    /**
     * Reads exactly {@code total} bytes in chunks. The array starts at {@code initial} bytes (at most {@code total}:
     * as many as the file can hold) and doubles, capped at {@code total}, only when it is full.
     */
    private static byte[] readData(InputStream in, Path file, int total, int[] dims, int initial) throws IOException {
        byte[] data = new byte[initial];
        int got = 0;
        while (got < total) {
            if (got == data.length) {
                data = Arrays.copyOf(data, (int) Math.min(total, 2L * data.length));
            }
            int n = in.read(data, got, Math.min(data.length - got, CHUNK));
            if (n < 0) {
                throw new IdxFormatException(file, "truncated: dimensions " + Arrays.toString(dims) + " need "
                        + total + " data bytes, found " + got);
            }
            got += n;
        }
        return data;
    }

    private static boolean isGzip(InputStream in) {
        return in instanceof GzipStream;
    }

    /** The decompressing stream {@link #open} returns for a gzip file. */
    private static final class GzipStream extends BufferedInputStream {
        GzipStream(InputStream in) {
            super(in, CHUNK);
        }
    }

    private static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                return new GzipStream(new GZIPInputStream(raw, CHUNK));
            }
            return raw;
        } catch (IOException | RuntimeException e) { // e.g. a corrupt gzip header: the file must not stay open
            try {
                raw.close();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private static byte[] readFully(InputStream in, Path file, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new IdxFormatException(file, "truncated: ends inside " + what + " (" + b.length + " of " + n + " bytes)");
        }
        return b;
    }
}
