package dev.jacobian.bench;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntToDoubleFunction;

/**
 * Two builds of the project in one process: each jar's {@link StepTimer} in a class loader of its own (nothing shared
 * but the JDK), warmed up, then timed in alternating halves of each round (the order swapped every round), so that
 * both see the same machine from one moment to the next. On machines whose speed drifts within seconds (see the
 * Zen 3 sessions of {@code benchmarks/HISTORY.md}) separate processes, even interleaved, disagree by more than the
 * changes worth measuring; the per-round ratio does not. Prints the median and quartiles of
 * {@code old time / new time} per step (above 1: the second jar is faster). Each half starts after a pause that lets
 * the other build's workers park (they spin 200 ms after their last task by default), so that they take no core from
 * it. {@code -Dcompete=BUSY,IDLE} adds a thread that computes for BUSY microseconds and sleeps for IDLE in turn through
 * both halves, as a batch loader or the JIT compiler would beside a training run. {@code compare-in-process.sh} builds
 * the jars.
 *
 * <pre>
 *   java --add-modules=jdk.incubator.vector -Dbatch=128 -Dthreads=2 -Drounds=30 \
 *       -cp benchmarks.jar dev.jacobian.bench.InProcessAB old.jar new.jar
 * </pre>
 */
public final class InProcessAB {
    private static final String TIMER = "dev.jacobian.bench.StepTimer";
    private static final int WARM_ROUNDS = 4;
    private static final int WARM_STEPS = 500;

    private InProcessAB() {
    }

    /**
     * Runs the comparison.
     *
     * @param args the old jar, then the new one
     * @throws ReflectiveOperationException when a jar lacks {@link StepTimer} or its constructor
     * @throws MalformedURLException        when a path is not a file name
     */
    public static void main(String[] args) throws ReflectiveOperationException, MalformedURLException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: InProcessAB OLD_JAR NEW_JAR");
        }
        int batch = Integer.getInteger("batch", 128);
        int threads = Integer.getInteger("threads", 2);
        int rounds = Integer.getInteger("rounds", 30);
        int steps = Integer.getInteger("steps", 100);
        IntToDoubleFunction[] timers = new IntToDoubleFunction[2];
        URLClassLoader[] loaders = new URLClassLoader[2];
        try {
            for (int i = 0; i < 2; i++) {
                loaders[i] = new URLClassLoader(new URL[] {new File(args[i]).toURI().toURL()},
                        ClassLoader.getPlatformClassLoader());
                timers[i] = (IntToDoubleFunction) loaders[i].loadClass(TIMER).getConstructor(int.class, int.class)
                        .newInstance(batch, threads);
            }
            for (int w = 0; w < WARM_ROUNDS; w++) {
                for (IntToDoubleFunction t : timers) {
                    t.applyAsDouble(WARM_STEPS);
                }
            }
            startCompetitor(System.getProperty("compete", ""));
            double[] ratio = new double[rounds];
            long lastTask = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                double[] micros = new double[2];
                for (int j = 0; j < 2; j++) {
                    int i = (r + j) % 2;
                    StepTimer.awaitWorkersParked(lastTask); // the other build's take no core from this half
                    micros[i] = timers[i].applyAsDouble(steps);
                    lastTask = System.nanoTime();
                }
                ratio[r] = micros[0] / micros[1];
            }
            Arrays.sort(ratio);
            System.out.printf(Locale.ROOT, "batch %d, %d thread(s): old time / new time per step %.3f [%.3f-%.3f] "
                    + "(median and quartiles of %d rounds of %d steps each)%n", batch, threads, ratio[rounds / 2],
                    ratio[rounds / 4], ratio[3 * rounds / 4], rounds, steps);
        } finally {
            for (int i = 0; i < 2; i++) {
                if (timers[i] instanceof AutoCloseable c) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        throw new IllegalStateException("closing " + args[i], e);
                    }
                }
                if (loaders[i] != null) {
                    try {
                        loaders[i].close();
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException("closing " + args[i], e);
                    }
                }
            }
        }
    }

    /**
     * With {@code "BUSY,IDLE"} (microseconds), starts a daemon thread that computes for {@code BUSY} and sleeps for
     * {@code IDLE} in turn, through every half of every round: another thread that wants a core now and then, as a
     * training run's batch loader, the JIT compiler or the collector do. Nothing with an empty string.
     */
    private static void startCompetitor(String spec) {
        if (spec.isEmpty()) {
            return;
        }
        String[] parts = spec.split(",");
        long busy = Long.parseLong(parts[0].trim()) * 1000;
        long idle = Long.parseLong(parts[1].trim()) * 1000;
        Thread t = new Thread(() -> {
            double x = 1;
            while (x != 0) { // always: x stays positive
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < busy) {
                    x = x * 0.999_999 + 1e-9;
                }
                LockSupport.parkNanos(idle);
            }
        }, "competitor");
        t.setDaemon(true);
        t.start();
    }
}
