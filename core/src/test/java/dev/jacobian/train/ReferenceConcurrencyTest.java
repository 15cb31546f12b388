package dev.jacobian.train;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;

/** Threads sharing a reference backend, and threads with one each. */
class ReferenceConcurrencyTest extends ConcurrencySuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
