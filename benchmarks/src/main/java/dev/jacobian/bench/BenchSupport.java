package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.Backends;
import dev.jacobian.backend.LossKind;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.tensor.Shape;
import dev.jacobian.tensor.Tensor;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the backend benchmarks share: creating a backend by name (through {@link Backends}, as an
 * application does, so {@code opencl} means the highest-priority OpenCL device), parsing a matrix shape
 * {@code RxC}, seeded synthetic data, and {@link #await}, the end of every measured call.
 */
final class BenchSupport {
    private static final Logger LOG = LoggerFactory.getLogger(BenchSupport.class);

    private BenchSupport() {
    }

    /**
     * The benchmarks' 784-256-128-10 ReLU MLP with softmax cross-entropy, He init, seed 42 (as the README's example and
     * {@code bin/jacobian train}), on {@code backend}.
     */
    static Model mlp(Backend backend) {
        return Sequential.builder(TrainingStepBenchmark.INPUTS).hidden(256, "relu").hidden(128, "relu")
                .output(TrainingStepBenchmark.CLASSES, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE)
                .seed(42).build(backend);
    }

    /**
     * Creates the backend named {@code name} ({@code cpu}, {@code opencl}, ...) and logs what it runs on
     * (the report's log then says which device a number came from).
     *
     * @throws IllegalStateException from {@link Backends} when no such backend is available
     */
    static Backend backend(String name) {
        Backend backend = Backends.create(name);
        LOG.info("backend {}: {}", backend.name(), backend.deviceDescription());
        return backend;
    }

    /** {@code sync} value: wait with a blocking read of one float of the result (the default). */
    static final String SYNC_READ = "read";
    /** {@code sync} value: wait with {@link Backend#synchronize()}. */
    static final String SYNC_SYNCHRONIZE = "synchronize";

    /**
     * Waits until {@code result} has been computed, so that a measured call includes its kernels.
     * {@code read} downloads {@code result[0]} with a blocking read: on an in-order queue (the OpenCL
     * backend's) it completes only after every kernel enqueued before it; the 4-byte copy is the price.
     * {@code synchronize} calls {@link Backend#synchronize()} ({@code clFinish}); both wait for the same
     * kernels, the read being what a training step does anyway.
     *
     * @return the value read ({@code NaN} with {@code synchronize}), for the benchmark to return
     */
    static float await(String sync, Backend backend, Tensor result) {
        if (SYNC_SYNCHRONIZE.equals(sync)) {
            backend.synchronize();
            return Float.NaN;
        }
        return result.get(0);
    }

    /** {@code "RxC"} as a matrix shape, e.g. {@code 512x1024}. */
    static Shape matrix(String rowsByCols) {
        String[] dims = rowsByCols.split("x");
        if (dims.length != 2) {
            throw new IllegalArgumentException("expected a shape RxC, got " + rowsByCols);
        }
        return Shape.matrix(Integer.parseInt(dims[0].trim()), Integer.parseInt(dims[1].trim()));
    }

    /** {@code size} floats uniform in {@code [lo, hi)}, the same for the same seed. */
    static float[] uniform(long seed, int size, float lo, float hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }

    /** {@code size} labels in {@code [0, classes)}: {@link #classIndices} as ints (what {@code encodeTargets} takes). */
    static int[] labels(long seed, int size, int classes) {
        float[] c = classIndices(seed, size, classes);
        int[] labels = new int[size];
        for (int i = 0; i < size; i++) {
            labels[i] = (int) c[i];
        }
        return labels;
    }

    /**
     * Sleeps for {@code nanos} (nothing when not positive); an interruption restores the thread's flag and ends the
     * benchmark with an {@link IllegalStateException}.
     */
    static void sleep(long nanos) {
        if (nanos <= 0) {
            return;
        }
        try {
            Thread.sleep(java.time.Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** {@code size} class indices in {@code [0, classes)} stored as floats (the class-index target layout). */
    static float[] classIndices(long seed, int size, int classes) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = r.nextInt(classes);
        }
        return x;
    }
}
