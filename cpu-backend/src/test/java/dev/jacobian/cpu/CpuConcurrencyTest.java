package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.train.ConcurrencySuite;

/** Threads sharing a CPU backend (two worker threads of its own), and threads with one each. */
class CpuConcurrencyTest extends ConcurrencySuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(2);
    }
}
