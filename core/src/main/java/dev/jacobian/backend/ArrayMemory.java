package dev.jacobian.backend;

import dev.jacobian.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Tensor memory for backends that compute on the Java heap (the reference and the CPU backend): one
 * {@code float[]} per buffer, tracked so that {@link #close()} frees everything, with every allocation
 * and transfer counted in the backend's {@link BackendStats}. Thread-safe.
 */
public final class ArrayMemory implements AutoCloseable {

    /** A heap buffer: the array is the tensor's storage. */
    public static final class ArrayBuffer implements DeviceBuffer {
        private final float[] data;

        ArrayBuffer(int n) {
            data = new float[n];
        }

        public float[] data() {
            return data;
        }

        @Override
        public long floats() {
            return data.length;
        }
    }

    private final String backendName;
    private final BackendStats stats;
    private final Set<ArrayBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());

    public ArrayMemory(String backendName, BackendStats stats) {
        this.backendName = backendName;
        this.stats = stats;
    }

    /** The array behind a tensor of this memory's backend (or an exception naming the tensor's backend). */
    public float[] data(Tensor t) {
        if (!(t.buffer() instanceof ArrayBuffer b)) {
            throw new IllegalArgumentException("tensor " + t.shape() + " belongs to backend " + t.backend().name()
                    + ", not " + backendName);
        }
        return b.data;
    }

    public synchronized DeviceBuffer allocate(long floats) {
        if (floats < 0 || floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cannot allocate " + floats + " floats on the Java heap");
        }
        ArrayBuffer b = new ArrayBuffer((int) floats);
        live.add(b);
        stats.onAllocate(floats * 4);
        return b;
    }

    public synchronized void release(DeviceBuffer buffer) {
        if (buffer instanceof ArrayBuffer b && live.remove(b)) {
            stats.onRelease(b.floats() * 4);
        }
    }

    public void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int count) {
        Checks.transfer("upload", dst, dstOffset, count);
        System.arraycopy(src, srcOffset, data(dst), dstOffset, count);
        stats.onUpload(4L * count);
    }

    public void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int count) {
        Checks.transfer("download", src, srcOffset, count);
        System.arraycopy(data(src), srcOffset, dst, dstOffset, count);
        stats.onDownload(4L * count);
    }

    /** Forgets every buffer (the arrays go to the garbage collector). */
    @Override
    public synchronized void close() {
        for (ArrayBuffer b : live) {
            stats.onRelease(b.floats() * 4);
        }
        live.clear();
    }
}
