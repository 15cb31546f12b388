package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.train.TrainingLoopSuite;

/** The training loop, early stopping (best weights copied on the device) and the device-side metrics on the CPU backend. */
class CpuTrainingLoopTest extends TrainingLoopSuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
