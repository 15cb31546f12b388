package dev.jacobian.backend;

/**
 * Opaque storage a backend allocates for a tensor: a Java array, a {@code cl_mem}, … Only the backend
 * that made a buffer looks inside it; everyone else passes {@link dev.jacobian.tensor.Tensor}s.
 */
public interface DeviceBuffer {
    /** Capacity in floats (at least the size of the tensor that wraps it). */
    long floats();
}
