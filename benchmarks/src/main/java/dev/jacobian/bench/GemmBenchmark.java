package dev.jacobian.bench;

import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SGEMM {@code C = op(A) op(B)} (alpha 1, beta 0): Jacobian's CPU backend against OpenBLAS (through
 * netlib-java's JNI binding, row-major via the operand swap), at square sizes and at the shapes of the
 * MNIST MLP's forward and backward products.
 *
 * <p>{@code shape} is {@code MxNxK:TT}: C is {@code [M, N]}, the inner dimension is {@code K}, and the two
 * letters say whether A and B are used transposed ({@code T}) or as stored ({@code N}):
 * <ul>
 *   <li>{@code 128x256x784:NN} layer 1 forward {@code X[128,784] W1[784,256]};</li>
 *   <li>{@code 128x128x256:NN} layer 2 forward {@code H[128,256] W2[256,128]};</li>
 *   <li>{@code 784x256x128:TN} layer 1 weight gradient {@code dW = X^T dY};</li>
 *   <li>{@code 128x784x256:NT} input gradient {@code dX = dY W^T} with {@code W[784,256]}.</li>
 * </ul>
 *
 * <p>OpenBLAS reads its thread count from {@code OPENBLAS_NUM_THREADS} once per process, so each run
 * fixes {@code threads} and the environment together; the OpenBLAS benchmark refuses to run when they
 * differ, or when the native library is not OpenBLAS (see {@link OpenBlas}).
 *
 * <p>How to run (or just {@code benchmarks/run.sh}):
 * <pre>
 *   mvn -q -pl cpu-backend,benchmarks install -DskipTests
 *   OPENBLAS_NUM_THREADS=1 java -jar benchmarks/target/benchmarks.jar GemmBenchmark -p threads=1 -rf json -rff gemm-1.json
 *   OPENBLAS_NUM_THREADS=2 java -jar benchmarks/target/benchmarks.jar GemmBenchmark -p threads=2 -rf json -rff gemm-2.json
 *   python3 benchmarks/report.py gemm-1.json gemm-2.json
 * </pre>
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Ddev.ludovic.netlib.blas.nativeLib=libopenblas.so.0", "-Xms2g", "-Xmx2g"})
public class GemmBenchmark extends BenchmarkDefaults {
    private static final Logger LOG = LoggerFactory.getLogger(GemmBenchmark.class);

    /** {@code MxNxK:TT}, see the class comment. */
    @Param({"512x512x512:NN", "1024x1024x1024:NN", "128x256x784:NN", "128x128x256:NN", "784x256x128:TN",
        "128x784x256:NT"})
    public String shape;

    /** Threads of both libraries (OpenBLAS: through {@code OPENBLAS_NUM_THREADS}). */
    @Param({"1", "2"})
    public int threads;

    private int m;
    private int n;
    private int k;
    private boolean transA;
    private boolean transB;
    private float[] a;
    private float[] b;
    private float[] c;
    private CpuBackend backend;
    private Tensor ta;
    private Tensor tb;
    private Tensor tc;
    private OpenBlas openBlas;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        GemmShape g = GemmShape.parse(shape);
        m = g.m();
        n = g.n();
        k = g.k();
        transA = g.transA();
        transB = g.transB();
        a = BenchSupport.uniform(1, m * k, -1f, 1f);
        b = BenchSupport.uniform(2, k * n, -1f, 1f);
        c = new float[m * n];
        if (params.getBenchmark().endsWith("openblas")) {
            openBlas = OpenBlas.load(threads);
        } else {
            backend = new CpuBackend(threads);
            ta = backend.fromHost(g.a(), a);
            tb = backend.fromHost(g.b(), b);
            tc = backend.allocate(g.c());
            LOG.info("jacobian: {}", backend.deviceDescription());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (backend != null) {
            backend.close();
        }
    }

    @Benchmark
    public Tensor jacobian() {
        backend.gemm(transA, transB, 1f, ta, tb, 0f, tc);
        return tc;
    }

    @Benchmark
    public float[] openblas() {
        openBlas.sgemmRowMajor(transA, transB, m, n, k, 1f, a, b, 0f, c);
        return c;
    }
}
