package dev.jacobian.opencl;

import dev.jacobian.backend.DeviceBuffer;
import org.jocl.cl_mem;

/**
 * A device buffer of the OpenCL backend: one {@code cl_mem} of {@code capacity} floats (the pool's size
 * class, at least what was asked). Owned by the {@link ClBufferPool} that made it.
 */
final class ClBuffer implements DeviceBuffer {
    private final cl_mem mem;
    private final long capacity;

    ClBuffer(cl_mem mem, long capacity) {
        this.mem = mem;
        this.capacity = capacity;
    }

    cl_mem mem() {
        return mem;
    }

    long bytes() {
        return capacity * Float.BYTES;
    }

    @Override
    public long floats() {
        return capacity;
    }
}
