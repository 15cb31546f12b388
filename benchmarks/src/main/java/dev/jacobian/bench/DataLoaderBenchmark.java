package dev.jacobian.bench;

import dev.jacobian.data.Batch;
import dev.jacobian.data.DataLoader;
import dev.jacobian.data.ImageDataset;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Gathering a training batch: {@code batch} shuffled samples of a set of Fashion-MNIST's size (60,000 images of
 * 28x28 bytes, random pixels: what matters is that the rows of a batch lie far apart in 47 MB), converted to floats
 * and one-hot targets by a {@link DataLoader} without a thread ({@code prefetch(0)}), so the time per call is what
 * the step's caller waits when the loader has no core of its own. Each call takes the next batch of the epoch, and a
 * new epoch (a new order) when one ends. Against an older commit (the benchmark compiles against any since the loader
 * exists): {@code BENCH=DataLoaderBenchmark.next PARAMS="-p batch=128" benchmarks/compare-commits.sh OLD_REV}.
 */
@State(Scope.Benchmark)
public class DataLoaderBenchmark extends BenchmarkDefaults {
    private static final int SAMPLES = 60_000;
    private static final int SIDE = 28;
    private static final int CLASSES = 10;

    /** Samples per batch. */
    @Param({"128"})
    public int batch;

    private DataLoader loader;
    private DataLoader.Epoch epoch;
    private int number = 1;

    /** The set, with seeded random pixels and labels, and its loader. */
    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(3);
        byte[] pixels = new byte[SAMPLES * SIDE * SIDE];
        random.nextBytes(pixels);
        int[] labels = new int[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            labels[i] = random.nextInt(CLASSES);
        }
        ImageDataset images = new ImageDataset("random 28x28", pixels, labels, 1, SIDE, SIDE);
        loader = DataLoader.builder(images).batchSize(batch).shuffle(1).dropLast(true).prefetch(0)
                .targets(y -> {
                    float[] t = new float[y.length * CLASSES];
                    for (int i = 0; i < y.length; i++) {
                        t[i * CLASSES + y[i]] = 1f;
                    }
                    return t;
                }).build();
        epoch = loader.epoch(number);
    }

    /** Stops the epoch and the loader. */
    @TearDown(Level.Trial)
    public void tearDown() {
        epoch.close();
        loader.close();
    }

    /** The next batch (a new epoch when the last one ended). */
    @Benchmark
    public Batch next() {
        if (!epoch.hasNext()) {
            epoch.close();
            epoch = loader.epoch(++number);
        }
        return epoch.next();
    }
}
