package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.check.GradientCheckSuite;

/** Finite-difference gradient checks of every op, activation, loss and small MLPs on the OpenCL backend. */
class ClGradientCheckTest extends GradientCheckSuite {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }
}
