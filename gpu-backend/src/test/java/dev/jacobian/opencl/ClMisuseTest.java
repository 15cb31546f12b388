package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendMisuseSuite;

/** The misuse suite on the OpenCL backend (skips loudly without a device, fails in CI). */
class ClMisuseTest extends BackendMisuseSuite {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }
}
