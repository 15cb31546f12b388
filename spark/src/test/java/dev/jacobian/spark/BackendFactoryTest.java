package dev.jacobian.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

/** Which GPU a task drives: the first address of the {@code gpu} resource Spark assigned it. */
class BackendFactoryTest {
    @Test
    void aTaskDrivesTheGpuSparkAssignedIt() {
        assertEquals("1", BackendFactory.gpuAddress(Map.of("gpu", new ResourceInformation("gpu", new String[] {"1", "2"}))));
        assertNull(BackendFactory.gpuAddress(Map.of()), "no GPU resource: the backend by name");
        assertNull(BackendFactory.gpuAddress(null));
        assertNull(BackendFactory.gpuAddress(Map.of("gpu", new ResourceInformation("gpu", new String[0]))));
        assertNull(BackendFactory.gpuAddress(Map.of("gpu", new ResourceInformation("gpu", new String[] {"GPU-uuid"}))),
                "an address that is no index is left to --backend");
        assertNull(BackendFactory.gpuAddress(Map.of("fpga", new ResourceInformation("fpga", new String[] {"0"}))));
    }
}
