package dev.jacobian.opencl;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the OpenCL backend for tests: skips loudly without a device, fails instead when {@code CI} is set. */
final class OpenClTestSupport {
    private static final Logger LOG = LoggerFactory.getLogger(OpenClTestSupport.class);

    private OpenClTestSupport() {
    }

    static boolean inCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isBlank();
    }

    /** A fresh backend, or an aborted test (a failure in CI) saying why OpenCL is missing. */
    static ClBackend openOrSkip() {
        ClBackendProvider p = new ClBackendProvider();
        if (!p.isAvailable()) {
            String msg = "*** OpenCL TESTS SKIPPED: no usable OpenCL device: " + p.unavailableReason() + " ***";
            if (inCi()) {
                fail("CI is set, so an OpenCL device (e.g. PoCL) must exist: " + p.unavailableReason());
            }
            LOG.warn(msg);
            abort(msg);
        }
        return (ClBackend) p.create();
    }
}
