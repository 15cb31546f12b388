package dev.jacobian.opencl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Whether the installed OpenCL drivers can offer only CPU devices, told from files alone: no OpenCL library is loaded.
 *
 * <p>Why: the ICD loader opens every installed driver on its first call, and PoCL (Debian's {@code pocl-opencl-icd},
 * the OpenCL that {@code .ci/run} installs) links LLVM and Clang: listing its devices maps about 55 MiB of their code
 * into the process and adds some 70 MiB to its resident size (a training run of the 784-256-128-10 MLP peaked at 315
 * against 246 MiB). A CPU device never wins {@code auto} over the CPU backend ({@link ClBackendProvider}'s priority 50
 * against 100), so {@code auto} need not open such a driver at all ({@link ClBackendProvider#priorityBound()}).
 *
 * <p>The answer is yes only when the files say so plainly, on Linux: the ICD loader reads its default vendor directory (none of
 * {@code OCL_ICD_VENDORS}, {@code OPENCL_VENDOR_PATH}, {@code OCL_ICD_FILENAMES} is set), which names at least one
 * driver, and every driver it names is a PoCL library whose device drivers (the {@code libpocl-devices-*.so} modules
 * in the {@code pocl} directory beside it, Debian's layout) are all of the kinds that run on the host CPU
 * ({@link #CPU_DRIVERS}). A PoCL without such modules (its drivers built in) does not qualify. Any other driver (a GPU vendor's, a PoCL with a CUDA, Level Zero, HSA, Vulkan or remote module), a file that cannot be
 * read, a library not found: no, and the provider probes as before.
 */
final class IcdScan {
    /** The ICD loader's default vendor directory (ocl-icd and the Khronos loader). */
    static final Path VENDORS = Path.of("/etc/OpenCL/vendors");
    /** The environment variables by which a user points the ICD loader at other drivers. */
    static final List<String> LOADER_VARIABLES = List.of("OCL_ICD_VENDORS", "OPENCL_VENDOR_PATH", "OCL_ICD_FILENAMES");
    /** PoCL's device drivers that offer CPU devices only. */
    static final Set<String> CPU_DRIVERS = Set.of("basic", "pthread", "tbb", "cpu", "cpu-minimal");

    private static final String DRIVER_PREFIX = "libpocl-devices-";
    private static final String DRIVER_SUFFIX = ".so";
    /** An ICD file longer than this is not one (it holds one library name or path). */
    private static final long MAX_ICD_BYTES = 4096;
    /** More vendor files than this: not a machine this check knows; probe. */
    private static final int MAX_ICDS = 64;

    private IcdScan() {
    }

    /** {@link #onlyCpuDevices(String, Map, Path, List)} for this machine, its environment and its library directories. */
    static boolean onlyCpuDevices() {
        try {
            return onlyCpuDevices(System.getProperty("os.name", ""), System.getenv(), VENDORS, libraryDirectories());
        } catch (RuntimeException e) { // a SecurityException, an odd path: not certain
            return false;
        }
    }

    /**
     * Whether, on an OS named {@code osName} with environment {@code env}, the ICD files in {@code vendors} name only
     * PoCL libraries (found by absolute path, or by name in {@code libDirs}) whose device drivers all run on the CPU.
     * False whenever that is not certain. Never throws for a missing or unreadable file.
     */
    static boolean onlyCpuDevices(String osName, Map<String, String> env, Path vendors, List<Path> libDirs) {
        if (!osName.toLowerCase(Locale.ROOT).contains("linux")) {
            return false;
        }
        for (String v : LOADER_VARIABLES) {
            if (env.get(v) != null) {
                return false;
            }
        }
        List<Path> icds = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(vendors, "*.icd")) {
            for (Path f : files) {
                icds.add(f);
                if (icds.size() > MAX_ICDS) {
                    return false;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        if (icds.isEmpty()) {
            return false;
        }
        for (Path icd : icds) {
            if (!cpuOnlyPocl(icd, libDirs)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the ICD file {@code icd} names a PoCL library whose device drivers all run on the CPU. */
    private static boolean cpuOnlyPocl(Path icd, List<Path> libDirs) {
        String library;
        try {
            if (!Files.isRegularFile(icd) || Files.size(icd) > MAX_ICD_BYTES) {
                return false;
            }
            library = Files.readString(icd, StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            return false;
        }
        if (library.isEmpty() || library.contains("\n")) {
            return false;
        }
        Path named;
        try {
            named = Path.of(library);
        } catch (RuntimeException e) {
            return false;
        }
        Path fileName = named.getFileName();
        if (fileName == null || !fileName.toString().startsWith("libpocl.")) {
            return false;
        }
        Path lib = named.isAbsolute() ? named : find(libDirs, library);
        if (lib == null || !Files.isRegularFile(lib)) {
            return false;
        }
        try {
            return cpuDrivers(lib.toRealPath().getParent().resolve("pocl"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code dir} holds at least one PoCL device driver, and only drivers in {@link #CPU_DRIVERS}. */
    static boolean cpuDrivers(Path dir) {
        int drivers = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, DRIVER_PREFIX + "*")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String kind = name.substring(DRIVER_PREFIX.length());
                int so = kind.indexOf(DRIVER_SUFFIX);
                if (so <= 0 || !CPU_DRIVERS.contains(kind.substring(0, so))) {
                    return false;
                }
                drivers++;
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return drivers > 0;
    }

    /** The first {@code dirs/name} that exists, or null. */
    private static Path find(List<Path> dirs, String name) {
        for (Path d : dirs) {
            Path p = d.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** The directories the dynamic linker searches first: {@code LD_LIBRARY_PATH}, then the usual system ones. */
    static List<Path> libraryDirectories() {
        return ClNativeLibrary.directories(false);
    }
}
