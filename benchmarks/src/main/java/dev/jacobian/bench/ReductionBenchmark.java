package dev.jacobian.bench;

import dev.jacobian.backend.Axis;
import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.backend.Reduction;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Reductions through the {@link Backend} SPI, CPU backend against OpenCL backend, on {@code x: [R, C]}:
 * <ul>
 *   <li>{@code sumSquaresAll}: {@code sum x^2} over every element into {@code [1, 1]} (the optimizer's
 *       gradient-norm reduction);</li>
 *   <li>{@code sumRows}: {@code sum_i x[i, j]} into {@code [1, C]} (the bias gradient);</li>
 *   <li>{@code softmaxCrossEntropy}: the fused per-row loss {@link Backend#rowLoss} with
 *       {@link LossKind#SOFTMAX_CROSS_ENTROPY}, {@code x} as logits over {@code C} classes, seeded class
 *       indices as targets, into {@code [R, 1]}.</li>
 * </ul>
 * Every measured call ends by waiting for its result ({@link BenchSupport#await}: a blocking read of
 * one float, or {@link Backend#synchronize()} with {@code -p sync=synchronize}); nothing else is read
 * back. {@code benchmarks/report.py} turns the times into elements/s and effective GB/s (4 bytes per element of
 * {@code x}, read once; outputs and targets are at most one value per row).
 *
 * <p>How to run (or {@code benchmarks/run-backends.sh}):
 * <pre>
 *   mvn -q -pl cpu-backend,gpu-backend,benchmarks install -DskipTests
 *   java -jar benchmarks/target/benchmarks.jar ReductionBenchmark -rf json -rff target/backend-reduction.json
 *   python3 benchmarks/report.py target/backend-reduction.json
 * </pre>
 */
@State(Scope.Benchmark)
public class ReductionBenchmark extends MatrixBenchmark {
    private Tensor all;
    private Tensor rows;
    private Tensor targets;
    private Tensor loss;

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = openMatrix();
        all = be.allocate(Shape.scalar());
        rows = be.allocate(Shape.matrix(1, s.cols()));
        targets = be.fromHost(Shape.matrix(s.rows(), 1), BenchSupport.classIndices(2, s.rows(), s.cols()));
        loss = be.allocate(Shape.matrix(s.rows(), 1));
        // build the device programs outside the measurement
        sumSquaresAll();
        sumRows();
        softmaxCrossEntropy();
    }

    @Benchmark
    public float sumSquaresAll() {
        be.reduce(Reduction.SUM_SQUARES, Axis.ALL, x, all, false);
        return BenchSupport.await(sync, be, all);
    }

    @Benchmark
    public float sumRows() {
        be.reduce(Reduction.SUM, Axis.ROWS, x, rows, false);
        return BenchSupport.await(sync, be, rows);
    }

    @Benchmark
    public float softmaxCrossEntropy() {
        be.rowLoss(LossKind.SOFTMAX_CROSS_ENTROPY, x, targets, loss);
        return BenchSupport.await(sync, be, loss);
    }
}
