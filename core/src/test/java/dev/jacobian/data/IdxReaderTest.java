package dev.jacobian.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxReaderTest {
    /** Pixels are k/255 in float: the division must be the only rounding. */
    private static final float PIXEL_TOLERANCE = 1e-7f;

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void readsImagesAndLabels(boolean gzip) throws IOException {
        Path dir = IdxFiles.directory(tmp.resolve("d"), 12, 5, gzip);
        String ext = gzip ? ".gz" : "";
        ImageDataset train = IdxReader.load(dir.resolve("train-images-idx3-ubyte" + ext),
                dir.resolve("train-labels-idx1-ubyte" + ext));
        assertEquals("train-images-idx3-ubyte" + ext, train.name());
        assertEquals(12, train.size());
        assertEquals(1, train.channels());
        assertEquals(4, train.height());
        assertEquals(4, train.width());
        assertEquals(16, train.features());
        assertArrayEquals(new int[] {1, 4, 4}, train.sampleShape());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}, train.labels());
        // image 3, pixel 5: (3 * 7 + 5) % 256 = 26
        assertEquals(26, train.pixel(3, 5));
        float[] x = train.floats(0, train.size());
        assertEquals(26 / 255f, x[3 * 16 + 5], PIXEL_TOLERANCE);
        for (float v : x) {
            assertTrue(v >= 0f && v <= 1f, "pixel " + v + " outside [0, 1]");
        }
        ImageDataset test = IdxReader.load(dir.resolve("t10k-images-idx3-ubyte" + ext),
                dir.resolve("t10k-labels-idx1-ubyte" + ext));
        assertEquals(5, test.size());
        ImageDataset unlabelled = IdxReader.loadImages(dir.resolve("t10k-images-idx3-ubyte" + ext));
        assertArrayEquals(new int[5], unlabelled.labels());
        assertArrayEquals(test.floats(0, 5), unlabelled.floats(0, 5));
    }

    /** Labels up to {@code classes - 1} load with a class count above ten; the default stays MNIST's ten. */
    @Test
    void classCountBoundsTheLabels() throws IOException {
        Path images = tmp.resolve("i");
        Path labels = tmp.resolve("l");
        Files.write(images, IdxFiles.images(3, 2, 2));
        Files.write(labels, IdxFiles.idx(new int[] {3}, new byte[] {25, 0, 12}));
        assertArrayEquals(new int[] {25, 0, 12}, IdxReader.load(images, labels, 26).labels());
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.load(images, labels, 25));
        assertEquals(labels + ": label 25 of sample 0 is outside 0..24", e.getMessage());
        assertThrows(IdxFormatException.class, () -> IdxReader.load(images, labels));
        assertThrows(IllegalArgumentException.class, () -> IdxReader.load(images, labels, 0));
        assertThrows(IllegalArgumentException.class, () -> IdxReader.load(images, labels, 257));
    }

    @Test
    void gzipIsDetectedByMagicNotName() throws IOException {
        Path images = tmp.resolve("images.bin");
        Path labels = tmp.resolve("labels.bin");
        Files.write(images, IdxFiles.gzip(IdxFiles.images(3, 2, 2)));
        Files.write(labels, IdxFiles.labels(3));
        assertEquals(3, IdxReader.load(images, labels).size());
    }

    @Test
    void truncatedDataNamesFileAndSizes() throws IOException {
        byte[] full = IdxFiles.images(10, 4, 4);
        Path images = tmp.resolve("train-images-idx3-ubyte");
        Files.write(images, Arrays.copyOf(full, full.length - 7));
        Path labels = tmp.resolve("train-labels-idx1-ubyte");
        Files.write(labels, IdxFiles.labels(10));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.load(images, labels));
        assertTrue(e.getMessage().startsWith(images.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("160"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void truncatedHeader() throws IOException {
        Path images = tmp.resolve("i");
        Files.write(images, Arrays.copyOf(IdxFiles.images(10, 4, 4), 9));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedGzipStream() throws IOException {
        byte[] gz = IdxFiles.gzip(IdxFiles.images(50, 4, 4));
        Path images = tmp.resolve("i.gz");
        Files.write(images, Arrays.copyOf(gz, gz.length / 2));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
        assertTrue(e.getMessage().startsWith(images.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptGzip() throws IOException {
        byte[] gz = IdxFiles.gzip(IdxFiles.images(50, 4, 4));
        for (int i = 20; i < gz.length - 10; i++) {
            gz[i] = (byte) 0xAA;
        }
        Path images = tmp.resolve("i.gz");
        Files.write(images, gz);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
        assertTrue(e.getMessage().startsWith(images.toString()), e.getMessage());
    }

    @Test
    void badMagic() throws IOException {
        byte[] bytes = IdxFiles.images(2, 4, 4);
        bytes[0] = 0x50;
        bytes[1] = 0x4b;
        Path images = tmp.resolve("i");
        Files.write(images, bytes);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
        assertTrue(e.getMessage().contains("bad magic number 0x504b"), e.getMessage());
    }

    @Test
    void labelFileWhereImagesBelong() throws IOException {
        Path images = tmp.resolve("i");
        Files.write(images, IdxFiles.labels(4));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
        assertTrue(e.getMessage().contains("has 1 dimensions, expected 3"), e.getMessage());
    }

    @Test
    void countMismatchNamesBothFiles() throws IOException {
        Path images = tmp.resolve("train-images-idx3-ubyte");
        Path labels = tmp.resolve("train-labels-idx1-ubyte");
        Files.write(images, IdxFiles.images(10, 4, 4));
        Files.write(labels, IdxFiles.labels(9));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.load(images, labels));
        assertEquals(labels + ": has 9 labels but train-images-idx3-ubyte has 10 images", e.getMessage());
    }

    @Test
    void labelOutOfRange() throws IOException {
        Path images = tmp.resolve("i");
        Path labels = tmp.resolve("l");
        Files.write(images, IdxFiles.images(3, 4, 4));
        Files.write(labels, IdxFiles.idx(new int[] {3}, new byte[] {1, 12, 2}));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.load(images, labels));
        assertTrue(e.getMessage().contains("label 12 of sample 1"), e.getMessage());
    }

    @Test
    void trailingBytes() throws IOException {
        byte[] full = IdxFiles.images(2, 4, 4);
        Path images = tmp.resolve("i");
        Files.write(images, Arrays.copyOf(full, full.length + 3));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
        assertTrue(e.getMessage().contains("bytes after"), e.getMessage());
    }

    @Test
    void aDirectoryIsNamedAsOne() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("train-images-idx3-ubyte.gz"));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(dir));
        assertEquals(dir + ": is a directory, not an IDX file", e.getMessage()); // was "cannot be read (...Is a directory)"
    }

    @Test
    void aNamedPipeIsRefusedInsteadOfBlocking() throws Exception {
        Path fifo = tmp.resolve("train-labels-idx1-ubyte");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no mkfifo here: " + e.getMessage());
            return;
        }
        Assumptions.assumeTrue(mkfifo.waitFor() == 0 && Files.exists(fifo), "mkfifo failed");
        // before: open() blocked until a writer came (the test would time out)
        IdxFormatException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> assertThrows(IdxFormatException.class, () -> IdxReader.read(fifo, 1)));
        assertEquals(fifo + ": is not a regular file (a pipe or a device?), so not an IDX file", e.getMessage());
    }

    @Test
    void missingFile() {
        Path images = tmp.resolve("nope-images-idx3-ubyte.gz");
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
        assertEquals(images + ": file not found", e.getMessage());
    }

    /**
     * A real gzip file's data is read into one array of its size: the array that started at 64 KiB and doubled as
     * bytes arrived allocated about twice the data (about 64 MB of copies for Fashion-MNIST's training images, which
     * the old generation kept).
     */
    @Test
    void aGzipFileIsReadIntoOneArrayOfItsSize() throws IOException {
        byte[] pixels = new byte[200 * 50 * 100];
        new java.util.Random(3).nextBytes(pixels); // incompressible: the file is about as large as its data
        Path gz = tmp.resolve("big-images-idx3-ubyte.gz");
        Files.write(gz, IdxFiles.gzip(IdxFiles.idx(new int[] {200, 50, 100}, pixels)));
        IdxReader.read(gz, 3); // loads the classes, so that the measure below is the read's alone
        long before = allocated();
        IdxReader.IdxData d = IdxReader.read(gz, 3);
        long allocated = allocated() - before;
        assertArrayEquals(pixels, d.data());
        assertTrue(allocated < pixels.length * 5L / 4, "allocated " + allocated + " bytes for " + pixels.length);
    }

    /**
     * Before: a file that starts with the gzip magic but whose gzip header is corrupt was reported, but the
     * {@code GZIPInputStream} constructor threw before the stream reached the try-with-resources, so the file's
     * handle stayed open: one leaked descriptor per read.
     */
    @Test
    void aCorruptGzipHeaderLeavesNoFileOpen() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        Assumptions.assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd to count open files");
        Path images = tmp.resolve("bad-header.gz");
        Files.write(images, new byte[] {0x1f, (byte) 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3});
        long before = openFiles(fds);
        for (int i = 0; i < 50; i++) {
            IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.loadImages(images));
            assertTrue(e.getMessage().startsWith(images.toString()), e.getMessage());
        }
        long after = openFiles(fds);
        assertTrue(after - before < 10, (after - before) + " files left open by 50 reads");
    }

    private static long openFiles(Path fds) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(fds)) {
            return s.count();
        }
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }
}
