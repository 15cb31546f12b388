package dev.jacobian.cpu;

/**
 * A reusable float work array owned by one kernel object of one backend instance: grown on demand,
 * never shrunk, so that kernels which need a temporary row (per-column sums, a broadcast gradient that is
 * accumulated onto an existing one) allocate only while the sizes they see still grow. Contents are
 * undefined between uses; a caller that needs zeros clears the prefix it uses. Not thread-safe, like
 * the backend that owns it.
 */
final class Scratch {
    private float[] data = new float[0];

    /** An array of at least {@code n} floats (the same one as before when it is large enough). */
    float[] floats(int n) {
        if (data.length < n) {
            data = new float[Math.max(n, data.length + (data.length >> 1))];
        }
        return data;
    }
}
