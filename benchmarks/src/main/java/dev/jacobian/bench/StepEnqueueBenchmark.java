package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Backends;
import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.Executor;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.Trainer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The host's share of a training step: the time to <em>enqueue</em> one step of the 784-256-128-10 ReLU MLP (SGD,
 * momentum 0.9, clipping at 5; batch upload, forward, backward, optimizer) without waiting for the device, on the
 * OpenCL backend. Before each measured call the queue is drained ({@link Backend#synchronize()}, not measured), so
 * the score is what the host spends per step in JOCL and the framework: the time a GPU step cannot go below. It
 * uses only the executor's and optimizer's API, which every version since 0.1 has, so
 * {@code benchmarks/compare-commits.sh} can time an older commit with the same class
 * ({@code BENCH=StepEnqueueBenchmark.enqueue PARAMS="-p batch=128" benchmarks/compare-commits.sh OLD_REV}).
 *
 * <pre>
 *   java -jar benchmarks/target/benchmarks.jar StepEnqueueBenchmark -p batch=128
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class StepEnqueueBenchmark {
    /** The backend ({@code opencl}: the host side of a device step). */
    @Param({"opencl"})
    public String backend;

    /** Samples per step. */
    @Param({"128"})
    public int batch;

    private Backend be;
    private Model model;
    private Sgd sgd;
    private Trainer trainer;
    private float[] images;
    private float[] targets;
    private int next;

    /** Builds the model and runs a few steps (programs built, kernels bound, buffers allocated). */
    @Setup(Level.Trial)
    public void setUp() {
        be = Backends.create(backend);
        model = Sequential.builder(784).hidden(256, "relu").hidden(128, "relu")
                .output(10, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(42).build(be);
        sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5.0).build();
        trainer = new Trainer(model, sgd);
        SplittableRandom r = new SplittableRandom(7);
        images = new float[8 * batch * 784];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) r.nextDouble();
        }
        int[] labels = new int[8 * batch];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = r.nextInt(10);
        }
        targets = model.encodeTargets(labels);
        for (int i = 0; i < 5; i++) {
            trainer.step(images, targets, (i % 8) * batch, batch);
        }
    }

    /** Drains the queue before each measured call, so no call waits for an earlier one. */
    @Setup(Level.Invocation)
    public void drain() {
        be.synchronize();
    }

    /** Enqueues one step: uploads, forward, backward, optimizer; returns without waiting. */
    @Benchmark
    public Executor enqueue() {
        Executor exec = model.executor();
        int first = (next++ % 8) * batch;
        exec.feed(model.input(), images, first, batch);
        exec.feed(model.targets(), targets, first, batch);
        exec.forward(model.loss(), batch);
        exec.backward();
        sgd.step(exec);
        return exec;
    }

    /** Frees the model and the backend. */
    @TearDown(Level.Trial)
    public void tearDown() {
        be.synchronize();
        trainer.close();
        sgd.close();
        model.close();
        be.close();
    }
}
