package dev.jacobian.reference;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendConformanceTest;
import dev.jacobian.check.GradientCheckSuite;
import dev.jacobian.optim.OptimizerSuite;
import dev.jacobian.train.TrainingSuite;
import org.junit.jupiter.api.Nested;

/**
 * The composed defaults of the fused primitives (losses, SGD and adaptive updates) that a new backend inherits from
 * {@link dev.jacobian.backend.AbstractBackend}, run through the shared suites on the reference: conformance
 * against the reference's own fused loops, gradient checks, training.
 */
class ComposedFusedKernelsTest {
    @Nested
    class Conformance extends BackendConformanceTest {
        @Override
        protected Backend createBackend() {
            return ReferenceBackend.composingFusedKernels();
        }
    }

    @Nested
    class GradientChecks extends GradientCheckSuite {
        @Override
        protected Backend createBackend() {
            return ReferenceBackend.composingFusedKernels();
        }
    }

    @Nested
    class Training extends TrainingSuite {
        @Override
        protected Backend createBackend() {
            return ReferenceBackend.composingFusedKernels();
        }

        /**
         * The composed update is 23 primitives here (3 of them the velocity's subnormal flush), each one launch on a
         * heap backend.
         */
        @Override
        protected int maxOptimizerLaunches() {
            return 23;
        }
    }

    @Nested
    class Optimizers extends OptimizerSuite {
        @Override
        protected Backend createBackend() {
            return ReferenceBackend.composingFusedKernels();
        }

        /** The composed updates are about 15 (SGD) and 30 (Adam) primitives, each one launch on a heap backend. */
        @Override
        protected int maxOptimizerLaunches() {
            return 40;
        }
    }
}
