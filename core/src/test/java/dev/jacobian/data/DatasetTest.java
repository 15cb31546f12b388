package dev.jacobian.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The in-memory sets, their views, the seeded split and the epoch orders. */
class DatasetTest {
    @Test
    void coreAloneFindsNoPixelConverterAndConvertsWithItsOwnLoops() {
        // core's tests have no backend on the class path: every image conversion in them checks the loops
        assertEquals("none", ImageDataset.converterName());
    }

    /** A float set of {@code n} one-value samples whose value is the sample's index, labels {@code i % 10}. */
    static FloatDataset numbered(int n) {
        float[] x = new float[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i] = i % 10;
        }
        return new FloatDataset("numbered", x, y, 1);
    }

    /** The sample indices of {@code d}'s samples (their one value, see {@link #numbered}). */
    static int[] ids(Dataset d) {
        float[] x = d.floats(0, d.size());
        int[] ids = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            ids[i] = (int) x[i];
        }
        return ids;
    }

    /**
     * Every byte value gives, bit for bit, the float the whole-set conversion the command line used before gave
     * ({@code (b & 0xff) / 255f}, one division per pixel), in the set, through a view and in {@code floats}.
     */
    @Test
    void byteImagesGiveTheFloatsOfTheOldConversion() {
        byte[] px = new byte[256 * 2];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 7 + 3);
        }
        int[] labels = new int[32];
        ImageDataset images = new ImageDataset("all-bytes", px, labels, 1, 4, 4);
        float[] old = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            old[i] = (px[i] & 0xff) / 255f;
        }
        float[] x = images.floats(0, images.size());
        float[] one = new float[16];
        for (int i = 0; i < px.length; i++) {
            assertEquals(Float.floatToRawIntBits(old[i]), Float.floatToRawIntBits(x[i]), "pixel " + i);
        }
        for (int s = 0; s < images.size(); s++) {
            images.copyFeatures(s, one, 0);
            assertArrayEquals(Arrays.copyOfRange(old, s * 16, s * 16 + 16), one, 0f, "sample " + s);
        }
        int[] pick = {31, 0, 7, 7};
        ImageDataset view = images.subset(pick, "picked");
        float[] v = view.floats(0, pick.length);
        for (int j = 0; j < pick.length; j++) {
            assertArrayEquals(Arrays.copyOfRange(old, pick[j] * 16, pick[j] * 16 + 16),
                    Arrays.copyOfRange(v, j * 16, j * 16 + 16), 0f, "view sample " + j);
        }
        // all 256 byte values occur, so 0 and 255 map to the ends
        assertEquals(0f, x[findByte(px, 0)]);
        assertEquals(1f, x[findByte(px, 255)]);
    }

    /**
     * The batch read ({@link Dataset#copyFeatures(int[], int, int, float[], int)}) writes, bit for bit, what reading
     * the samples one by one writes, for images (several prefetch groups of 28x28 rows, every byte value), float sets,
     * views and a set of another kind, and nothing outside its range of {@code dst}: images through the faster path
     * give exactly the floats of the division by 255 of {@link #byteImagesGiveTheFloatsOfTheOldConversion}.
     */
    @Test
    void batchReadsEqualOneByOne() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        int n = 300;
        byte[] px = new byte[n * 784];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i % 256 ^ i / 784); // every image holds each of the 256 byte values
        }
        float[] values = new float[n * 3];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        int[] labels = new int[n];
        ImageDataset images = new ImageDataset("images", px, labels, 1, 28, 28);
        FloatDataset floats = new FloatDataset("floats", values, labels, 3);
        int[] order = new int[260];
        for (int i = 0; i < order.length; i++) {
            order[i] = rnd.nextInt(100); // repeats included
        }
        Dataset generic = squares();
        int[] genericOrder = {5, 0, 3, 3, 1};
        for (Dataset d : new Dataset[] {images, images.subset(range(120, 5), "v").subset(range(115, 0), "w"), floats,
                floats.subset(range(120, 7), "fv"), generic, generic.subset(new int[] {5, 4, 3, 2, 1, 0}, "gv")}) {
            int[] idx = d.size() == 6 ? genericOrder : order;
            int from = 2;
            int count = idx.length - 3;
            int f = d.features();
            float[] batch = new float[count * f + 9];
            Arrays.fill(batch, Float.NaN);
            d.copyFeatures(idx, from, count, batch, 4);
            float[] one = new float[f];
            for (int i = 0; i < count; i++) {
                d.copyFeatures(idx[from + i], one, 0);
                for (int k = 0; k < f; k++) {
                    assertEquals(Float.floatToRawIntBits(one[k]), Float.floatToRawIntBits(batch[4 + i * f + k]),
                            d.name() + ": sample " + i + ", value " + k);
                }
            }
            for (int k : new int[] {0, 1, 2, 3, batch.length - 5, batch.length - 1}) {
                assertTrue(Float.isNaN(batch[k]), d.name() + ": wrote outside its range at " + k);
            }
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> d.copyFeatures(new int[] {0, d.size()}, 0, 2, new float[2 * f], 0));
            assertTrue(e.getMessage().contains(d.name()) || d == generic, e.getMessage());
            e = assertThrows(IndexOutOfBoundsException.class, () -> d.copyFeatures(idx, 0, 2, new float[2 * f - 1], 0));
            assertTrue(e.getMessage().contains(d.name()), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> d.copyFeatures(idx, idx.length - 1, 2, batch, 0));
        }
    }

    /** {@code [first, first + 1, ..., n - 1]} shuffled by a fixed rotation: a view's indices. */
    private static int[] range(int n, int first) {
        int[] r = new int[n - first];
        for (int i = 0; i < r.length; i++) {
            r[i] = first + (i * 7) % r.length;
        }
        return r;
    }

    private static int findByte(byte[] px, int value) {
        for (int i = 0; i < px.length; i++) {
            if ((px[i] & 0xff) == value) {
                return i;
            }
        }
        throw new AssertionError("byte " + value + " missing");
    }

    /** A range of samples as rows of bytes: the same floats as the samples read as floats, on a view too. */
    @Test
    void byteRowsOfARangeStandForItsSamples() {
        byte[] px = new byte[40 * 12];
        new java.util.SplittableRandom(2).nextBytes(px);
        ImageDataset images = new ImageDataset("rows", px, new int[40], 1, 3, 4);
        ImageDataset view = images.subset(new int[] {39, 3, 17, 17, 0}, "rows view");
        for (ImageDataset d : java.util.List.of(images, view)) {
            ByteRows rows = d.byteRows(1, 4);
            assertEquals(4, rows.rows());
            assertEquals(12, rows.rowLength());
            assertSame(px, rows.source(), "read in place");
            float[] fromBytes = new float[4 * 12];
            rows.toFloats(fromBytes, 0);
            float[] floats = new float[4 * 12];
            for (int i = 0; i < 4; i++) {
                d.copyFeatures(1 + i, floats, i * 12);
            }
            assertArrayEquals(floats, fromBytes, 0f, d.name());
        }
        assertThrows(IndexOutOfBoundsException.class, () -> view.byteRows(2, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> images.byteRows(-1, 2));
    }

    @Test
    void imageShapeAndPixels() {
        byte[] px = new byte[2 * 3 * 2 * 5];
        px[1 * 30 + 29] = (byte) 200;
        ImageDataset d = new ImageDataset("rgbish", px, new int[] {4, 9}, 3, 2, 5);
        assertArrayEquals(new int[] {3, 2, 5}, d.sampleShape());
        assertEquals(30, d.features());
        assertEquals(3, d.channels());
        assertEquals(2, d.height());
        assertEquals(5, d.width());
        assertEquals(200, d.pixel(1, 29));
        assertEquals(10, d.classCount());
        assertThrows(IndexOutOfBoundsException.class, () -> d.pixel(2, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.pixel(0, 30));
        assertThrows(IndexOutOfBoundsException.class, () -> d.label(2));
        assertThrows(IndexOutOfBoundsException.class, () -> d.copyFeatures(0, new float[29], 0));
    }

    @Test
    void inconsistentArraysAreRejectedNamingTheSet() {
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> new ImageDataset("imgs", new byte[15], new int[1], 1, 4, 4));
        assertEquals("imgs: 1 labels need 16 pixels (16 per sample), got 15", count.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> new FloatDataset("floats", new float[4], new int[] {0, -1}, 2));
        assertEquals("floats: label -1 of sample 1 is negative", negative.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> new FloatDataset("shapeless", new float[0], new int[0], 3, 0));
        assertTrue(shape.getMessage().startsWith("shapeless: sample shape [3, 0]"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FloatDataset("none", new float[0], new int[0]));
        assertThrows(IllegalArgumentException.class,
                () -> new ImageDataset("huge", new byte[0], new int[0], 65536, 65536, 1));
    }

    @Test
    void viewsSelectWithoutCopying() {
        float[] x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        int[] y = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        FloatDataset all = new FloatDataset("ten", x, y, 1);
        FloatDataset odd = all.subset(new int[] {1, 3, 5, 7, 9}, "odd");
        assertEquals("odd", odd.name());
        assertArrayEquals(new int[] {1, 3, 5, 7, 9}, ids(odd));
        assertArrayEquals(new int[] {1, 3, 5, 7, 9}, odd.labels());
        FloatDataset twoOdd = odd.head(2);
        assertEquals("odd", twoOdd.name());
        assertArrayEquals(new int[] {1, 3}, ids(twoOdd));
        FloatDataset again = odd.subset(new int[] {4, 0, 4}, "again"); // a view of a view, repeats allowed
        assertArrayEquals(new int[] {9, 1, 9}, ids(again));
        assertArrayEquals(new int[] {9, 1, 9}, again.labels());
        assertEquals(10, all.head(99).size());
        x[9] = 99; // the views share the values
        assertEquals(99f, again.floats(0, 1)[0]);
        IndexOutOfBoundsException out = assertThrows(IndexOutOfBoundsException.class,
                () -> odd.subset(new int[] {0, 5}, "bad"));
        assertEquals("odd: index 5 at position 1 is outside the 5 samples", out.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> odd.label(5));
        assertThrows(IndexOutOfBoundsException.class, () -> odd.floats(3, 3));
        assertThrows(IllegalArgumentException.class, () -> odd.head(-1));
        int[] indices = {0, 1};
        FloatDataset copied = all.subset(indices, "copied");
        indices[0] = 5; // the view keeps its own copy of the indices
        assertArrayEquals(new int[] {0, 1}, ids(copied));
        int[] labels = all.labels();
        labels[0] = 7; // labels() is a copy
        assertEquals(0, all.label(0));
    }

    /** A set of another kind gets the generic index view, which reads its base directly even as a view of a view. */
    @Test
    void genericViewsOfOtherSets() {
        Dataset squares = squares();
        Dataset view = squares.subset(new int[] {5, 2, 4}, "v").subset(new int[] {2, 0}, "w");
        assertEquals("w", view.name());
        assertArrayEquals(new float[] {4, 16, 5, 25}, view.floats(0, 2), 0f);
        assertArrayEquals(new int[] {0, 1}, view.labels());
        assertArrayEquals(new int[] {2}, view.sampleShape());
        assertEquals(2, view.classCount());
        assertThrows(IndexOutOfBoundsException.class, () -> squares.subset(new int[] {6}, "bad"));
        Split<Dataset> split = Split.holdOut(squares, 2, 1);
        assertEquals(4, split.train().size());
        assertEquals("squares (validation)", split.validation().name());
    }

    /** A set of another kind than this package's: six samples {@code (i, i * i)}, labels {@code i % 2}. */
    private static Dataset squares() {
        return new Dataset() {
            @Override
            public String name() {
                return "squares";
            }

            @Override
            public int size() {
                return 6;
            }

            @Override
            public int[] sampleShape() {
                return new int[] {2};
            }

            @Override
            public int features() {
                return 2;
            }

            @Override
            public int label(int index) {
                return index % 2;
            }

            @Override
            public void copyFeatures(int index, float[] dst, int dstOffset) {
                dst[dstOffset] = java.util.Objects.checkIndex(index, 6);
                dst[dstOffset + 1] = index * index;
            }
        };
    }

    @Test
    void splitIsSeededDisjointAndCovering() {
        FloatDataset all = numbered(1000);
        Split<FloatDataset> a = Split.holdOut(all, 200, 7);
        Split<FloatDataset> b = Split.holdOut(all, 200, 7);
        Split<FloatDataset> c = Split.holdOut(all, 200, 8);
        assertEquals(800, a.train().size());
        assertEquals(200, a.validation().size());
        assertEquals("numbered (train part)", a.train().name());
        assertEquals("numbered (validation)", a.validation().name());
        assertArrayEquals(ids(a.validation()), ids(b.validation()), "same seed, same split");
        assertFalse(Arrays.equals(ids(a.validation()), ids(c.validation())), "another seed, another split");
        Set<Integer> seen = new HashSet<>();
        for (FloatDataset part : java.util.List.of(a.train(), a.validation())) {
            int[] ids = ids(part);
            int[] sorted = ids.clone();
            Arrays.sort(sorted);
            assertArrayEquals(sorted, ids, part.name() + " keeps the set's order");
            for (int i = 0; i < ids.length; i++) {
                assertTrue(seen.add(ids[i]), "sample " + ids[i] + " in both parts");
                assertEquals(ids[i] % 10, part.label(i), "labels follow their samples");
            }
        }
        assertEquals(1000, seen.size(), "the parts cover the set");
        assertEquals(1000, Split.holdOut(all, 0, 7).train().size());
        assertEquals(0, Split.holdOut(all, 0, 7).validation().size());
        assertThrows(IllegalArgumentException.class, () -> Split.holdOut(all, 1000, 7));
        assertThrows(IllegalArgumentException.class, () -> Split.holdOut(all, -1, 7));
    }

    /** The split of an image set is image views of its pixels (their type, height and width kept). */
    @Test
    void splitOfImagesKeepsImages() {
        byte[] px = new byte[10 * 4];
        for (int i = 0; i < 10; i++) {
            px[i * 4] = (byte) i;
        }
        ImageDataset images = new ImageDataset("imgs", px, new int[10], 1, 2, 2);
        Split<ImageDataset> s = Split.holdOut(images, 3, 42);
        assertEquals(2, s.train().height());
        assertEquals(3, s.validation().size());
        assertEquals(7, s.train().size());
    }

    /**
     * The split and the epoch orders are the ones the command line drew before they moved into the library
     * (values printed by its {@code Shuffling} at commit a25236b), so a run with the same seed sees the same samples.
     */
    @Test
    void splitAndEpochOrdersMatchTheCommandLineBeforeTheMove() {
        FloatDataset all = numbered(20);
        assertArrayEquals(new int[] {2, 3, 4, 10, 13}, ids(Split.holdOut(all, 5, 42).validation()));
        assertArrayEquals(new int[] {11, 3, 5, 6, 16, 10, 7, 15, 9, 4, 17, 0, 12, 14, 8, 19, 1, 2, 18, 13},
                Shuffling.epochOrder(42, 1, 20));
        assertArrayEquals(new int[] {11, 12, 15, 10, 3, 14, 13, 1, 6, 9, 7, 8, 5, 2, 0, 4, 19, 18, 17, 16},
                Shuffling.epochOrder(42, 2, 20));
    }

    @Test
    void epochOrderDependsOnlyOnSeedAndEpoch() {
        assertArrayEquals(Shuffling.epochOrder(42, 3, 1000), Shuffling.epochOrder(42, 3, 1000));
        assertFalse(Arrays.equals(Shuffling.epochOrder(42, 3, 1000), Shuffling.epochOrder(42, 4, 1000)));
        assertFalse(Arrays.equals(Shuffling.epochOrder(42, 3, 1000), Shuffling.epochOrder(43, 3, 1000)));
        int[] sorted = Shuffling.epochOrder(42, 3, 1000).clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        assertEquals(0, Shuffling.permutation(0, Shuffling.random(1, 2)).length);
        assertThrows(IllegalArgumentException.class, () -> Shuffling.permutation(-1, Shuffling.random(1, 2)));
    }
}
