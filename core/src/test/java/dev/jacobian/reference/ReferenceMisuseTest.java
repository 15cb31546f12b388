package dev.jacobian.reference;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendMisuseSuite;

/** The misuse suite on the reference backend. */
class ReferenceMisuseTest extends BackendMisuseSuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
