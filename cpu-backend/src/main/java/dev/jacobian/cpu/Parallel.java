package dev.jacobian.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The only place the CPU backend uses threads: {@code threads - 1} persistent daemon workers owned by one
 * backend instance (the calling thread is the last worker). Work is split into a few coarse tasks, each of
 * which runs whole SIMD loops; no lock or task boundary ever sits inside a SIMD loop.
 *
 * <p>Hand-off: a step of the MLP makes a dozen parallel calls of 20-500 us each, so waking a worker must cost
 * microseconds, not the tens of microseconds of an executor's queue, park and unpark. A worker that has
 * finished a task spins (with {@link Thread#onSpinWait()}, yielding now and then to any other thread that is
 * ready) for up to {@link #SPIN_NANOS} (or the window the pool was made with) waiting for the next, then parks;
 * the caller publishes a call with one volatile write and unparks only the workers that parked. Completion works
 * the same way the other way round, and so do barriers; every waiter yields now and then, so that a thread that
 * shares its core (the other threads of a call among them) runs meanwhile. The spinning is bounded, so an idle
 * backend costs nothing once it has parked.
 *
 * <p>A task may wait for the others of its call with a {@link Barrier} when the call has no more tasks than
 * {@link #threads()} (each task then has a thread of its own); a task that fails breaks the barrier, so the
 * others fail too instead of waiting for ever.
 *
 * <p>Call order: {@link #run} from one thread at a time (the backend's lock); {@link #close()} once, from
 * {@link CpuBackend#close()}.
 */
final class Parallel implements AutoCloseable {

    /** System property: microseconds of {@link #SPIN_NANOS}, for tuning (default 200000). */
    static final String SPIN_PROPERTY = "jacobian.cpu.spinMicros";

    /**
     * How long a worker, the caller or a barrier spins before it parks by default: 200 ms, as long as Intel's OpenMP
     * runtime keeps its threads awake after a parallel region ({@code KMP_BLOCKTIME}). A training run's threads then
     * never park between its steps, and park only when the run pauses (an evaluation, a checkpoint).
     *
     * <p>Why so long: a thread that parks and is woken is placed anew by the operating system, which, when the other
     * core is busy at that moment (a data loader, the JIT compiler), often puts it on the core of the thread that woke
     * it; the two threads of a product then take turns on one core, and stay there while both keep running. With a
     * 1 ms window, sampling the threads of a 2-thread training run every 50 ms found the caller and the worker both
     * ready on one core in 46-59 of 60-72 samples, with 200 ms in 4-11 of 73-88. {@code bin/jacobian train} on 2
     * threads (the 784-256-128-10 MLP), against the 1 ms window with a caller that did not yield, in samples per second
     * (processes alternating, four per side at batch 128, three at batch 64): epoch 1 1.07x and 1.23x as fast, epoch 2
     * 1.10x and 1.18x, the median of epochs 2-5 1.05x and 1.08x (Intel Xeon family 6 model 207, 2 vCPUs). With 50 us
     * the workers parked in a step's serial stretches even without other threads about: 2 threads against 1 on the
     * step went from 0.91-1.08x to 1.21-1.41x with 1 ms.
     */
    static final long SPIN_NANOS = 1000L * Long.getLong(SPIN_PROPERTY, 200_000);

    /** Body of one task: {@code task} in {@code [0, tasks)}. */
    @FunctionalInterface
    interface Task {
        void run(int task);
    }

    private final int threads;
    private final long spinNanos;
    private final Worker[] workers;
    private final Thread[] threadsOf;

    /** One call: its tasks and their body, and its number (workers run each number once). */
    private record Call(long number, Task body, int tasks) {
    }

    private volatile Call call = new Call(0, null, 0);
    private volatile boolean closed;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Thread parkedCaller;
    private volatile boolean inCall;
    private Throwable failure; // guarded by this

    /** A pool with {@code threads} workers in all (1 runs everything on the caller), spinning {@link #SPIN_NANOS}. */
    Parallel(int threads) {
        this(threads, SPIN_NANOS);
    }

    /** A pool with {@code threads} workers in all whose waits spin {@code spinNanos} before they park. */
    Parallel(int threads, long spinNanos) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Worker[threads - 1];
        this.threadsOf = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            Thread t = new Thread(workers[i], "jacobian-cpu-" + (i + 1));
            t.setDaemon(true);
            threadsOf[i] = t;
            workers[i].thread = t;
            t.start();
        }
    }

    /** Number of workers, the caller included. */
    int threads() {
        return threads;
    }

    /**
     * Runs {@code body(0) .. body(tasks - 1)} and returns when all have finished: task {@code t} runs on worker
     * {@code t % threads()}, worker 0 being the caller. An exception in any task is rethrown (the first one,
     * others suppressed).
     */
    void run(int tasks, Task body) {
        if (tasks <= 1 || workers.length == 0) {
            for (int t = 0; t < tasks; t++) {
                body.run(t);
            }
            return;
        }
        if (closed) {
            throw new IllegalStateException("the CPU backend's workers are stopped");
        }
        if (inCall) { // a task that starts another call would wait for workers that are busy with its own
            throw new IllegalStateException("Parallel.run is not reentrant: a task started another call");
        }
        inCall = true;
        try {
            runCall(tasks, body);
        } finally {
            inCall = false;
        }
    }

    private void runCall(int tasks, Task body) {
        int helpers = Math.min(tasks, threads) - 1;
        synchronized (this) {
            failure = null;
        }
        pending.set(helpers);
        long number = call.number() + 1;
        call = new Call(number, body, tasks);
        for (int i = 0; i < helpers; i++) {
            if (workers[i].parked) {
                LockSupport.unpark(workers[i].thread);
            }
        }
        try {
            runShare(0, body, tasks);
        } catch (RuntimeException | Error e) {
            addFailure(e);
        }
        awaitHelpers();
        call = new Call(number, null, 0); // keeps nothing of the call alive (workers skip a number they saw)
        Throwable f;
        synchronized (this) {
            f = failure;
            failure = null;
        }
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
        if (f != null) {
            throw new IllegalStateException("CPU backend task failed", f);
        }
    }

    private void runShare(int worker, Task body, int tasks) {
        for (int t = worker; t < tasks; t += threads) {
            body.run(t);
        }
    }

    private void awaitHelpers() {
        Backoff backoff = new Backoff(spinNanos);
        while (pending.get() != 0) {
            if (backoff.spunOut()) {
                parkedCaller = Thread.currentThread();
                if (pending.get() != 0) {
                    LockSupport.park(this);
                }
                parkedCaller = null;
            }
        }
    }

    /**
     * One wait's spinning: {@link #spunOut()}, called while the awaited condition is still false, spins (with
     * {@link Thread#onSpinWait()}, yielding the core now and then) and says when its window has passed, after which
     * the waiter parks.
     */
    private static final class Backoff {
        private final long window;
        private long start;
        private int spins;

        /** A wait that spins for {@code window} nanoseconds. */
        Backoff(long window) {
            this.window = window;
        }

        boolean spunOut() {
            if (++spins < 64) {
                Thread.onSpinWait();
                return false;
            }
            spins = 0;
            long now = System.nanoTime();
            if (start == 0) {
                start = now;
            } else if (now - start > window) {
                start = 0; // spin again after a wake-up
                return true;
            }
            // lets a thread that is ready have this core meanwhile: a data loader, the JIT, or the very thread this one
            // waits for, when the two have been put on one core
            Thread.yield();
            return false;
        }
    }

    /** Keeps the first failure, others suppressed; a broken barrier only stands in until the cause arrives. */
    private synchronized void addFailure(Throwable next) {
        if (failure == null || failure instanceof BrokenBarrierException && !(next instanceof BrokenBarrierException)) {
            failure = next;
        } else if (failure != next && !(next instanceof BrokenBarrierException)) {
            failure.addSuppressed(next);
        }
    }

    /** What a task waiting at a broken {@link Barrier} throws; {@link #run} rethrows the failure that broke it. */
    static final class BrokenBarrierException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        BrokenBarrierException() {
            super("another task of this call failed");
        }
    }

    /** One persistent helper thread: waits for a new generation, runs its share of the call's tasks, reports. */
    private final class Worker implements Runnable {
        private final int index;
        volatile boolean parked;
        Thread thread;
        private long seen;

        Worker(int index) {
            this.index = index;
        }

        @Override
        public void run() {
            while (true) {
                Call c = awaitCall();
                if (c == null) {
                    return;
                }
                seen = c.number();
                if (index < Math.min(c.tasks(), threads)) {
                    try {
                        runShare(index, c.body(), c.tasks());
                    } catch (Throwable e) { // reported to the caller, who rethrows it
                        addFailure(e);
                    }
                    if (pending.decrementAndGet() == 0) {
                        Thread caller = parkedCaller;
                        if (caller != null) {
                            LockSupport.unpark(caller);
                        }
                    }
                }
            }
        }

        /** The next call, or null once closed. */
        private Call awaitCall() {
            Backoff backoff = new Backoff(spinNanos);
            while (true) {
                Call c = call;
                if (c.number() != seen) {
                    return c;
                }
                if (closed) {
                    return null;
                }
                if (backoff.spunOut()) {
                    parked = true;
                    if (call.number() == seen && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }
    }

    /**
     * A reusable barrier for the tasks of one call (at most {@link #threads()} of them, each on its own
     * thread): spins, then parks in short naps. {@link #breakBarrier()} makes every waiter, now and later,
     * throw.
     */
    static final class Barrier {
        private final int parties;
        private final AtomicInteger arrived = new AtomicInteger();
        private volatile int phase;
        private volatile boolean broken;

        /** A barrier for {@code parties} tasks. */
        Barrier(int parties) {
            this.parties = parties;
        }

        /** Waits until all parties have arrived (the barrier then resets itself). */
        void await() {
            if (parties <= 1) {
                return;
            }
            int p = phase;
            if (arrived.incrementAndGet() == parties) {
                arrived.set(0);
                phase = p + 1;
                return;
            }
            Backoff backoff = new Backoff(SPIN_NANOS);
            while (phase == p) {
                if (broken) {
                    throw new BrokenBarrierException();
                }
                if (backoff.spunOut()) {
                    LockSupport.parkNanos(this, 20_000);
                }
            }
        }

        /** Makes every waiter throw: a task failed and will never arrive. */
        void breakBarrier() {
            broken = true;
        }
    }

    /** Worker threads still alive (tests: close() stops them all). */
    int liveWorkers() {
        int n = 0;
        for (Thread t : threadsOf) {
            n += t.isAlive() ? 1 : 0;
        }
        return n;
    }

    /** Stops the workers; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Thread t : threadsOf) {
            LockSupport.unpark(t);
        }
        for (Thread t : threadsOf) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
