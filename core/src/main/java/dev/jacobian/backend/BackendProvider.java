package dev.jacobian.backend;

/**
 * A factory for one kind of backend, discovered with {@link java.util.ServiceLoader}: each backend
 * module lists its provider in {@code META-INF/services/dev.jacobian.backend.BackendProvider}.
 *
 * <p>Discovery must be cheap and safe: constructing a provider and calling {@link #isAvailable()} never
 * loads a heavy native library in a way that can fail the caller, and never throws.
 */
public interface BackendProvider {
    /** The name users select the backend by ({@code "cpu"}, {@code "opencl"}, …). */
    String name();

    /** Higher wins under {@code auto}. The reference backend is 0, the CPU backend 100, a GPU 200. */
    int priority();

    /** Whether {@link #create()} can succeed on this machine. Cheap, cached, never throws. */
    boolean isAvailable();

    /** Why the backend is not available (empty when it is), for logs and the {@code info} command. */
    default String unavailableReason() {
        return isAvailable() ? "" : "not available";
    }

    /** A new backend; the caller owns it and must {@link Backend#close()} it. */
    Backend create();
}
