package dev.jacobian.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The only place the CPU backend uses threads: a fixed pool of {@code threads - 1} daemon workers owned
 * by one backend instance (the calling thread is the last worker). Work is split into a few coarse
 * tasks, each of which runs whole SIMD loops; no lock or task boundary ever sits inside a SIMD loop.
 *
 * <p>Call order: {@link #run} from the backend's single user thread; {@link #close()} once, from
 * {@link CpuBackend#close()}.
 */
final class Parallel implements AutoCloseable {

    /** Body of one task: {@code task} in {@code [0, tasks)}. */
    @FunctionalInterface
    interface Task {
        void run(int task);
    }

    private final int threads;
    private final ExecutorService pool;

    /** A pool with {@code threads} workers in all (1 runs everything on the caller). */
    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, daemonFactory());
    }

    private static ThreadFactory daemonFactory() {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "jacobian-cpu-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Number of workers, the caller included. */
    int threads() {
        return threads;
    }

    /**
     * Runs {@code body(0) .. body(tasks - 1)}, task 0 on the caller and the others on the pool, and
     * returns when all have finished. An exception in any task is rethrown (the first one, others suppressed).
     */
    void run(int tasks, Task body) {
        if (tasks <= 1 || pool == null) {
            for (int t = 0; t < tasks; t++) {
                body.run(t);
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>(tasks - 1);
        for (int t = 1; t < tasks; t++) {
            int task = t;
            futures.add(pool.submit(() -> body.run(task)));
        }
        Throwable failure = null;
        try {
            body.run(0);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                failure = addFailure(failure, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = addFailure(failure, e);
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("CPU backend task failed", failure);
        }
    }

    private static Throwable addFailure(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /** Stops the workers; idempotent. */
    @Override
    public void close() {
        if (pool != null && !pool.isShutdown()) {
            pool.shutdown();
            try {
                if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                    pool.shutdownNow();
                }
            } catch (InterruptedException e) {
                pool.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }
}
