package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IcdScan}: which installations of OpenCL drivers count as offering CPU devices only (so that {@code auto} need
 * not load them), laid out in a temporary directory as Debian lays them out. Needs no OpenCL.
 */
class IcdScanTest {
    private static final String LINUX = "Linux";

    @TempDir
    Path root;
    private Path vendors;
    private Path lib;

    @BeforeEach
    void debianPocl() throws IOException {
        vendors = Files.createDirectories(root.resolve("etc/OpenCL/vendors"));
        lib = Files.createDirectories(root.resolve("usr/lib/x86_64-linux-gnu"));
        Files.writeString(vendors.resolve("pocl.icd"), "libpocl.so.2.10.0\n");
        Files.write(lib.resolve("libpocl.so.2.10.0"), new byte[] {0x7f, 'E', 'L', 'F'});
        Path drivers = Files.createDirectories(lib.resolve("pocl"));
        Files.write(drivers.resolve("libpocl-devices-basic.so"), new byte[1]);
        Files.write(drivers.resolve("libpocl-devices-pthread.so"), new byte[1]);
    }

    private boolean scan(Map<String, String> env) {
        return IcdScan.onlyCpuDevices(LINUX, env, vendors, List.of(root.resolve("nowhere"), lib));
    }

    @Test
    void debiansPoclWithItsCpuDriversOffersCpuDevicesOnly() {
        assertTrue(scan(Map.of()));
    }

    @Test
    void aPoclWithAGpuDriverMayOfferAGpu() throws IOException {
        Files.write(lib.resolve("pocl/libpocl-devices-cuda.so"), new byte[1]);
        assertFalse(scan(Map.of()));
    }

    @Test
    void aPoclWithoutDriverModulesIsNotTrusted() throws IOException {
        for (String d : List.of("basic", "pthread")) {
            Files.delete(lib.resolve("pocl/libpocl-devices-" + d + ".so"));
        }
        assertFalse(scan(Map.of()), "drivers built into the library: which, the files do not say");
        Files.delete(lib.resolve("pocl"));
        assertFalse(scan(Map.of()));
    }

    @Test
    void anotherVendorBesidePoclMayOfferAGpu() throws IOException {
        Files.writeString(vendors.resolve("nvidia.icd"), "libnvidia-opencl.so.1\n");
        assertFalse(scan(Map.of()));
    }

    @Test
    void anAbsolutePathToPoclIsFollowed() throws IOException {
        Files.writeString(vendors.resolve("pocl.icd"), lib.resolve("libpocl.so.2.10.0").toString());
        assertTrue(IcdScan.onlyCpuDevices(LINUX, Map.of(), vendors, List.of()));
        Files.writeString(vendors.resolve("pocl.icd"), root.resolve("missing/libpocl.so.2").toString());
        assertFalse(IcdScan.onlyCpuDevices(LINUX, Map.of(), vendors, List.of()));
    }

    @Test
    void aSymbolicLinkIsFollowedToTheLibraryItNames() throws IOException {
        Path elsewhere = Files.createDirectories(root.resolve("opt/pocl/lib"));
        Files.createSymbolicLink(elsewhere.resolve("libpocl.so.2"), lib.resolve("libpocl.so.2.10.0"));
        Files.writeString(vendors.resolve("pocl.icd"), "libpocl.so.2");
        assertTrue(IcdScan.onlyCpuDevices(LINUX, Map.of(), vendors, List.of(elsewhere)));
    }

    @Test
    void aPoclTheLinkerWouldNotFindIsNotTrusted() {
        assertFalse(IcdScan.onlyCpuDevices(LINUX, Map.of(), vendors, List.of(root.resolve("nowhere"))));
    }

    @Test
    void theLoadersOwnVariablesOrAnotherOsMeanProbing() {
        for (String v : IcdScan.LOADER_VARIABLES) {
            assertFalse(scan(Map.of(v, root.toString())), v);
        }
        assertFalse(IcdScan.onlyCpuDevices("Mac OS X", Map.of(), vendors, List.of(lib)));
        assertTrue(scan(Map.of("POCL_DEBUG", "1")), "other variables change nothing");
    }

    @Test
    void noVendorFileOrAnOddOneMeansProbing() throws IOException {
        Files.delete(vendors.resolve("pocl.icd"));
        assertFalse(scan(Map.of()), "no driver named: let the probe say what is missing");
        Files.writeString(vendors.resolve("pocl.icd"), "");
        assertFalse(scan(Map.of()));
        Files.writeString(vendors.resolve("pocl.icd"), "libpocl.so.2.10.0\nlibother.so\n");
        assertFalse(scan(Map.of()));
        Files.write(vendors.resolve("pocl.icd"), new byte[8192]);
        assertFalse(scan(Map.of()));
        Files.delete(vendors.resolve("pocl.icd"));
        Files.createDirectory(vendors.resolve("pocl.icd"));
        assertFalse(scan(Map.of()));
        assertFalse(IcdScan.onlyCpuDevices(LINUX, Map.of(), root.resolve("no/such/dir"), List.of(lib)));
    }

    @Test
    void otherFilesInTheVendorDirectoryAreNotDrivers() throws IOException {
        Files.writeString(vendors.resolve("README"), "not an ICD file");
        Files.writeString(vendors.resolve("nvidia.icd.disabled"), "libnvidia-opencl.so.1");
        assertTrue(scan(Map.of()));
    }

    @Test
    void cpuDriverKinds() throws IOException {
        Path d = Files.createDirectories(root.resolve("drivers"));
        assertFalse(IcdScan.cpuDrivers(d), "none");
        for (String kind : IcdScan.CPU_DRIVERS) {
            Files.write(d.resolve("libpocl-devices-" + kind + ".so"), new byte[1]);
        }
        assertTrue(IcdScan.cpuDrivers(d));
        for (String gpu : List.of("cuda", "level0", "hsa", "vulkan", "remote", "almaif")) {
            Path f = d.resolve("libpocl-devices-" + gpu + ".so");
            Files.write(f, new byte[1]);
            assertFalse(IcdScan.cpuDrivers(d), gpu);
            Files.delete(f);
        }
        assertEquals(IcdScan.CPU_DRIVERS.size(), d.toFile().list().length);
    }
}
