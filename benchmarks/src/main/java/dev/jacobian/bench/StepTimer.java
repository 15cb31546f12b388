package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.backend.LossKind;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.nn.Model;
import dev.jacobian.nn.Sequential;
import dev.jacobian.optim.Sgd;
import dev.jacobian.train.Trainer;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.IntToDoubleFunction;

/**
 * The CPU backend's training step of the 784-256-128-10 MLP (ReLU, softmax cross-entropy, SGD with momentum 0.9 and
 * clipping, as {@link StepThreads} runs it) on 16 batches of random inputs, timed: {@link #applyAsDouble} runs that
 * many steps and returns the microseconds per step. {@link InProcessAB} loads one from each of two builds of the project,
 * each in a class loader of its own, so it is a plain {@link IntToDoubleFunction}: the only type both loaders share.
 */
public final class StepTimer implements IntToDoubleFunction, AutoCloseable {
    private static final int INPUTS = 784;
    private static final int CLASSES = 10;
    /** Batches the inputs hold; step {@code s} trains on batch {@code s % BATCHES}. */
    static final int BATCHES = 16;
    /** Polls of {@link #awaitJitQuiet} in a row without a compile that count as quiet. */
    static final int JIT_QUIET_POLLS = 3;
    /** Milliseconds between two polls of {@link #awaitJitQuiet}. */
    static final long JIT_POLL_MILLIS = 100;
    /**
     * Nanoseconds after a CPU backend's last task by which its workers have parked: their spinning
     * ({@code -Djacobian.cpu.spinMicros}, 200 ms by default) and 20 ms more. Until then a worker takes a core from
     * whatever runs beside it.
     */
    static final long WORKERS_PARKED_NANOS = 1000L * Long.getLong("jacobian.cpu.spinMicros", 200_000) + 20_000_000L;

    private final CpuBackend backend;
    private final Trainer trainer;
    private final float[] x;
    private final float[] y;
    private final int batch;

    /**
     * A model and its trainer on a CPU backend of {@code threads} threads, for batches of {@code batch}.
     *
     * @param batch   samples per step
     * @param threads the backend's threads
     */
    public StepTimer(int batch, int threads) {
        this.batch = batch;
        this.backend = new CpuBackend(threads);
        this.trainer = trainer(backend);
        this.x = inputs(batch);
        this.y = targets(trainer, batch);
    }

    /**
     * The MLP (He init, seed 42) on {@code backend} and its trainer (SGD, lr 0.05, momentum 0.9, clipping at 5): the
     * step this class and {@link StepThreads} time.
     */
    static Trainer trainer(Backend backend) {
        Model model = Sequential.builder(INPUTS).hidden(256, "relu").hidden(128, "relu")
                .output(CLASSES, LossKind.SOFTMAX_CROSS_ENTROPY).init(Sequential.Init.HE).seed(42).build(backend);
        return new Trainer(model, Sgd.builder().learningRate(0.05).momentum(0.9).clipNorm(5.0).build());
    }

    /** {@link #BATCHES} batches of {@code batch} random inputs in {@code [0, 1)}, one after the other. */
    static float[] inputs(int batch) {
        return BenchSupport.uniform(7, BATCHES * batch * INPUTS, 0f, 1f);
    }

    /** Their random labels, encoded as {@code trainer}'s model takes them. */
    static float[] targets(Trainer trainer, int batch) {
        return trainer.model().encodeTargets(BenchSupport.labels(8, BATCHES * batch, CLASSES));
    }

    /**
     * Runs {@code steps} training steps, cycling through the batches.
     *
     * @param steps how many
     * @return the wall time per step, in microseconds
     */
    @Override
    public double applyAsDouble(int steps) {
        long t0 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            trainer.step(x, y, (s % BATCHES) * batch, batch);
        }
        return (System.nanoTime() - t0) / 1e3 / steps;
    }

    /** Closes the backend (its worker threads). */
    @Override
    public void close() {
        backend.close();
    }

    /**
     * Waits until the JIT compilers have compiled nothing for {@value #JIT_QUIET_POLLS} polls {@value #JIT_POLL_MILLIS}
     * ms apart (their total compile time, {@link CompilationMXBean#getTotalCompilationTime}, unchanged), at most
     * {@code maxMillis}: after a warm-up C2 may still have compiles queued, and on a 2-vCPU machine each takes a core
     * from a 2-thread step's worker, so that the first rounds would time the compiler's competition rather than the
     * compiled step. Returns the milliseconds waited (0 where the JVM does not report the time).
     */
    static double awaitJitQuiet(long maxMillis) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return 0;
        }
        long t0 = System.nanoTime();
        long last = jit.getTotalCompilationTime();
        int quiet = 0;
        while (quiet < JIT_QUIET_POLLS && System.nanoTime() - t0 < maxMillis * 1_000_000L) {
            BenchSupport.sleep(JIT_POLL_MILLIS * 1_000_000L);
            long now = jit.getTotalCompilationTime();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Sleeps until {@link #WORKERS_PARKED_NANOS} after {@code lastTaskNanos} (a {@link System#nanoTime()}). */
    static void awaitWorkersParked(long lastTaskNanos) {
        BenchSupport.sleep(WORKERS_PARKED_NANOS - (System.nanoTime() - lastTaskNanos));
    }
}
