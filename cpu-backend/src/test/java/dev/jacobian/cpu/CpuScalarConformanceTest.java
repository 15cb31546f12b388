package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;

/** The conformance suite on the scalar twins (vector kernels off), as on a JVM without the Vector API. */
class CpuScalarConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2, false);
    }
}
