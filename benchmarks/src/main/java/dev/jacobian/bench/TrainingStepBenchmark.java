package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendStats;
import dev.jacobian.backend.Conv2dSpec;
import dev.jacobian.backend.LossKind;
import dev.jacobian.graph.Initializer;
import dev.jacobian.nn.Module;
import dev.jacobian.nn.Modules;
import dev.jacobian.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Adam;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.optim.RmsProp;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.StepResult;
import dev.jacobian.train.Trainer;
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
 * One full training step ({@link Trainer#step}) of a 784-256-128-10 ReLU MLP with softmax cross-entropy
 * (He init, seed 42) and SGD (learning rate 0.05, momentum 0.9, global-norm clipping at 5, as in the
 * README) or, with {@code -p optimizer=adam|adamw|rmsprop}, an adaptive optimizer, and optionally batch or layer
 * norm ({@code -p norm=batch|layer}) and dropout ({@code -p dropout=0.2}) in the hidden layers, or with
 * {@code -p net=cnn} the CLI's convolutional network, per backend and batch size, on seeded synthetic data: 16 batches of uniform {@code [0, 1)}
 * pixels and random labels, taken in turn. A step uploads its batch, runs forward, backward and the
 * fused updates on the backend, and ends by downloading the loss and gradient norm in one blocking
 * transfer, so the time includes every kernel. The score is steps/s.
 *
 * <p>Next to it, {@link Transfers} (JMH auxiliary counters, summed over each iteration) counts what
 * {@link BackendStats} saw during the measured steps only: {@code steps}, {@code uploads},
 * {@code uploadedBytes}, {@code downloads}, {@code downloadedBytes} and {@code allocations};
 * {@code benchmarks/report.py} divides them by {@code steps} to print transfers per step. The model,
 * the optimizer state and the first step's allocations are made in the setup, not measured.
 *
 * <p>How to run (or {@code benchmarks/run-backends.sh}):
 * <pre>
 *   mvn -q -pl cpu-backend,gpu-backend,benchmarks install -DskipTests
 *   java -jar benchmarks/target/benchmarks.jar TrainingStepBenchmark -rf json -rff target/backend-train.json
 *   java -jar benchmarks/target/benchmarks.jar TrainingStepBenchmark -p backend=opencl -p batch=128
 *   python3 benchmarks/report.py target/backend-train.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TrainingStepBenchmark extends BenchmarkDefaults {
    /** Input features (28x28 images). */
    static final int INPUTS = 784;
    /** Output classes. */
    static final int CLASSES = 10;
    /** Distinct synthetic batches, used in turn. */
    static final int BATCHES = 16;

    /** Backend name as {@code Backends.create} takes it. */
    @Param({"cpu", "opencl"})
    public String backend;

    /** Samples per step. */
    @Param({"32", "128", "512"})
    public int batch;

    /**
     * The optimizer, all with global-norm clipping at 5: {@code sgd} (lr 0.05, momentum 0.9), {@code adam} and
     * {@code adamw} (lr 1e-3; AdamW weight decay 0.01), {@code rmsprop} (lr 1e-3).
     */
    @Param({"sgd"})
    public String optimizer;

    /**
     * Normalization between each hidden layer's affine map and its activation: {@code none}, {@code batch}
     * (batch norm) or {@code layer} (layer norm).
     */
    @Param({"none"})
    public String norm;

    /** Dropout probability after each hidden layer's activation (0: none). */
    @Param({"0"})
    public double dropout;

    /**
     * {@code mlp} (784-256-128-10) or {@code cnn}: the network of {@code bin/jacobian train --model cnn}, three blocks
     * of a 3x3 convolution (32, 64, then 128 channels, padding 1, no bias), BatchNorm2d, ReLU and 2x2 max pooling, then
     * dense 1152-128 (with {@code norm} and {@code dropout} as in the MLP's hidden layers) and 128-10, on 1x28x28 images.
     */
    @Param({"mlp"})
    public String net;

    private Backend be;
    private Model model;
    private Optimizer sgd;
    private Trainer trainer;
    private float[] images;
    private float[] targets;
    private int next;

    /**
     * Transfers and allocations seen by {@link BackendStats} during the measured steps, per iteration.
     * Public fields are JMH's counters; JMH resets nothing itself, hence the iteration-level setup.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Transfers {
        public long steps;
        public long uploads;
        public long uploadedBytes;
        public long downloads;
        public long downloadedBytes;
        public long allocations;

        @Setup(Level.Iteration)
        public void reset() {
            steps = 0;
            uploads = 0;
            uploadedBytes = 0;
            downloads = 0;
            downloadedBytes = 0;
            allocations = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        be = BenchSupport.backend(backend);
        model = switch (net) {
            case "mlp" -> mlp(be);
            case "cnn" -> cnn(be);
            default -> throw new IllegalArgumentException("net must be mlp or cnn: " + net);
        };
        sgd = switch (optimizer) {
            case "sgd" -> Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5.0).build();
            case "adam" -> Adam.builder().learningRate(1e-3).clipNorm(5.0).build();
            case "adamw" -> Adam.adamW().learningRate(1e-3).weightDecay(0.01).clipNorm(5.0).build();
            case "rmsprop" -> RmsProp.builder().learningRate(1e-3).clipNorm(5.0).build();
            default -> throw new IllegalArgumentException("optimizer must be sgd, adam, adamw or rmsprop: " + optimizer);
        };
        trainer = new Trainer(model, sgd);
        int samples = BATCHES * batch;
        images = BenchSupport.uniform(7, samples * INPUTS, 0f, 1f);
        int[] labels = BenchSupport.labels(8, samples, CLASSES);
        targets = model.encodeTargets(labels);
        // the first step plans the graph and allocates its buffers and the optimizer state: not measured
        trainer.step(images, targets, 0, batch);
        next = 1;
    }

    private Model mlp(Backend b) {
        Sequential.Builder layers = Sequential.builder(INPUTS).hidden(256, "relu").hidden(128, "relu");
        switch (norm) {
            case "none" -> { }
            case "batch" -> layers.batchNorm();
            case "layer" -> layers.layerNorm();
            default -> throw new IllegalArgumentException("norm must be none, batch or layer: " + norm);
        }
        if (dropout > 0) {
            layers.dropout(dropout);
        }
        return layers.output(CLASSES, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(42).build(b);
    }

    private Model cnn(Backend b) {
        List<Module> m = new ArrayList<>();
        int in = 1;
        int block = 1;
        for (int out : new int[] {32, 64, 128}) {
            m.add(Modules.conv2d("conv" + block, in, out, Conv2dSpec.of(3, 1, 1), false, Initializer.heNormal()));
            m.add(Modules.batchNorm("bn" + block, out));
            m.add(Modules.activation("relu"));
            m.add(Modules.maxPool2d(2, 2, 0));
            in = out;
            block++;
        }
        m.add(Modules.flatten());
        if (dropout > 0) {
            m.add(Modules.dropout(dropout));
        }
        m.add(Modules.dense("dense1", 128 * 3 * 3, 128, Initializer.heNormal()));
        switch (norm) {
            case "none" -> { }
            case "batch" -> m.add(Modules.batchNorm("dbn1", 128));
            case "layer" -> m.add(Modules.layerNorm("dln1", 128));
            default -> throw new IllegalArgumentException("norm must be none, batch or layer: " + norm);
        }
        m.add(Modules.activation("relu"));
        if (dropout > 0) {
            m.add(Modules.dropout(dropout));
        }
        m.add(Modules.dense("dense2", 128, CLASSES, Initializer.xavierUniform()));
        return Model.of(Sequential.of(m.toArray(Module[]::new)), Shape.of(1, 28, 28), LossKind.SOFTMAX_CROSS_ENTROPY, b,
                42);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.close();
        sgd.close();
        model.close();
        be.close();
    }

    @Benchmark
    public StepResult step(Transfers counters) {
        BackendStats stats = be.stats();
        long uploads = stats.uploads();
        long uploadedBytes = stats.uploadedBytes();
        long downloads = stats.downloads();
        long downloadedBytes = stats.downloadedBytes();
        long allocations = stats.allocations();
        StepResult result = trainer.step(images, targets, next * batch, batch);
        next = (next + 1) % BATCHES;
        counters.steps++;
        counters.uploads += stats.uploads() - uploads;
        counters.uploadedBytes += stats.uploadedBytes() - uploadedBytes;
        counters.downloads += stats.downloads() - downloads;
        counters.downloadedBytes += stats.downloadedBytes() - downloadedBytes;
        counters.allocations += stats.allocations() - allocations;
        return result;
    }
}
