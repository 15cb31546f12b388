package dev.jacobian.bench;

import dev.jacobian.backend.LossKind;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The training step's loss through the {@link dev.jacobian.backend.Backend} SPI, as the graph calls it: the batch
 * mean of the softmax cross-entropy of logits {@code [R, C]} (seeded uniform in {@code [-2, 2)}) against seeded class
 * indices ({@code meanLoss}), and its gradient with respect to the logits, written ({@code meanLossBackward}). The
 * MLP's step runs both once, on 10 classes ({@code 64x10}, {@code 128x10}); {@code 128x100} has whole vectors of
 * classes. Each measured call ends by waiting for its result ({@link BenchSupport#await}).
 *
 * <pre>
 *   java -jar benchmarks/target/benchmarks.jar LossBenchmark -p backend=cpu
 *   BENCH=LossBenchmark.backward PARAMS="-p backend=cpu -p shape=64x10,128x10" benchmarks/compare-commits.sh REV
 * </pre>
 */
@State(Scope.Benchmark)
public class LossBenchmark extends BackendBenchmark {
    /** {@code RxC}: a batch of logits over C classes. */
    @Param({"64x10", "128x10", "128x100"})
    public String shape;

    private Tensor logits;
    private Tensor targets;
    private Tensor loss;
    private Tensor seed;
    private Tensor grad;

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = BenchSupport.matrix(shape);
        be = BenchSupport.backend(backend);
        logits = be.fromHost(s, BenchSupport.uniform(1, s.size(), -2f, 2f));
        targets = be.fromHost(Shape.matrix(s.rows(), 1), BenchSupport.classIndices(2, s.rows(), s.cols()));
        loss = be.allocate(Shape.scalar());
        seed = be.fromHost(Shape.scalar(), new float[] {1f});
        grad = be.allocate(s);
        forward();
        backward();
    }

    /** The batch-mean loss into a scalar. */
    @Benchmark
    public float forward() {
        be.meanLoss(LossKind.SOFTMAX_CROSS_ENTROPY, logits, targets, loss);
        return BenchSupport.await(sync, be, loss);
    }

    /** The loss's gradient with respect to the logits, written (not accumulated). */
    @Benchmark
    public float backward() {
        be.meanLossBackward(LossKind.SOFTMAX_CROSS_ENTROPY, logits, targets, seed, grad, false);
        return BenchSupport.await(sync, be, grad);
    }
}
