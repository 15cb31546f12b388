package dev.jacobian.reference;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;

/** The reference against itself: proves the suite's harness and the reference's own checks run. */
class ReferenceConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
