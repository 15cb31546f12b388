package dev.jacobian.data;

import java.util.Objects;

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
        int from = row * f;
        for (int k = 0; k < f; k++) {
            dst[dstOffset + k] = (pixels[from + k] & 0xff) / SCALE;
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
}
