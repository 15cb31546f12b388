package dev.jacobian.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
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
 * {@code create("cpu")} does not probe an OpenCL driver. {@link #providers()} evaluates every provider's priority and
 * availability; {@code auto} those of every provider that could beat the best available one it has probed
 * ({@link BackendProvider#priorityBound()}).
 *
 * <p>A provider that fails to load (a services entry whose class, or a class it needs, is missing) is skipped with
 * one warning, and named in the message when the backend asked for is not found: it does not take the others down.
 */
public final class Backends {
    /** System property naming the backend. */
    public static final String PROPERTY = "jacobian.backend";
    /** Environment variable naming the backend (read when the property is absent). */
    public static final String ENV = "JACOBIAN_BACKEND";
    /** The name that picks the best available backend. */
    public static final String AUTO = "auto";

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);
    /** More failures than this in one discovery stop it (a class path can hardly hold that many broken providers). */
    private static final int MAX_LOAD_FAILURES = 64;

    private Backends() {
    }

    /**
     * Every provider on the class path, highest priority first (then by name). Sorting calls
     * {@link BackendProvider#priority()} on each, which may probe the machine: use this for {@code auto} and
     * listings, not to find a provider by name.
     */
    public static List<BackendProvider> providers() {
        return byPriority(discover(Backends.class.getClassLoader()).providers());
    }

    private static List<BackendProvider> byPriority(List<BackendProvider> list) {
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

    /** The providers a class loader found, in discovery order, and why each one that failed to load failed. */
    record Found(List<BackendProvider> providers, List<String> failures) {
    }

    /**
     * Every provider {@code loader} finds, in discovery order, without asking any of them anything. A provider that
     * fails to load (its class or a class it needs is missing, its constructor throws) is skipped with one warning
     * and its failure kept for error messages: one broken jar on the class path does not take every backend down.
     */
    static Found discover(ClassLoader loader) {
        List<BackendProvider> list = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Iterator<BackendProvider> it = ServiceLoader.load(BackendProvider.class, loader).iterator();
        // ServiceLoader moves past a provider that failed; the bound only guards against a loader that would not
        while (failures.size() < MAX_LOAD_FAILURES) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                list.add(it.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                failures.add(e.getMessage());
                LOG.warn("a backend provider failed to load and is skipped: {}", e.getMessage());
            }
        }
        return new Found(list, failures);
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
     * The provider {@code name} designates, without creating the backend. For {@code auto} (or null or blank) the priority
     * and availability of every provider that could win are evaluated ({@link BackendProvider#priorityBound()}); for
     * any other name providers are matched by
     * {@link BackendProvider#name()} alone and only the match is asked whether it is available.
     *
     * @throws IllegalArgumentException when no provider has that name (the message lists the names found)
     * @throws IllegalStateException    when the named backend, or under {@code auto} every backend, is not
     *                                  available (the message gives the reasons)
     */
    public static BackendProvider resolve(String name) {
        return resolve(name, Backends.class.getClassLoader());
    }

    /** {@link #resolve(String)} among the providers {@code loader} finds. */
    static BackendProvider resolve(String name, ClassLoader loader) {
        // blank means auto, as for the system property and the environment variable (configuredName)
        String wanted = name == null || name.isBlank() ? AUTO : name.trim().toLowerCase(Locale.ROOT);
        Found found = discover(loader);
        List<BackendProvider> all = found.providers();
        if (wanted.equals(AUTO)) {
            return pickAuto(all, found.failures());
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
                + all.stream().map(BackendProvider::name).sorted().collect(Collectors.joining(", ")) + " (or 'auto')"
                + (found.failures().isEmpty() ? "" : "; providers that failed to load: " + String.join("; ", found.failures())));
    }

    /**
     * The provider {@code auto} takes from {@code all} (in any order), with the one log line saying why: the one
     * {@link #autoChoice} takes from {@code all} sorted as {@link #providers()} sorts it, found by probing the providers
     * in the order of their {@link BackendProvider#priorityBound()} (highest first, then by name) and leaving unprobed
     * each one whose bound could not beat the best available provider probed before it (a lower bound, or an equal
     * one with a later name).
     *
     * @throws IllegalStateException when no provider is available (the message gives every provider's reason)
     */
    static BackendProvider pickAuto(List<BackendProvider> all, List<String> failures) {
        Map<BackendProvider, Integer> bounds = new IdentityHashMap<>(); // each asked once: a bound may read files
        for (BackendProvider p : all) {
            bounds.put(p, p.priorityBound());
        }
        List<BackendProvider> byBound = new ArrayList<>(all);
        byBound.sort(Comparator.comparingInt((BackendProvider p) -> bounds.get(p)).reversed()
                .thenComparing(BackendProvider::name));
        BackendProvider chosen = null;
        List<BackendProvider> probed = new ArrayList<>();
        List<BackendProvider> skipped = new ArrayList<>();
        for (BackendProvider p : byBound) {
            if (chosen != null && !ranksAbove(bounds.get(p), p, chosen)) {
                skipped.add(p);
                continue;
            }
            probed.add(p);
            if (p.isAvailable() && (chosen == null || ranksAbove(p.priority(), p, chosen))) {
                chosen = p;
            }
        }
        List<String> others = new ArrayList<>();
        for (BackendProvider p : byPriority(probed)) {
            if (p == chosen) {
                continue;
            }
            if (!p.isAvailable()) {
                others.add(p.name() + ": " + p.unavailableReason());
            } else {
                others.add(p.name() + ": lower priority (" + p.priority() + ")");
            }
        }
        for (BackendProvider p : skipped) {
            others.add(p.name() + ": not probed (priority at most " + bounds.get(p) + ")");
        }
        if (chosen == null) {
            throw new IllegalStateException("no backend is available; providers found: " + others
                    + (failures.isEmpty() ? "" : "; providers that failed to load: " + String.join("; ", failures)));
        }
        LOG.info("backend auto: using '{}' (priority {}){}", chosen.name(), chosen.priority(),
                others.isEmpty() ? "" : "; not taken: " + String.join("; ", others));
        return chosen;
    }

    /**
     * Whether provider {@code p} at priority {@code priority} comes before {@code best} (available, probed) in the
     * order of {@link #providers()}: a higher priority, or the same one and an earlier name.
     */
    private static boolean ranksAbove(int priority, BackendProvider p, BackendProvider best) {
        int other = best.priority();
        return priority > other || priority == other && p.name().compareTo(best.name()) < 0;
    }
}
