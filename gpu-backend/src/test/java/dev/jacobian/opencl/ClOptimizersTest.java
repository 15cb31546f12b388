package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.optim.OptimizerSuite;

/** Every optimizer against PyTorch, state round trips and launch counts on the OpenCL backend. */
class ClOptimizersTest extends OptimizerSuite {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }
}
