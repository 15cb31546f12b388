package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.train.ConcurrencySuite;

/** Threads sharing an OpenCL backend (one context and queue), and threads with one each. */
class ClConcurrencyTest extends ConcurrencySuite {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }
}
