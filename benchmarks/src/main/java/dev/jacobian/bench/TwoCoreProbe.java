package dev.jacobian.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * How much a second thread gives on this machine at this moment: a loop of independent FMAs on registers (no
 * memory traffic, no synchronization inside), timed on the calling thread alone, then on it and a helper thread at
 * once; {@link #scaling()} is {@code 2 x alone / together}, 2.0 on two free cores. A benchmark of threads interleaves
 * it with its own rounds, so that a figure such as "2 threads run the step 1.4x as fast as 1" comes with what the
 * machine gave two threads in the same minutes. On a 2-vCPU virtual machine (an AMD EPYC of family 25) probes a tenth
 * of a second apart gave from 1.3x to 2.1x, and the medians of whole benchmark runs from 1.56x to 1.96x.
 *
 * <p>The helper parks between probes (it takes no core from the benchmark's own threads); in a probe both threads meet,
 * then spin for {@link #MEET_NANOS} more and start their loops at the same instant, so that the operating system has
 * put the helper on a core of its own by then, as it has the long-lived threads of a backend.
 */
final class TwoCoreProbe implements AutoCloseable {
    /** How long both threads spin together, once they have met, before the timed loops. */
    static final long MEET_NANOS = 2_000_000L;
    private static final int ITERATIONS = 2_000_000;
    /** Round trips per {@link #roundTripNanos}. */
    static final int ROUND_TRIPS = 20_000;

    private final Thread helper;
    private volatile int generation;
    private volatile int arrived;
    private volatile int startGeneration;
    private volatile long startAt;
    private volatile int finished;
    private volatile long helperNanos;
    private volatile boolean closed;
    private volatile double sink;
    /** Whether the job that {@link #generation} announces is a ping-pong ({@link #roundTripNanos}). */
    private volatile boolean pingPong;
    /** The caller's ping and the helper's answer: each round trip raises both by one. */
    private volatile int ping;
    private volatile int pong;

    /** Starts the (parked) helper thread and warms the loop up. */
    TwoCoreProbe() {
        helper = new Thread(this::helperLoop, "two-core-probe");
        helper.setDaemon(true);
        helper.start();
        for (int i = 0; i < 50; i++) {
            work();
        }
    }

    /**
     * One probe: the loop's time alone over its time with the helper running the same loop at once, times two.
     *
     * @return 2.0 when two threads run as fast as one each, 1.0 when they share one core
     */
    double scaling() {
        long alone = work();
        int g = generation + 1;
        generation = g;
        LockSupport.unpark(helper);
        while (arrived != g) {
            Thread.onSpinWait();
        }
        long start = System.nanoTime() + MEET_NANOS;
        startAt = start;
        startGeneration = g;
        while (System.nanoTime() < start) {
            Thread.onSpinWait();
        }
        long together = work();
        while (finished != g) {
            Thread.onSpinWait();
        }
        return 2.0 * alone / Math.max(together, helperNanos);
    }

    /**
     * The time a write of one thread takes to reach the other and come back: the caller and the helper bounce a
     * counter {@link #ROUND_TRIPS} times, each waiting for the other's write; the mean per round trip. About 50-100 ns
     * where the two threads share a last-level cache, 400-500 ns where they sit on different dies of an AMD EPYC
     * (Zen 5), where every line one writes and the other reads crosses between the dies: the placement the host gave
     * the two vCPUs at that moment, which a 2-thread step depends on.
     *
     * @return nanoseconds per round trip
     */
    double roundTripNanos() {
        int g = generation + 1;
        pingPong = true;
        generation = g;
        LockSupport.unpark(helper);
        while (arrived != g) {
            Thread.onSpinWait();
        }
        int base = pong;
        long t0 = System.nanoTime();
        for (int i = base + 1; i <= base + ROUND_TRIPS; i++) {
            ping = i;
            while (pong != i) {
                Thread.onSpinWait();
            }
        }
        long nanos = System.nanoTime() - t0;
        while (finished != g) {
            Thread.onSpinWait();
        }
        pingPong = false;
        return (double) nanos / ROUND_TRIPS;
    }

    private void helperLoop() {
        int seen = 0;
        while (!closed) {
            if (generation == seen) {
                LockSupport.park(this);
                continue;
            }
            seen = generation;
            if (pingPong) {
                int base = pong;
                arrived = seen;
                for (int i = base + 1; i <= base + ROUND_TRIPS; i++) {
                    while (ping != i) {
                        Thread.onSpinWait();
                    }
                    pong = i;
                }
                finished = seen;
                continue;
            }
            arrived = seen;
            while (startGeneration != seen) {
                Thread.onSpinWait();
            }
            long start = startAt;
            while (System.nanoTime() < start) {
                Thread.onSpinWait();
            }
            helperNanos = work();
            finished = seen;
        }
    }

    /** Eight independent chains of FMAs, enough to cover the FMA's latency on two pipes; its nanoseconds. */
    private long work() {
        double a0 = 1;
        double a1 = 2;
        double a2 = 3;
        double a3 = 4;
        double a4 = 5;
        double a5 = 6;
        double a6 = 7;
        double a7 = 8;
        double m = 0.999999;
        double c = 1e-7;
        long t0 = System.nanoTime();
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = Math.fma(a0, m, c);
            a1 = Math.fma(a1, m, c);
            a2 = Math.fma(a2, m, c);
            a3 = Math.fma(a3, m, c);
            a4 = Math.fma(a4, m, c);
            a5 = Math.fma(a5, m, c);
            a6 = Math.fma(a6, m, c);
            a7 = Math.fma(a7, m, c);
        }
        long nanos = System.nanoTime() - t0;
        sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        return nanos;
    }

    /** Stops the helper. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(helper);
    }
}
