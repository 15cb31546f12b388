package dev.jacobian.optim;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;

/** Every optimizer against PyTorch, state round trips and launch counts on the reference backend. */
class ReferenceOptimizerTest extends OptimizerSuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
