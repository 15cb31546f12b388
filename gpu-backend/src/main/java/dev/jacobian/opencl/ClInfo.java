package dev.jacobian.opencl;

import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_MEM_BASE_ADDR_ALIGN;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VENDOR;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PLATFORM_VENDOR;
import static org.jocl.CL.CL_PLATFORM_VERSION;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * The OpenCL platforms and devices on this machine, with the limits that decide kernel parameters, as
 * plain data (what {@link ClBackendProvider#describe()}, and so the {@code info} command, prints). Listing
 * never throws: when OpenCL cannot be used, {@link Report#problem()} says what is missing and how to
 * install it.
 */
public final class ClInfo {
    private ClInfo() {
    }

    /** Kind of an OpenCL device. */
    public enum DeviceType {
        /** {@code CL_DEVICE_TYPE_GPU} set (it wins when a device reports several types). */
        GPU,
        /** {@code CL_DEVICE_TYPE_ACCELERATOR} set, GPU not. */
        ACCELERATOR,
        /** {@code CL_DEVICE_TYPE_CPU} set, neither GPU nor accelerator. */
        CPU,
        /** None of GPU, accelerator or CPU (e.g. a custom device). */
        OTHER
    }

    /**
     * One device.
     *
     * @param index             position in the flat list over all platforms (what {@code jacobian.opencl.device}
     *                          accepts as a number)
     * @param platform          name of the platform that exposes it
     * @param name              device name
     * @param vendor            device vendor
     * @param version           {@code CL_DEVICE_VERSION}
     * @param driver            {@code CL_DRIVER_VERSION}: part of the key of everything cached on disk for the device
     *                          (program binaries, tuned GEMM tiles), so that a new driver builds and tunes afresh
     * @param type              GPU, accelerator, CPU or other
     * @param computeUnits      {@code CL_DEVICE_MAX_COMPUTE_UNITS}
     * @param maxWorkGroupSize  {@code CL_DEVICE_MAX_WORK_GROUP_SIZE}
     * @param localMemBytes     {@code CL_DEVICE_LOCAL_MEM_SIZE}
     * @param globalMemBytes    {@code CL_DEVICE_GLOBAL_MEM_SIZE}
     * @param maxAllocBytes     {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}, the largest single buffer
     * @param baseAddrAlignBits {@code CL_DEVICE_MEM_BASE_ADDR_ALIGN} in bits: where a sub-buffer (a tensor view)
     *                          may start
     */
    public record Device(int index, String platform, String name, String vendor, String version, String driver,
                         DeviceType type, int computeUnits, long maxWorkGroupSize, long localMemBytes, long globalMemBytes,
                         long maxAllocBytes, int baseAddrAlignBits) {
        /**
         * Whether it is a GPU or an accelerator: what the backend is built for, preferred to a CPU device, with its
         * GEMM tuned and its program binaries kept on disk.
         */
        public boolean gpuLike() {
            return type == DeviceType.GPU || type == DeviceType.ACCELERATOR;
        }

        /** One line: {@code #0 NVIDIA H100 (GPU, NVIDIA Corporation, OpenCL 3.0 CUDA)}. */
        public String describe() {
            return "#" + index + " " + name + " (" + type + ", " + vendor + ", " + version + ", platform " + platform + ")";
        }

        /**
         * The limits on one line: {@code compute units 132, max work-group 1024, local memory 48 KiB,
         * global memory 79.1 GiB, max buffer 19.8 GiB}.
         */
        public String limits() {
            return "compute units " + computeUnits + ", max work-group " + maxWorkGroupSize + ", local memory "
                    + bytes(localMemBytes) + ", global memory " + bytes(globalMemBytes) + ", max buffer "
                    + bytes(maxAllocBytes);
        }
    }

    /** One platform and its devices. */
    public record Platform(String name, String vendor, String version, List<Device> devices) {
    }

    /** Everything found, or why nothing could be listed ({@code problem} is empty when OpenCL works). */
    public record Report(List<Platform> platforms, String problem) {
        /** All devices of all platforms, in index order. */
        public List<Device> devices() {
            return platforms.stream().flatMap(p -> p.devices().stream()).toList();
        }
    }

    /** A device together with its OpenCL handles (for the backend's own use). */
    record Found(cl_platform_id platform, cl_device_id id, Device device) {
    }

    /** Lists platforms and devices; never throws. */
    public static Report probe() {
        try {
            return report(enumerate());
        } catch (RuntimeException | LinkageError e) {
            return failed(e);
        }
    }

    /** The report for a failed {@link #enumerate()}: no platform, and the failure's message as the problem. */
    static Report failed(Throwable e) {
        return new Report(List.of(), e.getMessage() == null ? e.toString() : e.getMessage());
    }

    /**
     * Groups {@code found} (the result of {@link #enumerate()}) by platform.
     *
     * @throws RuntimeException when a platform's strings cannot be read (a driver error)
     */
    static Report report(List<Found> found) {
        List<Platform> platforms = new ArrayList<>();
        cl_platform_id current = null;
        List<Device> devices = null;
        for (Found f : found) {
            if (f.platform() != current) {
                current = f.platform();
                devices = new ArrayList<>();
                platforms.add(new Platform(platformString(current, CL_PLATFORM_NAME),
                        platformString(current, CL_PLATFORM_VENDOR), platformString(current, CL_PLATFORM_VERSION), devices));
            }
            devices.add(f.device());
        }
        platforms.replaceAll(p -> new Platform(p.name(), p.vendor(), p.version(), List.copyOf(p.devices())));
        String problem = found.isEmpty() ? "no OpenCL platform with a device; " + ClNativeLibrary.INSTALL_HINT : "";
        return new Report(List.copyOf(platforms), problem);
    }

    /**
     * Human-readable lines for the {@code info} command: the problem (if any), then each platform and,
     * indented below it, each device with its limits; the device {@code chosen} (may be null) is marked.
     */
    static List<String> lines(Report report, Device chosen) {
        List<String> out = new ArrayList<>();
        if (!report.problem().isEmpty()) {
            out.add(report.problem());
        }
        for (Platform p : report.platforms()) {
            out.add("platform " + p.name() + " (" + p.vendor() + ", " + p.version() + ")");
            for (Device d : p.devices()) {
                out.add("  #" + d.index() + " " + d.name() + " [" + d.type() + ", " + d.vendor() + ", " + d.version()
                        + ", driver " + d.driver() + "]"
                        + (d.equals(chosen) ? " <- selected" : ""));
                out.add("     " + d.limits());
            }
        }
        return List.copyOf(out);
    }

    /**
     * Every device of every platform, flat, in platform order.
     *
     * @throws IllegalStateException saying what is missing (loader library, platform) and how to install it
     */
    static List<Found> enumerate() {
        ClNativeLibrary.Outcome lib = ClNativeLibrary.ensure();
        if (!lib.loadable()) {
            throw new IllegalStateException(lib.detail());
        }
        int[] count = new int[1];
        try {
            CL.setExceptionsEnabled(true);
            clGetPlatformIDs(0, null, count);
        } catch (LinkageError e) {
            throw new IllegalStateException("the OpenCL loader library could not be loaded by JOCL (" + e.getMessage()
                    + "; " + lib.detail() + "); " + ClNativeLibrary.INSTALL_HINT, e);
        } catch (CLException e) {
            throw new IllegalStateException("no OpenCL platform (clGetPlatformIDs: " + e.getMessage()
                    + "): the ICD loader found no driver; " + ClNativeLibrary.INSTALL_HINT, e);
        }
        if (count[0] == 0) {
            throw new IllegalStateException("no OpenCL platform: the ICD loader found no driver; " + ClNativeLibrary.INSTALL_HINT);
        }
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<Found> out = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            int[] n = new int[1];
            try {
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
            } catch (CLException e) {
                if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                    continue;
                }
                throw e;
            }
            cl_device_id[] ids = new cl_device_id[n[0]];
            clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
            String platformName = platformString(p, CL_PLATFORM_NAME);
            for (cl_device_id id : ids) {
                out.add(new Found(p, id, describe(out.size(), platformName, id)));
            }
        }
        return out;
    }

    private static Device describe(int index, String platform, cl_device_id id) {
        long type = deviceLong(id, CL_DEVICE_TYPE);
        DeviceType t = (type & CL_DEVICE_TYPE_GPU) != 0 ? DeviceType.GPU
                : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? DeviceType.ACCELERATOR
                : (type & CL_DEVICE_TYPE_CPU) != 0 ? DeviceType.CPU : DeviceType.OTHER;
        return new Device(index, platform, deviceString(id, CL_DEVICE_NAME), deviceString(id, CL_DEVICE_VENDOR),
                deviceString(id, CL_DEVICE_VERSION), deviceString(id, CL_DRIVER_VERSION), t,
                deviceInt(id, CL_DEVICE_MAX_COMPUTE_UNITS),
                deviceSize(id, CL_DEVICE_MAX_WORK_GROUP_SIZE), deviceLong(id, CL_DEVICE_LOCAL_MEM_SIZE),
                deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                deviceInt(id, CL_DEVICE_MEM_BASE_ADDR_ALIGN));
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static String cString(byte[] buf) {
        int end = 0;
        while (end < buf.length && buf[end] != 0) {
            end++;
        }
        return new String(buf, 0, end, StandardCharsets.UTF_8).trim();
    }

    /** {@code b} bytes in KiB, MiB or GiB, one decimal above KiB. */
    static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.0f KiB", b / 1024.0);
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }
}
