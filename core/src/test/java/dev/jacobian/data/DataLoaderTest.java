package dev.jacobian.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The seeded, prefetching {@link DataLoader}: orders, coverage, buffers, its thread and its failures. */
class DataLoaderTest {
    /** How long a test waits for a loader's thread to reach a state before it fails. */
    private static final long WAIT_MS = 10_000;
    /** One float rounding of a sum of a pixel in [0, 1] and a whole number below 100. */
    private static final float SUM_TOLERANCE = 1e-5f;

    /**
     * Images of {@code n} samples of 2x3 pixels whose first pixel is {@code i % 251} and the rest {@code i / 251}
     * and a constant, so that every sample's floats identify it; labels {@code i % 7}.
     */
    private static ImageDataset images(String name, int n) {
        byte[] px = new byte[n * 6];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            px[i * 6] = (byte) (i % 251);
            px[i * 6 + 1] = (byte) (i / 251);
            px[i * 6 + 5] = (byte) 200;
            y[i] = i % 7;
        }
        return new ImageDataset(name, px, y, 1, 2, 3);
    }

    /** One-hot rows of seven classes, as {@code Model.encodeTargets} makes them for dense-target losses. */
    private static float[] oneHot(int[] labels) {
        float[] t = new float[labels.length * 7];
        for (int i = 0; i < labels.length; i++) {
            t[i * 7 + labels[i]] = 1f;
        }
        return t;
    }

    /** Every batch of epoch {@code epoch}, copied. */
    private static List<Batch> epoch(DataLoader loader, int epoch) {
        List<Batch> out = new ArrayList<>();
        try (DataLoader.Epoch batches = loader.epoch(epoch)) {
            for (Batch b : batches) {
                out.add(b.copy());
            }
        }
        return out;
    }

    private static int[] indices(List<Batch> batches) {
        return batches.stream().flatMapToInt(b -> Arrays.stream(b.indices())).toArray();
    }

    /** The live threads of the loader over the set called {@code name}. */
    private static List<Thread> loaderThreads(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("jacobian-data-loader[" + name + "]") && t.isAlive()).toList();
    }

    private static void awaitNoLoaderThread(String name) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!loaderThreads(name).isEmpty() && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertEquals(List.of(), loaderThreads(name), "the loader's thread is still running");
    }

    @Test
    void sameSeedSameBatchesAndEpochsDiffer() {
        ImageDataset data = images("seeded", 300);
        try (DataLoader a = DataLoader.builder(data).batchSize(16).shuffle(42).build();
             DataLoader b = DataLoader.builder(data).batchSize(16).shuffle(42).prefetch(2).build();
             DataLoader c = DataLoader.builder(data).batchSize(16).shuffle(43).build()) {
            List<int[]> orders = new ArrayList<>();
            for (int e = 1; e <= 3; e++) {
                List<Batch> x = epoch(a, e);
                List<Batch> y = epoch(b, e);
                assertEquals(x.size(), y.size());
                for (int i = 0; i < x.size(); i++) {
                    assertArrayEquals(x.get(i).indices(), y.get(i).indices(), "epoch " + e + " batch " + i);
                    assertArrayEquals(x.get(i).features(), y.get(i).features(), 0f, "epoch " + e + " batch " + i);
                    assertEquals(e, x.get(i).epoch());
                    assertEquals(i, x.get(i).index());
                }
                assertArrayEquals(Shuffling.epochOrder(42, e, 300), indices(x), "the order is Shuffling.epochOrder's");
                assertFalse(Arrays.equals(indices(x), indices(epoch(c, e))), "another seed, another order");
                orders.add(indices(x));
            }
            assertFalse(Arrays.equals(orders.get(0), orders.get(1)), "epochs 1 and 2 differ");
            assertFalse(Arrays.equals(orders.get(1), orders.get(2)), "epochs 2 and 3 differ");
            assertArrayEquals(orders.get(1), indices(epoch(a, 2)), "an epoch read again is the same");
        }
    }

    /** Every sample exactly once per epoch, its floats, label and encoded target in its row; the last batch smaller. */
    @ParameterizedTest(name = "prefetch {0}")
    @ValueSource(ints = {0, 1, 2})
    void everySampleExactlyOncePerEpoch(int prefetch) {
        ImageDataset data = images("coverage", 103);
        float[] all = data.floats(0, data.size());
        float[] targets = oneHot(data.labels());
        try (DataLoader loader = DataLoader.builder(data).batchSize(10).shuffle(7).prefetch(prefetch)
                .targets(DataLoaderTest::oneHot).build()) {
            assertEquals(11, loader.batchesPerEpoch());
            assertEquals(7, loader.targetColumns());
            for (int e = 1; e <= 2; e++) {
                List<Batch> batches = epoch(loader, e);
                assertEquals(11, batches.size());
                assertEquals(3, batches.get(10).rows(), "the last batch holds the remainder");
                int[] seen = new int[data.size()];
                for (Batch b : batches) {
                    for (int i = 0; i < b.rows(); i++) {
                        int s = b.indices()[i];
                        seen[s]++;
                        assertArrayEquals(Arrays.copyOfRange(all, s * 6, s * 6 + 6),
                                Arrays.copyOfRange(b.features(), i * 6, i * 6 + 6), 0f, "sample " + s);
                        assertEquals(data.label(s), b.labels()[i]);
                        assertArrayEquals(Arrays.copyOfRange(targets, s * 7, s * 7 + 7),
                                Arrays.copyOfRange(b.targets(), i * 7, i * 7 + 7), 0f, "targets of sample " + s);
                    }
                }
                for (int s = 0; s < seen.length; s++) {
                    assertEquals(1, seen[s], "sample " + s + " in epoch " + e);
                }
            }
        }
    }

    @Test
    void dropLastSkipsTheRemainder() {
        ImageDataset data = images("drop", 103);
        try (DataLoader loader = DataLoader.builder(data).batchSize(10).shuffle(3).dropLast(true).build()) {
            assertEquals(10, loader.batchesPerEpoch());
            List<Batch> batches = epoch(loader, 4);
            assertEquals(10, batches.size());
            batches.forEach(b -> assertEquals(10, b.rows()));
            int[] order = loader.order(4);
            assertArrayEquals(Arrays.copyOf(order, 100), indices(batches), "the first 100 of the order, in batches");
            assertEquals(100, Arrays.stream(indices(batches)).distinct().count());
        }
        try (DataLoader small = DataLoader.builder(images("tiny", 5)).batchSize(10).dropLast(true).build()) {
            assertEquals(0, small.batchesPerEpoch());
            DataLoader.Epoch none = small.epoch(1);
            assertFalse(none.hasNext());
            assertThrows(NoSuchElementException.class, none::next);
        }
    }

    @Test
    void withoutShuffleTheSamplesComeInOrder() {
        try (DataLoader loader = DataLoader.builder(images("ordered", 25)).batchSize(4).noShuffle().build()) {
            int[] expected = new int[25];
            Arrays.setAll(expected, i -> i);
            assertArrayEquals(expected, indices(epoch(loader, 1)));
            assertArrayEquals(expected, indices(epoch(loader, 2)));
        }
    }

    /**
     * A transform drawing from a random stream made per epoch gives the same batches with or without prefetching, and
     * sees the samples' floats.
     */
    @Test
    void transformsAreAppliedInOrderWhateverThePrefetch() {
        ImageDataset data = images("transformed", 64);
        List<List<Batch>> runs = new ArrayList<>();
        for (int prefetch = 0; prefetch <= DataLoader.MAX_PREFETCH; prefetch++) {
            try (DataLoader loader = DataLoader.builder(data).batchSize(8).shuffle(9).prefetch(prefetch)
                    .transform(e -> {
                        SplittableRandom r = new SplittableRandom(e);
                        return (src, so, dst, d) -> {
                            float noise = r.nextInt(100);
                            for (int k = 0; k < 6; k++) {
                                dst[d + k] = src[so + k] + noise;
                            }
                        };
                    }).build()) {
                List<Batch> batches = epoch(loader, 2);
                batches.addAll(epoch(loader, 3));
                runs.add(batches);
            }
        }
        for (List<Batch> run : runs.subList(1, runs.size())) {
            for (int i = 0; i < run.size(); i++) {
                assertArrayEquals(runs.get(0).get(i).features(), run.get(i).features(), 0f, "batch " + i);
            }
        }
        Batch first = runs.get(0).get(0);
        float noise = first.features()[5] - 200 / 255f; // the last pixel is 200 in every sample
        assertEquals(Math.round(noise), noise, SUM_TOLERANCE, "the transform got the sample's floats");
    }

    /**
     * The loader fills prefetch + 1 batches in turn, and a batch it returned stays as it was while the caller holds it,
     * however long the thread has to fill the others (and whether the used batches go back one by one or in groups).
     */
    @ParameterizedTest(name = "prefetch {0}")
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void aReturnedBatchIsNotOverwrittenUntilTheNextCall(int prefetch) throws InterruptedException {
        ImageDataset data = images("buffers", 200);
        float[] all = data.floats(0, data.size());
        DataLoader.Builder builder = DataLoader.builder(data).batchSize(10).shuffle(1);
        try (DataLoader loader = (prefetch == 1 ? builder : builder.prefetch(prefetch)).build();
             DataLoader.Epoch batches = loader.epoch(1)) {
            Map<Batch, Boolean> distinct = new IdentityHashMap<>();
            Batch previous = null;
            while (batches.hasNext()) {
                Batch b = batches.next();
                assertNotSame(previous, b, "two batches in a row share no arrays");
                distinct.put(b, true);
                if (b.index() % 5 == 0) {
                    Thread.sleep(20); // the thread has all the time it needs to fill what it may
                }
                for (int i = 0; i < b.rows(); i++) {
                    int s = b.indices()[i];
                    assertArrayEquals(Arrays.copyOfRange(all, s * 6, s * 6 + 6),
                            Arrays.copyOfRange(b.features(), i * 6, i * 6 + 6), 0f, "batch " + b.index());
                }
                previous = b;
            }
            assertEquals(prefetch + 1, distinct.size(), "prefetch 1 (the default): double buffering");
        }
    }

    /**
     * Used batches go back to the epoch's thread in groups of half the prefetch (rounded up), so that the caller wakes
     * that thread once per group; every batch still arrives, in order, and the thread ends with the epoch.
     */
    @ParameterizedTest(name = "prefetch {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 8})
    void usedBatchesGoBackInGroups(int prefetch) throws InterruptedException {
        int group = Math.max(1, (prefetch + 1) / 2);
        assertEquals(group, DataLoader.handBackEvery(prefetch));
        ImageDataset data = images("groups", 370);
        try (DataLoader loader = DataLoader.builder(data).batchSize(10).noShuffle().prefetch(prefetch).build()) {
            for (int e = 1; e <= 2; e++) {
                try (DataLoader.Epoch batches = loader.epoch(e)) {
                    int index = 0;
                    while (batches.hasNext()) {
                        Batch b = batches.next();
                        assertEquals(index, b.index());
                        assertEquals(10 * index, b.indices()[0]);
                        // next() number i (from 0) hands back the batch of call i - 1: i used batches by now
                        assertEquals(index / group, batches.handBacks(), "after batch " + index);
                        index++;
                    }
                    assertEquals(37, index);
                }
            }
            awaitNoLoaderThread("groups");
        }
    }

    /**
     * Gathered between the steps in ranges of rows on a runner's threads ({@code gatherOn}): the same batches as one
     * gather on the caller, whatever order and threads the tasks run in; batches too small to split go whole; and the
     * runner is refused beside a loader's thread.
     */
    @Test
    void batchesGatheredOnARunnersThreadsAreTheSame() {
        ImageDataset data = images("gathered", 300);
        List<Batch> plain;
        try (DataLoader loader = DataLoader.builder(data).batchSize(40).shuffle(11).prefetch(0)
                .targets(DataLoaderTest::oneHot).build()) {
            plain = epoch(loader, 3);
        }
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger tasksRun = new AtomicInteger();
        DataLoader.TaskRunner backwardsInParallel = (tasks, body) -> {
            calls.incrementAndGet();
            IntStream.range(0, tasks).map(t -> tasks - 1 - t).parallel().forEach(t -> {
                tasksRun.incrementAndGet();
                body.accept(t);
            });
        };
        try (DataLoader loader = DataLoader.builder(data).batchSize(40).shuffle(11).prefetch(0)
                .targets(DataLoaderTest::oneHot).gatherOn(3, backwardsInParallel).build()) {
            List<Batch> gathered = epoch(loader, 3);
            assertEquals(plain.size(), gathered.size());
            for (int i = 0; i < plain.size(); i++) {
                assertArrayEquals(plain.get(i).features(), gathered.get(i).features(), 0f, "batch " + i);
                assertArrayEquals(plain.get(i).targets(), gathered.get(i).targets(), 0f, "targets of batch " + i);
                assertArrayEquals(plain.get(i).labels(), gathered.get(i).labels(), "labels of batch " + i);
            }
        }
        // 8 batches of 40 rows (the last of 20): 3 tasks each, but 2 for the last (rows / MIN_GATHER_ROWS)
        assertEquals(8, calls.get());
        assertEquals(7 * 3 + 2, tasksRun.get());
        calls.set(0);
        try (DataLoader loader = DataLoader.builder(data).batchSize(DataLoader.MIN_GATHER_ROWS + 7).prefetch(0)
                .gatherOn(4, backwardsInParallel).build()) {
            epoch(loader, 1);
        }
        assertEquals(0, calls.get(), "a batch of fewer than twice the least rows of a task is gathered whole");
        assertThrows(IllegalStateException.class,
                () -> DataLoader.builder(data).gatherOn(2, backwardsInParallel).build(),
                "the default prefetch, 1, has a thread of its own");
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).gatherOn(0, backwardsInParallel));
    }

    /**
     * With {@code keepBytes} a batch's rows of bytes stand for the same floats, in the same places, as the float
     * loader's batch of the same seed, whether the rows are read in the set (no prefetch) or staged by the loader's
     * thread, on a view of the set too; {@code features()} converts them on demand, each fill anew, and a copy holds
     * them as floats.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 2})
    void keptBytesStandForTheSameFloats(int prefetch) {
        ImageDataset all = images("bytes", 700);
        int[] some = IntStream.range(0, 300).map(i -> 699 - 2 * i).toArray();
        for (ImageDataset data : List.of(all, all.subset(some, "bytes view"))) {
            List<Batch> plain;
            try (DataLoader loader = DataLoader.builder(data).batchSize(40).shuffle(11).prefetch(prefetch)
                    .targets(DataLoaderTest::oneHot).build()) {
                plain = epoch(loader, 2);
            }
            try (DataLoader loader = DataLoader.builder(data).batchSize(40).shuffle(11).prefetch(prefetch)
                    .targets(DataLoaderTest::oneHot).keepBytes(true).build();
                 DataLoader.Epoch batches = loader.epoch(2)) {
                int i = 0;
                for (Batch b : batches) {
                    Batch want = plain.get(i);
                    ByteRows bytes = b.byteRows();
                    assertEquals(want.rows(), bytes.rows(), "rows of batch " + i);
                    assertEquals(6, bytes.rowLength());
                    assertEquals(ImageDataset.SCALE, bytes.divisor());
                    float[] x = new float[want.rows() * 6];
                    bytes.toFloats(x, 0);
                    assertArrayEquals(want.features(), x, 0f, "bytes of batch " + i);
                    for (int r = 0; r < want.rows(); r++) {
                        assertEquals((bytes.source()[bytes.offsets()[r]] & 0xff) / ImageDataset.SCALE, x[r * 6]);
                    }
                    float[] f = b.features();
                    assertArrayEquals(want.features(), Arrays.copyOf(f, want.rows() * 6), 0f, "features of batch " + i);
                    assertArrayEquals(want.features(), b.copy().features(), 0f, "copy of batch " + i);
                    assertArrayEquals(want.targets(), Arrays.copyOf(b.targets(), want.rows() * 7), 0f);
                    assertArrayEquals(want.labels(), Arrays.copyOf(b.labels(), want.rows()));
                    i++;
                }
                assertEquals(plain.size(), i);
            }
        }
    }

    /** keepBytes takes an image set without transform, and says what it got otherwise. */
    @Test
    void keepBytesNeedsImageBytesWithoutTransform() {
        FloatDataset floats = new FloatDataset("floats", new float[20], new int[10], 2);
        IllegalStateException notBytes = assertThrows(IllegalStateException.class,
                () -> DataLoader.builder(floats).keepBytes(true).build());
        assertTrue(notBytes.getMessage().contains("floats") && notBytes.getMessage().contains("FloatDataset"),
                notBytes.getMessage());
        assertThrows(IllegalStateException.class, () -> DataLoader.builder(images("t", 10)).keepBytes(true)
                .transform(e -> (src, from, dst, to) -> System.arraycopy(src, from, dst, to, 6)).build());
        try (DataLoader loader = DataLoader.builder(floats).keepBytes(false).prefetch(0).build();
             DataLoader.Epoch batches = loader.epoch(1)) {
            assertNull(batches.next().byteRows(), "floats without keepBytes");
        }
    }

    /** In steady state a step costs the caller no allocation: less than one batch's features over 200 batches. */
    @Test
    void nextAllocatesNothingPerBatch() {
        int features = 28 * 28;
        ImageDataset data = new ImageDataset("allocation", new byte[64 * 220 * features], new int[64 * 220], 1, 28, 28);
        try (DataLoader loader = DataLoader.builder(data).batchSize(64).shuffle(5).targets(DataLoaderTest::oneHot)
                .build(); DataLoader.Epoch batches = loader.epoch(1)) {
            for (int i = 0; i < 10; i++) {
                batches.next();
            }
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 200; i++) {
                batches.next();
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 64 * features * Float.BYTES, "the caller allocated " + allocated + " bytes over 200 batches");
        }
    }

    @Test
    void closingTheEpochEarlyStopsItsThread() throws InterruptedException {
        String name = "early-break";
        try (DataLoader loader = DataLoader.builder(images(name, 1000)).batchSize(10).build()) {
            try (DataLoader.Epoch batches = loader.epoch(1)) {
                for (Batch b : batches) {
                    List<Thread> threads = loaderThreads(name);
                    assertEquals(1, threads.size(), "one thread per epoch");
                    assertTrue(threads.get(0).isDaemon(), "a daemon thread");
                    assertEquals("jacobian-data-loader[early-break] epoch 1", threads.get(0).getName());
                    if (b.index() == 3) {
                        break;
                    }
                }
            }
            assertEquals(List.of(), loaderThreads(name), "close waits for the thread to end");
            // an epoch left without closing it is stopped by the next one, and that by closing the loader
            DataLoader.Epoch abandoned = loader.epoch(2);
            abandoned.next();
            DataLoader.Epoch third = loader.epoch(3);
            assertFalse(abandoned.hasNext());
            assertThrows(IllegalStateException.class, abandoned::next);
            third.next();
            assertTrue(loaderThreads(name).stream().allMatch(t -> t.getName().endsWith("epoch 3")));
        }
        assertEquals(List.of(), loaderThreads(name), "closing the loader stops the epoch's thread");
    }

    @Test
    void aFinishedEpochLeavesNoThread() throws InterruptedException {
        String name = "finished";
        try (DataLoader loader = DataLoader.builder(images(name, 50)).batchSize(10).build()) {
            DataLoader.Epoch batches = loader.epoch(1);
            int n = 0;
            for (Batch ignored : batches) {
                n++;
            }
            assertEquals(5, n);
            awaitNoLoaderThread(name); // ends by itself once the last batch is prepared, even without close
            assertThrows(IllegalStateException.class, batches::iterator, "an epoch is iterated once");
        }
    }

    /** {@code base}, except that reading the features of sample {@code sample} throws {@code failure}. */
    private static Dataset failingAt(ImageDataset base, int sample, RuntimeException failure) {
        return reading("failing", base, (index, dst, dstOffset) -> {
            if (index == sample) {
                throw failure;
            }
            base.copyFeatures(index, dst, dstOffset);
        });
    }

    /** How a test data set reads a sample's features. */
    private interface FeatureReader {
        void copy(int index, float[] dst, int dstOffset);
    }

    /** {@code base} under another name, its features read by {@code read}. */
    private static Dataset reading(String name, ImageDataset base, FeatureReader read) {
        return new Dataset() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int size() {
                return base.size();
            }

            @Override
            public int[] sampleShape() {
                return base.sampleShape();
            }

            @Override
            public int features() {
                return base.features();
            }

            @Override
            public int label(int index) {
                return base.label(index);
            }

            @Override
            public void copyFeatures(int index, float[] dst, int dstOffset) {
                read.copy(index, dst, dstOffset);
            }
        };
    }

    /** An exception while a batch is prepared surfaces in the caller's next() for that batch, after those before. */
    @ParameterizedTest(name = "prefetch {0}")
    @ValueSource(ints = {0, 1, 2})
    void anExceptionWhilePreparingSurfacesInTheCaller(int prefetch) throws InterruptedException {
        ImageDataset base = images("base", 100);
        int bad = 57;
        IllegalStateException cause = new IllegalStateException("disk\nerror");
        try (DataLoader loader = DataLoader.builder(failingAt(base, bad, cause)).batchSize(10).noShuffle()
                .prefetch(prefetch).build(); DataLoader.Epoch batches = loader.epoch(2)) {
            for (int i = 0; i < 5; i++) {
                assertEquals(i, batches.next().index(), "the batches before the failing one arrive");
            }
            DataLoaderException e = assertThrows(DataLoaderException.class, batches::next);
            assertSame(cause, e.getCause());
            assertEquals("data loader of failing: preparing batch 5 of epoch 2 failed: java.lang.IllegalStateException:"
                    + " disk error", e.getMessage());
            assertSame(e, assertThrows(DataLoaderException.class, batches::next), "it stays failed");
            awaitNoLoaderThread("failing");
        }
    }

    @Test
    void anExceptionOfTheTransformSurfacesToo() {
        ImageDataset data = images("bad-transform", 40);
        try (DataLoader loader = DataLoader.builder(data).batchSize(10).transform(e -> (src, so, dst, d) -> {
            throw new ArithmeticException("epoch " + e);
        }).build(); DataLoader.Epoch batches = loader.epoch(4)) {
            DataLoaderException e = assertThrows(DataLoaderException.class, batches::next);
            assertInstanceOf(ArithmeticException.class, e.getCause());
            assertTrue(e.getMessage().contains("batch 0 of epoch 4") && e.getMessage().endsWith("epoch 4"),
                    e.getMessage());
        }
    }

    /** A caller interrupted while it waits for a batch gets an exception and keeps its interrupt. */
    @Test
    void anInterruptedWaitEndsWithAnException() throws InterruptedException {
        ImageDataset base = images("slow", 20);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        Dataset slow = reading("slow", base, (index, dst, dstOffset) -> {
            started.countDown();
            try {
                never.await(); // until the loader's close interrupts it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        });
        try (DataLoader loader = DataLoader.builder(slow).batchSize(5).build();
             DataLoader.Epoch batches = loader.epoch(1)) {
            assertTrue(started.await(WAIT_MS, TimeUnit.MILLISECONDS));
            Thread.currentThread().interrupt();
            DataLoaderException e = assertThrows(DataLoaderException.class, batches::next);
            assertTrue(Thread.interrupted(), "the interrupt is kept");
            assertInstanceOf(InterruptedException.class, e.getCause());
        }
        awaitNoLoaderThread("slow");
    }

    @Test
    void misuseIsRejected() {
        ImageDataset data = images("misuse", 10);
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).prefetch(-1));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).prefetch(DataLoader.MAX_PREFETCH + 1));
        IllegalArgumentException targets = assertThrows(IllegalArgumentException.class,
                () -> DataLoader.builder(data).targets(y -> new float[y.length + 1]).build());
        assertEquals("misuse: the target encoder gave 11 values for 10 labels, not a whole number per sample",
                targets.getMessage());
        DataLoader loader = DataLoader.builder(data).batchSize(4).build();
        assertThrows(IllegalArgumentException.class, () -> loader.epoch(0));
        try (DataLoader.Epoch e = loader.epoch(1)) {
            Batch b = e.next();
            assertFalse(b.hasTargets());
            assertThrows(IllegalStateException.class, b::targets);
        }
        loader.close();
        assertThrows(IllegalStateException.class, () -> loader.epoch(2));
    }
}
