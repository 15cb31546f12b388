package dev.jacobian.data;

import java.util.Iterator;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Labelled images stored compactly as unsigned bytes (one per pixel, as IDX files and most image formats hold
 * them) and scaled to floats in [0, 1] only when a sample is read: pixel value {@code p} in {@code 0..255} becomes
 * {@code p / 255f} ({@link #SCALE}), exactly the float a whole-set conversion would give. A set of 60,000 28x28
 * images takes 47 MB instead of 188 MB as floats.
 *
 * <p>Sample {@code i}'s {@code channels * height * width} pixels are stored from {@code i * features()} in
 * channel, row, column order; its shape is {@code [channels, height, width]}. The pixel and label arrays are used
 * as they are, not copied, and must not change afterwards. {@link #subset} and {@link #head} give views that share
 * them. Immutable; safe to read from several threads.
 */
public final class ImageDataset extends ArrayDataset {
    /** The divisor that maps a pixel byte {@code 0..255} to {@code [0, 1]}: {@code (b & 0xff) / SCALE}. */
    public static final float SCALE = 255f;
    /** Pixel bytes whose cache lines {@link #copyRows} requests before converting them: a group of rows at a time. */
    private static final int PREFETCH_BYTES = 1 << 16;

    private final byte[] pixels;
    private final int channels;
    private final int height;
    private final int width;

    /**
     * A set of {@code labels.length} images of {@code channels x height x width} pixels.
     *
     * @param name     where the images came from, for messages (e.g. the image file's name)
     * @param pixels   {@code labels.length * channels * height * width} unsigned bytes, row-major; not copied
     * @param labels   the class of each image, each {@code >= 0}; not copied
     * @param channels planes per image (1 for grey images)
     * @param height   rows per image
     * @param width    columns per image
     * @throws IllegalArgumentException when a size is below 1, the pixel count does not match, or a label is negative
     */
    public ImageDataset(String name, byte[] pixels, int[] labels, int channels, int height, int width) {
        super(name, Objects.requireNonNull(labels, "labels"), new int[] {channels, height, width});
        Subsets.checkArrays(name, Objects.requireNonNull(pixels, "pixels").length, features(), labels, "pixels");
        this.pixels = pixels;
        this.channels = channels;
        this.height = height;
        this.width = width;
    }

    private ImageDataset(ImageDataset base, int[] indices, String name) {
        super(base, indices, name);
        this.pixels = base.pixels;
        this.channels = base.channels;
        this.height = base.height;
        this.width = base.width;
    }

    /** Planes per image (1: grey). */
    public int channels() {
        return channels;
    }

    /** Rows per image. */
    public int height() {
        return height;
    }

    /** Columns per image. */
    public int width() {
        return width;
    }

    /**
     * The stored byte of pixel {@code k} (in {@code [0, features())}) of image {@code index}, in {@code 0..255}.
     *
     * @throws IndexOutOfBoundsException when {@code index} or {@code k} is out of range
     */
    public int pixel(int index, int k) {
        return pixels[row(index) * features() + Objects.checkIndex(k, features())] & 0xff;
    }

    @Override
    void copyRow(int row, float[] dst, int dstOffset) {
        int f = features();
        toFloats(pixels, row * f, dst, dstOffset, f, SCALE);
    }

    /**
     * Samples {@code [from, from + count)} as rows of this set's bytes, read in place ({@link ByteRows}: nothing is
     * converted or copied), e.g. for a backend's {@code uploadByteRows}; the same floats as {@link #copyFeatures}.
     *
     * @throws IndexOutOfBoundsException when the range lies outside {@code [0, size())}
     */
    public ByteRows byteRows(int from, int count) {
        Objects.checkFromIndexSize(from, count, size());
        int[] offsets = new int[count];
        for (int i = 0; i < count; i++) {
            offsets[i] = pixelOffset(from + i);
        }
        ByteRows rows = new ByteRows(pixels, offsets, features(), SCALE);
        rows.setRows(count);
        return rows;
    }

    /** The stored pixels, shared with the views ({@link ByteRows#source()}: read only). */
    byte[] pixels() {
        return pixels;
    }

    /** Where sample {@code index}'s pixels start in {@link #pixels()}. */
    int pixelOffset(int index) {
        return row(index) * features();
    }

    /**
     * {@code dst[dstOffset + i] = (src[srcOffset + i] & 0xff) / divisor} for {@code i < count}, with the
     * {@link ByteConverter} found on the class path, else a loop.
     */
    static void toFloats(byte[] src, int srcOffset, float[] dst, int dstOffset, int count, float divisor) {
        ByteConverter converter = Converter.FOUND;
        if (converter != null) {
            converter.toFloats(src, srcOffset, dst, dstOffset, count, divisor);
            return;
        }
        for (int k = 0; k < count; k++) {
            dst[dstOffset + k] = (src[srcOffset + k] & 0xff) / divisor;
        }
    }

    /**
     * A batch of scattered images, in two passes over each group of rows that fits {@link #PREFETCH_BYTES}: the first
     * reads one byte of each cache line of the group's rows, so that the memory system fetches them all at once (one
     * memory latency for the group, not one or more per row: the rows of a shuffled batch are far apart and usually
     * not in any cache); the second converts the rows, now in cache: with the {@link ByteConverter} found on the class
     * path (the CPU backend's, in vectors), else bytes widened to ints, then divided by {@link #SCALE} (the same bits
     * as {@link #copyRow}). A shuffled batch of 128 images from a set of Fashion-MNIST's size took 0.56x as long as row
     * by row with the division ({@code DataLoaderBenchmark}, the two interleaved in one run; Intel Xeon family 6 model
     * 207, measured SGEMM peak 120.9-159.5 GFLOP/s in the runs around it) when the ints were then multiplied by
     * {@code 1.0 / SCALE} in double; dividing them as floats instead took 0.81x as long as that (this method alone, a
     * throwaway harness) and a loader's batch 0.92x ({@code DataLoaderBenchmark} against the commit before, 3
     * interleaved rounds; AMD EPYC family 26, Zen 5, measured SGEMM peak 208.2 GFLOP/s). C2 divides the floats in
     * vectors but widens the bytes one at a time (three quarters of converting a batch whose rows are in cache, on that
     * Zen 5), and the Vector API's converter converts such a batch in about a fifth of the time.
     */
    @Override
    void copyRows(int[] rows, float[] dst, int dstOffset) {
        int f = features();
        ByteConverter converter = Converter.FOUND;
        int[] widened = new int[converter == null ? f : 1]; // [0] also keeps the first pass's loads
        int group = Math.max(1, PREFETCH_BYTES / f);
        for (int g = 0; g < rows.length; g += group) {
            int end = Math.min(rows.length, g + group);
            for (int i = g; i < end; i++) {
                int from = rows[i] * f;
                int lines = 0;
                for (int k = 0; k < f; k += 64) {
                    lines += pixels[from + k];
                }
                // kept in memory so that the compiler keeps the loads; the next loop overwrites it
                widened[0] += lines + pixels[from + f - 1];
            }
            for (int i = g; i < end; i++) {
                int from = rows[i] * f;
                int to = dstOffset + i * f;
                if (converter != null) {
                    converter.toFloats(pixels, from, dst, to, f, SCALE);
                    continue;
                }
                for (int k = 0; k < f; k++) {
                    widened[k] = pixels[from + k] & 0xff;
                }
                for (int k = 0; k < f; k++) {
                    dst[to + k] = widened[k] / SCALE;
                }
            }
        }
    }

    /** A view of the images at {@code indices}, in that order; shares the pixels (see {@link Dataset#subset}). */
    @Override
    public ImageDataset subset(int[] indices, String name) {
        return new ImageDataset(this, viewIndices(indices), name);
    }

    /** A view of the first {@code n} images (all when {@code n >= size()}), named as this set. */
    @Override
    public ImageDataset head(int n) {
        return subset(Subsets.range(n, size()), name());
    }

    /** The name of the {@link ByteConverter} this JVM's image sets convert their pixels with, or "none". */
    static String converterName() {
        ByteConverter c = Converter.FOUND;
        return c == null ? "none" : c.getClass().getName();
    }

    /**
     * The {@link ByteConverter} every image set converts its pixels with: the first one {@link ServiceLoader} finds
     * on this class's loader, or null (the loops above). Looked up once, when first needed, and immutable then; a
     * provider that fails to load is skipped with one warning.
     */
    private static final class Converter {
        private static final Logger LOG = LoggerFactory.getLogger(ImageDataset.class);
        static final ByteConverter FOUND = find();

        private static ByteConverter find() {
            Iterator<ByteConverter> it = ServiceLoader.load(ByteConverter.class, ImageDataset.class.getClassLoader())
                    .iterator();
            for (int tries = 0; tries < 8; tries++) {
                try {
                    return it.hasNext() ? it.next() : null;
                } catch (ServiceConfigurationError | LinkageError e) {
                    LOG.warn("a pixel converter failed to load and is skipped: {}", e.getMessage());
                }
            }
            return null;
        }
    }
}
