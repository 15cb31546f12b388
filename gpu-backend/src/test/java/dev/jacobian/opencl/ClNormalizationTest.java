package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.nn.NormalizationSuite;

/** Dropout, batch norm and layer norm on the OpenCL backend. */
class ClNormalizationTest extends NormalizationSuite {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }
}
