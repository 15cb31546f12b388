package dev.jacobian.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
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

    /** Every provider on the class path, highest priority first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
        list.sort(Comparator.comparingInt(BackendProvider::priority).reversed()
                .thenComparing(BackendProvider::name));
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

    /** The provider {@code name} designates, without creating the backend. */
    public static BackendProvider resolve(String name) {
        String wanted = name == null ? AUTO : name.trim().toLowerCase(Locale.ROOT);
        List<BackendProvider> all = providers();
        if (wanted.equals(AUTO)) {
            return pickAuto(all);
        }
        for (BackendProvider p : all) {
            if (p.name().equalsIgnoreCase(wanted)) {
                if (!p.isAvailable()) {
                    throw new IllegalStateException("backend '" + p.name() + "' is not available: " + p.unavailableReason());
                }
                return p;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; found: "
                + all.stream().map(BackendProvider::name).collect(Collectors.joining(", ")) + " (or 'auto')");
    }

    private static BackendProvider pickAuto(List<BackendProvider> all) {
        BackendProvider chosen = null;
        List<String> others = new ArrayList<>();
        for (BackendProvider p : all) {
            if (chosen == null && p.isAvailable()) {
                chosen = p;
            } else if (!p.isAvailable()) {
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
