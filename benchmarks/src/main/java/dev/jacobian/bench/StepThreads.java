package dev.jacobian.bench;

import dev.jacobian.backend.Backend;
import dev.jacobian.cpu.CpuBackend;
import dev.jacobian.tensor.Tensor;
import dev.jacobian.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.Recording;

/**
 * The CPU backend's training step on one thread against two, in one process, alternating: two trainers of the
 * 784-256-128-10 MLP (He init, seed 42; SGD lr 0.05, momentum 0.9, clipping at 5, as in {@link TrainingStepBenchmark})
 * on backends of 1 and 2 threads take turns, {@code steps} steps each per round, on the same 16 synthetic batches, and
 * the figure is the median over the rounds of the per-round speed-up. Alternating keeps a machine whose speed drifts
 * from favouring either side. After each round a {@link TwoCoreProbe} measures what a second thread gave the machine
 * itself then, and the report adds the step's gain against it, round by round: a 2-vCPU virtual machine does not
 * always give a second thread a core of its own. Then a {@link BatchSplitCeiling} trains two half batches side by
 * side on two 1-thread backends, exchanging nothing, for as many steps: what a split of the batch could give at best,
 * against which the report sets the 2-thread step's gain too. And the probe times a round trip between two threads,
 * which tells whether the host put the two vCPUs on one die or on two in each round: the step's gain in the rounds on
 * one die and in those on two are reported apart.
 *
 * <p>With {@code -Dops=true} every backend call is also timed (through a {@link Proxy} of {@link Backend}) and the
 * report lists each op's share of the 1-thread step's backend time, on 1 and on 2 threads, and its gain: which ops
 * gain from the second thread and which lose. Only ratios are printed: a time from one machine says little on the
 * next. With {@code -Dprofile=FILE} the timed rounds are recorded to a JDK Flight Recorder file with the CPU backend's
 * events of its thread pool ({@code dev.jacobian.cpu.ParallelCall}, one per parallel call: the caller's and the
 * worker's busy time, the caller's wait, whether the worker joined; {@code dev.jacobian.cpu.ParallelSite}, the stack
 * of each call site), which {@code benchmarks/peers/parallel_profile.py} sums per site. System properties:
 * {@code batch} (128), {@code rounds} (20), {@code steps} (100 per side and round), {@code ops} (false),
 * {@code profile} (none). {@code benchmarks/run-step-threads.sh} runs it with the machine's peak beside it.
 */
public final class StepThreads {
    private static final int BATCHES = StepTimer.BATCHES;
    private static final int WARM_STEPS = 2000;
    /** Probes of the machine per round (their median is the round's figure). */
    private static final int PROBES = 5;
    /** Longest wait, after the warm-up, for the JIT compilers to fall quiet ({@link StepTimer#awaitJitQuiet}). */
    private static final long JIT_QUIET_MAX_MILLIS = 20_000;
    /**
     * A round trip between the two threads shorter than this (in nanoseconds) means they share a die's last-level
     * cache: 50-100 ns there, 400-500 ns between the dies of the AMD EPYC (Zen 5) virtual machines this ran on.
     */
    static final int SAME_DIE_NANOS = 200;

    private StepThreads() {
    }

    /**
     * Runs the comparison.
     *
     * @param args none
     */
    public static void main(String[] args) {
        int batch = Integer.getInteger("batch", 128);
        int rounds = Integer.getInteger("rounds", 20);
        int steps = Integer.getInteger("steps", 100);
        boolean ops = Boolean.getBoolean("ops");
        String profile = System.getProperty("profile");
        int[] threads = {1, 2};
        float[] x = StepTimer.inputs(batch);
        Trainer[] trainers = new Trainer[threads.length];
        CpuBackend[] backends = new CpuBackend[threads.length];
        @SuppressWarnings("unchecked")
        Map<String, long[]>[] perOp = new Map[threads.length];
        boolean[] timing = {false};
        float[] y = null;
        for (int i = 0; i < threads.length; i++) {
            backends[i] = new CpuBackend(threads[i]);
            perOp[i] = new TreeMap<>();
            Backend be = ops ? timed(backends[i], perOp[i], timing) : backends[i];
            trainers[i] = StepTimer.trainer(be);
            y = StepTimer.targets(trainers[i], batch);
        }
        BatchSplitCeiling split = new BatchSplitCeiling(batch);
        TwoCoreProbe probe = new TwoCoreProbe();
        for (int s = 0; s < WARM_STEPS; s++) {
            for (Trainer t : trainers) {
                t.step(x, y, (s % BATCHES) * batch, batch);
            }
        }
        split.microsPerStep(WARM_STEPS);
        for (int i = 0; i < PROBES; i++) {
            probe.scaling();
            probe.roundTripNanos();
        }
        // started before the wait, so that the recorder's own start-up is over when the rounds begin
        Recording recording = profile == null ? null : startProfile();
        double jitMillis = StepTimer.awaitJitQuiet(JIT_QUIET_MAX_MILLIS);
        timing[0] = true;
        double[][] micros = new double[threads.length][rounds];
        double[] speedUp = new double[rounds];
        double[] machine = new double[rounds];
        double[] relative = new double[rounds];
        double[] roundTrip = new double[rounds];
        double[] ceiling = new double[rounds];
        double[] ofCeiling = new double[rounds];
        try (split; probe) {
            for (int r = 0; r < rounds; r++) {
                long twoThreadsEnd = 0;
                for (int i = threads.length - 1; i >= 0; i--) { // 2 threads, then 1
                    long t0 = System.nanoTime();
                    for (int s = 0; s < steps; s++) {
                        trainers[i].step(x, y, (s % BATCHES) * batch, batch);
                    }
                    long t1 = System.nanoTime();
                    micros[i][r] = (t1 - t0) / 1e3 / steps;
                    twoThreadsEnd = threads[i] == 2 ? t1 : twoThreadsEnd;
                }
                speedUp[r] = micros[0][r] / micros[1][r];
                machine[r] = probeAfterSpin(probe, twoThreadsEnd);
                roundTrip[r] = probe.roundTripNanos();
                relative[r] = speedUp[r] / machine[r];
                ceiling[r] = micros[0][r] / split.microsPerStep(steps);
                ofCeiling[r] = speedUp[r] / ceiling[r];
            }
        }
        if (recording != null) {
            try (recording) {
                recording.stop();
                recording.dump(Path.of(profile));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the profile " + profile, e);
            }
        }
        String placement = placement(roundTrip, speedUp);
        double[] oneMicros = micros[0].clone();
        double[] twoMicros = micros[1].clone();
        Arrays.sort(oneMicros);
        Arrays.sort(twoMicros);
        Arrays.sort(speedUp);
        Arrays.sort(machine);
        Arrays.sort(relative);
        Arrays.sort(ceiling);
        Arrays.sort(ofCeiling);
        System.out.printf(Locale.ROOT, "batch %d: 2 threads against 1: %.2fx [%.2f-%.2f] (median and quartiles of %d "
                + "rounds of %d steps each)%n", batch, speedUp[rounds / 2], speedUp[rounds / 4], speedUp[3 * rounds / 4],
                rounds, steps);
        System.out.printf(Locale.ROOT, "  the machine in the same rounds: a second thread ran an FMA loop on registers "
                + "%.2fx as fast [%.2f-%.2f] (2.00 on two free cores; TwoCoreProbe); the step's gain against it, round "
                + "by round: %.2f [%.2f-%.2f]%n", machine[rounds / 2], machine[rounds / 4], machine[3 * rounds / 4],
                relative[rounds / 2], relative[rounds / 4], relative[3 * rounds / 4]);
        System.out.printf(Locale.ROOT, "  a split of the batch at best: two halves of %d side by side on 1-thread "
                + "backends, exchanging nothing (BatchSplitCeiling), %.2fx [%.2f-%.2f] as fast as the whole batch on 1 "
                + "thread; the 2-thread step's gain against it, round by round: %.2f [%.2f-%.2f]%n",
                Math.max(1, batch / 2), ceiling[rounds / 2], ceiling[rounds / 4], ceiling[3 * rounds / 4],
                ofCeiling[rounds / 2], ofCeiling[rounds / 4], ofCeiling[3 * rounds / 4]);
        System.out.println(placement);
        System.out.printf(Locale.ROOT, "  after %d warm steps of each, the rounds waited %.1f s for the JIT compilers to "
                + "fall quiet%n", WARM_STEPS, jitMillis / 1e3);
        if (ops) {
            long oneThread = 0;
            for (long[] v : perOp[0].values()) {
                oneThread += v[0];
            }
            long calls = (long) rounds * steps; // timed steps per thread count: an op's time per step
            System.out.printf(Locale.ROOT, "per backend call: its share of the 1-thread step's calls, on 1 and on 2 threads,"
                    + " the gain, and its time per step on 1 and on 2 threads (the step: %.0f and %.0f us, medians)%n",
                    oneMicros[rounds / 2], twoMicros[rounds / 2]);
            for (Map.Entry<String, long[]> e : perOp[0].entrySet()) {
                long[] two = perOp[1].get(e.getKey());
                if (two != null) {
                    System.out.printf(Locale.ROOT, "%6.1f%% %6.1f%%  x%.2f  %7.1f us %7.1f us  %s%n",
                            100.0 * e.getValue()[0] / oneThread, 100.0 * two[0] / oneThread,
                            (double) e.getValue()[0] / two[0], e.getValue()[0] / 1e3 / calls, two[0] / 1e3 / calls,
                            e.getKey());
                }
            }
        }
        for (CpuBackend be : backends) {
            be.close();
        }
    }

    /**
     * The line on where the host put the two threads: the round trip between them ({@link TwoCoreProbe#roundTripNanos})
     * in each round, and the step's speed-up in the rounds where they shared a die (a round trip under
     * {@link #SAME_DIE_NANOS}) and in the others. {@code speedUp} is indexed by round, as {@code roundTrip}.
     */
    static String placement(double[] roundTrip, double[] speedUp) {
        int rounds = roundTrip.length;
        double[] sorted = roundTrip.clone();
        Arrays.sort(sorted);
        double[] near = new double[rounds];
        double[] far = new double[rounds];
        int n = 0;
        int f = 0;
        for (int r = 0; r < rounds; r++) {
            if (roundTrip[r] < SAME_DIE_NANOS) {
                near[n++] = speedUp[r];
            } else {
                far[f++] = speedUp[r];
            }
        }
        return String.format(Locale.ROOT, "  where the threads ran: a round trip between them took %.0f ns [%.0f-%.0f] "
                + "(TwoCoreProbe; under %d ns they share a die's caches); the step's gain in the %d rounds on one die "
                + "%s, in the %d on two %s", sorted[rounds / 2], sorted[rounds / 4], sorted[3 * rounds / 4],
                SAME_DIE_NANOS, n, median(near, n), f, median(far, f));
    }

    /** The median of {@code v[0, n)} as {@code 1.23x}, or a dash when {@code n} is 0. */
    private static String median(double[] v, int n) {
        if (n == 0) {
            return "-";
        }
        double[] s = Arrays.copyOf(v, n);
        Arrays.sort(s);
        return String.format(Locale.ROOT, "%.2fx", n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
    }

    /** A recording of the CPU backend's thread-pool events (every call, every site's stack), started. */
    private static Recording startProfile() {
        Recording r = new Recording();
        r.enable("dev.jacobian.cpu.ParallelCall").withoutThreshold();
        r.enable("dev.jacobian.cpu.ParallelSite").withStackTrace();
        r.start();
        return r;
    }

    /**
     * The median of {@link #PROBES} probes of what a second thread gives, once the 2-thread backend's worker has
     * parked ({@link StepTimer#awaitWorkersParked}: it would take a core from the probe).
     */
    private static double probeAfterSpin(TwoCoreProbe probe, long twoThreadsEnd) {
        StepTimer.awaitWorkersParked(twoThreadsEnd);
        double[] p = new double[PROBES];
        for (int i = 0; i < PROBES; i++) {
            p[i] = probe.scaling();
        }
        Arrays.sort(p);
        return p[PROBES / 2];
    }

    /** {@code real} behind a proxy that adds each call's time, by op name and tensor shapes, to {@code perOp}. */
    private static Backend timed(CpuBackend real, Map<String, long[]> perOp, boolean[] timing) {
        InvocationHandler h = (proxy, method, args) -> {
            long t0 = System.nanoTime();
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                if (timing[0]) {
                    StringBuilder key = new StringBuilder(method.getName());
                    if (method.getName().startsWith("gemm") || method.getName().equals("denseBackward")) {
                        for (Object a : args) {
                            if (a instanceof Tensor t) {
                                key.append(' ').append(t.shape());
                            }
                        }
                    }
                    long[] v = perOp.computeIfAbsent(key.toString(), k -> new long[1]);
                    v[0] += System.nanoTime() - t0;
                }
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }
}
