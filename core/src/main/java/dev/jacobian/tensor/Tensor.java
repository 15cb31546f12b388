package dev.jacobian.tensor;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Checks;
import dev.jacobian.backend.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A float32 row-major, contiguous tensor of rank 0 to {@value Shape#MAX_RANK} whose storage is owned by a
 * {@link Backend}.
 *
 * <p>Memory lives where the backend keeps it (a Java array for the CPU backends, a {@code cl_mem} for
 * OpenCL); the host reads and writes it only through {@link #upload} and {@link #download}. A tensor is
 * created by {@link Backend#allocate(Shape)} and freed by {@link #close()} (try-with-resources works);
 * any use after {@code close()} throws {@link IllegalStateException}. Closing twice is harmless.
 *
 * <h2>Views</h2>
 * {@link #reshape}, {@link #flatten()} and {@link #slice} return <em>views</em>: tensors that share this
 * tensor's storage (no copy), at an offset of {@link #offset()} floats into it. Writing through a view
 * changes the viewed tensor. A view at offset 0 uses the same {@link DeviceBuffer}; one at another offset
 * asks the backend for a view buffer ({@link Backend#viewBuffer}), which a backend may refuse (OpenCL
 * needs the offset aligned to the device's base address alignment). Closing a view frees only the view;
 * closing the tensor that owns the storage closes every view of it as well.
 *
 * <p>Not thread-safe: a tensor belongs to one training loop at a time.
 */
public final class Tensor implements AutoCloseable {
    private final Backend backend;
    private final Shape shape;
    private final Tensor root;
    private final long offset;
    private final boolean ownsBuffer;
    private final List<Tensor> views;
    private DeviceBuffer buffer;

    private Tensor(Backend backend, Shape shape, DeviceBuffer buffer, Tensor root, long offset, boolean ownsBuffer) {
        this.backend = backend;
        this.shape = shape;
        this.buffer = buffer;
        this.root = root == null ? this : root;
        this.offset = offset;
        this.ownsBuffer = ownsBuffer;
        this.views = root == null ? new ArrayList<>() : null;
    }

    /**
     * Wraps a buffer a backend has just allocated. Called by {@link Backend#allocate(Shape)}; the
     * tensor takes ownership and releases the buffer through the backend on {@link #close()}.
     *
     * @throws IllegalArgumentException when the buffer is too small for {@code shape}, or not of the backend's kind
     *                                  ({@link Backend#accepts})
     */
    public static Tensor wrap(Backend backend, Shape shape, DeviceBuffer buffer) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(buffer, "buffer");
        if (!backend.accepts(buffer)) {
            // a buffer of another kind of backend made a ClassCastException in that backend's first op
            throw new IllegalArgumentException("Tensor.wrap: a " + buffer.getClass().getName()
                    + " is not a buffer of backend " + backend.name());
        }
        if (buffer.floats() < shape.size()) {
            throw new IllegalArgumentException("buffer of " + buffer.floats() + " floats is too small for " + shape);
        }
        return new Tensor(backend, shape, buffer, null, 0, true);
    }

    /** The dimensions. */
    public Shape shape() {
        return shape;
    }

    /** Rank of the shape (0 to {@value Shape#MAX_RANK}). */
    public int rank() {
        return shape.rank();
    }

    /** Rows of the matrix view ({@link Shape#rows()}). */
    public int rows() {
        return shape.rows();
    }

    /** Columns of the matrix view ({@link Shape#cols()}). */
    public int cols() {
        return shape.cols();
    }

    /** Number of elements. */
    public int size() {
        return shape.size();
    }

    /** The backend that owns the storage. */
    public Backend backend() {
        return backend;
    }

    /** The tensor that owns this tensor's storage: itself unless this is a view. */
    public Tensor root() {
        return root;
    }

    /** Whether this tensor is a view of another one's storage. */
    public boolean isView() {
        return root != this;
    }

    /** Offset in floats of this tensor's first element within the storage of {@link #root()}. */
    public long offset() {
        return offset;
    }

    /**
     * The backend's storage for this tensor (a view's buffer starts at the view's first element), for the
     * backend's own kernels. Throws if this tensor or the tensor owning the storage is closed.
     */
    public DeviceBuffer buffer() {
        DeviceBuffer b = buffer;
        if (b == null) {
            throw new IllegalStateException("tensor " + shape + (isView() ? " (a view)" : "") + " is closed");
        }
        return b;
    }

    /** Whether {@link #close()} was called on this tensor (or, for a view, on the tensor owning its storage). */
    public boolean isClosed() {
        return buffer == null;
    }

    /**
     * Whether this tensor and {@code other} share storage and their element ranges overlap (then a
     * primitive must not write one while reading the other unless it says so).
     */
    public boolean overlaps(Tensor other) {
        return root == other.root && offset < other.offset + other.size() && other.offset < offset + size();
    }

    // ---------------------------------------------------------------- views

    /** A view with the same elements in the given shape; one dimension may be {@code -1} (inferred). */
    public Tensor reshape(int... dims) {
        return view(shape.reshape(dims), 0);
    }

    /** A view with the same elements in {@code newShape} (same size). */
    public Tensor reshape(Shape newShape) {
        return view(shape.reshape(newShape.dims()), 0);
    }

    /** A rank-1 view {@code [size]}. */
    public Tensor flatten() {
        return view(Shape.of(size()), 0);
    }

    /**
     * A view that merges dimensions {@code startDim..} into one: {@code [n, c, h, w].flatten(1)} is
     * {@code [n, c*h*w]}.
     */
    public Tensor flatten(int startDim) {
        return view(shape.flatten(startDim), 0);
    }

    /** A view of entries {@code [from, to)} along the first dimension (rows of a batch), sharing storage. */
    public Tensor slice(int from, int to) {
        if (rank() == 0) {
            throw new IllegalArgumentException("slice: a rank-0 tensor has no first dimension");
        }
        if (from < 0 || to > shape.dim(0) || from >= to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + shape + " along dimension 0");
        }
        long stride = size() / shape.dim(0);
        return view(shape.withFirst(to - from), from * stride);
    }

    private Tensor view(Shape viewShape, long extraOffset) {
        buffer(); // throws when closed
        long at = offset + extraOffset;
        Tensor v;
        if (at == 0) {
            v = new Tensor(backend, viewShape, root.buffer(), root, 0, false);
        } else {
            DeviceBuffer vb = backend.viewBuffer(root.buffer(), at, viewShape.size());
            v = new Tensor(backend, viewShape, vb, root, at, true);
        }
        root.views.add(v);
        return v;
    }

    // ---------------------------------------------------------------- host transfers

    /** Copies {@code size()} floats from {@code src} into this tensor. */
    public Tensor upload(float[] src) {
        Checks.given("upload", "host array", src);
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
        if (b == null) {
            return;
        }
        buffer = null;
        if (isView()) {
            root.views.remove(this);
            if (ownsBuffer) {
                backend.release(b);
            }
            return;
        }
        for (Tensor v : List.copyOf(views)) {
            v.close();
        }
        views.clear();
        backend.release(b);
    }

    @Override
    public String toString() {
        return "Tensor" + shape + (isView() ? " view@" + offset : "") + (buffer == null ? " (closed)" : " on " + backend.name());
    }
}
