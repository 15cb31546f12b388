package dev.jacobian.backend;

import java.util.List;

/**
 * A factory for one kind of backend, discovered with {@link java.util.ServiceLoader}: each backend
 * module lists its provider in {@code META-INF/services/dev.jacobian.backend.BackendProvider}.
 *
 * <p>What each method may cost:
 * <ul>
 *   <li>The constructor and {@link #name()} are trivial: they touch no native code and no device.
 *       {@link Backends#resolve(String)} with an explicit name calls only these on every provider found, so
 *       asking for {@code "cpu"} never probes an OpenCL driver.</li>
 *   <li>{@link #priority()}, {@link #isAvailable()}, {@link #unavailableReason()} and {@link #describe()}
 *       may probe the machine (load a native library, list devices), at most once per provider instance,
 *       then answer from a cache. They never throw and never create a backend. They are called on every
 *       provider by listings such as {@link Backends#providers()} and the {@code info} command; by {@code auto} on
 *       every provider that could beat the best one probed so far ({@link #priorityBound()}); by name, only on the
 *       provider asked for.</li>
 *   <li>{@link #create()} is the expensive call: it opens a backend the caller must close.</li>
 * </ul>
 */
public interface BackendProvider {
    /** The name users select the backend by ({@code "cpu"}, {@code "opencl"}, …). Trivial: probes nothing. */
    String name();

    /**
     * Higher wins under {@code auto}. The reference backend is 0, the CPU backend 100, a GPU 200. May probe
     * once (the rank can depend on the device found); cached, never throws.
     */
    int priority();

    /**
     * The highest {@link #priority()} this provider could report on this machine, told without probing it (no native
     * library loaded, no device listed): {@code auto} probes providers in the order of these bounds and leaves
     * unprobed one that could not beat the best available provider it has probed already (an OpenCL provider whose
     * only drivers offer CPU devices, when the CPU backend is available: probing it would map a compiler into the
     * process for nothing). Never below what {@link #priority()} returns after a probe. {@link Integer#MAX_VALUE}, the
     * default, when the provider cannot tell without probing. Cheap; never throws.
     */
    default int priorityBound() {
        return Integer.MAX_VALUE;
    }

    /** Whether {@link #create()} can succeed on this machine. May probe once; cached, never throws. */
    boolean isAvailable();

    /** Why the backend is not available (empty when it is), for logs and the {@code info} command. */
    default String unavailableReason() {
        return isAvailable() ? "" : "not available";
    }

    /**
     * What this backend would run on, as human-readable lines for the {@code info} command: the device's
     * name and type, its limits, the switches that change it, or — when the backend is not available — what
     * was found and what is missing. A line may start with spaces to show that it belongs to the line
     * above. Same cost as {@link #isAvailable()}: may probe once, never creates a backend, never throws.
     *
     * @return an unmodifiable list, possibly empty (the default)
     */
    default List<String> describe() {
        return List.of();
    }

    /** A new backend; the caller owns it and must {@link Backend#close()} it. */
    Backend create();
}
