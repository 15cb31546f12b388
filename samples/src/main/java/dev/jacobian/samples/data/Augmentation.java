package dev.jacobian.samples.data;

import dev.jacobian.data.Shuffling;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Random training-time augmentation of single-channel images, applied while a batch is gathered: a horizontal flip
 * with probability 1/2 ({@code torchvision.transforms.RandomHorizontalFlip}) and a translation by up to
 * {@code shift} pixels on each axis, drawn uniformly, with zeros (the background) shifted in (as
 * {@code RandomCrop(size, padding=shift)} on zero-padded images). Each sample's draw comes from the caller's
 * seeded stream, so a run's batches are a pure function of its seed.
 *
 * @param flip  whether to flip half of the samples left to right
 * @param shift the largest translation in pixels on each axis (0: none)
 */
public record Augmentation(boolean flip, int shift) {
    /** The names {@code --augment} accepts; {@code none} alone turns augmentation off. */
    public static final List<String> NAMES = List.of("none", "flip", "shift");
    /** The translation {@code shift} stands for: up to 2 pixels, as {@code RandomCrop(28, padding=2)}. */
    public static final int SHIFT_PIXELS = 2;
    /** No augmentation. */
    public static final Augmentation NONE = new Augmentation(false, 0);
    /** The first of the random streams of the draws ({@link #stream}): epoch {@code e} draws from this plus {@code e}. */
    private static final long STREAM = 0xA_06_E47L;

    /** Checks that the shift is not negative. */
    public Augmentation {
        if (shift < 0) {
            throw new IllegalArgumentException("augmentation shift must be >= 0, got " + shift);
        }
    }

    /**
     * The augmentation {@code names} ask for: any of {@code flip} and {@code shift}, or {@code none} alone.
     *
     * @throws IllegalArgumentException naming {@code --augment} for an unknown name or {@code none} with others
     */
    public static Augmentation of(List<String> names) {
        boolean flip = false;
        boolean shift = false;
        boolean none = false;
        for (String raw : names) {
            String name = raw == null ? "null" : raw.toLowerCase(Locale.ROOT);
            switch (name) {
                case "flip" -> flip = true;
                case "shift" -> shift = true;
                case "none" -> none = true;
                default -> throw new IllegalArgumentException("--augment takes " + NAMES + ", got '" + raw + "'");
            }
        }
        if (none && (flip || shift)) {
            throw new IllegalArgumentException("--augment none cannot be combined with " + names);
        }
        return new Augmentation(flip, shift ? SHIFT_PIXELS : 0);
    }

    /**
     * The random stream of epoch {@code epoch}'s draws: independent of the library's shuffle and split
     * ({@link Shuffling#random}), and a pure function of {@code (seed, epoch)}, so a resumed or rolled-back epoch draws
     * what an unbroken one would.
     */
    public static SplittableRandom stream(long seed, int epoch) {
        return Shuffling.random(seed, STREAM + epoch);
    }

    /** Whether this changes any sample. */
    public boolean active() {
        return flip || shift > 0;
    }

    /**
     * Writes an augmented copy of the {@code height x width} image at {@code src[srcOff]} to {@code dst[dstOff]},
     * drawing the flip and the translation from {@code random} (nothing is drawn when {@link #active()} is false).
     * Output pixel {@code (r, c)} is input pixel {@code (r - dy, c' - dx)}, where {@code c'} is {@code c} or its
     * mirror {@code width - 1 - c}, and zero where that falls outside the image.
     */
    public void apply(float[] src, int srcOff, float[] dst, int dstOff, int height, int width, SplittableRandom random) {
        if (!active()) {
            System.arraycopy(src, srcOff, dst, dstOff, height * width);
            return;
        }
        boolean mirror = flip && random.nextBoolean();
        int dy = shift > 0 ? random.nextInt(2 * shift + 1) - shift : 0;
        int dx = shift > 0 ? random.nextInt(2 * shift + 1) - shift : 0;
        for (int r = 0; r < height; r++) {
            int out = dstOff + r * width;
            int sr = r - dy;
            if (sr < 0 || sr >= height) {
                Arrays.fill(dst, out, out + width, 0f);
                continue;
            }
            int in = srcOff + sr * width;
            // columns c whose source column c - dx lies in [0, width)
            int c0 = Math.max(0, dx);
            int c1 = Math.min(width, width + dx);
            Arrays.fill(dst, out, out + Math.min(c0, width), 0f);
            if (c1 < width) {
                Arrays.fill(dst, out + Math.max(c1, 0), out + width, 0f);
            }
            if (mirror) {
                for (int c = c0; c < c1; c++) {
                    dst[out + c] = src[in + width - 1 - (c - dx)];
                }
            } else if (c0 < c1) {
                System.arraycopy(src, in + c0 - dx, dst, out + c0, c1 - c0);
            }
        }
    }
}
