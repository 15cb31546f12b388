package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import java.util.List;
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

    /** A provider reading {@value #THREADS_PROPERTY} now. */
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

    /**
     * Three lines, without creating a backend: the thread count (and how to change it), the kernels in use
     * (the Vector API shape, or the scalar fallback and why), and the platform.
     */
    @Override
    public List<String> describe() {
        return List.of(
                "CPU, " + threads + " thread(s) for SGEMM (-D" + THREADS_PROPERTY + ", default: "
                        + Runtime.getRuntime().availableProcessors() + " available processors)" + yieldNote(),
                "kernels: " + kernels(),
                System.getProperty("os.arch") + ", " + System.getProperty("java.vm.name") + " " + Runtime.version());
    }

    private String yieldNote() {
        if (threads == 1) {
            return "";
        }
        return CompilerLoad.enabled()
                ? "; fewer while the JIT compiler is busy (-D" + CompilerLoad.PROPERTY + "=false keeps them all)"
                : "; all of them while the JIT compiler is busy too (-D" + CompilerLoad.PROPERTY + "=false)";
    }

    private static String kernels() {
        if (!VectorSupport.available()) {
            return ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()
                    ? "scalar (jdk.incubator.vector is absent; start Java with " + VectorSupport.FLAG + " for SIMD)"
                    : "scalar (the Vector API kernels are switched off by -D" + VectorSupport.PROPERTY + "=false)";
        }
        try {
            return VectorInfo.describe();
        } catch (RuntimeException | LinkageError e) {
            return "Vector API (the vector shape could not be read: " + e + ")";
        }
    }

    @Override
    public Backend create() {
        return new CpuBackend(threads);
    }
}
