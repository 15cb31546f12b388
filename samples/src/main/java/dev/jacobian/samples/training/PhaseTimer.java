package dev.jacobian.samples.training;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Wall time per named phase of a run (data, steps, evaluation, …), summed over its occurrences. */
public final class PhaseTimer {
    private final Map<String, long[]> phases = new LinkedHashMap<>();

    /** A timer with no phases yet. */
    public PhaseTimer() {
    }

    /** Adds {@code nanos} to {@code phase}. */
    public void add(String phase, long nanos) {
        long[] v = phases.computeIfAbsent(phase, k -> new long[2]);
        v[0] += nanos;
        v[1]++;
    }

    /** Runs {@code work}, timing it as {@code phase}. */
    public <T, E extends Exception> T time(String phase, ThrowingSupplier<T, E> work) throws E {
        long t0 = System.nanoTime();
        try {
            return work.get();
        } finally {
            add(phase, System.nanoTime() - t0);
        }
    }

    /** Seconds per phase, in first-seen order. */
    public Map<String, Double> seconds() {
        Map<String, Double> out = new LinkedHashMap<>();
        phases.forEach((k, v) -> out.put(k, v[0] / 1e9));
        return out;
    }

    /** One line per phase, slowest first: name, total seconds, share, count. */
    public List<String> slowestFirst() {
        long total = phases.values().stream().mapToLong(v -> v[0]).sum();
        List<Map.Entry<String, long[]>> list = new ArrayList<>(phases.entrySet());
        list.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        List<String> lines = new ArrayList<>();
        for (var e : list) {
            lines.add(String.format("%-28s %9.2f s %5.1f%%  (%d times)", e.getKey(), e.getValue()[0] / 1e9,
                    total == 0 ? 0.0 : 100.0 * e.getValue()[0] / total, e.getValue()[1]));
        }
        return lines;
    }

    /** A supplier that may throw. */
    @FunctionalInterface
    public interface ThrowingSupplier<T, E extends Exception> {
        /** The value; may throw {@code E}. */
        T get() throws E;
    }
}
