package dev.jacobian.backend;

import dev.jacobian.tensor.Tensor;

/**
 * Device values on their way to the host, started by {@link Backend#readLater}: the read was enqueued behind the
 * work that computes them, and the caller goes on enqueuing (the next training step) while it completes.
 * {@link #await()} waits only if the device has not got there yet. One thread at a time, as the backend.
 */
public interface PendingRead {
    /** Whether the values have arrived (never waits). */
    boolean done();

    /**
     * The values, in the order the tensors were given to {@link Backend#readLater}, each tensor's elements
     * row-major; waits for the device if they have not arrived. Returns the same array on every call.
     */
    float[] await();

    /** The number of values a read of {@code tensors} returns: the sum of their sizes. */
    static int size(Tensor... tensors) {
        int total = 0;
        for (Tensor t : tensors) {
            total += t.size();
        }
        return total;
    }

    /** A read that completed at once (what a backend without a device queue returns). */
    static PendingRead completed(float[] values) {
        return new PendingRead() {
            @Override
            public boolean done() {
                return true;
            }

            @Override
            public float[] await() {
                return values;
            }
        };
    }
}
