package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.train.TrainingSuite;

/** Two spirals, bit-identical determinism, allocation-free steps, clipping and the NaN guard on the CPU backend. */
class CpuTrainingTest extends TrainingSuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
