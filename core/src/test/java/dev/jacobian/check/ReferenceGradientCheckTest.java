package dev.jacobian.check;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;

class ReferenceGradientCheckTest extends GradientCheckSuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
