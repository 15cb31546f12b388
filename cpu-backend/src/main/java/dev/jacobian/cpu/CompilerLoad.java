package dev.jacobian.cpu;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many of a {@link Parallel} pool's threads its kernels should split their work into while the JIT compilers warm
 * the program up: the pool's size, less a thread for each core, or part of one, that the compilers keep busy beyond
 * the cores the pool leaves free and beyond one more; until the compiling first falls back under that, and from then
 * on all of them.
 *
 * <p>Why: a pool as large as the machine (the default) shares its cores with the compiler threads, which keep one to
 * one and a half cores busy through the first second or two of a training run (C1 and C2 in
 * {@code bin/jacobian train}'s start-up and first epoch, on 2 cores). A kernel split over every core then waits for
 * the thread whose core a compiler has, and the compilers, on a share of a core, take longer to bring the kernels to
 * C2; one thread alone has a core to itself and leaves the compilers the other. Measured on an AMD EPYC of family 26
 * (2 vCPUs on two dies; OpenBLAS's one-thread SGEMM peak 187-206 GFLOP/s, measured after the runs):
 * {@code bin/jacobian train}, 5 epochs, against {@code -Djacobian.cpu.yieldToJit=false}, processes alternating,
 * medians of the pairs' ratios over 8 pairs: epoch 1 0.85x as long at batch 128 and 0.89x at 64, the median of epochs
 * 2-5 1.03x and 0.98x (the pairs 0.86-1.36x: the spread), start-up with the five epochs 0.96x and 0.97x. The
 * compiling that later methods bring (a per-step method reaching C2's thresholds, a recompile) takes no thread: the
 * pool's code is compiled by then, and two threads beat one (lent at every burst, epochs 3 and 4 took 1.25-1.4x as
 * long). Every kernel gives the same bits on any thread count, so the switch changes no result.
 *
 * <p>The measure: the compilers' time ({@link CompilationMXBean#getTotalCompilationTime}: each compile's length, summed
 * over the compiler threads, counted as each compile ends; time a compiler waited for a core included) per unit of wall
 * time, sampled at most once per {@link #WINDOW_NANOS}
 * when a kernel asks and smoothed with a time constant of {@link #TAU_NANOS} (a long compile is counted all at once
 * when it ends). The pool lends {@code ceil(load - free cores - }{@link #LEND_ABOVE}{@code )} threads, never its last,
 * and once it has lent some and has them all back, it is settled and lends no more (nor reads the compilers' time). A
 * pool that has never lent stays ready to: one created after the program's warm-up lends only if the compilers keep
 * more than a core busy again; a lone compile of a quarter of a second or more, counted all at once, can make a pool
 * lend for about a tenth of a second and settle.
 *
 * <p>The system property {@value #PROPERTY} ({@code true} by default) turns it off with {@code false}; it is also off
 * where the JVM does not monitor compilation time. Called from the pool's caller only (the backend's lock).
 */
final class CompilerLoad {

    /** System property: {@code false} keeps every thread of the pool at work whatever the JIT compiler does. */
    static final String PROPERTY = "jacobian.cpu.yieldToJit";

    /** Shortest interval between two samples of the compilers' time: 50 ms. */
    static final long WINDOW_NANOS = 50_000_000L;

    /** Time constant of the smoothed load: 200 ms. */
    static final double TAU_NANOS = 200e6;

    /**
     * Cores of compiling, beyond those the pool leaves free, above which it lends a thread (and one more per core
     * above): 1, a whole core.
     */
    static final double LEND_ABOVE = 1.0;

    private static final Logger LOG = LoggerFactory.getLogger(CompilerLoad.class);

    private final LongSupplier compileMillis;
    private final LongSupplier clock;
    private final int freeCores;
    private long sampledAt;
    private long compileMillisThen;
    private double load;
    private int lent;
    /** Whether the pool has lent threads and had them all back: its warm-up is over, and it lends no more. */
    private boolean settled;

    /** A load that never lends a thread. */
    static CompilerLoad never() {
        return new CompilerLoad(null, System::nanoTime, 0);
    }

    /**
     * A load read from {@code compileMillis} (the compilers' busy milliseconds so far; null: never lends) at the times
     * {@code clock} gives (nanoseconds), for a pool that leaves {@code freeCores} cores to other threads.
     */
    CompilerLoad(LongSupplier compileMillis, LongSupplier clock, int freeCores) {
        this.compileMillis = compileMillis;
        this.clock = clock;
        this.freeCores = Math.max(0, freeCores);
        this.sampledAt = clock.getAsLong();
        this.compileMillisThen = compileMillis == null ? 0 : compileMillis.getAsLong();
    }

    /**
     * The load of this JVM's compilers, for a pool of {@code threads} on {@link Runtime#availableProcessors()} cores;
     * {@link #never()} where {@value #PROPERTY} is {@code false}, the pool has one thread, or the JVM does not measure
     * compilation time (or has no {@code java.management} module).
     */
    static CompilerLoad of(int threads) {
        if (threads <= 1 || !enabled()) {
            return never();
        }
        CompilationMXBean bean;
        try {
            bean = ManagementFactory.getCompilationMXBean();
        } catch (LinkageError e) { // a runtime image linked without java.management: nothing to read
            return never();
        }
        if (bean == null || !bean.isCompilationTimeMonitoringSupported()) {
            return never();
        }
        return new CompilerLoad(bean::getTotalCompilationTime, System::nanoTime,
                Runtime.getRuntime().availableProcessors() - threads);
    }

    /** Whether {@value #PROPERTY} lets pools lend threads to the JIT compiler (it does unless {@code false}). */
    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    }

    /** The threads of a pool of {@code poolThreads} that its kernels should split their work into now (at least 1). */
    int threads(int poolThreads) {
        if (compileMillis == null || settled) {
            return poolThreads;
        }
        long now = clock.getAsLong();
        long elapsed = now - sampledAt;
        if (elapsed >= WINDOW_NANOS) {
            long millis = compileMillis.getAsLong();
            double recent = (millis - compileMillisThen) * 1e6 / elapsed;
            load += (1 - Math.exp(-elapsed / TAU_NANOS)) * (recent - load);
            sampledAt = now;
            compileMillisThen = millis;
            update(poolThreads);
        }
        return Math.max(1, poolThreads - lent);
    }

    /** Whether this load reads the compilers' time at all (one from {@link #never()} does not; tests). */
    boolean live() {
        return compileMillis != null;
    }

    /** Whether the pool's warm-up is over: it has lent threads, had them back, and lends no more (tests). */
    boolean settled() {
        return settled;
    }

    /** Threads lent now (tests). */
    int lent() {
        return lent;
    }

    /** The smoothed load, in cores (tests). */
    double load() {
        return load;
    }

    private void update(int poolThreads) {
        int before = lent;
        lent = (int) Math.min(poolThreads - 1, Math.max(0, Math.ceil(load - freeCores - LEND_ABOVE)));
        settled = before > 0 && lent == 0;
        if (lent != before && LOG.isDebugEnabled()) {
            LOG.debug("JIT compilers busy {} cores: kernels split over {} of {} threads", String.format("%.2f", load),
                    poolThreads - lent, poolThreads);
        }
    }
}
