package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.train.TrainingLoopSuite;

/** The training loop, early stopping (best weights copied on the device) and the device-side metrics on OpenCL. */
class ClTrainingLoopTest extends TrainingLoopSuite {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }
}
