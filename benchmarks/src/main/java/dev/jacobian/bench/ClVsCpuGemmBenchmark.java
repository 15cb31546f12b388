package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * SGEMM {@code C = op(A) op(B)} (alpha 1, beta 0) through the {@link Backend} SPI, the CPU backend
 * against the OpenCL backend, at square sizes and at the shapes of the 784-256-128-10 MLP's products.
 * Every measured call ends by waiting for its result ({@link BenchSupport#await}: a blocking read of
 * one float, or {@link Backend#synchronize()} with {@code -p sync=synchronize}), so a device backend's
 * time includes its kernel, not just the enqueue; operands live on the backend before the measurement
 * starts, and nothing else is copied while it runs. GFLOP/s ({@code 2 M N K} per call) are computed
 * by {@code benchmarks/report.py}.
 *
 * <p>{@code shape} is {@code MxNxK:TT} as in {@link GemmBenchmark} (C is {@code [M, N]}, inner dimension
 * {@code K}, T/N = A and B used transposed or as stored), or a bare {@code N} for {@code NxNxN:NN}:
 * <ul>
 *   <li>{@code 128x256x784:NN}, {@code 128x128x256:NN}: layers 1 and 2 forward, {@code X W};</li>
 *   <li>{@code 784x256x128:TN}, {@code 256x128x128:TN}: weight gradients of layers 1 and 2, {@code X^T dY};</li>
 *   <li>{@code 128x256x128:NT}: layer 2's input gradient {@code dY W^T} (W {@code [256,128]});</li>
 *   <li>{@code 128x784x256:NT}: layer 1's input gradient, not needed in training but kept to line up
 *       with {@link GemmBenchmark}.</li>
 * </ul>
 * The default square sizes stop at 2048: at 4096 (137 GFLOP per call) one call takes seconds on a CPU
 * or on PoCL. Ask for it explicitly with {@code -p shape=4096} (or any list: {@code -p shape=2048,4096}).
 *
 * <p>How to run (or {@code benchmarks/run-backends.sh}):
 * <pre>
 *   mvn -q -pl cpu-backend,gpu-backend,benchmarks install -DskipTests
 *   java -jar benchmarks/target/benchmarks.jar ClVsCpuGemmBenchmark -rf json -rff target/backend-gemm.json
 *   java -jar benchmarks/target/benchmarks.jar ClVsCpuGemmBenchmark -p backend=opencl -p shape=1024,4096
 *   python3 benchmarks/report.py target/backend-gemm.json
 * </pre>
 */
@State(Scope.Benchmark)
public class ClVsCpuGemmBenchmark extends BackendBenchmark {
    /** Relative tolerance of the set-up check of two entries of C against a double-precision dot product. */
    private static final double CHECK_RTOL = 1e-3;

    /** {@code MxNxK:TT} or a bare {@code N}, see the class comment. */
    @Param({"256", "512", "1024", "2048", "128x256x784:NN", "128x128x256:NN", "784x256x128:TN", "256x128x128:TN",
        "128x256x128:NT", "128x784x256:NT"})
    public String shape;

    private boolean transA;
    private boolean transB;
    private Tensor ta;
    private Tensor tb;
    private Tensor tc;

    @Setup(Level.Trial)
    public void setUp() {
        GemmShape g = GemmShape.parse(shape);
        int m = g.m();
        int n = g.n();
        int k = g.k();
        transA = g.transA();
        transB = g.transB();
        float[] a = BenchSupport.uniform(1, m * k, -1f, 1f);
        float[] b = BenchSupport.uniform(2, k * n, -1f, 1f);
        be = BenchSupport.backend(backend);
        ta = be.fromHost(g.a(), a);
        tb = be.fromHost(g.b(), b);
        tc = be.allocate(g.c());
        // one call outside the measurement: builds the device program, and proves the product is computed
        be.gemm(transA, transB, 1f, ta, tb, 0f, tc);
        check(a, b, m, n, k, 0, 0);
        check(a, b, m, n, k, m - 1, n - 1);
    }

    private void check(float[] a, float[] b, int m, int n, int k, int i, int j) {
        double expected = 0;
        double magnitude = 0;
        for (int p = 0; p < k; p++) {
            double term = (double) (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
            expected += term;
            magnitude += Math.abs(term);
        }
        float actual = tc.get(i * n + j);
        if (Math.abs(actual - expected) > CHECK_RTOL * magnitude) {
            throw new IllegalStateException(backend + " gemm " + shape + ": C[" + i + "," + j + "] = " + actual
                    + ", expected " + expected);
        }
    }

    @Benchmark
    public float gemm() {
        be.gemm(transA, transB, 1f, ta, tb, 0f, tc);
        return BenchSupport.await(sync, be, tc);
    }
}
