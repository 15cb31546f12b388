package dev.jacobian.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * Reads a {@link Dataset} in batches, epoch by epoch: each epoch visits the samples in a seeded order
 * ({@link Shuffling#epochOrder}: a pure function of the seed and the epoch number, so epoch {@code k} of a resumed run
 * is epoch {@code k} of an unbroken one), in batches of {@link #batchSize()} samples, the last one smaller unless it
 * is dropped. While the caller trains on one batch, a background thread gathers the next ones (at most
 * {@link #prefetch()} ahead), converting samples to floats ({@link ImageDataset} scales its bytes; or leaving them as
 * bytes for the backend to convert, {@link Builder#keepBytes}), applying an optional {@link SampleTransform} and
 * copying the encoded targets:
 *
 * <pre>{@code
 * try (DataLoader loader = DataLoader.builder(train).batchSize(64).shuffle(42).dropLast(true)
 *         .targets(model::encodeTargets).build()) {
 *     for (int epoch = 1; epoch <= epochs; epoch++) {
 *         try (DataLoader.Epoch batches = loader.epoch(epoch)) {
 *             for (Batch b : batches) {
 *                 trainer.step(b);
 *             }
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p><b>Buffers.</b> The loader owns {@code prefetch + 1} {@link Batch}es and fills them in turn (double buffering
 * with the default prefetch of 1): a batch returned by {@link Epoch#next()} stays untouched until the caller's next
 * call of {@code next()} (or until the epoch or the loader is closed), and then is filled again. A step therefore
 * allocates nothing; see {@link Batch} for what may be kept.
 *
 * <p><b>Waking the thread.</b> Once every buffer it may fill is filled, the epoch's thread sleeps, and
 * {@code next()} hands the caller's used batches back to it {@link #handBackEvery(int) in groups}: half the prefetch,
 * rounded up. Waking a sleeping thread costs the thread that wakes it a system call, and in a virtual machine whose
 * other virtual CPU sits idle, the host's work of starting that CPU: on 2 vCPUs under KVM (an AMD EPYC of family 26)
 * an unpark took the caller about a twenty-fifth of a 1-thread step of the 784-256-128-10 MLP at batch 64, when the
 * batch it waited for had long been ready. With prefetch 4 the caller wakes the thread every second batch, and still
 * has at least 3 batches ready at that moment.
 *
 * <p><b>The thread.</b> Each epoch with prefetching runs one daemon thread named
 * {@code jacobian-data-loader[<data set name>] epoch <n>}, which ends when it has prepared the epoch's last batch,
 * when the epoch is closed (the loop ended early, or an exception left it), when the next epoch starts, or when the
 * loader is closed; closing waits for it to end, so afterwards nothing writes into the batches. An epoch left
 * without closing it keeps its thread waiting for a free buffer until one of the others happens (use
 * try-with-resources). An exception thrown while a batch was prepared (by the data set or the transform) surfaces
 * in the caller's {@code next()} for that batch as a {@link DataLoaderException}, after the batches before it.
 * With {@code prefetch(0)} the caller's thread prepares each batch in {@code next()}, and no thread is started. The
 * batches are the same either way.
 *
 * <p>The loader is driven by one thread (the one that calls {@link #epoch}, {@code next()} and {@code close()});
 * besides its epoch thread it holds no other thread and no static state. It reads the data set from that thread, so
 * the set must not change while the loader runs (the sets of this package are immutable).
 */
public final class DataLoader implements AutoCloseable {
    /** The most batches a loader prepares ahead of the one the caller holds. */
    public static final int MAX_PREFETCH = 8;

    /** The fewest rows of a batch that a task of {@link Builder#gatherOn} gathers. */
    static final int MIN_GATHER_ROWS = 8;

    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final int prefetch;
    private final float[] targets;
    private final int targetColumns;
    private final IntFunction<? extends SampleTransform> transforms;
    private final int gatherTasks;
    private final TaskRunner gatherRunner;
    /** With {@link Builder#keepBytes}: the image set whose bytes the batches point into; else null. */
    private final ImageDataset bytes;
    private final int batches;
    /** All the loader's buffers; an epoch's thread and its caller pass them to each other through two queues. */
    private final Batch[] buffers;
    private final ArrayBlockingQueue<Batch> free;
    private Epoch active;
    private boolean closed;

    private DataLoader(Builder b) {
        this.data = b.data;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.dropLast = b.dropLast;
        this.prefetch = b.prefetch;
        this.transforms = b.transforms;
        this.gatherTasks = b.gatherTasks;
        this.gatherRunner = b.gatherRunner;
        this.bytes = b.keepBytes ? (ImageDataset) data : null;
        int n = data.size();
        if (b.encoder != null) {
            int[] labels = data.labels();
            float[] t = Objects.requireNonNull(b.encoder.apply(labels), "the target encoder returned null");
            if (n == 0 ? t.length != 0 : t.length % n != 0) {
                throw new IllegalArgumentException(data.name() + ": the target encoder gave " + t.length
                        + " values for " + n + " labels, not a whole number per sample");
            }
            this.targets = t;
            this.targetColumns = n == 0 ? 0 : t.length / n;
        } else {
            this.targets = null;
            this.targetColumns = 0;
        }
        // in long: n + batchSize - 1 overflows an int for a batch size near Integer.MAX_VALUE ("all in one batch")
        this.batches = (int) (dropLast ? n / batchSize : (n + (long) batchSize - 1) / batchSize);
        int capacity = Math.max(1, Math.min(batchSize, n));
        this.buffers = new Batch[prefetch + 1];
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = bytes == null ? new Batch(capacity, data.features(), targetColumns, targets != null)
                    : new Batch(capacity, data.features(), targetColumns, targets != null,
                            prefetch > 0 ? new byte[capacity * data.features()] : bytes.pixels(), ImageDataset.SCALE);
        }
        this.free = new ArrayBlockingQueue<>(buffers.length);
    }

    /**
     * Runs tasks {@code [0, tasks)} on some threads and returns when all have run (e.g. {@code
     * backend::runOnHostThreads}, the threads a backend computes with); tasks may run at the same time.
     */
    @FunctionalInterface
    public interface TaskRunner {
        /** Runs {@code body} for each task in {@code [0, tasks)}, returning when all have run. */
        void run(int tasks, IntConsumer body);
    }

    /**
     * How many used batches {@link Epoch#next()} gathers before it hands them back to the epoch's thread together,
     * with {@code prefetch} batches prepared ahead: {@code (prefetch + 1) / 2}, at least 1. When a group is handed
     * back, {@code prefetch + 1 - handBackEvery(prefetch)} batches or more are ready for the caller, however long the
     * thread takes to wake.
     */
    static int handBackEvery(int prefetch) {
        return Math.max(1, (prefetch + 1) / 2);
    }

    /** A builder of a loader over {@code data}; defaults: batch 32, shuffled with seed 0, last batch kept, prefetch 1. */
    public static Builder builder(Dataset data) {
        return new Builder(data);
    }

    /** The data set the batches come from. */
    public Dataset dataset() {
        return data;
    }

    /** Samples per batch (an epoch's last batch may have fewer unless it is dropped). */
    public int batchSize() {
        return batchSize;
    }

    /** Whether an epoch's last batch is dropped when it is smaller than the batch size. */
    public boolean dropLast() {
        return dropLast;
    }

    /** Batches prepared ahead of the one the caller holds; 0: each batch is prepared in {@code next()}. */
    public int prefetch() {
        return prefetch;
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        return batches;
    }

    /** Encoded target values per sample ({@link Batch#targets()}), 0 without targets. */
    public int targetColumns() {
        return targetColumns;
    }

    /**
     * The order in which epoch {@code epoch} visits the data set's samples (a new array): {@link Shuffling#epochOrder}
     * of the seed, or {@code 0, 1, 2, ...} without shuffling. Its first {@code batchesPerEpoch() * batchSize()}
     * entries (all of them, unless the last batch is dropped) are the epoch's samples, batch after batch.
     */
    public int[] order(int epoch) {
        int n = data.size();
        if (shuffle) {
            return Shuffling.epochOrder(seed, epoch, n);
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    /**
     * Starts epoch {@code epoch} (numbered from 1): closes the previous epoch if it is still open, asks the transform
     * factory for the epoch's transform (on this thread) and, with prefetching, starts the epoch's thread, which begins
     * gathering at once.
     *
     * @throws IllegalArgumentException when {@code epoch < 1}
     * @throws IllegalStateException    when the loader is closed
     */
    public Epoch epoch(int epoch) {
        if (closed) {
            throw new IllegalStateException("data loader of " + data.name() + " is closed");
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("epochs are numbered from 1: " + epoch);
        }
        if (active != null) {
            active.close();
        }
        active = new Epoch(epoch, transforms == null ? null : transforms.apply(epoch));
        return active;
    }

    /** Closes the open epoch, if any (waiting for its thread to end); further {@link #epoch} calls fail. */
    @Override
    public void close() {
        closed = true;
        if (active != null) {
            active.close();
        }
    }

    /** Fills {@code b} with batch {@code index} of an epoch; gives up (returning false) when {@code stop} is set. */
    private boolean fill(Batch b, int epoch, int index, int[] order, SampleTransform transform, float[] scratch,
                         Epoch stop) {
        int f = data.features();
        int tc = targetColumns;
        int first = index * batchSize;
        int rows = Math.min(batchSize, order.length - first);
        float[] x = b.featureArray();
        int[] labels = b.labels();
        int[] indices = b.indices();
        if (bytes != null) { // the rows stay where they are: the batch lists where
            int[] offsets = b.byteRows().offsets();
            byte[] staged = b.byteRows().source();
            if (staged != bytes.pixels()) {
                for (int i = 0; i < rows; i++) {
                    System.arraycopy(bytes.pixels(), bytes.pixelOffset(order[first + i]), staged, i * f, f);
                    offsets[i] = i * f;
                }
            } else {
                for (int i = 0; i < rows; i++) {
                    offsets[i] = bytes.pixelOffset(order[first + i]);
                }
            }
        } else if (transform == null) {
            int tasks = gatherRunner == null ? 1 : Math.min(gatherTasks, rows / MIN_GATHER_ROWS);
            if (tasks > 1) { // in row ranges on the runner's threads: the same floats in the same places
                gatherRunner.run(tasks, t -> {
                    int from = (int) ((long) rows * t / tasks);
                    int to = (int) ((long) rows * (t + 1) / tasks);
                    data.copyFeatures(order, first + from, to - from, x, from * f);
                });
            } else {
                data.copyFeatures(order, first, rows, x, 0); // the whole batch at once: see Dataset's bulk copyFeatures
            }
        }
        for (int i = 0; i < rows; i++) {
            if (stop != null && stop.cancelled) {
                return false;
            }
            int src = order[first + i];
            indices[i] = src;
            labels[i] = data.label(src);
            if (transform != null) {
                data.copyFeatures(src, scratch, 0);
                transform.apply(scratch, 0, x, i * f);
            }
            if (targets != null) {
                System.arraycopy(targets, src * tc, b.targets(), i * tc, tc);
            }
        }
        b.set(rows, epoch, index);
        return true;
    }

    /**
     * One epoch's batches, in order: an {@link Iterator} (and an {@link Iterable} of itself, for one for-each loop).
     * Close it when leaving the loop early, best with try-with-resources: that stops its thread.
     */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch>, AutoCloseable {
        private final int number;
        private final int[] order;
        private final SampleTransform transform;
        /** Filled batches, or a {@link Failure}, from the epoch's thread. */
        private final ArrayBlockingQueue<Object> ready;
        private final Thread thread;
        /** The caller's scratch sample for a transform without prefetching. */
        private final float[] scratch;
        private volatile boolean cancelled;
        private boolean iterated;
        private boolean closed;
        private int delivered;
        private int handBacks;
        private Batch current;
        /** Used batches not yet handed back to the epoch's thread (fewer than {@link #handBackEvery}). */
        private final Batch[] used;
        private int usedCount;
        private DataLoaderException failure;

        private Epoch(int number, SampleTransform transform) {
            this.number = number;
            this.order = order(number);
            this.transform = transform;
            free.clear();
            for (Batch b : buffers) {
                free.add(b);
            }
            this.used = new Batch[handBackEvery(prefetch)];
            if (prefetch == 0 || batches == 0) {
                this.ready = null;
                this.thread = null;
                this.scratch = transform == null ? null : new float[data.features()];
            } else {
                this.ready = new ArrayBlockingQueue<>(buffers.length + 1);
                this.scratch = null;
                this.thread = new Thread(this::produce, "jacobian-data-loader[" + data.name() + "] epoch " + number);
                thread.setDaemon(true);
                thread.start();
            }
        }

        /** The epoch's number. */
        public int number() {
            return number;
        }

        /** How many groups of used batches {@code next()} has handed back to the epoch's thread so far. */
        int handBacks() {
            return handBacks;
        }

        /** The number of batches this epoch has. */
        public int batches() {
            return batches;
        }

        /** Whether a batch remains (false once the epoch is closed). */
        @Override
        public boolean hasNext() {
            return !closed && delivered < batches;
        }

        /**
         * The next batch, waiting for the epoch's thread when it is not ready yet. The batch returned before this one
         * is handed back to the loader to be filled again.
         *
         * @throws NoSuchElementException when no batch remains
         * @throws IllegalStateException  when the epoch is closed
         * @throws DataLoaderException    when preparing this batch failed, or the caller was interrupted while waiting
         */
        @Override
        public Batch next() {
            if (closed) {
                throw new IllegalStateException("epoch " + number + " of the data loader of " + data.name()
                        + " is closed");
            }
            if (failure != null) {
                throw failure;
            }
            if (delivered >= batches) {
                throw new NoSuchElementException("epoch " + number + " has only " + batches + " batches");
            }
            if (current != null && thread != null) {
                handBack(current);
            }
            current = null;
            Batch b = thread == null ? prepareHere() : await();
            current = b;
            delivered++;
            return b;
        }

        /** Gathers a used batch, and hands the group to the epoch's thread once it is whole (one wake-up for all). */
        private void handBack(Batch b) {
            used[usedCount++] = b;
            if (usedCount == used.length) {
                for (int i = 0; i < usedCount; i++) {
                    free.add(used[i]);
                    used[i] = null;
                }
                usedCount = 0;
                handBacks++;
            }
        }

        private Batch prepareHere() {
            Batch b = buffers[0];
            try {
                fill(b, number, delivered, order, transform, scratch, null);
            } catch (RuntimeException | Error e) {
                throw fail(delivered, e);
            }
            return b;
        }

        private Batch await() {
            Object o;
            try {
                o = ready.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataLoaderException("data loader of " + data.name() + ": interrupted while waiting for batch "
                        + delivered + " of epoch " + number, e);
            }
            if (o instanceof Failure f) {
                throw fail(f.index(), f.cause());
            }
            return (Batch) o;
        }

        private DataLoaderException fail(int index, Throwable cause) {
            failure = new DataLoaderException("data loader of " + data.name() + ": preparing batch " + index
                    + " of epoch " + number + " failed: " + cause, cause);
            return failure;
        }

        /** The epoch's thread: fills free buffers in order until the last batch or until it is cancelled. */
        private void produce() {
            float[] sample = transform == null ? null : new float[data.features()];
            int index = 0;
            try {
                for (; index < batches; index++) {
                    Batch b = free.take();
                    if (cancelled || !fill(b, number, index, order, transform, sample, this)) {
                        return;
                    }
                    ready.add(b);
                }
            } catch (InterruptedException e) {
                // closed while waiting for a free buffer: end quietly
            } catch (Throwable e) { // whatever it is, the caller waiting for this batch must hear of it
                if (!cancelled) {
                    ready.add(new Failure(index, e));
                }
            }
        }

        /** Returns itself, once: an epoch is iterated a single time. */
        @Override
        public Iterator<Batch> iterator() {
            if (iterated) {
                throw new IllegalStateException("epoch " + number + " has been iterated already");
            }
            iterated = true;
            return this;
        }

        /**
         * Stops the epoch: no further batch is delivered, and its thread (if any) is stopped and waited for, so that
         * nothing writes into the loader's batches afterwards. Idempotent.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            cancelled = true;
            current = null;
            if (thread != null) {
                thread.interrupt();
                boolean interrupted = false;
                while (true) {
                    try {
                        thread.join();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            if (active == this) {
                active = null;
            }
        }
    }

    /** What the epoch's thread passes on when preparing batch {@code index} threw {@code cause}. */
    private record Failure(int index, Throwable cause) {
    }

    /** Settings of a {@link DataLoader}. */
    public static final class Builder {
        private final Dataset data;
        private int batchSize = 32;
        private boolean shuffle = true;
        private long seed;
        private boolean dropLast;
        private int prefetch = 1;
        private Function<int[], float[]> encoder;
        private IntFunction<? extends SampleTransform> transforms;
        private int gatherTasks = 1;
        private TaskRunner gatherRunner;
        private boolean keepBytes;

        private Builder(Dataset data) {
            this.data = Objects.requireNonNull(data, "data");
        }

        /** Samples per batch, {@code >= 1} (default 32). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1: " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffles every epoch with {@code seed} ({@link Shuffling#epochOrder}); the default, with seed 0. */
        public Builder shuffle(long seed) {
            this.shuffle = true;
            this.seed = seed;
            return this;
        }

        /** Visits the samples in their order every epoch (e.g. for evaluation). */
        public Builder noShuffle() {
            this.shuffle = false;
            return this;
        }

        /** Whether to skip an epoch's last batch when it is smaller than the batch size (default: keep it). */
        public Builder dropLast(boolean drop) {
            this.dropLast = drop;
            return this;
        }

        /**
         * Batches to prepare ahead of the one the caller holds, in {@code [0, }{@value #MAX_PREFETCH}{@code ]}
         * (default 1); 0 prepares each batch on the caller's thread. The loader holds {@code prefetch + 1} batches.
         */
        public Builder prefetch(int batches) {
            if (batches < 0 || batches > MAX_PREFETCH) {
                throw new IllegalArgumentException("prefetch must be in [0, " + MAX_PREFETCH + "]: " + batches);
            }
            this.prefetch = batches;
            return this;
        }

        /**
         * Encodes the targets of every batch: {@code encoder} is given all the data set's labels once, when the
         * loader is built, and must return the same number of values for each (e.g. {@code model::encodeTargets}:
         * class indices, or one-hot rows); each batch copies its samples' rows into {@link Batch#targets()}.
         */
        public Builder targets(Function<int[], float[]> encoder) {
            this.encoder = Objects.requireNonNull(encoder, "encoder");
            return this;
        }

        /**
         * Transforms each sample as it is gathered: {@code perEpoch} gives the transform of an epoch when the epoch
         * starts (e.g. one drawing from a random stream seeded by the epoch); see {@link SampleTransform}. It may
         * return null for an epoch without transform.
         */
        public Builder transform(IntFunction<? extends SampleTransform> perEpoch) {
            this.transforms = Objects.requireNonNull(perEpoch, "perEpoch");
            return this;
        }

        /**
         * With {@code prefetch(0)}: the caller's {@code next()} gathers each batch's features in up to {@code tasks}
         * ranges of rows (of at least {@value #MIN_GATHER_ROWS}) run by {@code runner}, e.g. {@code
         * gatherOn(backend.hostThreads(), backend::runOnHostThreads)}: between two steps, on the threads the backend
         * computes with. The batches are the same; a transform still runs sample by sample on the caller.
         *
         * <p>Why: when the backend's threads take every core, a loader's thread of its own runs in the place of one of
         * them, and the switches to it and back cost more than its work: on 2 vCPUs under KVM (an AMD EPYC of
         * family 26) epochs of the 784-256-128-10 MLP on 2 threads took 0.88x (batch 64) and 0.93x (128) as long with
         * the batches gathered this way as with a loader's thread one batch ahead
         * ({@code benchmarks/run-epoch-loop.sh}).
         *
         * @throws IllegalArgumentException when {@code tasks < 1}
         */
        public Builder gatherOn(int tasks, TaskRunner runner) {
            if (tasks < 1) {
                throw new IllegalArgumentException("gather tasks must be >= 1: " + tasks);
            }
            this.gatherTasks = tasks;
            this.gatherRunner = Objects.requireNonNull(runner, "runner");
            return this;
        }

        /**
         * Whether to leave an {@link ImageDataset}'s pixels as bytes (default: no): a batch then holds its images as
         * rows of bytes ({@link Batch#byteRows()}), which a backend converts as it uploads them
         * ({@code Trainer.step(Batch)}: one pass into the backend's tensor). With prefetching the loader's thread
         * copies a batch's images next to each other (a quarter of the bytes of their floats), so that the step reads
         * them from one place; without, nothing is copied: the rows are where the set stores them.
         * {@link Batch#features()} still gives the floats, converted on its first call after each fill.
         *
         * <p>Why: the float path writes a batch's floats into the batch's array and the step's upload then copies
         * them, two passes over four times the bytes; on 2 threads the gather and the upload are two more hand-offs
         * between the backend's threads.
         */
        public Builder keepBytes(boolean keep) {
            this.keepBytes = keep;
            return this;
        }

        /**
         * The loader; encodes the targets (if asked to) and allocates its batches now.
         *
         * @throws IllegalArgumentException when the target encoder's output does not match the labels
         * @throws IllegalStateException    when {@link #gatherOn} is combined with a prefetch above 0 (the loader's
         *                                  thread would call the runner while the caller computes), or
         *                                  {@link #keepBytes} with a data set that is not an {@link ImageDataset} or
         *                                  with a {@link #transform} (which works on floats)
         */
        public DataLoader build() {
            if (gatherRunner != null && prefetch > 0) {
                throw new IllegalStateException("gatherOn needs prefetch(0): with " + prefetch + " batches ahead the"
                        + " loader's thread gathers them, beside the caller");
            }
            if (keepBytes && !(data instanceof ImageDataset)) {
                throw new IllegalStateException("keepBytes needs an image set stored as bytes (ImageDataset): "
                        + data.name() + " is a " + data.getClass().getSimpleName());
            }
            if (keepBytes && transforms != null) {
                throw new IllegalStateException("keepBytes cannot be combined with a transform, which works on the"
                        + " samples' floats");
            }
            return new DataLoader(this);
        }
    }
}
