package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provides the {@link CpuBackend} ({@code "cpu"}, priority 100, always available). The thread count is
 * read once, when the provider is constructed, from the system property {@value #THREADS_PROPERTY}
 * (default: {@link Runtime#availableProcessors()}).
 */
public final class CpuBackendProvider implements BackendProvider {
    /** System property with the number of worker threads of backends this provider creates. */
    public static final String THREADS_PROPERTY = "jacobian.cpu.threads";
    private static final Logger LOG = LoggerFactory.getLogger(CpuBackendProvider.class);

    private final int threads;

    public CpuBackendProvider() {
        this.threads = readThreads();
    }

    private static int readThreads() {
        int cores = Runtime.getRuntime().availableProcessors();
        String value = System.getProperty(THREADS_PROPERTY);
        if (value == null || value.isBlank()) {
            return cores;
        }
        try {
            int t = Integer.parseInt(value.trim());
            if (t >= 1) {
                return t;
            }
            LOG.warn("-D{}={} is not a positive count; using {} threads", THREADS_PROPERTY, value, cores);
        } catch (NumberFormatException e) {
            LOG.warn("-D{}={} is not a number ({}); using {} threads", THREADS_PROPERTY, value, e.getMessage(), cores);
        }
        return cores;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    /** The configured thread count. */
    public int threads() {
        return threads;
    }

    @Override
    public Backend create() {
        return new CpuBackend(threads);
    }
}
