package dev.jacobian.samples.data;

import java.util.Objects;

/**
 * Labelled images in memory: {@code images} holds {@code size()} rows of {@code features()} floats in
 * [0, 1], row-major; {@code labels} holds one class index per image.
 *
 * @param name     where it came from, for logs (e.g. the image file's name)
 * @param images   pixel values scaled to [0, 1], {@code size() * features()} floats
 * @param labels   class index of each image
 * @param height   image rows
 * @param width    image columns
 */
public record Dataset(String name, float[] images, int[] labels, int height, int width) {
    /** Checks that there are {@code height * width} pixel values per label. */
    public Dataset {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(labels, "labels");
        long pixels;
        try {
            pixels = Math.multiplyExact(Math.multiplyExact((long) labels.length, (long) height), (long) width);
        } catch (ArithmeticException e) {
            pixels = -1;
        }
        if (height < 0 || width < 0 || pixels != images.length) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + images.length
                    + " pixel values of " + height + "x" + width + " images");
        }
    }

    /** Number of samples. */
    public int size() {
        return labels.length;
    }

    /** Values per sample ({@code height * width}). */
    public int features() {
        return height * width;
    }

    /** The first {@code n} samples (all of them when {@code n >= size()}); shares nothing with this one. */
    public Dataset head(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("cannot take " + n + " samples");
        }
        int[] idx = new int[Math.min(n, size())];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        return select(idx, name);
    }

    /** The samples at {@code indices}, in that order, copied into a new dataset called {@code newName}. */
    public Dataset select(int[] indices, String newName) {
        int f = features();
        float[] x = new float[indices.length * f];
        int[] y = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(images, indices[i] * f, x, i * f, f);
            y[i] = labels[indices[i]];
        }
        return new Dataset(newName, x, y, height, width);
    }

    /** Largest label plus one (the class count the data needs). */
    public int classCount() {
        int max = -1;
        for (int l : labels) {
            max = Math.max(max, l);
        }
        return max + 1;
    }
}
