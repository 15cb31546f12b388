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
    /** Most pixels an image may have (16 megapixels: with {@link #MAX_SIDE} this bounds the memory a bad file can take). */
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

    /**
     * The image of {@code file} as grey values in [0, 1]: {@code [rows][columns]}. The file is checked before
     * {@code javax.imageio} reads it ({@link #checkPng}, {@link #checkJpeg}): its size, its format (PNG and JPEG only,
     * by content), its declared size, and what could make the reader allocate or work without bound.
     */
    static float[][] grey(Path file) throws ImageFormatException {
        String format = check(file);
        BufferedImage image;
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new ImageFormatException(file, "cannot be read (no such file)");
            }
            // the JDK's reader of the format the content names: no other plug-in sees the file
            var readers = ImageIO.getImageReadersByFormatName(format);
            if (!readers.hasNext()) {
                throw new ImageFormatException(file, "is a " + format + " image, and no " + format + " reader is installed");
            }
            javax.imageio.ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                checkSize(file, w, h);
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

    /** Most bytes an image file may have (256 MiB: far above any PNG or JPEG of {@link #MAX_PIXELS} pixels worth reading). */
    static final long MAX_FILE_BYTES = 1L << 28;
    /** Most pixels a side of an image may have (JPEG's own limit; it bounds the rows' overhead of a thin image). */
    static final int MAX_SIDE = 65535;
    /** Most chunks a PNG file may have before its image data (the reader keeps some of them in memory). */
    static final int MAX_PNG_CHUNKS = 1000;
    /** Most bytes of chunks a PNG file may have before its image data (metadata: palette, colour profile, text). */
    static final long MAX_PNG_METADATA_BYTES = 16L << 20;
    /**
     * Most scans a JPEG file may have: a progressive JPEG has about 10; each scan is a pass over the whole image, so a
     * small file of thousands of (empty) scans of a large image kept the decoder busy for minutes.
     */
    static final int MAX_JPEG_SCANS = 100;

    /**
     * Checks {@code file} before any image reader sees it: a regular file of at most {@link #MAX_FILE_BYTES}, a PNG or
     * JPEG by its content, checked by {@link #checkPng} or {@link #checkJpeg}; returns the format's name for
     * {@link ImageIO#getImageReadersByFormatName}.
     *
     * @throws ImageFormatException naming the file and what is wrong with it
     */
    static String check(Path file) throws ImageFormatException {
        long size;
        try {
            if (Files.isDirectory(file)) {
                throw new ImageFormatException(file, "is a directory, not an image file");
            }
            if (!Files.isRegularFile(file)) {
                throw new ImageFormatException(file, Files.exists(file) ? "is not a regular file"
                        : "cannot be read (no such file)");
            }
            size = Files.size(file);
        } catch (ImageFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ImageFormatException(file, "cannot be read (" + reason(e) + ")", e);
        }
        if (size > MAX_FILE_BYTES) {
            throw new ImageFormatException(file, "has " + size + " bytes; image files of at most " + MAX_FILE_BYTES
                    + " bytes are read");
        }
        try (InputStream raw = Files.newInputStream(file);
             java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(raw, 1 << 16))) {
            byte[] head = new byte[PNG.length];
            int n = in.readNBytes(head, 0, head.length);
            if (startsWith(head, n, PNG)) {
                checkPng(file, in);
                return "png";
            }
            if (startsWith(head, n, JPEG)) {
                checkJpeg(file, in, head, n);
                return "jpeg";
            }
            throw new ImageFormatException(file, n == 0 ? "is empty, not a PNG or JPEG image"
                    : "is not a PNG or JPEG image (" + n + " bytes" + (n < head.length ? ")" : " and more)"));
        } catch (ImageFormatException e) {
            throw e;
        } catch (java.io.EOFException e) {
            throw new ImageFormatException(file, "is truncated (it ends before its image data)", e);
        } catch (IOException | RuntimeException e) {
            throw new ImageFormatException(file, "cannot be read (" + reason(e) + ")", e);
        }
    }

    /** Why reading failed, in a few words (the file's name is in the message already). */
    private static String reason(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Checks a {@code w x h} image against {@link #MAX_SIDE} and {@link #MAX_PIXELS}. */
    private static void checkSize(Path file, long w, long h) throws ImageFormatException {
        if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS) {
            throw new ImageFormatException(file, "is " + w + "x" + h + " pixels; images of 1 to " + MAX_SIDE
                    + " pixels a side and at most " + MAX_PIXELS + " pixels are read");
        }
    }

    /**
     * A PNG file after its signature: the IHDR chunk first, its size checked ({@link #checkSize}); then the chunks up
     * to the first IDAT, at most {@link #MAX_PNG_CHUNKS} of at most {@link #MAX_PNG_METADATA_BYTES} bytes together.
     * Chunk lengths are checked against the file; the chunks' contents are the reader's to check.
     */
    private static void checkPng(Path file, java.io.DataInputStream in) throws IOException {
        long length = in.readInt() & 0xffffffffL;
        int type = in.readInt();
        if (type != 0x49484452 || length != 13) { // IHDR
            throw new ImageFormatException(file, "is not a valid PNG image (it does not start with a 13-byte IHDR chunk)");
        }
        long w = in.readInt() & 0xffffffffL;
        long h = in.readInt() & 0xffffffffL;
        checkSize(file, w, h);
        in.skipNBytes(5 + 4); // depth, colour type, compression, filter, interlace; CRC
        long metadata = 0;
        for (int chunks = 1; ; chunks++) {
            length = in.readInt() & 0xffffffffL;
            type = in.readInt();
            if (type == 0x49444154) { // IDAT
                return;
            }
            if (type == 0x49454e44) { // IEND
                throw new ImageFormatException(file, "is not a valid PNG image (no image data: IEND before any IDAT)");
            }
            if (length > Integer.MAX_VALUE) {
                throw new ImageFormatException(file, "is not a valid PNG image (chunk " + chunks + " has the length "
                        + length + ")");
            }
            metadata += length;
            if (chunks > MAX_PNG_CHUNKS) {
                throw new ImageFormatException(file, "has more than " + MAX_PNG_CHUNKS
                        + " chunks before its image data; such PNG files are not read");
            }
            if (metadata > MAX_PNG_METADATA_BYTES) {
                throw new ImageFormatException(file, "has more than " + MAX_PNG_METADATA_BYTES + " bytes of chunks before"
                        + " its image data (chunk " + chunks + ", " + chunkName(type) + ", of " + length
                        + " bytes); such PNG files are not read");
            }
            in.skipNBytes(length + 4); // the data and the CRC (EOFException when the file ends first)
        }
    }

    /** A PNG chunk type as its four letters (escaped where they are none). */
    private static String chunkName(int type) {
        StringBuilder b = new StringBuilder();
        for (int shift = 24; shift >= 0; shift -= 8) {
            int c = (type >>> shift) & 0xff;
            b.append(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' ? Character.toString(c) : String.format(Locale.ROOT, "\\x%02x", c));
        }
        return b.toString();
    }

    /**
     * A JPEG file after its SOI marker: its marker segments and scans up to EOI (or the file's end), the first frame's
     * size checked ({@link #checkSize}) and its components (1 to 4), and at most {@link #MAX_JPEG_SCANS} scans. Bytes
     * between segments are skipped, as the decoder skips them (with a warning).
     */
    private static void checkJpeg(Path file, java.io.DataInputStream in, byte[] head, int n) throws IOException {
        java.io.PushbackInputStream pushback = new java.io.PushbackInputStream(in, head.length);
        pushback.unread(head, 2, n - 2); // the bytes after SOI (FF D8) read with the signature
        java.io.DataInputStream d = new java.io.DataInputStream(pushback);
        int scans = 0;
        boolean frame = false;
        int marker = nextMarker(d);
        while (marker >= 0 && marker != 0xd9) { // up to EOI
            if (marker == 0x01 || marker >= 0xd0 && marker <= 0xd8) { // TEM, RST, SOI: no segment
                marker = nextMarker(d);
                continue;
            }
            int length = d.readUnsignedShort();
            if (length < 2) {
                throw new ImageFormatException(file, "is not a valid JPEG image (marker 0xff" + Integer.toHexString(marker)
                        + " has the length " + length + ")");
            }
            if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) { // SOFn
                if (length < 8) {
                    throw new ImageFormatException(file, "is not a valid JPEG image (a frame header of " + length
                            + " bytes)");
                }
                d.readUnsignedByte(); // sample precision
                int h = d.readUnsignedShort();
                int w = d.readUnsignedShort();
                int components = d.readUnsignedByte();
                if (!frame) {
                    checkSize(file, w, h);
                    if (components < 1 || components > 4) {
                        throw new ImageFormatException(file, "is a JPEG image of " + components
                                + " components; images of 1 to 4 are read");
                    }
                }
                frame = true;
                d.skipNBytes(length - 8);
                marker = nextMarker(d);
            } else if (marker == 0xda) { // SOS, then the entropy-coded data up to the next marker but RST
                if (++scans > MAX_JPEG_SCANS) {
                    throw new ImageFormatException(file, "has more than " + MAX_JPEG_SCANS
                            + " scans; such JPEG files are not read (each scan is a pass over the whole image)");
                }
                d.skipNBytes(length - 2);
                marker = nextMarker(d);
            } else {
                d.skipNBytes(length - 2);
                marker = nextMarker(d);
            }
        }
    }

    /**
     * The code of the next marker (FF then a byte other than 00, which is a stuffed FF in entropy-coded data, and
     * D0-D7, the restart markers within it), skipping the bytes before it; -1 at the file's end.
     */
    private static int nextMarker(java.io.DataInputStream d) throws IOException {
        int b = d.read();
        while (b >= 0) {
            if (b != 0xff) {
                b = d.read();
                continue;
            }
            int code = d.read();
            while (code == 0xff) {
                code = d.read();
            }
            if (code != 0 && (code < 0xd0 || code > 0xd7)) {
                return code;
            }
            b = code < 0 ? -1 : d.read();
        }
        return -1;
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
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w); // a row at a time: getRGB(x, y) allocates for every pixel
            for (int x = 0; x < w; x++) {
                int argb = row[x];
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
        Span[] rowWeights = weights(h, bh);
        Span[] colWeights = weights(w, bw);
        // columns first: [h][bw], then rows: [bh][bw]
        double[][] narrow = new double[h][bw];
        for (int y = 0; y < h; y++) {
            for (int t = 0; t < bw; t++) {
                double s = 0;
                Span cw = colWeights[t];
                for (int k = 0; k < cw.weights().length; k++) {
                    s += cw.weights()[k] * g[y][cw.from() + k];
                }
                narrow[y][t] = s;
            }
        }
        float[] out = new float[height * width];
        int top = (height - bh) / 2;
        int left = (width - bw) / 2;
        for (int t = 0; t < bh; t++) {
            Span rw = rowWeights[t];
            for (int c = 0; c < bw; c++) {
                double s = 0;
                for (int k = 0; k < rw.weights().length; k++) {
                    s += rw.weights()[k] * narrow[rw.from() + k][c];
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

    /** The weights of the source pixels {@code [from, from + weights.length)} that make up one target pixel. */
    private record Span(int from, double[] weights) {
    }

    /**
     * Area-averaging weights from {@code n} source pixels to {@code m} target pixels: target {@code t} covers the
     * source interval {@code [t n / m, (t + 1) n / m)}, and each source pixel weighs its overlap with it, the weights
     * summing to 1. Each target holds the weights of the pixels it covers only ({@code n / m + 2} at most), so a wide
     * image takes no {@code m x n} table.
     */
    private static Span[] weights(int n, int m) {
        Span[] out = new Span[m];
        for (int t = 0; t < m; t++) {
            double from = (double) t * n / m;
            double to = (double) (t + 1) * n / m;
            int first = (int) Math.floor(from);
            int end = Math.min(n, (int) Math.ceil(to));
            double[] w = new double[Math.max(0, end - first)];
            for (int s = first; s < end; s++) {
                w[s - first] = (Math.min(to, s + 1) - Math.max(from, s)) / (to - from);
            }
            out[t] = new Span(first, w);
        }
        return out;
    }
}
