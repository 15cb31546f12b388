package dev.jacobian.bench;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Activations through the {@link Backend} SPI, CPU backend against OpenCL backend: {@code y = relu(x)},
 * {@code y = tanh(x)}, and the dense layer's fused epilogue {@code y = relu(x + bias)}
 * ({@link Backend#biasActivation}), against the same epilogue unfused. Out of place ({@code y} is not {@code x}), so every call does the same
 * work; every measured call ends by waiting for its result ({@link BenchSupport#await}: a blocking
 * read of one float, or {@link Backend#synchronize()} with {@code -p sync=synchronize}).
 * {@code benchmarks/report.py} turns the times into elements/s and effective GB/s (8 bytes per element:
 * {@code x} read once, {@code y} written once; the bias row is negligible).
 *
 * <p>How to run (or {@code benchmarks/run-backends.sh}):
 * <pre>
 *   mvn -q -pl cpu-backend,gpu-backend,benchmarks install -DskipTests
 *   java -jar benchmarks/target/benchmarks.jar ElementwiseBenchmark -rf json -rff target/backend-elementwise.json
 *   java -jar benchmarks/target/benchmarks.jar 'ElementwiseBenchmark.relu' -p shape=4096x4096
 *   python3 benchmarks/report.py target/backend-elementwise.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms2g", "-Xmx2g"})
public class ElementwiseBenchmark extends BackendBenchmark {
    /** {@code RxC}: a hidden layer's batch, a larger activation, and a 64 MiB one. */
    @Param({"128x256", "512x1024", "4096x4096"})
    public String shape;

    private Tensor x;
    private Tensor bias;
    private Tensor y;

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = BenchSupport.matrix(shape);
        be = BenchSupport.backend(backend);
        x = be.fromHost(s, BenchSupport.uniform(1, s.size(), -2f, 2f));
        bias = be.fromHost(Shape.matrix(1, s.cols()), BenchSupport.uniform(2, s.cols(), -0.5f, 0.5f));
        y = be.allocate(s);
        // build the device programs outside the measurement
        relu();
        tanh();
        biasRelu();
        biasThenRelu();
    }

    @Benchmark
    public float relu() {
        be.activation(Activation.RELU, 0f, x, y);
        return BenchSupport.await(sync, be, y);
    }

    @Benchmark
    public float tanh() {
        be.activation(Activation.TANH, 0f, x, y);
        return BenchSupport.await(sync, be, y);
    }

    @Benchmark
    public float biasRelu() {
        be.biasActivation(x, bias, Activation.RELU, 0f, y);
        return BenchSupport.await(sync, be, y);
    }

    /** The same epilogue unfused (bias add, then activation in place): what {@link #biasRelu} saves. */
    @Benchmark
    public float biasThenRelu() {
        be.addRowVector(x, bias, y);
        be.activation(Activation.RELU, 0f, y, y);
        return BenchSupport.await(sync, be, y);
    }
}
