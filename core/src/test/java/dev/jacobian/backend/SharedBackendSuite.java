package dev.jacobian.backend;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * A suite whose tests share one backend of the module under test: {@link #createBackend()} opens it before the
 * first test, and it is closed after the last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class SharedBackendSuite {
    /** The backend under test, open while the tests run. */
    protected Backend backend;

    /** The backend under test; the suite closes it. */
    protected abstract Backend createBackend();

    @BeforeAll
    void open() {
        backend = createBackend();
    }

    @AfterAll
    void close() {
        if (backend != null) {
            backend.close();
        }
    }
}
