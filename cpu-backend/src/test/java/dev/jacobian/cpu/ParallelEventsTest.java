package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The thread pool's Flight Recorder events: one per call with its threads' busy times, one per site with its stack. */
class ParallelEventsTest {

    /** Spins about {@code micros} microseconds, so that a task's busy time is well above the clock's resolution. */
    private static void spin(long micros) {
        long end = System.nanoTime() + micros * 1000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void eachCallRecordsItsThreadsTimesAndEachSiteItsStack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("calls.jfr");
        int calls = 50;
        int tasks = 4;
        Parallel.Task body = t -> spin(t == 0 ? 400 : 100); // task 0, the caller's home, is the longest
        try (Parallel p = new Parallel(2); Recording r = new Recording()) {
            r.enable(ParallelCallEvent.class).withThreshold(Duration.ZERO);
            r.enable(ParallelSiteEvent.class).withStackTrace();
            AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
            p.run(tasks, runs::incrementAndGet); // another site, called before the recording starts: not recorded
            r.start();
            for (int c = 0; c < calls; c++) {
                p.runHomed(tasks, body);
            }
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> callEvents = events.stream()
                .filter(e -> e.getEventType().getName().equals("dev.jacobian.cpu.ParallelCall")).toList();
        List<RecordedEvent> siteEvents = events.stream()
                .filter(e -> e.getEventType().getName().equals("dev.jacobian.cpu.ParallelSite")).toList();
        assertEquals(calls, callEvents.size(), "one event per call");
        assertEquals(1, siteEvents.size(), "one site event for the one body recorded");
        String site = body.getClass().getName();
        assertEquals(site, siteEvents.get(0).getString("site"));
        RecordedFrame top = siteEvents.get(0).getStackTrace().getFrames().stream()
                .filter(f -> f.getMethod().getType().getName().equals(ParallelEventsTest.class.getName()))
                .findFirst().orElse(null);
        assertNotNull(top, "the site's stack reaches the code that made the call");
        for (RecordedEvent e : callEvents) {
            assertEquals(site, e.getString("site"));
            assertEquals(tasks, e.getInt("tasks"));
            assertEquals(2, e.getInt("threads"));
            long caller = e.getLong("callerBusy");
            long worker = e.getLong("workerBusy");
            // every task ran on one of the two threads (700 us in all, task 0 400 us of it), whichever took it: the
            // caller runs its home tasks first, but a worker that finds one left takes it
            assertTrue(caller + worker >= 690_000, "busy " + caller + " + " + worker);
            assertTrue(Math.max(caller, worker) >= 390_000, "task 0 ran whole on one thread: " + caller + ", " + worker);
            assertEquals((caller > 0 ? 1 : 0) + (worker > 0 ? 1 : 0), e.getInt("worked"), "threads that worked");
            assertTrue(e.getDuration().toNanos() >= Math.max(caller, worker), "the call lasts as long as each worked");
            assertTrue(e.getLong("callerWait") >= 0 && e.getLong("joinLatency") >= 0);
        }
        assertTrue(callEvents.stream().anyMatch(e -> e.getInt("worked") == 2), "the worker joins some calls");
    }

    @Test
    void withoutARecordingNothingIsRecordedAndCallsStillRunEveryTask(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("none.jfr");
        try (Parallel p = new Parallel(2); Recording r = new Recording()) {
            r.enable("jdk.ThreadSleep"); // a recording, but not of these events
            r.start();
            AtomicIntegerArray runs = new AtomicIntegerArray(3);
            for (int c = 0; c < 100; c++) {
                p.runHomed(3, runs::incrementAndGet);
            }
            r.stop();
            r.dump(file);
            for (int t = 0; t < 3; t++) {
                assertEquals(100, runs.get(t));
            }
        }
        assertTrue(Files.size(file) > 0);
        assertFalse(RecordingFile.readAllEvents(file).stream()
                .anyMatch(e -> e.getEventType().getName().startsWith("dev.jacobian.cpu.Parallel")));
    }
}
