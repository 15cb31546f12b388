package dev.jacobian.cpu;

import dev.jacobian.backend.Backend;
import dev.jacobian.parallel.DataParallelSuite;

/**
 * Data-parallel training over CPU backends of one worker thread each (the case: on a 2-core machine, two
 * replicas of one thread): 2 and 3 workers bit-identical to 1 on the same shards.
 */
class CpuDataParallelTest extends DataParallelSuite {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(1);
    }
}
