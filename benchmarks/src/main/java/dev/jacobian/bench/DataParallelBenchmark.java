package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Sgd;
import dev.jacobian.parallel.DataParallel;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Data-parallel training on one machine: the training step of {@link TrainingStepBenchmark}'s 784-256-128-10 MLP
 * (SGD, momentum 0.9, clipping at 5) on {@code workers} CPU backends of one thread each ({@link DataParallel}, one
 * shard per worker), against the plain {@link Trainer} on one CPU backend of one thread ({@code workers=0}) in the
 * same run ({@code -p workers=0 -p threads=2}: the plain Trainer on one backend of 2 threads, the other way to use 2
 * cores). The score is steps/s of the global batch {@code batch}; samples/s is that times {@code batch}.
 *
 * <ul>
 *   <li>Strong scaling (the same global batch on 2 workers): efficiency = steps/s(2 workers) / (2 × steps/s(1 worker)).</li>
 *   <li>Weak scaling (each worker keeps its batch: global 256 on 2 workers against 128 on 1): efficiency =
 *       samples/s(2 workers) / (2 × samples/s(1 worker)).</li>
 *   <li>The exchange's price: 1 worker (1 shard: the same arithmetic as {@link Trainer#step}, plus the gradient's
 *       download, host sum and upload and the parameters' download) against {@code workers=0}.</li>
 * </ul>
 * {@link Split} (auxiliary counters) gives the time per step in the parallel part (parameter broadcast, forward,
 * backward, gradient download) and in the serial part (host sum, leader update), in microseconds summed over an
 * iteration; divide by {@code steps}. {@code benchmarks/run-data-parallel.sh} runs it and prints the efficiencies.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DataParallelBenchmark extends BenchmarkDefaults {
    /** Distinct synthetic batches, used in turn. */
    static final int BATCHES = 8;

    /** CPU backends of one thread each; 0 is the plain {@link Trainer} on one (the peer). */
    @Param({"0", "1", "2"})
    public int workers;

    /** Threads of each CPU backend (the plain Trainer on 2 threads is the other peer: one replica, its GEMMs split). */
    @Param({"1"})
    public int threads;

    /** Samples per step: the global batch, split across the workers. */
    @Param({"128", "256", "512"})
    public int batch;

    private final List<Backend> backends = new ArrayList<>();
    private Sgd sgd;
    private DataParallel dp;
    private Model alone;
    private Trainer trainer;
    private float[] images;
    private float[] targets;
    private int next;

    /** The step's wall time split in its parallel and serial parts, per iteration (JMH's counters). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Split {
        public long steps;
        public long parallelMicros;
        public long serialMicros;

        @Setup(Level.Iteration)
        public void reset() {
            steps = 0;
            parallelMicros = 0;
            serialMicros = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        sgd = Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5.0).build();
        for (int i = 0; i < Math.max(1, workers); i++) {
            backends.add(new CpuBackend(threads));
        }
        int samples = BATCHES * batch;
        images = BenchSupport.uniform(7, samples * TrainingStepBenchmark.INPUTS, 0f, 1f);
        int[] labels = BenchSupport.labels(8, samples, TrainingStepBenchmark.CLASSES);
        if (workers == 0) {
            alone = BenchSupport.mlp(backends.get(0));
            trainer = new Trainer(alone, sgd);
            targets = alone.encodeTargets(labels);
            trainer.step(images, targets, 0, batch);
        } else {
            dp = DataParallel.create(backends, BenchSupport::mlp, sgd);
            targets = dp.model().encodeTargets(labels);
            dp.step(images, targets, 0, batch);
        }
        next = 1;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (dp != null) {
            dp.close();
        }
        if (trainer != null) {
            trainer.close();
            alone.close();
        }
        sgd.close();
        backends.forEach(Backend::close);
        backends.clear();
    }

    @Benchmark
    public StepResult step(Split split) {
        StepResult r;
        if (dp == null) {
            r = trainer.step(images, targets, next * batch, batch);
        } else {
            long parallel = dp.computeNanos();
            long serial = dp.reduceNanos();
            r = dp.step(images, targets, next * batch, batch);
            split.parallelMicros += (dp.computeNanos() - parallel) / 1000;
            split.serialMicros += (dp.reduceNanos() - serial) / 1000;
        }
        split.steps++;
        next = (next + 1) % BATCHES;
        return r;
    }
}
