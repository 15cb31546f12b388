package dev.jacobian.samples.data;

import dev.jacobian.data.ImageDataset;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * PNG and JPEG images (read with {@code javax.imageio}) turned into samples like the IDX images a model was trained on:
 * one grey channel in [0, 1], a light object on a black background, {@code height x width} pixels.
 *
 * <ol>
 *   <li>Grey: a grey image's own values (scaled from its bit depth to [0, 1]); a colour image's luma
 *       {@code 0.299 R + 0.587 G + 0.114 B} (ITU-R BT.601, as PIL's {@code convert("L")}). Transparent pixels are
 *       composited over white.</li>
 *   <li>Inversion: the IDX images have the value 0 for the background (Fashion-MNIST's pictures were negated, MNIST's
 *       digits are white on black), while photos and drawings usually show a dark object on a light background. With
 *       {@link Invert#AUTO} an image whose outermost pixels (its one-pixel frame) average above 0.5 is inverted
 *       ({@code 1 - v}); {@link Invert#YES} and {@link Invert#NO} decide for every image.</li>
 *   <li>Trimming (images of another size than the model's, such as photos): as Fashion-MNIST's pictures were made,
 *       the rows and columns at the edges whose every pixel is within {@value #TRIM_TOLERANCE} of the background (the
 *       mean of the four corners) are cut off, so the object fills the frame as in the training images; a background
 *       darker than 0.5 is then stretched to black ({@code (v - b) / (1 - b)}, clamped to [0, 1]). An image of the
 *       model's size is taken as prepared and skips this step.</li>
 *   <li>Size: the image is scaled, keeping its aspect ratio, so that its longer side fills the model's
 *       ({@code 28} for Fashion-MNIST, as Fashion-MNIST's own pictures were made: longest edge to 28, then extended),
 *       by area averaging (each target pixel the mean of the source area it covers), and centred on a black
 *       ({@code 0}) {@code height x width} canvas.</li>
 *   <li>Bytes: each value is rounded to 8 bits ({@code round(255 v)}), the precision of the IDX pixels, and the
 *       samples are an {@link ImageDataset}, read back as {@code byte / 255} as the training images are.</li>
 * </ol>
 * A 28x28 grey image with a black background is used as it is: such a PNG of an IDX sample gives the IDX bytes.
 */
public final class ImageFiles {
    /** Whether to invert images (see the class comment). */
    public enum Invert {
        /** Invert an image whose frame is mostly light (mean above 0.5). */
        AUTO,
        /** Invert every image. */
        YES,
        /** Invert none. */
        NO;

        /** {@code auto}, {@code yes} or {@code no}, in any case. */
        public static Invert of(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new IllegalArgumentException("--invert must be auto, yes or no, got '" + name + "'");
            }
        }
    }

    /** A frame lighter than this on average is a light background. */
    static final double LIGHT_BACKGROUND = 0.5;
    /** Edge rows and columns whose pixels are all this close to the background are trimmed (Fashion-MNIST's 5%). */
    static final double TRIM_TOLERANCE = 0.05;
    /** Most pixels an image may have (16 megapixels: this bounds the memory a bad file can take). */
    static final long MAX_PIXELS = 1L << 24;

    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final byte[] JPEG = {(byte) 0xff, (byte) 0xd8, (byte) 0xff};

    private ImageFiles() {
    }

    /** Whether {@code file} starts as a PNG or JPEG file does (false when it cannot be read: the IDX reader says why). */
    public static boolean isImage(Path file) {
        byte[] head = new byte[PNG.length];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            return false;
        }
        return startsWith(head, n, PNG) || startsWith(head, n, JPEG);
    }

    private static boolean startsWith(byte[] head, int n, byte[] magic) {
        return n >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length);
    }

    /**
     * The images of {@code files} as one-channel samples of {@code height x width} bytes, in order, with zero labels;
     * the set is named after the first file.
     *
     * @throws ImageFormatException naming the first file that is missing, unreadable or not an image
     */
    public static ImageDataset load(List<Path> files, int height, int width, Invert invert) throws ImageFormatException {
        if (height < 1 || width < 1 || files.isEmpty()) {
            throw new IllegalArgumentException(files.size() + " images of " + height + "x" + width);
        }
        byte[] pixels = new byte[files.size() * height * width];
        for (int i = 0; i < files.size(); i++) {
            float[] sample = sample(grey(files.get(i)), height, width, invert);
            for (int k = 0; k < sample.length; k++) {
                pixels[i * height * width + k] = (byte) Math.round(ImageDataset.SCALE * sample[k]);
            }
        }
        return new ImageDataset(files.get(0).getFileName().toString(), pixels, new int[files.size()], 1, height, width);
    }

    /** The image of {@code file} as grey values in [0, 1]: {@code [rows][columns]}. */
    static float[][] grey(Path file) throws ImageFormatException {
        BufferedImage image;
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null || !Files.isRegularFile(file)) {
                throw new ImageFormatException(file, "cannot be read (no such file)");
            }
            var readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageFormatException(file, "is not a PNG or JPEG image");
            }
            javax.imageio.ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w < 1 || h < 1 || (long) w * h > MAX_PIXELS) {
                    throw new ImageFormatException(file, "is " + w + "x" + h + " pixels; images of at most " + MAX_PIXELS
                            + " pixels are read");
                }
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (ImageFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ImageFormatException(file, "is not a readable PNG or JPEG image ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        }
        return grey(image);
    }

    /** {@code image} as grey values in [0, 1] (see the class comment). */
    static float[][] grey(BufferedImage image) {
        int h = image.getHeight();
        int w = image.getWidth();
        float[][] out = new float[h][w];
        Raster raster = image.getRaster();
        boolean gray = image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && raster.getNumBands() <= 2;
        if (gray) { // the stored values: getRGB would convert a linear grey space to sRGB and change them
            double max = (1L << image.getColorModel().getComponentSize(0)) - 1;
            boolean alpha = raster.getNumBands() == 2;
            double maxAlpha = alpha ? (1L << image.getColorModel().getComponentSize(1)) - 1 : 1;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double v = raster.getSample(x, y, 0) / max;
                    double a = alpha ? raster.getSample(x, y, 1) / maxAlpha : 1;
                    out[y][x] = (float) (a * v + (1 - a));
                }
            }
            return out;
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = image.getRGB(x, y);
                double a = (argb >>> 24) / 255.0;
                double v = (0.299 * ((argb >> 16) & 0xff) + 0.587 * ((argb >> 8) & 0xff) + 0.114 * (argb & 0xff)) / 255.0;
                out[y][x] = (float) (a * v + (1 - a));
            }
        }
        return out;
    }

    /** Whether {@code grey}'s one-pixel frame averages above {@link #LIGHT_BACKGROUND}. */
    static boolean lightBackground(float[][] grey) {
        int h = grey.length;
        int w = grey[0].length;
        double sum = 0;
        int n = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (y == 0 || y == h - 1 || x == 0 || x == w - 1) {
                    sum += grey[y][x];
                    n++;
                }
            }
        }
        return sum / n > LIGHT_BACKGROUND;
    }

    /**
     * {@code grey} inverted as {@code invert} says, trimmed unless it has the target size, fitted into
     * {@code height x width} and centred (class comment).
     */
    static float[] sample(float[][] grey, int height, int width, Invert invert) {
        float[][] g = grey;
        if (invert == Invert.YES || invert == Invert.AUTO && lightBackground(grey)) {
            g = new float[grey.length][];
            for (int y = 0; y < grey.length; y++) {
                g[y] = new float[grey[y].length];
                for (int x = 0; x < g[y].length; x++) {
                    g[y][x] = 1 - grey[y][x];
                }
            }
        }
        if (g.length != height || g[0].length != width) {
            g = trimmed(g);
        }
        int h = g.length;
        int w = g[0].length;
        double scale = Math.min((double) height / h, (double) width / w);
        int bh = Math.max(1, Math.min(height, (int) Math.round(h * scale)));
        int bw = Math.max(1, Math.min(width, (int) Math.round(w * scale)));
        double[][] rowWeights = weights(h, bh);
        double[][] colWeights = weights(w, bw);
        // columns first: [h][bw], then rows: [bh][bw]
        double[][] narrow = new double[h][bw];
        for (int y = 0; y < h; y++) {
            for (int t = 0; t < bw; t++) {
                double s = 0;
                double[] cw = colWeights[t];
                for (int x = 0; x < w; x++) {
                    if (cw[x] != 0) {
                        s += cw[x] * g[y][x];
                    }
                }
                narrow[y][t] = s;
            }
        }
        float[] out = new float[height * width];
        int top = (height - bh) / 2;
        int left = (width - bw) / 2;
        for (int t = 0; t < bh; t++) {
            double[] rw = rowWeights[t];
            for (int c = 0; c < bw; c++) {
                double s = 0;
                for (int y = 0; y < h; y++) {
                    if (rw[y] != 0) {
                        s += rw[y] * narrow[y][c];
                    }
                }
                out[(top + t) * width + left + c] = (float) Math.min(1, Math.max(0, s));
            }
        }
        return out;
    }

    /**
     * {@code g} without its edge rows and columns whose pixels are all within {@link #TRIM_TOLERANCE} of the
     * background {@code b} (the mean of the four corners), and with a dark background ({@code b < 0.5}) stretched to
     * black; {@code g} itself when nothing stands out from the background.
     */
    static float[][] trimmed(float[][] g) {
        int h = g.length;
        int w = g[0].length;
        double b = (g[0][0] + g[0][w - 1] + g[h - 1][0] + g[h - 1][w - 1]) / 4.0;
        int top = h;
        int bottom = -1;
        int left = w;
        int right = -1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (Math.abs(g[y][x] - b) > TRIM_TOLERANCE) {
                    top = Math.min(top, y);
                    bottom = Math.max(bottom, y);
                    left = Math.min(left, x);
                    right = Math.max(right, x);
                }
            }
        }
        if (bottom < 0) {
            return g;
        }
        boolean stretch = b > 0 && b < LIGHT_BACKGROUND;
        float[][] out = new float[bottom - top + 1][right - left + 1];
        for (int y = top; y <= bottom; y++) {
            for (int x = left; x <= right; x++) {
                double v = stretch ? Math.min(1, Math.max(0, (g[y][x] - b) / (1 - b))) : g[y][x];
                out[y - top][x - left] = (float) v;
            }
        }
        return out;
    }

    /**
     * Area-averaging weights from {@code n} source pixels to {@code m} target pixels: target {@code t} covers the
     * source interval {@code [t n / m, (t + 1) n / m)}, and each source pixel weighs its overlap with it, the weights
     * summing to 1.
     */
    private static double[][] weights(int n, int m) {
        double[][] out = new double[m][n];
        for (int t = 0; t < m; t++) {
            double from = (double) t * n / m;
            double to = (double) (t + 1) * n / m;
            for (int s = (int) Math.floor(from); s < Math.min(n, (int) Math.ceil(to)); s++) {
                out[t][s] = (Math.min(to, s + 1) - Math.max(from, s)) / (to - from);
            }
        }
        return out;
    }
}
