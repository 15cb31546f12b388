package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The CPU backend's worker pool: every task once per call, failures rethrown, barriers, parking, close. */
class ParallelTest {

    @Test
    void everyTaskRunsOncePerCallOverManyCalls() {
        for (int threads = 1; threads <= 3; threads++) {
            try (Parallel p = new Parallel(threads)) {
                for (int tasks = 1; tasks <= 7; tasks++) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                    int calls = 2000;
                    for (int c = 0; c < calls; c++) {
                        p.run(tasks, runs::incrementAndGet);
                    }
                    for (int t = 0; t < tasks; t++) {
                        assertEquals(calls, runs.get(t), threads + " threads, " + tasks + " tasks: task " + t);
                    }
                }
            }
        }
    }

    @Test
    void tasksRunOnDifferentThreadsAndSeeTheCallersWrites() {
        try (Parallel p = new Parallel(2)) {
            long[] data = new long[2];
            AtomicLong sum = new AtomicLong();
            for (int c = 1; c <= 5000; c++) {
                data[0] = c;
                data[1] = 2L * c;
                p.run(2, t -> sum.addAndGet(data[t]));
                assertEquals(3L * c * (c + 1) / 2, sum.get(), "call " + c);
            }
        }
    }

    @Test
    void workersThatParkedWakeUpForTheNextCall() throws InterruptedException {
        try (Parallel p = new Parallel(3, 1_000_000)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(3);
            for (int c = 0; c < 3; c++) {
                Thread.sleep(1 + 20); // past the spinning: the workers park
                p.run(3, runs::incrementAndGet);
            }
            for (int t = 0; t < 3; t++) {
                assertEquals(3, runs.get(t));
            }
            // the caller parks too when a task outlasts its spinning
            p.run(2, t -> sleep(t == 1 ? 30 : 0));
        }
    }

    @Test
    void aFailingTaskIsRethrownAndThePoolGoesOn() {
        try (Parallel p = new Parallel(2)) {
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.run(2, t -> {
                if (t == 1) {
                    throw boom;
                }
            }));
            assertSame(boom, e);
            AtomicIntegerArray runs = new AtomicIntegerArray(2);
            p.run(2, runs::incrementAndGet);
            assertEquals(1, runs.get(0));
            assertEquals(1, runs.get(1));
        }
    }

    @Test
    void aTaskThatFailsBeforeABarrierReleasesTheOthersAndItsFailureIsTheOneRethrown() {
        try (Parallel p = new Parallel(3)) {
            for (int failing = 0; failing < 3; failing++) {
                int f = failing;
                Parallel.Barrier barrier = new Parallel.Barrier(3);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.run(3, t -> {
                    try {
                        if (t == f) {
                            sleep(5);
                            throw new IllegalArgumentException("task " + t);
                        }
                        barrier.await();
                    } catch (RuntimeException x) {
                        barrier.breakBarrier();
                        throw x;
                    }
                }));
                assertEquals("task " + f, e.getMessage());
            }
        }
    }

    @Test
    void aBarrierHoldsEveryTaskUntilAllArriveAndResetsItself() {
        try (Parallel p = new Parallel(3)) {
            Parallel.Barrier barrier = new Parallel.Barrier(3);
            int rounds = 500;
            AtomicIntegerArray arrived = new AtomicIntegerArray(rounds);
            p.run(3, t -> {
                for (int r = 0; r < rounds; r++) {
                    arrived.incrementAndGet(r);
                    barrier.await();
                    if (arrived.get(r) != 3) {
                        throw new AssertionError("round " + r + ": passed the barrier with " + arrived.get(r));
                    }
                    barrier.await(); // nobody starts round r + 1 before everyone checked round r
                }
            });
        }
    }

    @Test
    void aTaskThatStartsAnotherCallIsRefusedInsteadOfWaitingForEver() {
        try (Parallel p = new Parallel(2)) {
            for (int caller = 0; caller < 2; caller++) {
                int c = caller;
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.run(2, t -> {
                    if (t == c) {
                        p.run(2, u -> { });
                    }
                }));
                assertTrue(e.getMessage().contains("not reentrant"), e.getMessage());
            }
            AtomicIntegerArray runs = new AtomicIntegerArray(2);
            p.run(2, runs::incrementAndGet); // and the pool goes on
            assertEquals(1, runs.get(1));
        }
    }

    @Test
    void closeStopsTheWorkersAndLaterCallsAreRefused() {
        Parallel p = new Parallel(3);
        assertEquals(2, p.liveWorkers());
        p.run(3, t -> { });
        p.close();
        p.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.run(2, t -> { }));
        assertTrue(e.getMessage().contains("stopped"), e.getMessage());
        assertEquals(0, p.liveWorkers());
        p.run(1, t -> { }); // one task runs on the caller: nothing to refuse
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
