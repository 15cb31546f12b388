package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The libOpenCL.so.1 shim: the SONAME rewrite and the messages when no loader exists. */
class ClNativeLibraryTest {

    @Test
    void noLoaderLibrarySaysWhatToInstall(@TempDir Path empty) {
        ClNativeLibrary.Outcome o = ClNativeLibrary.prepare("Linux", List.of(empty));
        assertFalse(o.loadable());
        assertTrue(o.detail().contains("libOpenCL.so.1") && o.detail().contains("ocl-icd-opencl-dev")
                && o.detail().contains("pocl-opencl-icd"), o.detail());
    }

    @Test
    void unversionedLibraryIsUsedAsIs(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("libOpenCL.so"), "stub");
        ClNativeLibrary.Outcome o = ClNativeLibrary.prepare("Linux", List.of(dir));
        assertTrue(o.loadable() && o.detail().contains("found"), o.detail());
    }

    @Test
    void copyOfTheVersionedLoaderGetsTheUnversionedSoname(@TempDir Path dir) throws IOException {
        Path lib = ClNativeLibrary.searchDirectories().stream().map(d -> d.resolve("libOpenCL.so.1"))
                .filter(Files::isReadable).findFirst().orElse(null);
        assumeTrue(lib != null, "no libOpenCL.so.1 on this machine to rewrite");
        byte[] original = Files.readAllBytes(lib);
        Path copy = ClNativeLibrary.renamedCopy(lib, dir);
        assertEquals("libOpenCL.so", copy.getFileName().toString());
        byte[] patched = Files.readAllBytes(copy);
        int at = ClNativeLibrary.sonameOffset(patched);
        assertEquals("libOpenCL.so", new String(patched, at, 12, StandardCharsets.ISO_8859_1));
        assertEquals(0, patched[at + 12]);
        patched[at + 12] = original[at + 12];
        assertArrayEquals(original, patched, "only the one byte that cuts the SONAME short changes");
    }
}
