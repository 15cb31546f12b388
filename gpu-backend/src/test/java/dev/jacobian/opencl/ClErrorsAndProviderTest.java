package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.backend.BackendProvider;
import dev.jacobian.backend.Backends;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** Error messages (bad device selector, oversize allocation), the provider's priority, pooling and stats. */
class ClErrorsAndProviderTest extends OpenClTestBase {
    @Test
    void badDeviceSelectorListsTheDevices() {
        List<ClInfo.Found> all = ClInfo.enumerate();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClContext.choose(all, "no-such-device-xyz"));
        assertTrue(e.getMessage().contains("no-such-device-xyz") && e.getMessage().contains(all.get(0).device().name()),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClContext.choose(all, String.valueOf(all.size())));
        ClBackendProvider bad = new ClBackendProvider("no-such-device-xyz");
        assertFalse(bad.isAvailable());
        assertTrue(bad.unavailableReason().contains(ClContext.DEVICE_PROPERTY), bad.unavailableReason());
    }

    @Test
    void selectorByIndexAndName() {
        List<ClInfo.Found> all = ClInfo.enumerate();
        assertEquals(all.get(0).device(), ClContext.choose(all, "0").device());
        String name = all.get(0).device().name();
        assertEquals(all.get(0).device(), ClContext.choose(all, name.substring(0, Math.min(4, name.length()))
                .toUpperCase(java.util.Locale.ROOT)).device());
    }

    @Test
    void oversizeAllocationSaysWhatWasAskedAndWhatTheDeviceHas() {
        long floats = cl.device().maxAllocBytes() / Float.BYTES + 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cl.allocateBuffer(floats));
        assertTrue(e.getMessage().contains(floats + " floats") && e.getMessage().contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE"),
                e.getMessage());
    }

    @Test
    void providerPriorityFollowsTheDeviceType() {
        ClBackendProvider p = new ClBackendProvider();
        ClInfo.Device d = p.device();
        if (d.type() == ClInfo.DeviceType.CPU) {
            assertEquals(ClBackendProvider.CPU_DEVICE_PRIORITY, p.priority());
            assertTrue(p.priority() < 100, "a CPU-only OpenCL device ranks below the CPU backend (100)");
        } else {
            assertEquals(ClBackendProvider.GPU_PRIORITY, p.priority());
        }
        assertEquals("", p.unavailableReason());
    }

    @Test
    void providerIsRegistered() {
        List<BackendProvider> found = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.name().equals("opencl")).toList();
        assertEquals(1, found.size(), "exactly one 'opencl' provider in META-INF/services");
        assertTrue(Backends.providers().stream().anyMatch(p -> p.name().equals("opencl") && p.isAvailable()));
    }

    @Test
    void pooledBuffersAreReusedAndCountedOnce() {
        try (Tensor warm = cl.allocate(Shape.matrix(37, 41))) {
            warm.download();
        }
        long created = cl.bufferCreations();
        long live = cl.stats().liveBuffers();
        for (int i = 0; i < 5; i++) {
            try (Tensor t = cl.allocate(Shape.matrix(37, 41))) {
                assertEquals(live + 1, cl.stats().liveBuffers());
            }
        }
        assertEquals(created, cl.bufferCreations(), "a reuse from the pool creates no cl_mem");
        assertEquals(live, cl.stats().liveBuffers());
    }

    @Test
    void sizeClassesHaveBoundedSlack() {
        for (long n = 1; n < 100_000; n = n * 3 + 1) {
            long c = ClBufferPool.sizeClass(n);
            assertTrue(c >= n && (n < 16 || c <= n * 1.25 + 1), n + " -> " + c);
        }
    }

    @Test
    void infoListsTheDevice() {
        ClInfo.Report r = ClInfo.probe();
        assertEquals("", r.problem());
        assertTrue(r.devices().stream().anyMatch(d -> d.name().equals(cl.device().name())));
        ClInfo.Device d = cl.device();
        assertTrue(d.maxWorkGroupSize() > 0 && d.localMemBytes() > 0 && d.globalMemBytes() >= d.maxAllocBytes(), d.toString());
    }

    @Test
    void providerDescribesPlatformsDevicesAndTheSelectedOne() {
        ClBackendProvider p = new ClBackendProvider();
        List<String> lines = p.describe();
        String text = String.join("\n", lines);
        ClInfo.Device d = p.device();
        assertTrue(lines.get(0).startsWith("platform " + d.platform()) || text.contains("platform " + d.platform()), text);
        assertTrue(text.contains("#" + d.index() + " " + d.name()) && text.contains("<- selected"), text);
        assertEquals(1, text.split("<- selected", -1).length - 1, "exactly one device is marked:\n" + text);
        assertTrue(text.contains("compute units " + d.computeUnits()) && text.contains("max buffer "), text);
        assertEquals(lines, p.describe(), "the description comes from the cached probe");

        List<String> bad = new ClBackendProvider("no-such-device-xyz").describe();
        assertTrue(bad.get(0).contains("no-such-device-xyz") && bad.get(0).contains("matches none"), bad.toString());
        assertFalse(String.join("\n", bad).contains("<- selected"), bad.toString());
    }

    @Test
    void aClosedBackendRefusesWorkInsteadOfOpeningAnotherContext() {
        ClBackend b = OpenClTestSupport.openOrSkip();
        b.synchronize();
        b.close();
        assertThrows(IllegalStateException.class, b::synchronize);
        assertThrows(IllegalStateException.class, () -> b.allocateBuffer(16));
    }
}
