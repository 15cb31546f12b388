package dev.jacobian.samples.training;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.BackendProvider;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.cpu.CpuBackendProvider;
import dev.jacobian.data.Batch;
import dev.jacobian.data.DataLoader;
import dev.jacobian.data.ImageDataset;
import dev.jacobian.metrics.Evaluator;
import dev.jacobian.nn.Diagnostics;
import dev.jacobian.nn.Model;
import dev.jacobian.optim.Optimizer;
import dev.jacobian.tensor.Shape;
import dev.jacobian.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the JVM's JIT compiler up for a run on the CPU backend, on a thread of its own, while the data loads.
 *
 * <p>Why: the CPU backend's kernels are Vector API code, which runs about a hundred times slower than compiled until
 * C2 has compiled it (before that every vector is an object). Left to the run itself, its first steps pay for it: on
 * the 784-256-128-10 MLP at batch 128, one thread, the first step took 200-300 times as long as a warm one, the next
 * two 60-80 times, the next sixty 2-10 times, so that epoch 1 took 1.9-2.3 times as long as epoch 2 (Intel Xeon
 * family 6 model 207, AVX-512; the README's "The JIT and epoch 1"). What the JIT
 * needs is calls and loop trips, not work: a small model of the same kind (hidden layers and channels narrowed to
 * {@value #WIDTH} and {@value #CHANNELS}, batch {@value #BATCH}, on random 28x28 byte images read through a
 * {@link DataLoader} as the run's are) trained for
 * {@value #STEPS} steps with the run's activation, loss, normalization, dropout and optimizer runs the same kernels
 * through the same code, in a fraction of the time, and its compiled code then serves the real model.
 *
 * <p>Then it trains the model itself for {@value #FULL_STEPS} steps on a backend like the run's (its threads, so the
 * code of products shared by the threads is compiled too, and its real batch size), which keeps all its threads at
 * work while the compilers are busy, where the run's backend lends them one ({@code CpuBackend(int, boolean,
 * boolean)}).
 *
 * <p>Every {@value #EPOCH_END_EVERY} of its epochs, and at the end of each model's steps, it also does what the run
 * does after an epoch: {@link Diagnostics#inspect} and an evaluation in batches of the run's evaluation size. Their
 * code shares kernels with the steps (the diagnostics take each ReLU layer's column maxima through the reduction that
 * sums a layer's bias gradient), and C2 compiles a branch that its profile never saw taken as a trap: met first after
 * epoch 1, it threw the compiled kernel away ({@code unstable_if}, {@code reinterpret}), and epoch 2's steps ran it
 * interpreted until C2 had compiled it again. Seen in warm-up, the branches are compiled before the run starts.
 *
 * <p>It uses CPU backends of its own, so it shares nothing with the run; it trains nothing when the run's
 * backend is not the CPU one, and a warm-up that fails (a configuration the small model cannot take, a non-finite loss
 * on random data) only ends early: the run never depends on it. {@link #await} waits for it before the first step.
 */
final class JitWarmUp {
    /** Steps the small model trains. */
    static final int STEPS = 300;
    /** Its batch size. */
    static final int BATCH = 16;
    /** Its widest hidden layer. */
    static final int WIDTH = 32;
    /** Its most channels per convolution block. */
    static final int CHANNELS = 8;
    /** Steps the model itself trains after the narrowed copy's, on the run's kind of backend. */
    static final int FULL_STEPS = 8;
    /** Its epochs (of {@value #BATCHES} batches) between two rounds of the run's work after an epoch. */
    static final int EPOCH_END_EVERY = 10;
    /** Longest it may run (on a machine slowed by something else, the run should not wait longer). */
    static final long MAX_NANOS = 5_000_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(JitWarmUp.class);
    /** The images it trains on: MNIST's size. */
    private static final Shape SAMPLE = Shape.of(1, 28, 28);
    private static final int CLASSES = 10;
    /** Distinct random batches, taken in turn: an epoch of the warm-up. */
    static final int BATCHES = 4;

    private final Thread thread;
    private volatile int steps;
    private volatile RuntimeException failure;
    private volatile boolean timedOut;
    private volatile int epochEnds;

    private JitWarmUp(BackendProvider provider, TrainConfig config) {
        this.thread = Thread.ofPlatform().name("jacobian-jit-warm-up").daemon().unstarted(() -> run(provider, config));
    }

    /**
     * Starts warming up for a run of {@code config} on backends of {@code provider} (the run's, as it resolved
     * {@code --backend}); nothing is trained unless that is the CPU backend.
     */
    static JitWarmUp start(BackendProvider provider, TrainConfig config) {
        JitWarmUp w = new JitWarmUp(provider, config);
        w.thread.start();
        return w;
    }

    /**
     * Waits for the warm-up to end, and returns the steps it trained (0 when it was skipped or failed at once).
     *
     * @throws InterruptedException when this thread is interrupted while waiting
     */
    int await() throws InterruptedException {
        thread.join();
        return steps;
    }

    /** Whether it stopped at its time limit, {@link #MAX_NANOS} (read after {@link #await}). */
    boolean timedOut() {
        return timedOut;
    }

    /** How many times it did the run's work after an epoch (read after {@link #await}). */
    int epochEnds() {
        return epochEnds;
    }

    /** Why the warm-up ended before its steps were done, or null (read after {@link #await}). */
    RuntimeException failure() {
        return failure;
    }

    private void run(BackendProvider provider, TrainConfig config) {
        long t0 = System.nanoTime();
        try {
            if (!provider.name().equals("cpu")) {
                return;
            }
            try (Backend backend = new CpuBackend(1)) {
                train(backend, small(config), STEPS, t0);
            }
            // then a few steps of the model itself on the run's own kind of backend (its threads): the code of the
            // real shapes (products shared by the threads, the real buffers) is compiled and touched too
            if (timedOut) {
                return;
            }
            try (Backend backend = fullBackend(provider)) {
                train(backend, config, STEPS + FULL_STEPS, t0);
            }
            LOG.debug("JIT warm-up: {} steps in {} ms", steps, (System.nanoTime() - t0) / 1_000_000);
        } catch (RuntimeException e) {
            // the run reports its own backend and configuration errors; a warm-up only ever ends early
            failure = e;
            LOG.debug("JIT warm-up ended after {} steps: {}", steps, e.toString());
        }
    }

    /**
     * A backend like the run's, with the run's threads, all of them at work even while the compilers are busy (the
     * run's own backend splits its kernels over fewer then, {@code CompilerLoad}): this one is here to have the code of
     * every thread compiled.
     */
    private static Backend fullBackend(BackendProvider provider) {
        if (provider instanceof CpuBackendProvider cpu) {
            return new CpuBackend(cpu.threads(), true, false);
        }
        return provider.create();
    }

    /**
     * Trains a model of {@code config} on random images on {@code backend} until {@link #steps} is {@code until}. The
     * images are bytes read through a {@link DataLoader} as the run reads its data set, so that the loader's code (the
     * batch's gather, the pixels' conversion, on the CPU backend's Vector API converter when it is on the class path)
     * is compiled before the run's first step too, not while the run's loader feeds epoch 1.
     */
    private void train(Backend backend, TrainConfig config, int until, long t0) {
        int batch = config.batch();
        try (Model model = Networks.model(config, SAMPLE, CLASSES, backend);
             Optimizer optimizer = Networks.optimizer(config, config.learningRate());
             Trainer trainer = new Trainer(model, optimizer);
             Evaluator evaluator = new Evaluator(model)) {
            SplittableRandom random = new SplittableRandom(config.seed());
            int n = BATCHES * batch;
            byte[] pixels = new byte[n * SAMPLE.size()];
            random.nextBytes(pixels);
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = random.nextInt(CLASSES);
            }
            ImageDataset images = new ImageDataset("JIT warm-up images", pixels, labels, SAMPLE.dim(0),
                    SAMPLE.dim(1), SAMPLE.dim(2));
            model.train();
            try (DataLoader loader = DataLoader.builder(images).batchSize(batch).shuffle(config.seed()).dropLast(true)
                    .prefetch(0).targets(model::encodeTargets).keepBytes(!config.augmentation().active()).build()) {
                for (int epoch = 1; steps < until; epoch++) {
                    try (DataLoader.Epoch batches = loader.epoch(epoch)) {
                        while (batches.hasNext() && steps < until) {
                            if (System.nanoTime() - t0 > MAX_NANOS) {
                                timedOut = true;
                                return;
                            }
                            Batch b = batches.next();
                            trainer.step(b);
                            steps++;
                        }
                    }
                    if (epoch % EPOCH_END_EVERY == 0 || steps >= until) {
                        // what the run does after each epoch: the layers' diagnostics, then the validation set's
                        // evaluation in batches of its size
                        Diagnostics.inspect(model);
                        evaluator.evaluate(images, TrainingRun.EVAL_BATCH);
                        epochEnds++;
                    }
                }
            }
        }
    }

    /** {@code config} narrowed to {@link #WIDTH} units, {@link #CHANNELS} channels and batch {@link #BATCH}. */
    static TrainConfig small(TrainConfig config) {
        List<Integer> layers = new ArrayList<>();
        config.layers().forEach(u -> layers.add(Math.min(u, WIDTH)));
        List<Integer> channels = new ArrayList<>();
        config.channels().forEach(c -> channels.add(Math.min(c, CHANNELS)));
        return config.withShape(layers, channels, BATCH);
    }
}
