package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;

/**
 * The shared conformance suite against the OpenCL backend. Skipped (loudly) only when no OpenCL device
 * exists; when the environment variable {@code CI} is set that is a failure instead. Views are placed at
 * the device's sub-buffer alignment ({@link ClBackend#viewAlignmentFloats()}).
 */
class ClBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }

    @Override
    protected int viewOffset() {
        return ((ClBackend) backend).viewAlignmentFloats();
    }
}
