package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the OpenCL tests that compare with the reference: one {@link ClBackend} per class (skipped, or
 * failed in CI, when no device exists — {@link OpenClTestSupport#openOrSkip()}), one reference backend,
 * and seeded test data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OpenClTestBase {
    /** The backend under test. */
    protected ClBackend cl;
    /** The oracle. */
    protected final Backend ref = new ReferenceBackend();

    @BeforeAll
    void openOpenCl() {
        cl = OpenClTestSupport.openOrSkip();
    }

    @AfterAll
    void closeBackends() {
        if (cl != null) {
            cl.close();
        }
        ref.close();
    }

    /** {@code n} uniform values in {@code [lo, hi)} from {@code seed}. */
    static float[] random(long seed, int n, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(lo, hi);
        }
        return x;
    }

    /** {@code n} uniform values in {@code [-1, 1)}. */
    static float[] random(long seed, int n) {
        return random(seed, n, -1, 1);
    }
}
