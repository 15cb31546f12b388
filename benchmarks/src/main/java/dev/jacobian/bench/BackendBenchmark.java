package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The state the CPU-against-OpenCL benchmarks ({@link ClVsCpuGemmBenchmark}, {@link ElementwiseBenchmark},
 * {@link ReductionBenchmark}) share: the {@code backend} and {@code sync} parameters, the backend they
 * run on, and closing it after the trial. A subclass's own {@code @Setup(Level.Trial)} creates {@link #be}
 * with {@link BenchSupport#backend} from {@link #backend} and uploads its operands; this class has no
 * setup of its own, so nothing depends on the order in which JMH runs inherited helper methods.
 */
@State(Scope.Benchmark)
public abstract class BackendBenchmark extends BenchmarkDefaults {
    /** Backend name as {@code Backends.create} takes it. */
    @Param({"cpu", "opencl"})
    public String backend;

    /** How a call waits for its result, {@code read} or {@code synchronize}: {@link BenchSupport#await}. */
    @Param({BenchSupport.SYNC_READ})
    public String sync;

    /** The backend named by {@link #backend}; set by the subclass's trial setup. */
    protected Backend be;

    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }
}
