package dev.jacobian.reference;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;

/** Provides the scalar {@link ReferenceBackend}: always available, lowest priority. */
public final class ReferenceBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "reference";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Backend create() {
        return new ReferenceBackend();
    }
}
