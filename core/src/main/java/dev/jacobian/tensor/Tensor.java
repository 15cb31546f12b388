package dev.jacobian.tensor;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.DeviceBuffer;
import java.util.Objects;

/**
 * A float32 row-major tensor whose storage is owned by a {@link Backend}.
 *
 * <p>Memory lives where the backend keeps it (a Java array for the CPU backends, a {@code cl_mem} for
 * OpenCL); the host reads and writes it only through {@link #upload} and {@link #download}. A tensor is
 * created by {@link Backend#allocate(Shape)} and freed by {@link #close()} (try-with-resources works);
 * any use after {@code close()} throws {@link IllegalStateException}. Closing twice is harmless.
 *
 * <p>Not thread-safe: a tensor belongs to one training loop at a time.
 */
public final class Tensor implements AutoCloseable {
    private final Backend backend;
    private final Shape shape;
    private DeviceBuffer buffer;

    private Tensor(Backend backend, Shape shape, DeviceBuffer buffer) {
        this.backend = backend;
        this.shape = shape;
        this.buffer = buffer;
    }

    /**
     * Wraps a buffer a backend has just allocated. Called by {@link Backend#allocate(Shape)}; the
     * tensor takes ownership and releases the buffer through the backend on {@link #close()}.
     */
    public static Tensor wrap(Backend backend, Shape shape, DeviceBuffer buffer) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(buffer, "buffer");
        if (buffer.floats() < shape.size()) {
            throw new IllegalArgumentException("buffer of " + buffer.floats() + " floats is too small for " + shape);
        }
        return new Tensor(backend, shape, buffer);
    }

    public Shape shape() {
        return shape;
    }

    public int rows() {
        return shape.rows();
    }

    public int cols() {
        return shape.cols();
    }

    public int size() {
        return shape.size();
    }

    public Backend backend() {
        return backend;
    }

    /** The backend's storage, for the backend's own kernels. Throws if the tensor is closed. */
    public DeviceBuffer buffer() {
        DeviceBuffer b = buffer;
        if (b == null) {
            throw new IllegalStateException("tensor " + shape + " is closed");
        }
        return b;
    }

    public boolean isClosed() {
        return buffer == null;
    }

    /** Copies {@code size()} floats from {@code src} into this tensor. */
    public Tensor upload(float[] src) {
        if (src.length != size()) {
            throw new IllegalArgumentException("upload: array of " + src.length + " floats does not match tensor " + shape);
        }
        backend.upload(src, 0, this, 0, src.length);
        return this;
    }

    /** Copies {@code count} floats from {@code src[srcOffset..]} to the start of this tensor. */
    public Tensor upload(float[] src, int srcOffset, int count) {
        backend.upload(src, srcOffset, this, 0, count);
        return this;
    }

    /** Reads the whole tensor back to the host (waits for pending work on it). */
    public float[] download() {
        float[] out = new float[size()];
        backend.download(this, 0, out, 0, out.length);
        return out;
    }

    /** Reads element {@code i} (row-major) back to the host: convenient for scalars such as a loss. */
    public float get(int i) {
        float[] out = new float[1];
        backend.download(this, i, out, 0, 1);
        return out[0];
    }

    @Override
    public void close() {
        DeviceBuffer b = buffer;
        if (b != null) {
            buffer = null;
            backend.release(b);
        }
    }

    @Override
    public String toString() {
        return "Tensor" + shape + (buffer == null ? " (closed)" : " on " + backend.name());
    }
}
