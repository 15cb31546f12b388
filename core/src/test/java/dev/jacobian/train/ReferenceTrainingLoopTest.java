package dev.jacobian.train;

import dev.jacobian.backend.Backend;
import dev.jacobian.reference.ReferenceBackend;

/** The training loop, early stopping and the device-side metrics on the reference backend. */
class ReferenceTrainingLoopTest extends TrainingLoopSuite {
    @Override
    protected Backend createBackend() {
        return new ReferenceBackend();
    }
}
