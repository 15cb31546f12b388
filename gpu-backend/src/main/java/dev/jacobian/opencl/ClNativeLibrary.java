package dev.jacobian.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the OpenCL ICD loader reachable for JOCL before JOCL's first use.
 *
 * <p>JOCL 2.0.5 opens the loader with {@code dlopen("libOpenCL.so")} and nothing else. Many machines have
 * only {@code libOpenCL.so.1} (the unversioned name comes with the {@code -dev} package). glibc answers
 * {@code dlopen("libOpenCL.so")} with an already loaded object whose {@code DT_SONAME} is
 * {@code libOpenCL.so}, so when only {@code libOpenCL.so.1} exists we copy it into a private temporary
 * directory, change its SONAME in the copy from {@code libOpenCL.so.1} to {@code libOpenCL.so} (the same
 * string, cut one dot short) and {@link System#load} the copy. JOCL's {@code dlopen} then finds it.
 * (Loading {@code libOpenCL.so.1} as it is does not help: its SONAME does not match the requested name.)
 *
 * <p>The work happens once per class loader, in the holder idiom: {@link #ensure()} returns the same
 * immutable {@link Outcome} every time.
 */
final class ClNativeLibrary {
    private static final Logger LOG = LoggerFactory.getLogger(ClNativeLibrary.class);
    private static final String UNVERSIONED = "libOpenCL.so";
    private static final String VERSIONED = "libOpenCL.so.1";

    /** How to get a working OpenCL stack on Debian/Ubuntu, for error messages. */
    static final String INSTALL_HINT = "install the ICD loader and a driver, e.g. 'apt-get install ocl-icd-opencl-dev' "
            + "plus your vendor's OpenCL driver (NVIDIA/AMD/Intel), or 'apt-get install ocl-icd-libopencl1 "
            + "pocl-opencl-icd' for OpenCL on the CPU";

    /**
     * What was done to make the loader reachable.
     *
     * @param loadable whether JOCL can be expected to find the loader
     * @param detail   what was found or done, or what is missing and how to install it
     */
    record Outcome(boolean loadable, String detail) {
    }

    private ClNativeLibrary() {
    }

    private static final class Holder {
        static final Outcome OUTCOME = prepare(System.getProperty("os.name", ""), searchDirectories());
    }

    /** Prepares the loader once (idempotent, never throws). */
    static Outcome ensure() {
        return Holder.OUTCOME;
    }

    static Outcome prepare(String osName, List<Path> dirs) {
        if (!osName.toLowerCase(Locale.ROOT).contains("linux")) {
            return new Outcome(true, "not Linux: JOCL's own library search is used");
        }
        Optional<Path> unversioned = find(dirs, UNVERSIONED);
        if (unversioned.isPresent()) {
            return new Outcome(true, "found " + unversioned.get());
        }
        Optional<Path> versioned = find(dirs, VERSIONED);
        if (versioned.isEmpty()) {
            return new Outcome(false, "no OpenCL ICD loader library (" + UNVERSIONED + " or " + VERSIONED
                    + ") in " + dirs + "; " + INSTALL_HINT);
        }
        try {
            Path copy = renamedCopy(versioned.get(), Files.createTempDirectory("jacobian-opencl"));
            System.load(copy.toString());
            LOG.info("OpenCL: only {} exists; loaded it as {} via {} so that JOCL finds it",
                    versioned.get(), UNVERSIONED, copy);
            return new Outcome(true, "loaded " + versioned.get() + " as " + UNVERSIONED + " (" + copy + ")");
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            LOG.warn("OpenCL: could not make {} loadable as {}", versioned.get(), UNVERSIONED, e);
            return new Outcome(false, "found " + versioned.get() + " but JOCL needs " + UNVERSIONED
                    + " and preparing a copy failed (" + e + "); " + INSTALL_HINT);
        }
    }

    /** Copies {@code lib} into {@code dir} as {@code libOpenCL.so} with its SONAME set to {@code libOpenCL.so}. */
    static Path renamedCopy(Path lib, Path dir) throws IOException {
        byte[] elf = Files.readAllBytes(lib);
        int at = sonameOffset(elf);
        String soname = cString(elf, at);
        if (!soname.startsWith(UNVERSIONED + ".")) {
            throw new IOException(lib + " has SONAME '" + soname + "', expected " + UNVERSIONED + ".<n>");
        }
        elf[at + UNVERSIONED.length()] = 0;
        Path out = dir.resolve(UNVERSIONED);
        Files.write(out, elf);
        out.toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        return out;
    }

    /** File offset of the DT_SONAME string of a 64-bit little-endian ELF shared object. */
    static int sonameOffset(byte[] elf) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        if (elf.length < 64 || b.getInt(0) != 0x464c457f || elf[4] != 2 || elf[5] != 1) {
            throw new IOException("not a 64-bit little-endian ELF file");
        }
        long phoff = b.getLong(0x20);
        int phentsize = Short.toUnsignedInt(b.getShort(0x36));
        int phnum = Short.toUnsignedInt(b.getShort(0x38));
        long dynOff = -1;
        long dynSize = 0;
        List<long[]> loads = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int p = Math.toIntExact(phoff + (long) i * phentsize);
            int type = b.getInt(p);
            if (type == 1) { // PT_LOAD: vaddr, offset, filesz
                loads.add(new long[] {b.getLong(p + 0x10), b.getLong(p + 0x08), b.getLong(p + 0x20)});
            } else if (type == 2) { // PT_DYNAMIC
                dynOff = b.getLong(p + 0x08);
                dynSize = b.getLong(p + 0x20);
            }
        }
        if (dynOff < 0) {
            throw new IOException("no PT_DYNAMIC segment");
        }
        long strtab = -1;
        long soname = -1;
        for (long e = dynOff; e + 16 <= dynOff + dynSize; e += 16) {
            long tag = b.getLong(Math.toIntExact(e));
            long val = b.getLong(Math.toIntExact(e + 8));
            if (tag == 0) {
                break;
            } else if (tag == 5) {
                strtab = val;
            } else if (tag == 14) {
                soname = val;
            }
        }
        if (strtab < 0 || soname < 0) {
            throw new IOException("no DT_STRTAB/DT_SONAME entry");
        }
        for (long[] l : loads) {
            if (strtab >= l[0] && strtab < l[0] + l[2]) {
                return Math.toIntExact(strtab - l[0] + l[1] + soname);
            }
        }
        throw new IOException("DT_STRTAB is outside every PT_LOAD segment");
    }

    private static String cString(byte[] b, int at) {
        int end = at;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.ISO_8859_1);
    }

    private static Optional<Path> find(List<Path> dirs, String name) {
        return dirs.stream().map(d -> d.resolve(name)).filter(Files::isReadable).findFirst();
    }

    /** LD_LIBRARY_PATH, the directories ldconfig knows, then the usual system directories. */
    static List<Path> searchDirectories() {
        return directories(true);
    }

    /**
     * LD_LIBRARY_PATH's directories, then (with {@code ldconfig}) the directories of the OpenCL entries in
     * {@code ldconfig -p}, then the usual system directories; without it no process is started.
     */
    static List<Path> directories(boolean ldconfig) {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(":")) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        if (ldconfig) {
            dirs.addAll(ldconfigDirectories());
        }
        for (String d : List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/usr/lib64", "/lib64", "/usr/local/lib", "/usr/lib", "/lib")) {
            dirs.add(Path.of(d));
        }
        return List.copyOf(dirs);
    }

    /** Directories of the OpenCL entries in {@code ldconfig -p}, or none when ldconfig cannot run. */
    private static List<Path> ldconfigDirectories() {
        List<Path> out = new ArrayList<>();
        for (String exe : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
            if (!Files.isExecutable(Path.of(exe))) {
                continue;
            }
            try {
                Process p = new ProcessBuilder(exe, "-p").redirectErrorStream(true).start();
                String text;
                try (InputStream in = p.getInputStream()) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroy();
                }
                for (String line : text.split("\n")) {
                    int arrow = line.indexOf("=>");
                    if (line.contains("libOpenCL.so") && arrow > 0) {
                        Path parent = Path.of(line.substring(arrow + 2).trim()).getParent();
                        if (parent != null) {
                            out.add(parent);
                        }
                    }
                }
                return out;
            } catch (IOException e) {
                LOG.debug("OpenCL: cannot run {} -p", exe, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.debug("OpenCL: interrupted while running {} -p", exe, e);
                return out;
            }
        }
        return out;
    }
}
