package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;

/**
 * Provides the {@link ClBackend} under the name {@code "opencl"}.
 *
 * <p>Priority 200 when the chosen device is a GPU or an accelerator, 50 when it is only a CPU device (so
 * that {@code auto} prefers the Vector API CPU backend, priority 100, over OpenCL on the CPU).
 * {@link #isAvailable()} probes once per provider instance, lazily (native code is touched only then),
 * caches the answer and never throws; {@link #unavailableReason()} says what is missing (the loader
 * library, a platform, a device, a matching device) and how to install it.
 */
public final class ClBackendProvider implements BackendProvider {
    /** Priority with a GPU or accelerator. */
    public static final int GPU_PRIORITY = 200;
    /** Priority with only a CPU device (below the CPU backend's 100). */
    public static final int CPU_DEVICE_PRIORITY = 50;

    private record Probe(ClInfo.Device device, String problem) {
    }

    private final String selector;
    private volatile Probe probe;

    /** A provider honouring the system property {@value ClContext#DEVICE_PROPERTY}. */
    public ClBackendProvider() {
        this(System.getProperty(ClContext.DEVICE_PROPERTY));
    }

    /** A provider choosing the device with {@code selector} (index or name substring; null: GPU first). */
    ClBackendProvider(String selector) {
        this.selector = selector;
    }

    private Probe probe() {
        Probe p = probe;
        if (p == null) {
            synchronized (this) {
                p = probe;
                if (p == null) {
                    p = run();
                    probe = p;
                }
            }
        }
        return p;
    }

    private Probe run() {
        try {
            return new Probe(ClContext.choose(ClInfo.enumerate(), selector).device(), "");
        } catch (RuntimeException | LinkageError e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            return new Probe(null, msg);
        }
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public int priority() {
        ClInfo.Device d = probe().device();
        return d != null && (d.type() == ClInfo.DeviceType.GPU || d.type() == ClInfo.DeviceType.ACCELERATOR)
                ? GPU_PRIORITY : CPU_DEVICE_PRIORITY;
    }

    @Override
    public boolean isAvailable() {
        return probe().device() != null;
    }

    @Override
    public String unavailableReason() {
        return probe().problem();
    }

    /** The device {@link #create()} will open, or null when unavailable. */
    public ClInfo.Device device() {
        return probe().device();
    }

    @Override
    public Backend create() {
        Probe p = probe();
        if (p.device() == null) {
            throw new IllegalStateException("OpenCL backend is not available: " + p.problem());
        }
        return new ClBackend(ClContext.open(selector));
    }
}
