package dev.jacobian.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds backends with {@link ServiceLoader} and picks one.
 *
 * <p>{@link #create()} honours, in order: the system property {@value #PROPERTY}, the environment
 * variable {@value #ENV}, then {@code auto}. {@code auto} takes the available provider with the highest
 * priority and logs one line saying what it took and why the others were not taken. An unknown name
 * throws, listing the names found; asking by name for a backend that is not available throws with the
 * provider's reason.
 *
 * <p>Resolving an explicit name looks providers up by {@link BackendProvider#name()} only: it never calls
 * {@link BackendProvider#priority()} or {@link BackendProvider#isAvailable()} on the other providers, so
 * {@code create("cpu")} does not probe an OpenCL driver. Only {@code auto} and {@link #providers()}
 * evaluate every provider's priority and availability.
 */
public final class Backends {
    /** System property naming the backend. */
    public static final String PROPERTY = "jacobian.backend";
    /** Environment variable naming the backend (read when the property is absent). */
    public static final String ENV = "JACOBIAN_BACKEND";
    /** The name that picks the best available backend. */
    public static final String AUTO = "auto";

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /**
     * Every provider on the class path, highest priority first (then by name). Sorting calls
     * {@link BackendProvider#priority()} on each, which may probe the machine: use this for {@code auto} and
     * listings, not to find a provider by name.
     */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = discover();
        list.sort(Comparator.comparingInt(BackendProvider::priority).reversed()
                .thenComparing(BackendProvider::name));
        return list;
    }

    /**
     * The provider {@code auto} takes from {@code sorted} (a list in the order of {@link #providers()}): the
     * first available one, or empty when none is. Calls {@link BackendProvider#isAvailable()}; logs nothing.
     */
    public static Optional<BackendProvider> autoChoice(List<BackendProvider> sorted) {
        return sorted.stream().filter(BackendProvider::isAvailable).findFirst();
    }

    /** Every provider on the class path, in discovery order, without asking any of them anything. */
    private static List<BackendProvider> discover() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
        return list;
    }

    /** The configured name: the system property, else the environment variable, else {@code auto}. */
    public static String configuredName() {
        String name = System.getProperty(PROPERTY);
        if (name == null || name.isBlank()) {
            name = System.getenv(ENV);
        }
        return name == null || name.isBlank() ? AUTO : name.trim();
    }

    /** A backend chosen by {@link #configuredName()}. */
    public static Backend create() {
        return create(configuredName());
    }

    /** A backend chosen by name ({@code auto}, {@code cpu}, {@code opencl}, {@code reference}, …). */
    public static Backend create(String name) {
        return resolve(name).create();
    }

    /**
     * The provider {@code name} designates, without creating the backend. For {@code auto} (or null) every
     * provider's priority and availability is evaluated; for any other name providers are matched by
     * {@link BackendProvider#name()} alone and only the match is asked whether it is available.
     *
     * @throws IllegalArgumentException when no provider has that name (the message lists the names found)
     * @throws IllegalStateException    when the named backend, or under {@code auto} every backend, is not
     *                                  available (the message gives the reasons)
     */
    public static BackendProvider resolve(String name) {
        String wanted = name == null ? AUTO : name.trim().toLowerCase(Locale.ROOT);
        if (wanted.equals(AUTO)) {
            return pickAuto(providers());
        }
        List<BackendProvider> all = discover();
        for (BackendProvider p : all) {
            if (p.name().equalsIgnoreCase(wanted)) {
                if (!p.isAvailable()) {
                    throw new IllegalStateException("backend '" + p.name() + "' is not available: " + p.unavailableReason());
                }
                return p;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; found: "
                + all.stream().map(BackendProvider::name).sorted().collect(Collectors.joining(", ")) + " (or 'auto')");
    }

    private static BackendProvider pickAuto(List<BackendProvider> all) {
        BackendProvider chosen = autoChoice(all).orElse(null);
        List<String> others = new ArrayList<>();
        for (BackendProvider p : all) {
            if (p == chosen) {
                continue;
            }
            if (!p.isAvailable()) {
                others.add(p.name() + ": " + p.unavailableReason());
            } else {
                others.add(p.name() + ": lower priority (" + p.priority() + ")");
            }
        }
        if (chosen == null) {
            throw new IllegalStateException("no backend is available; providers found: " + others);
        }
        LOG.info("backend auto: using '{}' (priority {}){}", chosen.name(), chosen.priority(),
                others.isEmpty() ? "" : "; not taken: " + String.join("; ", others));
        return chosen;
    }
}
