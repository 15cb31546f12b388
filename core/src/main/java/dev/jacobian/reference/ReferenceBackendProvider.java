package dev.jacobian.reference;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import java.util.List;

/** Provides the scalar {@link ReferenceBackend}: always available, lowest priority. */
public final class ReferenceBackendProvider implements BackendProvider {
    /** The provider; {@link java.util.ServiceLoader} makes it through {@code META-INF/services}. */
    public ReferenceBackendProvider() {
    }

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

    /** One line: scalar Java on the calling thread, meant as the specification the other backends are tested against. */
    @Override
    public List<String> describe() {
        return List.of("scalar Java on the calling thread, one float at a time (the specification the other "
                + "backends are tested against; slow)");
    }

    @Override
    public Backend create() {
        return new ReferenceBackend();
    }
}
