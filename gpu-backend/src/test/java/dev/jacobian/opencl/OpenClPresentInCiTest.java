package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** In CI (environment variable {@code CI} set) an OpenCL device must exist, so the GPU suites never skip there. */
class OpenClPresentInCiTest {
    @Test
    void openClIsAvailableInCi() {
        assumeTrue(OpenClTestSupport.inCi(), "CI is not set: OpenCL may be absent on a developer machine");
        ClBackendProvider p = new ClBackendProvider();
        assertTrue(p.isAvailable(), "CI must provide an OpenCL device (e.g. pocl-opencl-icd): " + p.unavailableReason());
    }
}
