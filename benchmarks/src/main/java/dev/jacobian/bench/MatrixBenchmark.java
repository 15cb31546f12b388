package dev.jacobian.bench;

import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The state of the CPU-against-OpenCL benchmarks that run a primitive family on one matrix
 * ({@link ElementwiseBenchmark}, {@link ReductionBenchmark}): the {@code shape} parameter and the operand
 * {@link #x}, seeded uniform floats in {@code [-2, 2)}. A subclass's {@code @Setup(Level.Trial)} starts with
 * {@link #openMatrix()}, then allocates its outputs.
 */
@State(Scope.Benchmark)
public abstract class MatrixBenchmark extends BackendBenchmark {
    /** {@code RxC}: a hidden layer's batch of activations, a larger matrix, and a 64 MiB one. */
    @Param({"128x256", "512x1024", "4096x4096"})
    public String shape;

    /** The operand {@code x: [R, C]} on {@link #be}; set by {@link #openMatrix()}. */
    protected Tensor x;

    /** For subclasses. */
    protected MatrixBenchmark() {
    }

    /** Creates {@link #be} from {@link #backend}, uploads {@link #x} and returns its shape. */
    protected Shape openMatrix() {
        Shape s = BenchSupport.matrix(shape);
        be = BenchSupport.backend(backend);
        x = be.fromHost(s, BenchSupport.uniform(1, s.size(), -2f, 2f));
        return s;
    }
}
