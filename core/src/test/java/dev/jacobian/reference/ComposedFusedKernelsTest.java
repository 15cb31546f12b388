package dev.jacobian.reference;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.BackendConformanceTest;
import dev.jacobian.check.GradientCheckSuite;
import dev.jacobian.optim.OptimizerSuite;
import dev.jacobian.train.TrainingSuite;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The composed defaults of the fused primitives (losses, SGD update) that a new backend inherits from
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

        @Override
        @Test
        @Disabled("the composed adaptive update has no subnormal flush (AbstractBackend.adaptiveUpdateKernel says so)")
        protected void adaptiveUpdateFlushesSubnormalState() {
        }

        @Override
        @ParameterizedTest
        @EnumSource(value = LossKind.class, names = {"SOFTMAX_CROSS_ENTROPY", "SVM_HINGE"})
        @Disabled("the composed losses build one-hot rows by arithmetic and read nothing by index: an invalid target "
                + "gives an unspecified value there, never a stray read; Trainer rejects such targets on the host")
        protected void invalidClassIndicesGiveNaNRowsNotStrayReads(LossKind k) {
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

        /** The composed update is about 15 primitives, each one launch on a heap backend. */
        @Override
        protected int maxOptimizerLaunches() {
            return 20;
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
