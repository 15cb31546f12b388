package dev.jacobian.opencl;

import dev.jacobian.backend.DeviceBuffer;
import org.jocl.cl_mem;

/**
 * A device buffer of the OpenCL backend: one {@code cl_mem} of {@code capacity} floats. Either a pooled
 * buffer (the pool's size class, at least what was asked; owned by the {@link ClBufferPool} that made it)
 * or a sub-buffer ({@code clCreateSubBuffer}) viewing {@code capacity} floats of a pooled {@link #parent()}
 * from float {@link #origin()} on, owned by the {@link ClBackend} that made it and never pooled.
 */
final class ClBuffer implements DeviceBuffer {
    private final cl_mem mem;
    private final long capacity;
    private final ClBuffer parent;
    private final long origin;

    /** A pooled buffer. */
    ClBuffer(cl_mem mem, long capacity) {
        this(mem, capacity, null, 0);
    }

    /** A sub-buffer of {@code parent} starting {@code origin} floats into it. */
    ClBuffer(cl_mem mem, long capacity, ClBuffer parent, long origin) {
        this.mem = mem;
        this.capacity = capacity;
        this.parent = parent;
        this.origin = origin;
    }

    cl_mem mem() {
        return mem;
    }

    long bytes() {
        return capacity * Float.BYTES;
    }

    /** Whether this is a sub-buffer (a view) rather than a pooled buffer. */
    boolean isSubBuffer() {
        return parent != null;
    }

    /** The pooled buffer a sub-buffer views; null for a pooled buffer. */
    ClBuffer parent() {
        return parent;
    }

    /** Offset in floats of a sub-buffer within {@link #parent()}; 0 for a pooled buffer. */
    long origin() {
        return origin;
    }

    @Override
    public long floats() {
        return capacity;
    }
}
