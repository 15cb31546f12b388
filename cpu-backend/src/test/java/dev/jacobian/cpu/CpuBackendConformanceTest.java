package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;

/** The conformance suite on the CPU backend as users get it: vector kernels (when available), 2 threads. */
class CpuBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
