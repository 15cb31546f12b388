package dev.jacobian.bench;

import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The peer of {@link TrainingStepBenchmark}: one {@link MultiLayerNetwork#fit(DataSet)} of Deeplearning4j
 * 1.0.0-M2.1 on ND4J's native CPU backend (libnd4j + OpenBLAS, float32) training the same network on the
 * same synthetic data: 784-256-128-10, ReLU, He normal init ({@link WeightInit#RELU}, seed 42), softmax
 * with multi-class cross-entropy ({@code MCXENT}, the negative log-likelihood of the softmax), learning
 * rate 0.05, 16 seeded batches of uniform {@code [0, 1)} pixels and random labels (the same generators
 * and seeds as {@code TrainingStepBenchmark}, labels one-hot as DL4J wants them), taken in turn. The
 * score is steps/s. ND4J's CPU ops are synchronous, so {@code fit} returns after every kernel ran.
 *
 * <p>Where DL4J has no exact equivalent, the closest one:
 * <ul>
 *   <li>momentum 0.9: {@link Nesterovs} (Nesterov momentum, Sutskever et al. 2013); DL4J has no
 *       heavy-ball (Polyak) SGD, which Jacobian runs. Same state (one velocity per weight) and a few
 *       more element-wise flops per weight.</li>
 *   <li>clipping at 5: {@link GradientNormalization#ClipL2PerLayer} with threshold 5, which clips the
 *       gradient of each layer (weights and bias together) by its own L2 norm; DL4J has no clipping by
 *       the global norm of all parameters, which Jacobian does. The same work: a sum of squares per
 *       parameter and a scale.</li>
 * </ul>
 *
 * <p>Threads: libnd4j's OpenMP pool and OpenBLAS read {@code OMP_NUM_THREADS} when the native library
 * loads; {@code benchmarks/run-peers.sh} sets it (default: the processor count, the CPU backend's thread
 * count) and {@code OMP_WAIT_POLICY=PASSIVE} (libgomp's spinning pool and OpenBLAS's pthreads pool
 * otherwise contend for the cores). The setup also sets the {@code threads} param through ND4J's {@code Environment} and its
 * BLAS wrapper, and logs what ND4J reports. ND4J's periodic {@code System.gc()} is switched off, as
 * DL4J's performance guide recommends for training loops. The network, its updater state and the first
 * step's workspaces are made in the setup, not measured. DL4J still allocates about 340 KB of Java heap
 * per step at batch 32 (JMH {@code -prof gc}), so its iterations include young collections.
 *
 * <p>Only in the {@code peers} build (not in {@code benchmarks.jar}). How to run (or
 * {@code benchmarks/run-peers.sh}, which runs it in the same JMH invocation as TrainingStepBenchmark):
 * <pre>
 *   mvn -q -Ppeers -pl benchmarks package -DskipTests
 *   OMP_NUM_THREADS=2 java -jar benchmarks/target/benchmarks-peers.jar Dl4jTrainingStepBenchmark -p batch=128
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms2g", "-Xmx2g"})
public class Dl4jTrainingStepBenchmark {
    private static final Logger LOG = LoggerFactory.getLogger(Dl4jTrainingStepBenchmark.class);

    /** Samples per step. */
    @Param({"32", "128", "512"})
    public int batch;

    /** Threads for libnd4j and OpenBLAS (set through ND4J; OMP_NUM_THREADS should agree). */
    @Param({"2"})
    public int threads;

    private MultiLayerNetwork net;
    private DataSet[] batches;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        Nd4j.getMemoryManager().togglePeriodicGc(false);
        LOG.info("DL4J peer: OMP_NUM_THREADS={}, OMP_WAIT_POLICY={}, ND4J maxThreads={}, maxMasterThreads={}, BLAS maxThreads={}, backend {}",
                System.getenv("OMP_NUM_THREADS"), System.getenv("OMP_WAIT_POLICY"), Nd4j.getEnvironment().maxThreads(),
                Nd4j.getEnvironment().maxMasterThreads(), Nd4j.factory().blas().getMaxThreads(),
                Nd4j.getBackend().getClass().getSimpleName());

        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU)
                .updater(new Nesterovs(0.05, 0.9))
                .gradientNormalization(GradientNormalization.ClipL2PerLayer)
                .gradientNormalizationThreshold(5.0)
                .list()
                .layer(new DenseLayer.Builder().nIn(TrainingStepBenchmark.INPUTS).nOut(256)
                        .activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(256).nOut(128).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(128)
                        .nOut(TrainingStepBenchmark.CLASSES).activation(Activation.SOFTMAX).build())
                .build();
        net = new MultiLayerNetwork(conf);
        net.init();

        int n = TrainingStepBenchmark.BATCHES;
        int samples = n * batch;
        float[] images = BenchSupport.uniform(7, samples * TrainingStepBenchmark.INPUTS, 0f, 1f);
        float[] classes = BenchSupport.classIndices(8, samples, TrainingStepBenchmark.CLASSES);
        batches = new DataSet[n];
        for (int b = 0; b < n; b++) {
            float[] x = new float[batch * TrainingStepBenchmark.INPUTS];
            System.arraycopy(images, b * x.length, x, 0, x.length);
            float[] y = new float[batch * TrainingStepBenchmark.CLASSES];
            for (int i = 0; i < batch; i++) {
                y[i * TrainingStepBenchmark.CLASSES + (int) classes[b * batch + i]] = 1f;
            }
            batches[b] = new DataSet(Nd4j.create(x, new long[] {batch, TrainingStepBenchmark.INPUTS}, 'c'),
                    Nd4j.create(y, new long[] {batch, TrainingStepBenchmark.CLASSES}, 'c'));
        }
        // the first step allocates the updater state and the workspaces: not measured
        net.fit(batches[0]);
        next = 1;
        LOG.info("DL4J peer: first step score {}, params {}", net.score(), net.numParams());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        net.close();
    }

    /** One {@code fit} of one batch; returns the loss of that step (a field DL4J already holds). */
    @Benchmark
    public double step() {
        net.fit(batches[next]);
        next = (next + 1) % TrainingStepBenchmark.BATCHES;
        return net.score();
    }
}
