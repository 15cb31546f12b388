package dev.jacobian.nn;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;

/** Dropout, batch norm and layer norm on the reference backend. */
class ReferenceNormalizationTest extends NormalizationSuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
