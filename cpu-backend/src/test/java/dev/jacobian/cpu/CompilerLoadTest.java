package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CompilerLoad}: a pool lends the JIT compiler threads while it compiles, on a clock and a compile counter the
 * test drives, and gets them back; a {@link Parallel} that lends one splits its products over fewer threads with the
 * same bits.
 */
class CompilerLoadTest {

    /** The test's clock (nanoseconds) and the compilers' busy milliseconds, and how often the counter was read. */
    private static final class Jvm {
        long nanos = 1_000_000_000L;
        long compileMillis;
        int reads;

        CompilerLoad load(int freeCores) {
            return new CompilerLoad(() -> {
                reads++;
                return compileMillis;
            }, () -> nanos, freeCores);
        }

        /** {@code ms} milliseconds pass with the compilers busy {@code cores} cores' worth. */
        void pass(long ms, double cores) {
            nanos += ms * 1_000_000L;
            compileMillis += Math.round(ms * cores);
        }
    }

    /** Asks for the pool's threads every 10 ms for {@code ms} milliseconds with the compilers at {@code cores}. */
    private static int[] run(Jvm jvm, CompilerLoad load, int pool, long ms, double cores) {
        int[] seen = new int[(int) (ms / 10)];
        for (int i = 0; i < seen.length; i++) {
            jvm.pass(10, cores);
            seen[i] = load.threads(pool);
        }
        return seen;
    }

    private static int last(int[] seen) {
        return seen[seen.length - 1];
    }

    @Test
    void twoThreadsOnTwoCoresLendOneWhileTheCompilerWorksAndTakeItBackAfter() {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(0);
        assertEquals(2, last(run(jvm, load, 2, 1000, 0.0)), "an idle compiler takes nothing");
        int[] busy = run(jvm, load, 2, 1000, 1.5);
        assertEquals(2, busy[4], "one busy window (its first sample) is not enough: the load is smoothed");
        assertEquals(1, last(busy), "a core and a half of compiling for a second: one thread lent");
        int firstLent = 0;
        while (busy[firstLent] == 2) {
            firstLent++;
        }
        assertTrue((firstLent + 1) * 10 <= 300, "lent within 300 ms of compiling: " + (firstLent + 1) * 10 + " ms");
        for (int i = firstLent; i < busy.length; i++) {
            assertEquals(1, busy[i], "lent, and kept lent while the compiler stays busy, at " + i * 10 + " ms");
        }
        int[] idle = run(jvm, load, 2, 1000, 0.0);
        assertEquals(2, last(idle), "returned once the compiler is idle");
        int returned = 0;
        while (idle[returned] == 1) {
            returned++;
        }
        assertTrue((returned + 1) * 10 <= 500, "returned within 500 ms: " + (returned + 1) * 10 + " ms");
        assertEquals(0, load.lent());
        assertTrue(load.settled());
    }

    /** A compile is counted when it ends, all at once: one of 150 ms, alone, is no reason to lend a thread. */
    @Test
    void aLoneCompileCountedAtItsEndLendsNothing() {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(0);
        run(jvm, load, 2, 1000, 0.0);
        jvm.compileMillis += 150;
        for (int s : run(jvm, load, 2, 1000, 0.0)) {
            assertEquals(2, s, "smoothed, a lone 150 ms compile stays below a core");
        }
    }

    /**
     * The pool lends threads while the compiler warms the program up: once it has them all back, the warm-up is over,
     * and a later burst of compiling (a method reaching C2's thresholds late, a recompile) takes none, where the
     * threads' code is compiled and two threads beat one.
     */
    @Test
    void onceItHasItsThreadsBackThePoolLendsNoMore() {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(0);
        assertEquals(2, last(run(jvm, load, 2, 2000, 0.9)), "not lent below a whole core");
        assertTrue(!load.settled(), "nothing lent, nothing settled");
        assertEquals(1, last(run(jvm, load, 2, 1000, 1.5)));
        assertEquals(1, last(run(jvm, load, 2, 1000, 1.2)), "kept lent while above a core");
        assertEquals(2, last(run(jvm, load, 2, 1000, 0.3)));
        assertTrue(load.settled());
        for (int s : run(jvm, load, 2, 3000, 1.5)) {
            assertEquals(2, s, "settled: a later burst takes no thread");
        }
    }

    @Test
    void coresThePoolLeavesFreeTakeTheCompilerFirst() {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(2);
        for (int s : run(jvm, load, 2, 2000, 2.5)) {
            assertEquals(2, s, "half a core beyond the two free ones");
        }
        assertEquals(1, last(run(jvm, load, 2, 2000, 3.5)), "a core and a half beyond the free ones: one lent");
    }

    @Test
    void aLargePoolLendsOneThreadPerBusyCoreAndNeverItsLast() {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(0);
        assertEquals(6, last(run(jvm, load, 8, 3000, 2.5)), "two and a half cores of compiling: two of eight lent");
        assertEquals(1, last(run(jvm, load, 8, 3000, 40.0)), "never the last thread");
        assertEquals(8, last(run(jvm, load, 8, 5000, 0.0)));
        Jvm two = new Jvm();
        CompilerLoad pair = two.load(0);
        assertEquals(1, last(run(two, pair, 2, 3000, 40.0)), "never the last of two");
    }

    @Test
    void theCounterIsReadAtMostOncePerWindow() {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(0);
        int before = jvm.reads;
        for (int i = 0; i < 1000; i++) {
            jvm.pass(0, 0);
            jvm.nanos += 1000; // a microsecond per call: a thousand calls in one 50 ms window
            load.threads(2);
        }
        assertTrue(jvm.reads - before <= 1, "reads: " + (jvm.reads - before));
        run(jvm, load, 2, 1000, 0.0); // 100 calls, 10 ms apart: a read every 5 calls
        assertTrue(jvm.reads - before <= 1 + 1000 / (CompilerLoad.WINDOW_NANOS / 1_000_000),
                "reads: " + (jvm.reads - before));
    }

    @Test
    void offByThePropertyOrForOneThread() {
        String old = System.getProperty(CompilerLoad.PROPERTY);
        try {
            System.setProperty(CompilerLoad.PROPERTY, "false");
            assertTrue(!CompilerLoad.enabled());
            CompilerLoad off = CompilerLoad.of(2);
            assertTrue(!off.live(), "off by the property: never reads the compilers' time");
            assertEquals(2, off.threads(2));
            try (CpuBackend backend = new CpuBackend(2)) {
                assertTrue(!backend.parallel().compilerLoad().live(), "a backend made while it is off");
            }
            System.setProperty(CompilerLoad.PROPERTY, "true");
            assertTrue(CompilerLoad.enabled());
            assertTrue(!CompilerLoad.of(1).live(), "one thread: nothing to lend");
            assertEquals(1, CompilerLoad.of(1).threads(1));
            CompilerLoad on = CompilerLoad.of(4);
            assertTrue(on.live(), "on: reads this JVM's compilers");
            int threads = on.threads(4);
            assertTrue(threads >= 1 && threads <= 4, "this JVM's own compilers: " + threads);
            try (CpuBackend lends = new CpuBackend(2); CpuBackend keeps = new CpuBackend(2, true, false)) {
                assertTrue(lends.parallel().compilerLoad().live(), "a backend made while it is on lends");
                assertTrue(!keeps.parallel().compilerLoad().live(), "one made to keep its threads does not");
                assertEquals(2, keeps.threads());
            }
        } finally {
            if (old == null) {
                System.clearProperty(CompilerLoad.PROPERTY);
            } else {
                System.setProperty(CompilerLoad.PROPERTY, old);
            }
        }
        CompilerLoad never = CompilerLoad.never();
        assertEquals(3, never.threads(3));
    }

    /**
     * A pool that lends its threads still has them all for its workspaces and calls, its kernels split over the
     * threads it keeps, and the products' bits are those of every other thread count.
     */
    @Test
    void aPoolLendingThreadsComputesTheSameBitsOnFewer() {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(0);
        try (Parallel one = new Parallel(1); Parallel lending = new Parallel(3, 1_000_000, load)) {
            assertEquals(3, lending.threads(), "no compiling yet");
            run(jvm, load, 3, 2000, 1.5);
            assertEquals(3, lending.size());
            assertEquals(2, lending.threads(), "a core and a half of compiling: one of three lent");
            CpuMatmul serial = new CpuMatmul(one, true);
            CpuMatmul shared = new CpuMatmul(lending, true);
            Random rnd = new Random(7);
            int[][] shapes = {{128, 256, 784}, {784, 256, 128}, {128, 10, 128}, {300, 300, 300}};
            for (int[] s : shapes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                float[] a = new float[m * k];
                float[] b = new float[k * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = rnd.nextFloat() - 0.5f;
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = rnd.nextFloat() - 0.5f;
                }
                float[] expected = new float[m * n];
                float[] actual = new float[m * n];
                serial.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, expected, 0);
                jvm.pass(10, 1.5);
                shared.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, actual, 0);
                assertArrayEquals(expected, actual, m + "x" + n + "x" + k + " on the threads a lending pool keeps");
            }
            run(jvm, load, 3, 2000, 0.0);
            assertEquals(3, lending.threads(), "all back once the compiler is idle");
        }
    }

    /** The tasks of each parallel call of {@code work}, as {@link ParallelCallEvent}s record them. */
    private static List<Integer> tasksOfCalls(Path file, Runnable work) throws Exception {
        try (Recording r = new Recording()) {
            r.enable(ParallelCallEvent.class).withThreshold(Duration.ZERO);
            r.start();
            work.run();
            r.stop();
            r.dump(file);
        }
        return RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.jacobian.cpu.ParallelCall"))
                .map(e -> e.getInt("tasks")).toList();
    }

    /** Products that split by the thread count, each run on {@code parallel}. */
    private static Runnable products(Parallel parallel) {
        CpuMatmul matmul = new CpuMatmul(parallel, true);
        return () -> {
            int[][] shapes = {{128, 256, 784}, {300, 300, 300}, {64, 512, 256}};
            for (int[] s : shapes) {
                float[] a = new float[s[0] * s[2]];
                float[] b = new float[s[2] * s[1]];
                float[] c = new float[s[0] * s[1]];
                Arrays.fill(a, 0.5f);
                Arrays.fill(b, 0.25f);
                matmul.gemm(false, false, s[0], s[1], s[2], 1f, a, 0, s[2], b, 0, s[1], 0f, c, 0);
            }
        };
    }

    /**
     * A pool of three that lends one thread splits its products into the tasks a pool of two makes, not those of a
     * pool of three: the kernels split by {@link Parallel#threads()}, not by the pool's size.
     */
    @Test
    void aPoolOfThreeLendingOneSplitsAsAPoolOfTwo(@TempDir Path dir) throws Exception {
        Jvm jvm = new Jvm();
        CompilerLoad load = jvm.load(0);
        try (Parallel two = new Parallel(2); Parallel three = new Parallel(3);
             Parallel lending = new Parallel(3, Parallel.SPIN_NANOS, load)) {
            run(jvm, load, 3, 2000, 1.5);
            assertEquals(2, lending.threads());
            List<Integer> ofTwo = tasksOfCalls(dir.resolve("two.jfr"), products(two));
            List<Integer> ofThree = tasksOfCalls(dir.resolve("three.jfr"), products(three));
            List<Integer> ofLending = tasksOfCalls(dir.resolve("lending.jfr"), products(lending));
            assertTrue(!ofTwo.isEmpty(), "the products make parallel calls");
            assertTrue(!ofTwo.equals(ofThree), "two and three threads split differently: " + ofTwo + " " + ofThree);
            assertEquals(ofTwo, ofLending, "lending one of three splits as two");
        }
    }
}
