package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendMisuseSuite;

/** The misuse suite on the CPU backend (two worker threads). */
class CpuMisuseTest extends BackendMisuseSuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
