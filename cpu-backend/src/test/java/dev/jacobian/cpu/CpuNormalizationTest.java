package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.nn.NormalizationSuite;

/** Dropout, batch norm and layer norm on the CPU backend. */
class CpuNormalizationTest extends NormalizationSuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
