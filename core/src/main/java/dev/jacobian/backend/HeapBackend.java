package dev.jacobian.backend;

import dev.jacobian.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Base of the backends that compute on the Java heap (the reference and the CPU backend): one
 * {@code float[]} per buffer, tracked so that {@link #close()} frees everything, every allocation and
 * transfer counted in {@link #stats()}; kernels run synchronously, so {@link #synchronize()} has
 * nothing to wait for. Subclasses implement the kernels on {@link #data(Tensor)}.
 */
public abstract class HeapBackend implements Backend {

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

    private final BackendStats stats = new BackendStats();
    private final Set<ArrayBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());

    @Override
    public final BackendStats stats() {
        return stats;
    }

    /** The array behind a tensor of this backend (or an exception naming the tensor's backend). */
    protected final float[] data(Tensor t) {
        if (!(t.buffer() instanceof ArrayBuffer b) || t.backend() != this) {
            throw new IllegalArgumentException("tensor " + t.shape() + " belongs to backend " + t.backend().name()
                    + ", not this " + name() + " backend");
        }
        return b.data;
    }

    @Override
    public final synchronized DeviceBuffer allocateBuffer(long floats) {
        if (floats < 0 || floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cannot allocate " + floats + " floats on the Java heap");
        }
        ArrayBuffer b = new ArrayBuffer((int) floats);
        live.add(b);
        stats.onAllocate(floats * 4);
        return b;
    }

    @Override
    public final synchronized void release(DeviceBuffer buffer) {
        if (buffer instanceof ArrayBuffer b && live.remove(b)) {
            stats.onRelease(b.floats() * 4);
        }
    }

    @Override
    public final void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int count) {
        Checks.transfer("upload", dst, dstOffset, count);
        System.arraycopy(src, srcOffset, data(dst), dstOffset, count);
        stats.onUpload(4L * count);
    }

    @Override
    public final void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int count) {
        Checks.transfer("download", src, srcOffset, count);
        System.arraycopy(data(src), srcOffset, dst, dstOffset, count);
        stats.onDownload(4L * count);
    }

    @Override
    public final void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int count) {
        Checks.transfer("copy from", src, srcOffset, count);
        Checks.transfer("copy into", dst, dstOffset, count);
        System.arraycopy(data(src), srcOffset, data(dst), dstOffset, count);
    }

    /** Nothing to wait for: every kernel has finished when its method returns. */
    @Override
    public void synchronize() {
    }

    /** Forgets every buffer (the arrays go to the garbage collector), then {@link #closeResources()}. */
    @Override
    public final void close() {
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
