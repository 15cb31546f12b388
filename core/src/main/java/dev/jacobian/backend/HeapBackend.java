package dev.jacobian.backend;

import dev.jacobian.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Base of the backends that compute on the Java heap (the reference and the CPU backend): one
 * {@code float[]} per allocation, tracked so that {@link #close()} frees everything, every allocation and
 * transfer counted in {@link #stats()}; kernels run synchronously, so {@link #synchronize()} has
 * nothing to wait for. A view ({@link Tensor#slice}) shares its root's array at an offset: kernels read a
 * tensor's elements at {@code data(t)[offset(t) + i]} for {@code i < t.size()}.
 */
public abstract class HeapBackend extends AbstractBackend {

    /** A heap buffer: the array is the storage, the tensor's elements start at {@link #offset()}. */
    public static final class ArrayBuffer implements DeviceBuffer {
        private final float[] data;
        private final int offset;
        private final int floats;

        ArrayBuffer(int n) {
            this(new float[n], 0, n);
        }

        private ArrayBuffer(float[] data, int offset, int floats) {
            this.data = data;
            this.offset = offset;
            this.floats = floats;
        }

        /** The whole backing array (shared by every view of the same storage). */
        public float[] data() {
            return data;
        }

        /** Where this buffer's first float sits in {@link #data()}. */
        public int offset() {
            return offset;
        }

        @Override
        public long floats() {
            return floats;
        }
    }

    private final BackendStats stats = new BackendStats();
    private final Set<ArrayBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());

    /** For subclasses: a backend with nothing allocated and its counters at zero. */
    protected HeapBackend() {
    }

    @Override
    public final BackendStats stats() {
        return stats;
    }

    /** The array behind a tensor of this backend; its elements start at {@link #offset(Tensor)}. */
    protected static float[] data(Tensor t) {
        return ((ArrayBuffer) t.buffer()).data;
    }

    /** Index in {@link #data(Tensor)} of the tensor's first element (0 unless it is a view at an offset). */
    protected static int offset(Tensor t) {
        return ((ArrayBuffer) t.buffer()).offset;
    }

    @Override
    protected final Class<ArrayBuffer> bufferClass() {
        return ArrayBuffer.class;
    }

    @Override
    protected final synchronized DeviceBuffer allocateStorage(long floats) {
        if (floats > Checks.MAX_ARRAY_LENGTH) {
            throw new IllegalArgumentException("cannot allocate " + floats + " floats on the Java heap");
        }
        long maxHeap = Runtime.getRuntime().maxMemory();
        if (4 * floats > maxHeap) {
            throw new IllegalArgumentException("allocate: " + floats + " floats (" + mib(4 * floats) + ") do not fit in"
                    + " the Java heap of at most " + mib(maxHeap) + " (-Xmx)");
        }
        ArrayBuffer b;
        try {
            b = new ArrayBuffer((int) floats);
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("allocate: no room for " + floats + " floats (" + mib(4 * floats)
                    + ") in the Java heap (at most " + mib(maxHeap) + ", -Xmx); free tensors or raise -Xmx", e);
        }
        live.add(b);
        stats.onAllocate(floats * 4);
        return b;
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    @Override
    protected final synchronized void releaseStorage(DeviceBuffer buffer) {
        if (buffer instanceof ArrayBuffer b && live.remove(b)) {
            stats.onRelease(b.floats() * 4);
        }
    }

    /** Any offset works on the heap: the view shares the array. */
    @Override
    protected final DeviceBuffer viewStorage(DeviceBuffer storage, long offset, long floats) {
        ArrayBuffer s = (ArrayBuffer) storage;
        return new ArrayBuffer(s.data, s.offset + (int) offset, (int) floats);
    }

    /** One {@link System#arraycopy}; a subclass may share a large copy among threads ({@link #countUpload} it). */
    @Override
    protected void uploadKernel(float[] src, int srcOffset, Tensor dst, int dstOffset, int count) {
        System.arraycopy(src, srcOffset, data(dst), offset(dst) + dstOffset, count);
        countUpload(count);
    }

    /** Converts each row straight into the tensor's array. */
    @Override
    protected void uploadByteRowsKernel(byte[] src, int[] offsets, int rows, int rowLength, float divisor, Tensor dst,
                                        int dstOffset) {
        float[] d = data(dst);
        int o = offset(dst) + dstOffset;
        for (int r = 0; r < rows; r++) {
            bytesToFloats(src, offsets[r], d, o + r * rowLength, rowLength, divisor);
        }
        countUpload(rows * rowLength);
    }

    /**
     * Counts an upload of {@code count} floats in {@link #stats()}.
     *
     * @param count the floats uploaded
     */
    protected final void countUpload(int count) {
        stats.onUpload(4L * count);
    }

    @Override
    protected final void downloadKernel(Tensor src, int srcOffset, float[] dst, int dstOffset, int count) {
        System.arraycopy(data(src), offset(src) + srcOffset, dst, dstOffset, count);
        stats.onDownload(4L * count);
    }

    /** One transfer however many tensors: the values are copied now, and the read is complete. */
    @Override
    protected final PendingRead readLaterKernel(Tensor... tensors) {
        float[] values = new float[PendingRead.size(tensors)];
        int at = 0;
        for (Tensor t : tensors) {
            System.arraycopy(data(t), offset(t), values, at, t.size());
            at += t.size();
        }
        stats.onDownload(4L * values.length);
        return PendingRead.completed(values);
    }

    @Override
    protected final void copyKernel(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count) {
        System.arraycopy(data(src), offset(src) + srcOffset, data(dst), offset(dst) + dstOffset, count);
    }

    /** Nothing to wait for: every kernel has finished when its method returns. */
    @Override
    protected void synchronizeKernel() {
    }

    /** Forgets every buffer (the arrays go to the garbage collector), then {@link #closeResources()}. */
    @Override
    protected final void closeBackend() {
        synchronized (this) {
            for (ArrayBuffer b : live) {
                stats.onRelease(b.floats() * 4);
            }
            live.clear();
        }
        closeResources();
    }

    /** Frees what a subclass holds besides tensors (threads, …). Called once per {@link #close()}. */
    protected void closeResources() {
    }
}
