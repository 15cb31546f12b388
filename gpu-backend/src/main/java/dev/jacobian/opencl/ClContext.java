package dev.jacobian.opencl;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_PROGRAM_BINARIES;
import static org.jocl.CL.CL_PROGRAM_BINARY_SIZES;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_SUCCESS;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateProgramWithBinary;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clGetProgramInfo;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;

import dev.jacobian.backend.BackendStats;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One OpenCL device with its context and in-order command queue, the device's limits, program builds
 * (a failure carries the build log) and kernel launches. JOCL exceptions are enabled, so every failing
 * call throws a {@link CLException} whose message carries the {@code CL_*} error name.
 *
 * <p>Device choice: the system property {@value #DEVICE_PROPERTY} picks by index (as listed by
 * {@link ClInfo}) or by a case-insensitive substring of "name vendor platform"; without it the first GPU,
 * else the first accelerator, else the first CPU device is taken.
 */
final class ClContext implements AutoCloseable {
    /** System property selecting the device by index or name substring. */
    static final String DEVICE_PROPERTY = "jacobian.opencl.device";

    private static final Logger LOG = LoggerFactory.getLogger(ClContext.class);

    private final ClInfo.Device device;
    private final cl_device_id id;
    private final cl_context context;
    private final cl_command_queue queue;
    private boolean closed;

    private ClContext(ClInfo.Found found) {
        this.device = found.device();
        this.id = found.id();
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, found.platform());
        this.context = clCreateContext(props, 1, new cl_device_id[] {id}, null, null, null);
        cl_command_queue q;
        try {
            q = clCreateCommandQueue(context, id, 0, null);
        } catch (CLException e) {
            clReleaseContext(context);
            throw e;
        }
        this.queue = q;
        LOG.info("OpenCL: using {}", device.describe());
    }

    /** Opens the device {@link #choose chosen} by {@code selector} (null: the default preference order). */
    static ClContext open(String selector) {
        return new ClContext(choose(ClInfo.enumerate(), selector));
    }

    /**
     * Picks a device: by index or name substring when {@code selector} is non-blank, else GPU, then
     * accelerator, then CPU.
     *
     * @throws IllegalArgumentException when the selector matches no device (the message lists them)
     * @throws IllegalStateException    when there is no device at all
     */
    static ClInfo.Found choose(List<ClInfo.Found> all, String selector) {
        if (all.isEmpty()) {
            throw new IllegalStateException("no OpenCL device: the platforms expose none; " + ClNativeLibrary.INSTALL_HINT);
        }
        if (selector != null && !selector.isBlank()) {
            String s = selector.trim();
            if (s.chars().allMatch(Character::isDigit)) {
                int index = Integer.parseInt(s);
                if (index < all.size()) {
                    return all.get(index);
                }
            } else {
                String needle = s.toLowerCase(Locale.ROOT);
                for (ClInfo.Found f : all) {
                    ClInfo.Device d = f.device();
                    String hay = (d.name() + " " + d.vendor() + " " + d.platform()).toLowerCase(Locale.ROOT);
                    if (hay.contains(needle)) {
                        return f;
                    }
                }
            }
            throw new IllegalArgumentException(DEVICE_PROPERTY + "='" + selector + "' matches no OpenCL device (give an "
                    + "index or a name substring); devices: " + all.stream().map(f -> f.device().describe())
                    .collect(Collectors.joining("; ")));
        }
        for (ClInfo.DeviceType t : List.of(ClInfo.DeviceType.GPU, ClInfo.DeviceType.ACCELERATOR, ClInfo.DeviceType.CPU)) {
            for (ClInfo.Found f : all) {
                if (f.device().type() == t) {
                    return f;
                }
            }
        }
        return all.get(0);
    }

    ClInfo.Device device() {
        return device;
    }

    cl_context context() {
        return context;
    }

    cl_command_queue queue() {
        return queue;
    }

    /**
     * Builds {@code source} with {@code options}.
     *
     * @throws IllegalStateException carrying the source name, the options, the {@code CL_*} error and the
     *                               device's build log when compilation fails
     */
    cl_program build(String name, String source, String options) {
        for (int attempt = 1; ; attempt++) {
            cl_program program = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
            try {
                clBuildProgram(program, 1, new cl_device_id[] {id}, options, null, null);
                return program;
            } catch (CLException e) {
                String log = buildLog(program);
                clReleaseProgram(program);
                if (attempt < BUILD_ATTEMPTS && log.contains(TRANSIENT_BUILD_ERROR)) {
                    LOG.debug("OpenCL build of {}.cl hit a transient compiler error (attempt {}): {}", name, attempt, log);
                    continue;
                }
                throw new IllegalStateException("OpenCL build of " + name + ".cl failed on " + device.name() + " with "
                        + e.getMessage() + " (options: " + options + "); build log:\n" + log, e);
            }
        }
    }

    /**
     * The program built from {@code binary} (what {@link #binary} returned for the same source and options on this
     * device and driver), or null when the driver refuses it: the caller then builds from source. Never throws for a
     * bad binary.
     */
    cl_program buildFromBinary(String name, byte[] binary, String options) {
        int[] status = new int[1];
        cl_program program;
        try {
            program = clCreateProgramWithBinary(context, 1, new cl_device_id[] {id}, new long[] {binary.length},
                    new byte[][] {binary}, status, null);
        } catch (CLException e) {
            LOG.debug("OpenCL: the cached binary of {}.cl is refused ({}); building from source", name, e.getMessage());
            return null;
        }
        try {
            if (status[0] != CL_SUCCESS) {
                throw new CLException("binary status " + status[0]);
            }
            clBuildProgram(program, 1, new cl_device_id[] {id}, options, null, null);
            return program;
        } catch (CLException e) {
            LOG.debug("OpenCL: the cached binary of {}.cl does not build ({}); building from source", name,
                    e.getMessage());
            clReleaseProgram(program);
            return null;
        }
    }

    /** The device binary of a built {@code program}, or null when the driver gives none. */
    byte[] binary(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null);
            if (size[0] <= 0 || size[0] > ClDiskCache.MAX_PAYLOAD) {
                return null;
            }
            byte[] bin = new byte[(int) size[0]];
            clGetProgramInfo(program, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(new Pointer[] {Pointer.to(bin)}),
                    null);
            return bin;
        } catch (CLException e) {
            LOG.debug("OpenCL: no program binary from {} ({})", device.name(), e.getMessage());
            return null;
        }
    }

    /**
     * What PoCL's compiler (clang) reports when it loses a temporary file of its kernel cache: it happens now and then
     * when another thread calls into the driver during the build, as JOCL's threads do for every non-blocking
     * transfer (they wait for its event to keep the host memory alive). The source is fine; {@link #build} retries.
     */
    static final String TRANSIENT_BUILD_ERROR = "unable to rename temporary";
    /** Builds tried before a transient compiler error is reported. */
    static final int BUILD_ATTEMPTS = 4;

    private String buildLog(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            return new String(buf, StandardCharsets.UTF_8).trim();
        } catch (CLException e) {
            return "(build log unavailable: " + e.getMessage() + ")";
        }
    }

    /**
     * Sets argument {@code index} of {@code kernel}: an {@link Integer} (int), a {@link Float} (float), an
     * {@code int[]} of length 2, 4, 8 or 16 (an {@code int2} ... {@code int16} vector), or a {@link ClBuffer} or
     * {@link cl_mem} (a buffer). Counted in {@link #countIn the stats}.
     */
    void setArg(cl_kernel kernel, int index, Object a) {
        if (a instanceof Integer v) {
            clSetKernelArg(kernel, index, Sizeof.cl_int, Pointer.to(new int[] {v}));
        } else if (a instanceof Float v) {
            clSetKernelArg(kernel, index, Sizeof.cl_float, Pointer.to(new float[] {v}));
        } else if (a instanceof int[] v && (v.length == 2 || v.length == 4 || v.length == 8 || v.length == 16)) {
            clSetKernelArg(kernel, index, (long) Sizeof.cl_int * v.length, Pointer.to(v));
        } else if (a instanceof ClBuffer b) {
            clSetKernelArg(kernel, index, Sizeof.cl_mem, Pointer.to(b.mem()));
        } else if (a instanceof cl_mem m) {
            clSetKernelArg(kernel, index, Sizeof.cl_mem, Pointer.to(m));
        } else {
            throw new IllegalArgumentException("kernel argument " + index + " has unsupported type " + a);
        }
        if (stats != null) {
            stats.onArgumentSet();
        }
    }

    private BackendStats stats;

    /**
     * Counts in {@code stats} every kernel this context enqueues ({@link BackendStats#onLaunch()}),
     * every argument it sets and every host call that waits for the device.
     */
    void countIn(BackendStats stats) {
        this.stats = stats;
    }

    /** Counts one host call that waited for the device. */
    void countBlockingCall() {
        if (stats != null) {
            stats.onBlockingCall();
        }
    }

    /** Enqueues {@code kernel} (no wait). {@code local} may be null (the driver picks). */
    void launch(cl_kernel kernel, long[] global, long[] local) {
        if (stats != null) {
            stats.onLaunch();
        }
        clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
    }

    /** Enqueues a 1-D launch over {@code count} work-items, rounded up to whole work-groups of {@code wg}. */
    void launch1d(cl_kernel kernel, long count, int wg) {
        long global = Math.max(1, (count + wg - 1) / wg) * wg;
        launch(kernel, new long[] {global}, new long[] {wg});
    }

    /** Waits for everything enqueued ({@code clFinish}). */
    void finish() {
        countBlockingCall();
        clFinish(queue);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            clReleaseCommandQueue(queue);
            clReleaseContext(context);
        }
    }
}
