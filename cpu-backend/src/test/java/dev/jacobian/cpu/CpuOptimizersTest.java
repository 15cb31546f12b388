package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.optim.OptimizerSuite;

/** Every optimizer against PyTorch, state round trips and launch counts on the CPU backend. */
class CpuOptimizersTest extends OptimizerSuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
