package dev.jacobian.opencl;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the OpenCL backend keeps on disk for one device: program binaries (so that a second run loads its kernels
 * instead of compiling them; on GPUs and accelerators) and the GEMM tiles {@link ClGemmTuner} measured fastest.
 *
 * <p><b>Where.</b> The system property {@value #PROPERTY} names the directory, or turns the cache off with
 * {@code off}; without it, {@code $XDG_CACHE_HOME/jacobian/opencl}, else {@code ~/.cache/jacobian/opencl}.
 *
 * <p><b>Keys.</b> An entry's name is the SHA-256 of the device's name, vendor, OpenCL version, platform and driver
 * version, of its kind ({@code "program"}, {@code "gemm-tiles"}) and of what it was made from (for a program: the
 * source text, headers included, and the build options). A new driver or an edited kernel therefore never meets an
 * old entry.
 *
 * <p><b>Files.</b> Each entry is one file: a magic line, the full key digest again, the payload's length, the
 * payload, and its CRC-32. It is written to a temporary file in the same directory and moved over the old one
 * atomically, so a reader sees the old entry or the new one, never half of one. An entry that is truncated, too
 * long, fails its checksum or belongs to another key is reported (a warning naming the file and the problem) and
 * treated as missing: the caller rebuilds and writes it again. A directory that cannot be created or written only
 * costs the cache (one warning); nothing here throws. (Not final: a test overrides {@link #read} to hand the driver a
 * payload that is no binary.)
 */
class ClDiskCache {
    private static final Logger LOG = LoggerFactory.getLogger(ClDiskCache.class);

    /** System property: the cache directory, or {@code off}. */
    static final String PROPERTY = "jacobian.opencl.cache";
    /** The largest payload read or written (a program binary is typically tens of KiB to a few MiB). */
    static final int MAX_PAYLOAD = 64 << 20;

    private static final byte[] MAGIC = "jacobian-opencl-cache 1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST_BYTES = 32;
    private static final int HEADER = MAGIC.length + DIGEST_BYTES + Integer.BYTES;
    private static final int TRAILER = Long.BYTES;

    private final Path dir;
    private final String device;
    private final boolean programs;
    private boolean warnedWrite;

    /**
     * A cache in {@code dir} (null: none) for {@code device}, keeping program binaries when it is a GPU or an
     * accelerator. A CPU driver is left to its own cache: PoCL keeps one, and exporting a binary makes it compile the
     * kernels for every work-group size, 0.5-6 s a program (measured on PoCL 3.1), far more than the build it saves.
     */
    ClDiskCache(Path dir, ClInfo.Device device) {
        this(dir, device, device.gpuLike());
    }

    /** A cache in {@code dir} (null: none) for {@code device}, keeping program binaries when {@code programs}. */
    ClDiskCache(Path dir, ClInfo.Device device, boolean programs) {
        this.dir = dir;
        this.device = String.join("\u0000", device.name(), device.vendor(), device.version(), device.platform(),
                device.driver());
        this.programs = programs;
    }

    /** The cache the system property {@value #PROPERTY} (or the default directory) names, for {@code device}. */
    static ClDiskCache configured(ClInfo.Device device) {
        return new ClDiskCache(directory(System.getProperty(PROPERTY), System.getenv("XDG_CACHE_HOME"),
                System.getProperty("user.home")), device);
    }

    /**
     * The directory for a property value {@code property}, {@code XDG_CACHE_HOME} and the home directory: null when
     * the property is {@code off} (any case) or no directory can be named.
     */
    static Path directory(String property, String xdgCacheHome, String home) {
        try {
            if (property != null && !property.isBlank()) {
                return property.trim().toLowerCase(Locale.ROOT).equals("off") ? null : Path.of(property.trim());
            }
            if (xdgCacheHome != null && !xdgCacheHome.isBlank()) {
                return Path.of(xdgCacheHome, "jacobian", "opencl");
            }
            return home == null || home.isBlank() ? null : Path.of(home, ".cache", "jacobian", "opencl");
        } catch (InvalidPathException e) {
            LOG.warn("OpenCL cache disabled: '{}' is not a usable directory name ({})", property, e.getMessage());
            return null;
        }
    }

    /** Whether entries are read and written at all. */
    boolean enabled() {
        return dir != null;
    }

    /** Whether program binaries are kept (see {@link #ClDiskCache(Path, ClInfo.Device)}). */
    boolean keepsPrograms() {
        return dir != null && programs;
    }

    /** The directory, or null when the cache is off. */
    Path dir() {
        return dir;
    }

    /** The file of the entry of {@code kind} made from {@code parts} (whether or not it exists). */
    Path file(String kind, String... parts) {
        return dir.resolve(kind + "-" + HexFormat.of().formatHex(digest(kind, parts)).substring(0, 40) + ".bin");
    }

    /**
     * The payload of the entry of {@code kind} made from {@code parts}, or null when there is none or it is unusable
     * (then a warning names the file and why).
     */
    byte[] read(String kind, String... parts) {
        if (dir == null) {
            return null;
        }
        Path f = file(kind, parts);
        try {
            long size = Files.size(f);
            if (size < HEADER + TRAILER) {
                return unusable(f, "truncated: " + size + " bytes, less than the " + (HEADER + TRAILER) + " of an empty entry");
            }
            if (size > (long) HEADER + MAX_PAYLOAD + TRAILER) {
                return unusable(f, "too large: " + size + " bytes, more than the " + MAX_PAYLOAD + " a payload may have");
            }
            ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(f));
            byte[] magic = new byte[MAGIC.length];
            in.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                return unusable(f, "not a Jacobian OpenCL cache entry (wrong magic)");
            }
            byte[] key = new byte[DIGEST_BYTES];
            in.get(key);
            if (!java.util.Arrays.equals(key, digest(kind, parts))) {
                return unusable(f, "it belongs to another key");
            }
            int length = in.getInt();
            if (length < 0 || length != in.remaining() - TRAILER) {
                return unusable(f, "payload length " + length + " does not match the file's " + in.remaining()
                        + " remaining bytes");
            }
            byte[] payload = new byte[length];
            in.get(payload);
            if (in.getLong() != crc(payload)) {
                return unusable(f, "checksum mismatch");
            }
            return payload;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            return unusable(f, "cannot be read: " + e);
        }
    }

    /** Writes the entry of {@code kind} made from {@code parts} atomically; a failure is a warning, once per cache. */
    void write(byte[] payload, String kind, String... parts) {
        if (dir == null) {
            return;
        }
        if (payload.length > MAX_PAYLOAD) {
            LOG.debug("OpenCL cache: not keeping a {} entry of {} bytes", kind, payload.length);
            return;
        }
        Path f = file(kind, parts);
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, f.getFileName().toString(), ".tmp");
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(HEADER + payload.length + TRAILER);
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.write(MAGIC);
                out.write(digest(kind, parts));
                out.writeInt(payload.length);
                out.write(payload);
                out.writeLong(crc(payload));
            }
            Files.write(tmp, bytes.toByteArray());
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException | RuntimeException e) {
            if (!warnedWrite) {
                warnedWrite = true;
                LOG.warn("OpenCL cache: cannot write {} ({}); kernels will be compiled again next time "
                        + "(set -D{}=off to turn the cache off, or to another directory)", f, e.toString(), PROPERTY);
            }
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file stays; it never shadows an entry
                }
            }
        }
    }

    private static byte[] unusable(Path f, String problem) {
        LOG.warn("OpenCL cache entry {} is unusable, {}; rebuilding it", f, problem);
        return null;
    }

    private byte[] digest(String kind, String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(device.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(kind.getBytes(StandardCharsets.UTF_8));
            for (String p : parts) {
                sha.update((byte) 0);
                sha.update(p.getBytes(StandardCharsets.UTF_8));
            }
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static long crc(byte[] payload) {
        CRC32 c = new CRC32();
        c.update(payload);
        return c.getValue();
    }
}
