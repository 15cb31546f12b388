package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.check.GradientCheckSuite;

/** Finite-difference gradient checks of every op, activation, loss and small MLPs on the CPU backend. */
class CpuGradientCheckTest extends GradientCheckSuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
