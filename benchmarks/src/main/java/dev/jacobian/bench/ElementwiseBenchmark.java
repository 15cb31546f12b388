package dev.jacobian.bench;

import dev.jacobian.backend.Activation;
import dev.jacobian.backend.Backend;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

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
public class ElementwiseBenchmark extends MatrixBenchmark {
    private Tensor bias;
    private Tensor y;

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = openMatrix();
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
