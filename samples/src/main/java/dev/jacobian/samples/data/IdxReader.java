package dev.jacobian.samples.data;

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
 * gzip, labels out of range, image and label counts that disagree) raises {@link IdxFormatException}
 * naming the file.
 */
public final class IdxReader {
    /** The IDX type code of unsigned bytes, the only one MNIST-format files use. */
    static final int TYPE_UBYTE = 0x08;
    /** Labels must lie in [0, MAX_CLASSES). */
    public static final int MAX_CLASSES = 10;

    private IdxReader() {
    }

    /** The sizes and raw bytes of one IDX file. */
    record IdxData(int[] dims, byte[] data) {
    }

    /** Reads an image file ({@code ndims = 3}: count, rows, columns) and a label file and checks they agree. */
    public static Dataset load(Path imagesFile, Path labelsFile) throws IdxFormatException {
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
            if (label >= MAX_CLASSES) {
                throw new IdxFormatException(labelsFile, "label " + label + " of sample " + i
                        + " is outside 0.." + (MAX_CLASSES - 1));
            }
            y[i] = label;
        }
        byte[] px = images.data();
        float[] x = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            x[i] = (px[i] & 0xff) / 255f;
        }
        return new Dataset(imagesFile.getFileName().toString(), x, y, images.dims()[1], images.dims()[2]);
    }

    /** Reads only the images of an image file (for {@code predict}), scaled to [0, 1], with zero labels. */
    public static Dataset loadImages(Path imagesFile) throws IdxFormatException {
        IdxData images = read(imagesFile, 3);
        byte[] px = images.data();
        float[] x = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            x[i] = (px[i] & 0xff) / 255f;
        }
        return new Dataset(imagesFile.getFileName().toString(), x, new int[images.dims()[0]],
                images.dims()[1], images.dims()[2]);
    }

    /** Reads an unsigned-byte IDX file of rank {@code expectedRank}. */
    static IdxData read(Path file, int expectedRank) throws IdxFormatException {
        if (!Files.exists(file)) {
            throw new IdxFormatException(file, "file not found");
        }
        try (InputStream in = open(file)) {
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
                        + (expectedRank == 3 ? " (images: count, rows, columns)" : " (labels: count)"));
            }
            byte[] sizeBytes = readFully(in, file, 4 * rank, "the dimension sizes");
            int[] dims = new int[rank];
            long total = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = ((sizeBytes[4 * i] & 0xff) << 24) | ((sizeBytes[4 * i + 1] & 0xff) << 16)
                        | ((sizeBytes[4 * i + 2] & 0xff) << 8) | (sizeBytes[4 * i + 3] & 0xff);
                if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                    throw new IdxFormatException(file, "invalid dimension sizes " + Arrays.toString(dims));
                }
                total *= dims[i];
            }
            if (total > Integer.MAX_VALUE - 16) {
                throw new IdxFormatException(file, "dimensions " + Arrays.toString(dims) + " are too large to load");
            }
            byte[] data = new byte[(int) total];
            int got = in.readNBytes(data, 0, data.length);
            if (got < data.length) {
                throw new IdxFormatException(file, "truncated: dimensions " + Arrays.toString(dims) + " need "
                        + data.length + " data bytes, found " + got);
            }
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

    private static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
        }
        return raw;
    }

    private static byte[] readFully(InputStream in, Path file, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new IdxFormatException(file, "truncated: ends inside " + what + " (" + b.length + " of " + n + " bytes)");
        }
        return b;
    }
}
