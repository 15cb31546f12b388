package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * Provides the {@link ClBackend} under the name {@code "opencl"}.
 *
 * <p>Priority 200 when the chosen device is a GPU or an accelerator, 50 when it is only a CPU device (so
 * that {@code auto} prefers the Vector API CPU backend, priority 100, over OpenCL on the CPU).
 * {@link #isAvailable()} probes once per provider instance, lazily (native code is touched only then),
 * caches the answer and never throws; {@link #priority()}, {@link #unavailableReason()} and
 * {@link #describe()} answer from the same probe. {@link #unavailableReason()} says what is missing (the
 * loader library, a platform, a device, a matching device) and how to install it. The constructor and
 * {@link #name()} touch no native code, so resolving another backend by name never loads OpenCL; nor does
 * {@link #priorityBound()}, which reads files only, so {@code auto} loads no OpenCL driver that offers CPU devices
 * alone.
 */
public final class ClBackendProvider implements BackendProvider {
    /** Priority with a GPU or accelerator. */
    public static final int GPU_PRIORITY = 200;
    /** Priority with only a CPU device (below the CPU backend's 100). */
    public static final int CPU_DEVICE_PRIORITY = 50;

    /** What one probe found: the device to open (null when none), why not (empty when one), and the listing. */
    private record Probe(ClInfo.Device device, String problem, ClInfo.Report report) {
    }

    private final String selector;
    private volatile Probe probe;

    /** A provider honouring the system property {@value ClContext#DEVICE_PROPERTY}. */
    public ClBackendProvider() {
        this(System.getProperty(ClContext.DEVICE_PROPERTY));
    }

    /**
     * A provider choosing the device with {@code selector} (index in {@link ClInfo#probe()}'s device list, or a name
     * substring; null: GPU first), e.g. one per GPU for data-parallel training.
     */
    public ClBackendProvider(String selector) {
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

    /** Enumerates the devices once, then chooses one and builds the listing from the same enumeration. */
    private Probe run() {
        List<ClInfo.Found> found;
        try {
            found = ClInfo.enumerate();
        } catch (RuntimeException | LinkageError e) {
            ClInfo.Report failed = ClInfo.failed(e);
            return new Probe(null, failed.problem(), failed);
        }
        ClInfo.Report report;
        try {
            report = ClInfo.report(found);
        } catch (RuntimeException | LinkageError e) {
            report = ClInfo.failed(e);
        }
        try {
            return new Probe(ClContext.choose(found, selector).device(), "", report);
        } catch (RuntimeException | LinkageError e) {
            return new Probe(null, e.getMessage() == null ? e.toString() : e.getMessage(), report);
        }
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public int priority() {
        ClInfo.Device d = probe().device();
        return d != null && d.gpuLike() ? GPU_PRIORITY : CPU_DEVICE_PRIORITY;
    }

    /**
     * {@link #CPU_DEVICE_PRIORITY} when the installed OpenCL drivers can offer CPU devices only, told from the ICD
     * loader's vendor files and PoCL's driver modules without loading any of them ({@link IcdScan}), else
     * {@link #GPU_PRIORITY}: so {@code auto}, with the CPU backend available, does not load PoCL (and the LLVM it
     * links) only to find a CPU device it would not take.
     */
    @Override
    public int priorityBound() {
        return IcdScan.onlyCpuDevices() ? CPU_DEVICE_PRIORITY : GPU_PRIORITY;
    }

    @Override
    public boolean isAvailable() {
        return probe().device() != null;
    }

    @Override
    public String unavailableReason() {
        return probe().problem();
    }

    /**
     * The OpenCL platforms and their devices with their limits (from the same cached probe as
     * {@link #isAvailable()}), the device {@link #create()} opens marked {@code <- selected}, and how it was
     * selected; or, without OpenCL, what is missing and how to install it. Never throws.
     */
    @Override
    public List<String> describe() {
        Probe p = probe();
        List<String> lines = new ArrayList<>();
        boolean selecting = selector != null && !selector.isBlank();
        if (p.device() == null && !p.report().platforms().isEmpty()) {
            lines.add(selecting ? "-D" + ClContext.DEVICE_PROPERTY + "='" + selector + "' matches none of the devices below"
                    : p.problem());
        }
        lines.addAll(ClInfo.lines(p.report(), p.device()));
        if (p.device() != null) {
            lines.add(selecting ? "selected by -D" + ClContext.DEVICE_PROPERTY + "=" + selector
                    : "selected: the first GPU, else accelerator, else CPU device (-D" + ClContext.DEVICE_PROPERTY
                    + "=<index or name> chooses)");
        }
        return List.copyOf(lines);
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
        return ClBackend.open(selector);
    }
}
