package dev.jacobian.opencl;

import dev.jacobian.backend.Backend;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.parallel.DataParallel;
import dev.jacobian.parallel.DataParallelSuite;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Data-parallel training over OpenCL backends (PoCL in CI: one context each), and over a CPU backend and an OpenCL
 * backend together.
 */
class ClDataParallelTest extends DataParallelSuite {
    /**
     * Relative tolerance of a CPU + OpenCL run against a CPU-only run on the same shards, after {@link #STEPS} steps:
     * the OpenCL shard's gradient carries that backend's rounding (other GEMM tiles, other exp and log), which the
     * 20 updates carry on.
     */
    private static final float MIXED_RTOL = 1e-5f;

    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.openOrSkip();
    }

    @Test
    @Timeout(300)
    void aCpuAndAnOpenClBackendTrainTogether() {
        Function<Backend, Model> factory = mlp(0);
        try (CpuBackend cpu = new CpuBackend(1); CpuBackend cpu2 = new CpuBackend(1);
             ClBackend cl = OpenClTestSupport.openOrSkip()) {
            Run mixed;
            Run cpuOnly;
            try (Optimizer opt = sgd(); DataParallel dp = DataParallel.create(List.of(cpu, cl), 2, factory, opt)) {
                mixed = train(dp);
            }
            try (Optimizer opt = sgd(); DataParallel dp = DataParallel.create(List.of(cpu2), 2, factory, opt)) {
                cpuOnly = train(dp);
            }
            assertClose(cpuOnly.parameters(), mixed.parameters(), MIXED_RTOL, "CPU + OpenCL against CPU, 2 shards");
        }
    }
}
