package dev.jacobian.samples.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.data.ImageDataset;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of the images {@code predict --images} reads ({@link ImageFiles}): small seed images made here with
 * {@code javax.imageio} (grey, colour, 16-bit, palette with transparency and interlaced PNG; grey, colour and
 * progressive JPEG) are mutated from a fixed seed: bit flips (mostly in the first bytes), byte overwrites, truncation
 * and extension, PNG chunk edits with the CRC recomputed (IHDR sizes such as 0x7fffffff or 65535x65535, bit depth and
 * colour type, huge chunk lengths, a duplicated IDAT, an IDAT or iCCP/zTXt/iTXt that inflates to 64 MiB, thousands of
 * chunks), JPEG segment edits (frame sizes and components, huge segment lengths, hundreds of scans), files of 0-8 bytes,
 * a directory and a missing file. Every case must be an accepted image whose sample is self-consistent ({@code h x w}
 * grey values and {@code 28 x 28} sample values, all in [0, 1]) or an {@link ImageFormatException} with one line that
 * starts with the file; anything else (another exception, an {@link Error} such as {@link OutOfMemoryError}, a case
 * that takes more than {@value #MAX_CASE_SECONDS} s or allocates more than 2 GiB) fails with the case's seed.
 *
 * <p>{@code -Djacobian.imagefuzz.cases=N} runs N cases (default {@value #DEFAULT_CASES});
 * {@code -Djacobian.imagefuzz.seed=S} changes the base seed; {@code -Djacobian.imagefuzz.seconds=T} stops a long run
 * after T seconds (the summary line gives the count run). Below, one regression test per finding.
 */
class ImageFuzzTest {
    private static final int DEFAULT_CASES = 3000;
    private static final long DEFAULT_SEED = 0x1_3a6e_f022L;
    /** No case may take longer (the slowest legitimate image, 16 megapixels of 16-bit RGBA, takes about 5 s). */
    private static final double MAX_CASE_SECONDS = 30;
    /**
     * No case may allocate more, garbage included (16 megapixels of progressive colour JPEG allocate about 650 MB on
     * their way to a sample; the heap's bound, -Xmx2g, is what an {@link OutOfMemoryError} would show).
     */
    private static final long MAX_CASE_ALLOCATION = 2L << 30;
    private static final int SIDE = 28;
    private static final int[] INTERESTING_BYTES = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x08, 0x10, 0x03, 0x06, 0xd8, 0xda,
        0xc0, 0xc2};
    private static final long[] INTERESTING_SIZES = {0, 1, 2, 3, 27, 28, 29, 255, 256, 65535, 65536, 0x7fff_ffffL,
        0x8000_0000L, 0xffff_ffffL, 1 << 24, 46341, 4096, 5000};

    @TempDir
    static Path shared;
    /** The seed images: name and bytes. */
    static final List<String> NAMES = new ArrayList<>();
    static final List<byte[]> SEEDS = new ArrayList<>();
    /** A zlib stream of 64 MiB of zeros (about 64 KiB). */
    static byte[] bomb;

    @TempDir
    Path tmp;

    @BeforeAll
    static void seeds() throws IOException {
        BufferedImage grey = new BufferedImage(13, 11, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage grey28 = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage rgb = new BufferedImage(17, 9, BufferedImage.TYPE_INT_RGB);
        BufferedImage argb = new BufferedImage(7, 12, BufferedImage.TYPE_INT_ARGB);
        BufferedImage grey16 = new BufferedImage(10, 14, BufferedImage.TYPE_USHORT_GRAY);
        byte[] r = {0, (byte) 255, (byte) 200, 30};
        byte[] g = {0, (byte) 255, 40, (byte) 220};
        byte[] b = {0, (byte) 255, 90, 10};
        byte[] a = {(byte) 255, (byte) 255, (byte) 128, 0};
        BufferedImage palette = new BufferedImage(15, 8, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, 4, r, g, b, a));
        SplittableRandom random = new SplittableRandom(7);
        for (BufferedImage image : new BufferedImage[] {grey, grey28, rgb, argb, grey16, palette}) {
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    boolean object = x > image.getWidth() / 4 && x < 3 * image.getWidth() / 4 && y > image.getHeight() / 4;
                    int v = object ? 150 + random.nextInt(100) : random.nextInt(20);
                    if (image == palette) {
                        image.getRaster().setSample(x, y, 0, object ? 1 + random.nextInt(3) : 0);
                    } else if (image == grey16) {
                        image.getRaster().setSample(x, y, 0, v * 257 + random.nextInt(257));
                    } else if (image.getType() == BufferedImage.TYPE_BYTE_GRAY) {
                        image.getRaster().setSample(x, y, 0, v);
                    } else {
                        image.setRGB(x, y, (object ? 0xff : random.nextInt(256)) << 24 | v << 16 | (255 - v) << 8 | v / 2);
                    }
                }
            }
        }
        seed("grey.png", write(grey, "png", false));
        seed("grey28.png", write(grey28, "png", false));
        seed("rgb.png", write(rgb, "png", false));
        seed("argb.png", write(argb, "png", false));
        seed("grey16.png", write(grey16, "png", false));
        seed("palette-trns.png", write(palette, "png", false));
        seed("interlaced.png", write(rgb, "png", true));
        seed("grey.jpg", write(grey, "jpeg", false));
        seed("rgb.jpg", write(rgb, "jpeg", false));
        seed("progressive.jpg", write(rgb, "jpeg", true));
        assertTrue(new String(SEEDS.get(5), java.nio.charset.StandardCharsets.ISO_8859_1).contains("tRNS"),
                "the palette seed has transparency");
        bomb = deflate(new byte[64 << 20]);
    }

    private static void seed(String name, byte[] bytes) {
        NAMES.add(name);
        SEEDS.add(bytes);
    }

    private static byte[] write(BufferedImage image, String format, boolean progressive) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (progressive) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    static byte[] deflate(byte[] raw) {
        Deflater deflater = new Deflater(9);
        deflater.setInput(raw);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- the fuzzer

    @Test
    void mutatedImagesAreReadOrReportedCleanly() {
        int cases = Integer.getInteger("jacobian.imagefuzz.cases", DEFAULT_CASES);
        long base = Long.getLong("jacobian.imagefuzz.seed", DEFAULT_SEED);
        long seconds = Long.getLong("jacobian.imagefuzz.seconds", 0);
        // a hang fails the test (each case is also timed below); generous: 60 s and 100 ms per case
        Duration limit = Duration.ofSeconds(60 + (seconds > 0 ? Math.min(seconds, cases / 10) : cases / 10));
        Assertions.assertTimeoutPreemptively(limit, () -> fuzz(cases, base, seconds));
    }

    /**
     * Runs cases {@code base, base + 1, ...}: {@code cases} of them, or as many as {@code budget} seconds allow
     * ({@code jacobian.imagefuzz.seconds}, for a long run; 0: no limit); the summary line gives the count run.
     */
    private void fuzz(int cases, long base, long budget) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cases"));
        Files.createDirectories(dir.resolve("a-directory.png"));
        int accepted = 0;
        int rejected = 0;
        double slowest = 0;
        long slowestSeed = base;
        long mostAllocated = 0;
        long t0 = System.nanoTime();
        int run = 0;
        for (int i = 0; i < cases && (budget <= 0 || System.nanoTime() - t0 < budget * 1_000_000_000L); i++) {
            run++;
            long seed = base + i;
            SplittableRandom r = new SplittableRandom(seed);
            int which = r.nextInt(SEEDS.size());
            StringBuilder what = new StringBuilder(NAMES.get(which)).append(": ");
            Path file;
            try {
                file = writeCase(dir, r, which, what);
            } catch (Exception e) {
                throw new AssertionError("case seed " + seed + ": the fuzzer could not write its file", e);
            }
            ImageFiles.Invert invert = ImageFiles.Invert.values()[r.nextInt(3)];
            boolean viaLoad = r.nextInt(8) == 0;
            long allocated = allocated();
            long t = System.nanoTime();
            try {
                check(file, invert, viaLoad);
                accepted++;
            } catch (ImageFormatException e) {
                rejected++;
                String m = e.getMessage();
                if (m == null || m.contains("\n") || m.contains("\r") || !m.startsWith(file + ": ")) {
                    throw new AssertionError("case seed " + seed + " (" + what + "): the message is not one line naming"
                            + " the file: " + m, e);
                }
            } catch (Throwable e) {
                throw new AssertionError("case seed " + seed + " (" + what + "): " + e, e);
            }
            double seconds = (System.nanoTime() - t) / 1e9;
            long bytes = allocated() - allocated;
            if (seconds > slowest) {
                slowest = seconds;
                slowestSeed = seed;
            }
            mostAllocated = Math.max(mostAllocated, bytes);
            assertTrue(seconds < MAX_CASE_SECONDS, "case seed " + seed + " (" + what + ") took " + seconds + " s");
            assertTrue(bytes < MAX_CASE_ALLOCATION, "case seed " + seed + " (" + what + ") allocated " + bytes + " bytes");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "image fuzz: %d cases from seed %d in %.1f s: %d accepted, %d rejected,"
                + " no other outcome; slowest case %.2f s (seed %d), most allocated by a case %.0f MB%n", run, base,
                seconds, accepted, rejected, slowest, slowestSeed, mostAllocated / 1e6);
        assertTrue(accepted > run / 20 && rejected > run / 4, "the mutations reach both outcomes: " + accepted + " / "
                + rejected);
    }

    /** Reads {@code file} as {@code predict} does; an accepted image must give a self-consistent sample. */
    private static void check(Path file, ImageFiles.Invert invert, boolean viaLoad) throws ImageFormatException {
        float[][] grey = ImageFiles.grey(file);
        assertTrue(grey.length >= 1 && grey[0].length >= 1, "an empty image");
        for (float[] row : grey) {
            assertEquals(grey[0].length, row.length, "ragged rows");
            for (float v : row) {
                if (!(v >= 0 && v <= 1)) { // false for NaN (no message built for each of 16 million pixels)
                    throw new AssertionError("grey value " + v);
                }
            }
        }
        float[] sample = ImageFiles.sample(grey, SIDE, SIDE, invert);
        assertEquals(SIDE * SIDE, sample.length);
        for (float v : sample) {
            if (!(v >= 0 && v <= 1)) {
                throw new AssertionError("sample value " + v);
            }
        }
        if (viaLoad && grey.length * grey[0].length <= 1 << 16) { // not twice the decoding of a large image
            ImageDataset d = ImageFiles.load(List.of(file), SIDE, SIDE, invert);
            assertEquals(1, d.size());
            for (int k = 0; k < SIDE * SIDE; k++) {
                assertEquals(Math.round(ImageDataset.SCALE * sample[k]), d.pixel(0, k), "pixel " + k);
            }
        }
    }

    /** Writes case {@code r} (a mutation of seed {@code which}) and returns its file; {@code what} says what it did. */
    private static Path writeCase(Path dir, SplittableRandom r, int which, StringBuilder what) throws IOException {
        byte[] seed = SEEDS.get(which);
        boolean png = NAMES.get(which).endsWith(".png");
        String name = png ? "case.png" : "case.jpg";
        byte[] bytes;
        int kind = r.nextInt(100);
        if (kind < 1) {
            what.append("a directory");
            return dir.resolve("a-directory.png");
        } else if (kind < 2) {
            what.append("a missing file");
            return dir.resolve("missing.png");
        } else if (kind < 6) { // 0-8 bytes: nothing, a signature's beginning, or noise
            int n = r.nextInt(9);
            bytes = r.nextBoolean() ? Arrays.copyOf(seed, n) : randomBytes(r, n);
            what.append(n).append(" bytes");
        } else if (kind < 24) { // bit flips, mostly in the first 64 bytes (signature, IHDR, JPEG tables)
            bytes = seed.clone();
            int flips = 1 + r.nextInt(8);
            for (int k = 0; k < flips; k++) {
                int at = r.nextInt(4) != 0 ? r.nextInt(Math.min(64, bytes.length)) : r.nextInt(bytes.length);
                bytes[at] ^= (byte) (1 << r.nextInt(8));
            }
            what.append(flips).append(" bit flips");
        } else if (kind < 36) { // byte overwrites
            bytes = seed.clone();
            int n = 1 + r.nextInt(4);
            for (int k = 0; k < n; k++) {
                int at = r.nextBoolean() ? r.nextInt(Math.min(64, bytes.length)) : r.nextInt(bytes.length);
                bytes[at] = (byte) (r.nextBoolean() ? INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)] : r.nextInt(256));
            }
            what.append(n).append(" byte overwrites");
        } else if (kind < 46) { // truncation, or junk appended
            if (r.nextInt(3) != 0) {
                int n = r.nextInt(seed.length);
                bytes = Arrays.copyOf(seed, n);
                what.append("truncated to ").append(n);
            } else {
                int n = 1 + r.nextInt(4096);
                ByteBuffer b = ByteBuffer.allocate(seed.length + n).put(seed).put(randomBytes(r, n));
                bytes = b.array();
                what.append(n).append(" bytes of junk appended");
            }
        } else if (png) {
            bytes = Png.mutate(seed, r, what);
        } else {
            bytes = Jpeg.mutate(seed, r, what);
        }
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = (byte) r.nextInt(256);
        }
        return b;
    }

    static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    static long interesting(SplittableRandom r) {
        return r.nextInt(4) == 0 ? r.nextInt(1, 100) : INTERESTING_SIZES[r.nextInt(INTERESTING_SIZES.length)];
    }

    /** PNG files as chunks, edited with their CRCs recomputed (so the edits get past a CRC check). */
    static final class Png {
        private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

        /** A chunk; {@code length} is written as the length field (normally {@code data.length}). */
        record Chunk(String type, byte[] data, long length) {
            Chunk(String type, byte[] data) {
                this(type, data, data.length);
            }
        }

        static List<Chunk> parse(byte[] png) {
            List<Chunk> chunks = new ArrayList<>();
            ByteBuffer b = ByteBuffer.wrap(png);
            b.position(SIGNATURE.length);
            while (b.remaining() >= 12) {
                int length = b.getInt();
                byte[] type = new byte[4];
                b.get(type);
                byte[] data = new byte[length];
                b.get(data);
                b.getInt();
                chunks.add(new Chunk(new String(type, java.nio.charset.StandardCharsets.ISO_8859_1), data));
            }
            return chunks;
        }

        static byte[] write(List<Chunk> chunks) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(SIGNATURE);
            for (Chunk c : chunks) {
                byte[] type = c.type().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                CRC32 crc = new CRC32();
                crc.update(type);
                crc.update(c.data());
                out.writeBytes(ByteBuffer.allocate(8).putInt((int) c.length()).put(type).array());
                out.writeBytes(c.data());
                out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
            }
            return out.toByteArray();
        }

        static int index(List<Chunk> chunks, String type) {
            for (int i = 0; i < chunks.size(); i++) {
                if (chunks.get(i).type().equals(type)) {
                    return i;
                }
            }
            return -1;
        }

        static byte[] mutate(byte[] seed, SplittableRandom r, StringBuilder what) {
            List<Chunk> chunks = new ArrayList<>(parse(seed));
            int ihdr = index(chunks, "IHDR");
            int idat = index(chunks, "IDAT");
            byte[] header = chunks.get(ihdr).data().clone();
            ByteBuffer h = ByteBuffer.wrap(header);
            switch (r.nextInt(12)) {
                case 0, 1 -> { // width and height
                    long w = r.nextInt(3) == 0 ? h.getInt(0) : interesting(r);
                    long hh = r.nextInt(3) == 0 ? h.getInt(4) : interesting(r);
                    if (r.nextInt(3) == 0) { // now and then a large image within the caps: the reader allocates it
                        w = 4096;
                        hh = r.nextInt(32) == 0 ? 4096 : 64; // 16 megapixels take a second or more: rarely
                    }
                    h.putInt(0, (int) w).putInt(4, (int) hh);
                    chunks.set(ihdr, new Chunk("IHDR", header));
                    what.append("IHDR ").append(w).append('x').append(hh);
                }
                case 2 -> { // bit depth, colour type, compression, filter, interlace
                    int field = 8 + r.nextInt(5);
                    int[] values = field == 8 ? new int[] {0, 1, 2, 4, 8, 16, 3, 255} : field == 9
                            ? new int[] {0, 2, 3, 4, 6, 1, 5, 7, 255} : new int[] {0, 1, 2, 255};
                    header[field] = (byte) values[r.nextInt(values.length)];
                    if (r.nextBoolean()) {
                        header[8 + r.nextInt(2)] = (byte) values[r.nextInt(values.length)];
                    }
                    chunks.set(ihdr, new Chunk("IHDR", header));
                    what.append("IHDR byte ").append(field).append(" = ").append(header[field] & 0xff);
                }
                case 3 -> { // a length field that lies
                    int at = r.nextInt(chunks.size());
                    Chunk c = chunks.get(at);
                    long[] lies = {0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, c.data().length + 1L,
                        Math.max(0, c.data().length - 1), 0, 1 << 24, 0x7fff_fff0L};
                    long length = lies[r.nextInt(lies.length)];
                    chunks.set(at, new Chunk(c.type(), c.data(), length));
                    what.append(c.type()).append(" length ").append(length);
                }
                case 4 -> { // IDAT duplicated or split
                    if (r.nextBoolean()) {
                        int copies = 1 + r.nextInt(r.nextBoolean() ? 3 : 2000);
                        for (int k = 0; k < copies; k++) {
                            chunks.add(idat + 1, chunks.get(idat));
                        }
                        what.append("IDAT ").append(copies).append(" more times");
                    } else {
                        byte[] d = chunks.get(idat).data();
                        int cut = r.nextInt(d.length + 1);
                        chunks.set(idat, new Chunk("IDAT", Arrays.copyOf(d, cut)));
                        chunks.add(idat + 1, new Chunk("IDAT", Arrays.copyOfRange(d, cut, d.length)));
                        what.append("IDAT split at ").append(cut);
                    }
                }
                case 5 -> { // a decompression bomb: 64 MiB of zeros as the image data, the image declared small or large
                    chunks.set(idat, new Chunk("IDAT", bomb));
                    if (r.nextInt(32) == 0) { // rarely: 4096x4096 pixels decoded take a few seconds
                        h.putInt(0, 4096).putInt(4, 4096);
                        chunks.set(ihdr, new Chunk("IHDR", header));
                        what.append("4096x4096, ");
                    }
                    what.append("IDAT inflating to 64 MiB");
                }
                case 6 -> { // a metadata chunk that inflates far, or declares a huge length, or is junk
                    String[] types = {"iCCP", "zTXt", "iTXt", "tEXt", "eXIf", "sPLT", "PLTE", "tRNS", "gAMA", "cHRM",
                        "sBIT", "bKGD", "hIST", "pHYs", "tIME", "abCD", "XYZW"};
                    String type = types[r.nextInt(types.length)];
                    byte[] data = switch (r.nextInt(3)) {
                        case 0 -> { // keyword, NUL, compression method 0, zlib data (iTXt: flag, method, 2 empty strings)
                            ByteBuffer b = ByteBuffer.allocate(bomb.length + 8).put("kw".getBytes()).put((byte) 0);
                            if (type.equals("iTXt")) {
                                b.put((byte) 1).put((byte) 0).put((byte) 0).put((byte) 0);
                            } else {
                                b.put((byte) 0);
                            }
                            yield Arrays.copyOf(b.put(bomb).array(), b.position());
                        }
                        case 1 -> randomBytes(r, r.nextInt(64));
                        default -> new byte[0];
                    };
                    long length = r.nextInt(4) == 0 ? 0x7fff_fff0L : data.length;
                    int at = 1 + r.nextInt(chunks.size() - 1);
                    chunks.add(at, new Chunk(type, data, length));
                    what.append(type).append(" of ").append(data.length).append(" bytes, length ").append(length)
                            .append(", at ").append(at);
                }
                case 7 -> { // many chunks before the data
                    int n = r.nextBoolean() ? 900 + r.nextInt(200) : r.nextInt(50);
                    for (int k = 0; k < n; k++) {
                        chunks.add(1, new Chunk("tEXt", new byte[] {'k', 0, (byte) ('a' + k % 26)}));
                    }
                    what.append(n).append(" tEXt chunks");
                }
                case 8 -> { // a chunk removed, or two swapped
                    int at = r.nextInt(chunks.size());
                    if (r.nextBoolean()) {
                        what.append(chunks.get(at).type()).append(" removed");
                        chunks.remove(at);
                    } else {
                        int other = r.nextInt(chunks.size());
                        what.append(chunks.get(at).type()).append(" swapped with ").append(chunks.get(other).type());
                        Chunk c = chunks.get(at);
                        chunks.set(at, chunks.get(other));
                        chunks.set(other, c);
                    }
                }
                case 9 -> { // bit flips inside a chunk's data, its CRC recomputed
                    int at = r.nextInt(chunks.size());
                    Chunk c = chunks.get(at);
                    byte[] d = c.data().clone();
                    if (d.length > 0) {
                        int flips = 1 + r.nextInt(4);
                        for (int k = 0; k < flips; k++) {
                            d[r.nextInt(d.length)] ^= (byte) (1 << r.nextInt(8));
                        }
                    }
                    chunks.set(at, new Chunk(c.type(), d));
                    what.append("bit flips in ").append(c.type()).append(" with its CRC");
                }
                case 10 -> { // image data of another length than the size needs, as a valid zlib stream
                    int n = r.nextInt(4) == 0 ? 0 : r.nextInt(1 << 14);
                    byte[] raw = randomBytes(r, n);
                    for (int k = 0; k < raw.length; k += 1 + r.nextInt(40)) {
                        raw[k] = (byte) r.nextInt(6); // filter types 0-4 (5: invalid)
                    }
                    chunks.set(idat, new Chunk("IDAT", deflate(raw)));
                    what.append("IDAT of ").append(n).append(" random bytes deflated");
                }
                default -> { // IHDR of another length
                    int n = r.nextInt(26);
                    chunks.set(ihdr, new Chunk("IHDR", Arrays.copyOf(header, n)));
                    what.append("IHDR of ").append(n).append(" bytes");
                }
            }
            return write(chunks);
        }
    }

    /** JPEG files as marker segments up to the first scan, and the rest (scans, EOI) as it is. */
    static final class Jpeg {
        /** A segment: marker code and payload; {@code length} is written as its length field. */
        record Segment(int marker, byte[] data, int length) {
            Segment(int marker, byte[] data) {
                this(marker, data, data.length + 2);
            }
        }

        /** The segments from SOI to the first SOS (exclusive), and the bytes from the first SOS on. */
        record Parsed(List<Segment> segments, byte[] rest) {
        }

        static Parsed parse(byte[] jpeg) {
            List<Segment> segments = new ArrayList<>();
            int at = 2;
            while (at + 4 <= jpeg.length && (jpeg[at + 1] & 0xff) != 0xda) {
                int marker = jpeg[at + 1] & 0xff;
                int length = (jpeg[at + 2] & 0xff) << 8 | jpeg[at + 3] & 0xff;
                segments.add(new Segment(marker, Arrays.copyOfRange(jpeg, at + 4, at + 2 + length)));
                at += 2 + length;
            }
            return new Parsed(segments, Arrays.copyOfRange(jpeg, at, jpeg.length));
        }

        static byte[] write(List<Segment> segments, byte[] rest) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(0xff);
            out.write(0xd8);
            for (Segment s : segments) {
                out.write(0xff);
                out.write(s.marker());
                out.write(s.length() >> 8 & 0xff);
                out.write(s.length() & 0xff);
                out.writeBytes(s.data());
            }
            out.writeBytes(rest);
            return out.toByteArray();
        }

        static int index(List<Segment> segments, int... markers) {
            for (int i = 0; i < segments.size(); i++) {
                for (int m : markers) {
                    if (segments.get(i).marker() == m) {
                        return i;
                    }
                }
            }
            return -1;
        }

        /** Where each scan (FF DA) starts in {@code rest}. */
        static List<Integer> scans(byte[] rest) {
            List<Integer> out = new ArrayList<>();
            for (int k = 0; k + 1 < rest.length; k++) {
                if ((rest[k] & 0xff) == 0xff && (rest[k + 1] & 0xff) == 0xda) {
                    out.add(k);
                }
            }
            return out;
        }

        static byte[] mutate(byte[] seed, SplittableRandom r, StringBuilder what) {
            Parsed p = parse(seed);
            List<Segment> segments = new ArrayList<>(p.segments());
            byte[] rest = p.rest();
            int sof = index(segments, 0xc0, 0xc1, 0xc2);
            byte[] frame = segments.get(sof).data().clone();
            ByteBuffer f = ByteBuffer.wrap(frame);
            switch (r.nextInt(9)) {
                case 0, 1 -> { // the frame's height and width
                    int hh = r.nextInt(3) == 0 ? f.getShort(1) & 0xffff : (int) Math.min(65535, interesting(r));
                    int w = r.nextInt(3) == 0 ? f.getShort(3) & 0xffff : (int) Math.min(65535, interesting(r));
                    if (r.nextInt(3) == 0) {
                        hh = 4096;
                        w = r.nextInt(32) == 0 ? 4096 : 64;
                    }
                    f.putShort(1, (short) hh).putShort(3, (short) w);
                    segments.set(sof, new Segment(segments.get(sof).marker(), frame));
                    what.append("SOF ").append(w).append('x').append(hh);
                }
                case 2 -> { // precision, components, a component's sampling or table
                    int field = r.nextInt(frame.length);
                    frame[field] = (byte) (r.nextBoolean() ? INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)]
                            : new int[] {0, 1, 2, 3, 4, 5, 12, 16, 255}[r.nextInt(9)]);
                    segments.set(sof, new Segment(segments.get(sof).marker(), frame));
                    what.append("SOF byte ").append(field).append(" = ").append(frame[field] & 0xff);
                }
                case 3 -> { // a segment's length field that lies
                    int at = r.nextInt(segments.size());
                    Segment s = segments.get(at);
                    int[] lies = {0, 1, 2, 3, 0xffff, 0xfffe, s.length() + 1, s.length() - 1, 0x8000};
                    int length = lies[r.nextInt(lies.length)];
                    segments.set(at, new Segment(s.marker(), s.data(), length));
                    what.append(String.format("FF%02X length %d", s.marker(), length));
                }
                case 4 -> { // a segment with a huge length, cut short or not
                    int marker = new int[] {0xe0, 0xe1, 0xe2, 0xed, 0xfe, 0xdb, 0xc4, 0xdd}[r.nextInt(8)];
                    byte[] data = randomBytes(r, r.nextBoolean() ? r.nextInt(100) : 65533);
                    segments.add(r.nextInt(segments.size() + 1), new Segment(marker, data, 0xffff));
                    what.append(String.format("FF%02X of length 65535 with %d bytes", marker, data.length));
                }
                case 5 -> { // scans repeated: up to a few hundred (each scan is a pass over the image)
                    List<Integer> at = scans(rest);
                    int from = at.get(r.nextInt(at.size()));
                    int to = rest.length - 2; // before EOI
                    byte[] scan = Arrays.copyOfRange(rest, from, to);
                    int copies = r.nextBoolean() ? 1 + r.nextInt(10) : 50 + r.nextInt(300);
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    out.write(rest, 0, to);
                    for (int k = 0; k < copies; k++) {
                        out.writeBytes(scan);
                    }
                    out.write(rest, to, rest.length - to);
                    rest = out.toByteArray();
                    what.append(copies).append(" more scans");
                }
                case 6 -> { // a segment removed, or two swapped
                    int at = r.nextInt(segments.size());
                    if (r.nextBoolean()) {
                        what.append(String.format("FF%02X removed", segments.get(at).marker()));
                        segments.remove(at);
                    } else {
                        int other = r.nextInt(segments.size());
                        Segment s = segments.get(at);
                        segments.set(at, segments.get(other));
                        segments.set(other, s);
                        what.append("segments ").append(at).append(" and ").append(other).append(" swapped");
                    }
                }
                case 7 -> { // another frame type: progressive, lossless, arithmetic, hierarchical...
                    int marker = new int[] {0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc9, 0xca, 0xcb, 0xcf}[r.nextInt(9)];
                    segments.set(sof, new Segment(marker, frame));
                    what.append(String.format("SOF marker FF%02X", marker));
                }
                default -> { // bytes of a table or of a scan header changed
                    if (r.nextBoolean()) {
                        int at = index(segments, r.nextBoolean() ? 0xdb : 0xc4);
                        Segment s = segments.get(Math.max(0, at));
                        byte[] d = s.data().clone();
                        for (int k = 0; k < 1 + r.nextInt(4) && d.length > 0; k++) {
                            d[r.nextInt(d.length)] = (byte) r.nextInt(256);
                        }
                        segments.set(Math.max(0, at), new Segment(s.marker(), d));
                        what.append(String.format("FF%02X bytes changed", s.marker()));
                    } else {
                        rest = rest.clone();
                        int n = Math.min(rest.length, 14);
                        rest[r.nextInt(n)] = (byte) INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)];
                        what.append("scan header byte changed");
                    }
                }
            }
            return write(segments, rest);
        }
    }

    // ---------------------------------------------------------------- regression tests of the findings

    private static ImageFormatException rejected(Path file) {
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> ImageFiles.load(List.of(file), SIDE, SIDE, ImageFiles.Invert.AUTO));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    private static byte[] png(int w, int h, int depth, int colourType, byte[] raw, Png.Chunk... before) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) depth).put((byte) colourType);
        List<Png.Chunk> chunks = new ArrayList<>();
        chunks.add(new Png.Chunk("IHDR", ihdr.array()));
        chunks.addAll(List.of(before));
        chunks.add(new Png.Chunk("IDAT", deflate(raw)));
        chunks.add(new Png.Chunk("IEND", new byte[0]));
        return Png.write(chunks);
    }

    /**
     * A 16 KiB PNG declaring 16777216x1 pixels (within the 16-megapixel cap) ran out of memory (4 GB of area-averaging
     * weights, a 28 x width table); a 1x16777216 one took 15 s and did too (16 million row arrays). Sides are now at
     * most 65535, and the weights hold only the pixels each target pixel covers.
     */
    @Test
    void thinImagesWithinThePixelCapAreRejectedOrReadInBoundedMemory() throws IOException {
        int n = 1 << 24;
        Path wide = tmp.resolve("wide.png");
        Files.write(wide, png(n, 1, 8, 0, new byte[n + 1]));
        assertTrue(rejected(wide).getMessage().contains("is 16777216x1 pixels; images of 1 to 65535 pixels a side"),
                rejected(wide).getMessage());
        Path tall = tmp.resolve("tall.png");
        Files.write(tall, png(1, n, 8, 0, new byte[2 * n]));
        assertTrue(rejected(tall).getMessage().contains("is 1x16777216 pixels"), rejected(tall).getMessage());

        // the sample of a wide row (no longer a 28 x 4 million table of 900 MB)
        float[][] row = new float[1][1 << 22];
        Arrays.fill(row[0], 1f);
        long before = allocated();
        float[] sample = ImageFiles.sample(row, SIDE, SIDE, ImageFiles.Invert.NO);
        long bytes = allocated() - before;
        assertTrue(bytes < 64L << 20, "allocated " + bytes + " bytes");
        assertEquals(1f, sample[SIDE * (SIDE - 1) / 2], 1e-6f, "the row is the middle one, white");
        // and the widest image read: 65535x256
        Path widest = tmp.resolve("widest.png");
        Files.write(widest, png(65535, 256, 8, 0, new byte[256 * 65536]));
        ImageDataset d = ImageFiles.load(List.of(widest), SIDE, SIDE, ImageFiles.Invert.NO);
        assertEquals(1, d.size());
    }

    /**
     * A 70 KB progressive JPEG of 4096x4096 pixels with 200 (empty) scans more took about 20 s to decode, about 0.1 s a
     * scan: a 1 MB file of such scans kept the decoder busy for an hour. JPEG files of more than 100 scans are now
     * rejected before the decoder sees them.
     */
    @Test
    void jpegsOfThousandsOfScansAreRejectedBeforeDecoding() throws IOException {
        BufferedImage image = new BufferedImage(4096, 4096, BufferedImage.TYPE_BYTE_GRAY);
        byte[] jpeg = write(image, "jpeg", true);
        Jpeg.Parsed p = Jpeg.parse(jpeg);
        List<Integer> scans = Jpeg.scans(p.rest());
        byte[] last = Arrays.copyOfRange(p.rest(), scans.get(scans.size() - 1), p.rest().length - 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Arrays.copyOf(jpeg, jpeg.length - 2));
        for (int k = 0; k < 10_000; k++) {
            out.writeBytes(last);
        }
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd9});
        Path file = tmp.resolve("scans.jpg");
        Files.write(file, out.toByteArray());
        long t = System.nanoTime();
        ImageFormatException e = rejected(file);
        assertTrue(e.getMessage().endsWith(": has more than 100 scans; such JPEG files are not read (each scan is a pass"
                + " over the whole image)"), e.getMessage());
        assertTrue(System.nanoTime() - t < 10_000_000_000L, "rejected before decoding");
        // the image itself, with its 6 scans, is read
        Path plain = tmp.resolve("plain.jpg");
        Files.write(plain, jpeg);
        assertEquals(1, ImageFiles.load(List.of(plain), SIDE, SIDE, ImageFiles.Invert.NO).size());
    }

    /**
     * A palette PNG (whose metadata the reader parses and keeps, even told to ignore it) of 1,000,000 tEXt chunks, 15
     * MB, took 8 s and 220 MB; PNG files of more than 1000 chunks, or 16 MiB of chunks, before the image data are now
     * rejected before the reader sees them, as is a chunk declaring 2 GB.
     */
    @Test
    void pngsOfManyOrHugeMetadataChunksAreRejectedBeforeReading() throws IOException {
        Png.Chunk plte = new Png.Chunk("PLTE", new byte[] {0, 0, 0, (byte) 255, (byte) 255, (byte) 255});
        Png.Chunk[] many = new Png.Chunk[100_001];
        many[0] = plte;
        Arrays.fill(many, 1, many.length, new Png.Chunk("tEXt", new byte[] {'a', 0, 'b'}));
        Path file = tmp.resolve("text.png");
        Files.write(file, png(1, 1, 8, 3, new byte[2], many));
        long before = allocated();
        assertTrue(rejected(file).getMessage().endsWith(": has more than 1000 chunks before its image data; such PNG"
                + " files are not read"), rejected(file).getMessage());
        assertTrue(allocated() - before < 16L << 20, "allocated " + (allocated() - before));
        Path huge = tmp.resolve("huge-ztxt.png");
        Files.write(huge, png(1, 1, 8, 3, new byte[2], plte, new Png.Chunk("zTXt", new byte[] {'a', 0, 0}, 0x7fff_fff0L)));
        assertTrue(rejected(huge).getMessage().contains("(chunk 2, zTXt, of 2147483632 bytes)"), rejected(huge).getMessage());
        Path fine = tmp.resolve("palette.png");
        Files.write(fine, png(1, 1, 8, 3, new byte[2], plte, new Png.Chunk("tEXt", new byte[] {'a', 0, 'b'})));
        assertEquals(1, ImageFiles.load(List.of(fine), SIDE, SIDE, ImageFiles.Invert.NO).size());
    }

    /** A directory was "cannot be read (no such file)"; it is now named as a directory, and an empty file as empty. */
    @Test
    void directoriesAndEmptyFilesAreNamedAsSuch() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("pictures.png"));
        assertTrue(rejected(dir).getMessage().endsWith(": is a directory, not an image file"), rejected(dir).getMessage());
        Path empty = Files.createFile(tmp.resolve("empty.png"));
        assertTrue(rejected(empty).getMessage().endsWith(": is empty, not a PNG or JPEG image"));
        Path text = tmp.resolve("text.png");
        Files.writeString(text, "not an image\n");
        assertTrue(rejected(text).getMessage().endsWith(": is not a PNG or JPEG image (8 bytes and more)"));
    }
}
