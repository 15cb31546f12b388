package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.Backend;
import dev.jacobian.kernels.KernelSources;
import dev.jacobian.reference.ReferenceBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClGemmTuner}: the mode property, the cache entry's format, and on the OpenCL device present: tuning times
 * every variant of every rung and picks one of them per rung, a second backend reads the winners without timing, the
 * tuned backend computes what the reference does, a damaged entry is tuned again, and {@code off} and {@code auto} on
 * a CPU device leave the built-in tiles.
 */
class ClGemmTunerTest {
    @TempDir
    Path dir;

    @Test
    void theModePropertyIsAutoOnOrOff() {
        assertEquals(ClGemmTuner.Mode.AUTO, ClGemmTuner.Mode.of(null));
        assertEquals(ClGemmTuner.Mode.AUTO, ClGemmTuner.Mode.of(" "));
        assertEquals(ClGemmTuner.Mode.ON, ClGemmTuner.Mode.of("ON"));
        assertEquals(ClGemmTuner.Mode.OFF, ClGemmTuner.Mode.of("false"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClGemmTuner.Mode.of("fast"));
        assertTrue(e.getMessage().contains(ClGemmTuner.PROPERTY) && e.getMessage().contains("fast"), e.getMessage());
    }

    @Test
    void anEntryListsOneVariantOfEachRungInOrder() {
        ClMatmul.Params big = ClMatmul.Params.CANDIDATES.get(0);
        ClMatmul.Params small = ClMatmul.Params.CANDIDATES.get(2);
        List<ClMatmul.Params> ladder = List.of(big, small);
        ClMatmul.Params bigWinner = big.with(true, true);
        ClMatmul.Params smallWinner = small.with(false, true);
        String entry = big.text() + " = " + bigWinner.text() + "\n" + small.text() + " = " + smallWinner.text() + "\n";
        assertEquals(List.of(bigWinner, smallWinner), ClGemmTuner.parse(entry, ladder));
        assertEquals(bigWinner, ClMatmul.Params.parse(bigWinner.text()), "text and parse round-trip");
        assertNull(ClGemmTuner.parse(big.text() + " = " + bigWinner.text(), ladder), "a rung missing");
        assertNull(ClGemmTuner.parse(small.text() + " = " + smallWinner.text() + "\n" + big.text() + " = "
                + bigWinner.text(), ladder), "rungs out of order");
        assertNull(ClGemmTuner.parse(big.text() + " = " + small.text() + "\n" + small.text() + " = " + small.text(), ladder),
                "a winner that is no variant of its rung (other tile sizes would change the plan)");
        assertNull(ClGemmTuner.parse("garbage\nmore garbage", ladder));
        assertThrows(IllegalArgumentException.class, () -> ClMatmul.Params.parse("64x64x16/4x4/vw3/pad1"),
                "inconsistent parameters are refused");
    }

    private static ClBackend backend(ClDiskCache disk, ClGemmTuner.Mode mode) {
        return new ClBackend(ClContext.open(System.getProperty(ClContext.DEVICE_PROPERTY)), disk, mode);
    }

    @Test
    void tuningPicksAVariantPerRungCachesItAndTheTunedTilesAreCorrect() throws Exception {
        ClInfo.Device device;
        try (ClBackend probe = OpenClTestSupport.openOrSkip()) {
            device = probe.device();
        }
        ClDiskCache disk = new ClDiskCache(dir, device);
        List<ClMatmul.Params> builtIn = ClMatmul.ladderFor(device);
        List<ClMatmul.Params> tuned;
        try (ClBackend b = backend(disk, ClGemmTuner.Mode.ON)) {
            ClGemmTuner.Result r = b.gemmTuning();
            assertEquals("tuned", r.source());
            tuned = r.ladder();
            assertEquals(builtIn.size(), tuned.size());
            int variants = 0;
            for (int i = 0; i < builtIn.size(); i++) {
                assertTrue(ClMatmul.Params.variants(builtIn.get(i)).contains(tuned.get(i)), tuned.get(i) + " is a variant of "
                        + builtIn.get(i));
                variants += (int) ClMatmul.Params.variants(builtIn.get(i)).stream().filter(p -> p.fits(device)).count();
            }
            assertEquals(variants, r.timed(), "every variant that fits was timed: " + r.report());
            assertEquals(builtIn.size(), r.report().size());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().startsWith(ClGemmTuner.KIND)).count());
        }
        try (ClBackend b = backend(disk, ClGemmTuner.Mode.AUTO); Backend ref = new ReferenceBackend()) {
            ClGemmTuner.Result r = b.gemmTuning();
            assertEquals("cache", r.source());
            assertEquals(0, r.timed());
            assertEquals(tuned, r.ladder());
            ClGemmTilesTest.allTransposesMatch("tuned gemm", b, ref, 133, 141, 75);
        }
        try (ClBackend b = backend(disk, ClGemmTuner.Mode.OFF)) {
            assertEquals("built-in", b.gemmTuning().source(), "off reads no cache");
            assertEquals(builtIn, b.gemmTuning().ladder());
        }
        // a well-formed entry whose winners are not variants of the rungs: tuned again
        String bad = String.join("\n", builtIn.stream().map(p -> p.text() + " = 8x8x4/2x2/vw1/pad0").toList());
        disk.write(bad.getBytes(StandardCharsets.UTF_8), ClGemmTuner.KIND, KernelSources.load(KernelSources.MATMUL),
                ClGemmTuner.text(builtIn));
        try (ClBackend b = backend(disk, ClGemmTuner.Mode.ON)) {
            assertEquals("tuned", b.gemmTuning().source());
        }
    }

    @Test
    void autoLeavesACpuDeviceUntunedAndWritesNothing() throws Exception {
        ClInfo.Device device;
        try (ClBackend probe = OpenClTestSupport.openOrSkip()) {
            device = probe.device();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(device.type() == ClInfo.DeviceType.CPU, "auto tunes a GPU");
        try (ClBackend b = backend(new ClDiskCache(dir, device), ClGemmTuner.Mode.AUTO)) {
            assertEquals("built-in", b.gemmTuning().source());
            assertEquals(ClMatmul.ladderFor(device), b.gemmTuning().ladder());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.filter(f -> f.getFileName().toString().startsWith(ClGemmTuner.KIND)).count());
        }
    }
}
