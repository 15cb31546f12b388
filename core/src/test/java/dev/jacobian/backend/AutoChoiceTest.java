package dev.jacobian.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code auto}'s choice with {@link BackendProvider#priorityBound()} ({@link Backends#pickAuto}): the same provider
 * as probing every one and taking the first available in {@link Backends#providers()}'s order, without probing those
 * whose bound says they could not win.
 */
class AutoChoiceTest {
    /** A provider with a fixed answer to every question that counts the questions that would probe a machine. */
    private static final class Fake implements BackendProvider {
        final String name;
        final int priority;
        final int bound;
        final boolean available;
        int probes;

        Fake(String name, int priority, int bound, boolean available) {
            this.name = name;
            this.priority = priority;
            this.bound = bound;
            this.available = available;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int priority() {
            probes++;
            return priority;
        }

        @Override
        public int priorityBound() {
            return bound;
        }

        @Override
        public boolean isAvailable() {
            probes++;
            return available;
        }

        @Override
        public String unavailableReason() {
            probes++;
            return available ? "" : name + " is missing";
        }

        @Override
        public Backend create() {
            throw new AssertionError("auto's choice creates nothing");
        }

        @Override
        public String toString() {
            return name + "(priority " + priority + ", bound " + bound + (available ? "" : ", unavailable") + ")";
        }
    }

    @Test
    void aProviderThatCannotBeatTheBestProbedIsNeverProbed() {
        Fake cpu = new Fake("cpu", 100, Integer.MAX_VALUE, true);
        Fake openclOnCpu = new Fake("opencl", 50, 50, true); // only CPU devices installed
        Fake reference = new Fake("reference", 0, Integer.MAX_VALUE, true);
        assertEquals("cpu", Backends.pickAuto(List.of(openclOnCpu, reference, cpu), List.of()).name());
        assertEquals(0, openclOnCpu.probes, "the OpenCL provider was probed");
        assertTrue(cpu.probes > 0);
    }

    @Test
    void aProviderThatMightWinIsProbed() {
        Fake cpu = new Fake("cpu", 100, Integer.MAX_VALUE, true);
        Fake gpu = new Fake("opencl", 200, 200, true);
        assertEquals("opencl", Backends.pickAuto(List.of(cpu, gpu), List.of()).name());
        Fake noGpu = new Fake("opencl", 50, 200, true); // a driver that could offer a GPU, but offers a CPU device
        Fake cpu2 = new Fake("cpu", 100, Integer.MAX_VALUE, true);
        assertEquals("cpu", Backends.pickAuto(List.of(noGpu, cpu2), List.of()).name());
        assertTrue(noGpu.probes > 0, "a bound above the best's priority must be probed");
    }

    @Test
    void equalPrioritiesGoByNameAsInTheListing() {
        // "a" ranks before "b" at the same priority: "a" must be probed even though "b", probed first, is available
        Fake b = new Fake("b", 100, Integer.MAX_VALUE, true);
        Fake a = new Fake("a", 100, 100, true);
        assertEquals("a", Backends.pickAuto(List.of(b, a), List.of()).name());
        Fake c = new Fake("c", 100, 100, true); // ranks after "b" at best: not probed
        Fake b2 = new Fake("b", 100, Integer.MAX_VALUE, true);
        assertEquals("b", Backends.pickAuto(List.of(c, b2), List.of()).name());
        assertEquals(0, c.probes);
    }

    @Test
    void withNoneAvailableEveryProviderIsProbedAndNamed() {
        Fake x = new Fake("x", 100, 100, false);
        Fake y = new Fake("y", 50, 50, false);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Backends.pickAuto(List.of(y, x), List.of("broken: class not found")));
        assertTrue(e.getMessage().contains("x is missing") && e.getMessage().contains("y is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("broken: class not found"), e.getMessage());
    }

    @Test
    void choosesAsProbingEveryProviderWouldOnRandomSets() {
        SplittableRandom rnd = new SplittableRandom(20261205);
        int skippedSomewhere = 0;
        for (int trial = 0; trial < 2000; trial++) {
            List<Fake> fakes = new ArrayList<>();
            int n = 1 + rnd.nextInt(6);
            for (int i = 0; i < n; i++) {
                int priority = rnd.nextInt(4) * 50;
                int bound = rnd.nextInt(3) == 0 ? Integer.MAX_VALUE : priority + rnd.nextInt(3) * 50;
                fakes.add(new Fake("p" + rnd.nextInt(10) + i, priority, bound, rnd.nextInt(4) != 0));
            }
            Collections.shuffle(fakes, new java.util.Random(rnd.nextLong()));
            List<BackendProvider> sorted = new ArrayList<>(fakes);
            sorted.sort(Comparator.comparingInt(BackendProvider::priority).reversed()
                    .thenComparing(BackendProvider::name));
            BackendProvider expected = Backends.autoChoice(sorted).orElse(null);
            fakes.forEach(f -> f.probes = 0);
            if (expected == null) {
                assertThrows(IllegalStateException.class, () -> Backends.pickAuto(List.copyOf(fakes), List.of()));
                continue;
            }
            assertEquals(expected.name(), Backends.pickAuto(List.copyOf(fakes), List.of()).name(), fakes.toString());
            if (fakes.stream().anyMatch(f -> f.probes == 0)) {
                skippedSomewhere++;
            }
        }
        assertTrue(skippedSomewhere > 100, "the bounds spared too few probes to test anything: " + skippedSomewhere);
        assertFalse(skippedSomewhere == 2000);
    }
}
