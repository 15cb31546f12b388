package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.UnaryOp;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClDiskCache}: entries round-trip, survive nothing but themselves (a truncated, oversized, corrupted, foreign
 * or misplaced file reads as missing, and the next write repairs it), an unwritable directory only costs the cache,
 * and the directory follows the property, {@code XDG_CACHE_HOME} and the home directory. Then, on the OpenCL device,
 * a second backend on the same cache compiles no program and computes the same bits, and a cache whose binaries the
 * driver refuses or whose files were damaged falls back to compiling from source.
 */
class ClDiskCacheTest {
    private static final ClInfo.Device DEVICE = new ClInfo.Device(0, "Platform", "Device", "Vendor", "OpenCL 3.0",
            "1.0", ClInfo.DeviceType.GPU, 8, 256, 32768, 1L << 30, 1L << 28, 1024);

    @TempDir
    Path dir;

    @Test
    void entriesRoundTripByKindDeviceAndParts() throws IOException {
        ClDiskCache c = new ClDiskCache(dir, DEVICE);
        assertNull(c.read("program", "src", "-O1"), "nothing written yet");
        byte[] payload = "binary \u0000 bytes".getBytes(StandardCharsets.UTF_8);
        c.write(payload, "program", "src", "-O1");
        assertArrayEquals(payload, c.read("program", "src", "-O1"));
        assertNull(c.read("program", "src", "-O2"), "other options are another entry");
        assertNull(c.read("gemm-tiles", "src", "-O1"), "another kind is another entry");
        ClInfo.Device newDriver = new ClInfo.Device(0, "Platform", "Device", "Vendor", "OpenCL 3.0", "1.1",
                ClInfo.DeviceType.GPU, 8, 256, 32768, 1L << 30, 1L << 28, 1024);
        assertNull(new ClDiskCache(dir, newDriver).read("program", "src", "-O1"), "a new driver never meets old entries");
        c.write(new byte[0], "program", "empty");
        assertArrayEquals(new byte[0], c.read("program", "empty"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void damagedEntriesReadAsMissingAndTheNextWriteRepairsThem() throws IOException {
        ClDiskCache c = new ClDiskCache(dir, DEVICE);
        byte[] payload = new byte[1000];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7);
        }
        Path f = c.file("program", "a");
        List<String> damages = List.of("flip", "truncate", "empty", "magic", "grow", "huge");
        for (String damage : damages) {
            c.write(payload, "program", "a");
            byte[] good = Files.readAllBytes(f);
            switch (damage) {
                case "flip" -> {
                    good[good.length / 2] ^= 0x10;
                    Files.write(f, good);
                }
                case "truncate" -> Files.write(f, java.util.Arrays.copyOf(good, good.length - 9));
                case "empty" -> Files.write(f, new byte[0]);
                case "magic" -> {
                    good[0] = 'X';
                    Files.write(f, good);
                }
                case "grow" -> Files.write(f, java.util.Arrays.copyOf(good, good.length + 1));
                default -> {
                    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                        raf.setLength(ClDiskCache.MAX_PAYLOAD + 4096L); // sparse: a hostile length, never read
                    }
                }
            }
            assertNull(c.read("program", "a"), damage);
            c.write(payload, "program", "a");
            assertArrayEquals(payload, c.read("program", "a"), damage + ", then rewritten");
        }
        // a valid entry of another key copied to this key's name
        c.write(payload, "program", "b");
        Files.copy(c.file("program", "b"), f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertNull(c.read("program", "a"), "an entry under another key's name");
    }

    @Test
    void anUnwritableDirectoryOnlyCostsTheCache() throws IOException {
        Path notADir = dir.resolve("file");
        Files.writeString(notADir, "x");
        ClDiskCache c = new ClDiskCache(notADir.resolve("cache"), DEVICE);
        c.write(new byte[] {1, 2, 3}, "program", "a");
        c.write(new byte[] {1, 2, 3}, "program", "b");
        assertNull(c.read("program", "a"));
        ClDiskCache off = new ClDiskCache(null, DEVICE);
        assertFalse(off.enabled());
        off.write(new byte[] {1}, "program", "a");
        assertNull(off.read("program", "a"));
    }

    @Test
    void theDirectoryFollowsThePropertyThenXdgThenHome() {
        assertNull(ClDiskCache.directory("off", "/x", "/home/u"));
        assertNull(ClDiskCache.directory(" OFF ", "/x", "/home/u"));
        assertEquals(Path.of("/tmp/c"), ClDiskCache.directory("/tmp/c", "/x", "/home/u"));
        assertEquals(Path.of("/x/jacobian/opencl"), ClDiskCache.directory(null, "/x", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/jacobian/opencl"), ClDiskCache.directory("", " ", "/home/u"));
        assertNull(ClDiskCache.directory(null, null, null));
        assertNull(ClDiskCache.directory("bad\u0000path", null, "/home/u"));
    }

    /** A small product with a fused epilogue and an elementwise op, as bits. */
    private static float[] compute(ClBackend b) {
        float[] x = OpenClTestBase.random(1, 40 * 70);
        float[] w = OpenClTestBase.random(2, 70 * 50);
        float[] bias = OpenClTestBase.random(3, 50);
        try (Tensor tx = b.fromHost(Shape.matrix(40, 70), x); Tensor tw = b.fromHost(Shape.matrix(70, 50), w);
             Tensor tb = b.fromHost(Shape.matrix(1, 50), bias); Tensor y = b.allocate(Shape.matrix(40, 50));
             Tensor z = b.allocate(Shape.matrix(40, 50))) {
            b.gemmBiasActivation(tx, tw, tb, Activation.RELU, 0f, y);
            b.unary(UnaryOp.EXP, 0f, 0f, y, z);
            return z.download();
        }
    }

    @Test
    void aSecondBackendLoadsEveryProgramFromDiskAndComputesTheSameBits() throws IOException {
        float[] first;
        int built;
        ClDiskCache disk;
        try (ClBackend a = OpenClTestSupport.openOrSkip()) {
            device = a.device();
            disk = new ClDiskCache(dir, device, true); // binaries even on a CPU device
        }
        try (ClBackend a = backend(disk)) {
            first = compute(a);
            built = a.programCache().sourceBuilds();
            assertTrue(built >= 2, "the GEMM and the elementwise programs are compiled");
            assertEquals(0, a.programCache().binaryLoads());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(built, files.count(), "one binary per program");
        }
        try (ClBackend b = backend(disk)) {
            assertArrayEquals(first, compute(b), "same bits from the loaded binaries");
            assertEquals(0, b.programCache().sourceBuilds(), "nothing compiled the second time");
            assertEquals(built, b.programCache().binaryLoads());
        }
        // damaged files: compiled again, same bits, and repaired
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                byte[] bytes = Files.readAllBytes(f);
                bytes[bytes.length - 1] ^= 1;
                Files.write(f, bytes);
            }
        }
        try (ClBackend c = backend(disk)) {
            assertArrayEquals(first, compute(c));
            assertEquals(built, c.programCache().sourceBuilds());
        }
        try (ClBackend d = backend(disk)) {
            assertArrayEquals(first, compute(d));
            assertEquals(built, d.programCache().binaryLoads(), "the rebuilt binaries were written back");
        }
    }

    @Test
    void aBinaryTheDriverRefusesIsCompiledFromSource() throws IOException {
        ClDiskCache disk;
        float[] first;
        try (ClBackend a = OpenClTestSupport.openOrSkip()) {
            device = a.device();
            disk = new ClDiskCache(dir, device, true); // binaries even on a CPU device
        }
        try (ClBackend a = backend(disk)) {
            first = compute(a);
        }
        // well-formed entries whose payload is no binary at all
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.findAny().isPresent());
        }
        ClDiskCache garbage = new ClDiskCache(dir, device, true) {
            @Override
            byte[] read(String kind, String... parts) {
                byte[] real = super.read(kind, parts);
                return real == null ? null : "this is not a device binary".getBytes(StandardCharsets.US_ASCII);
            }
        };
        try (ClBackend b = backend(garbage)) {
            assertArrayEquals(first, compute(b));
            assertEquals(0, b.programCache().binaryLoads());
            assertTrue(b.programCache().sourceBuilds() >= 2);
        }
    }

    /** The device under test, set when the OpenCL tests open it. */
    private ClInfo.Device device;

    private static ClBackend backend(ClDiskCache disk) {
        ClContext cl = ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY));
        return new ClBackend(cl, disk, ClGemmTuner.Mode.OFF);
    }
}
