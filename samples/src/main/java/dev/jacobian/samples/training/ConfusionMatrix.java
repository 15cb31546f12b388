package dev.jacobian.samples.training;

import java.util.List;

/** Counts of (true class, predicted class) pairs, and a table of them with class names. */
public final class ConfusionMatrix {
    private final int[][] counts;
    private final List<String> names;

    /** Tallies {@code predicted} against {@code actual} over {@code names.size()} classes. */
    public ConfusionMatrix(int[] actual, int[] predicted, List<String> names) {
        if (actual.length != predicted.length) {
            throw new IllegalArgumentException(actual.length + " labels but " + predicted.length + " predictions");
        }
        this.names = List.copyOf(names);
        this.counts = new int[names.size()][names.size()];
        for (int i = 0; i < actual.length; i++) {
            counts[actual[i]][predicted[i]]++;
        }
    }

    /** {@code counts()[t][p]}: samples of true class {@code t} predicted as {@code p} (a copy). */
    public int[][] counts() {
        int[][] c = new int[counts.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].clone();
        }
        return c;
    }

    /** Fraction on the diagonal. */
    public double accuracy() {
        long hit = 0;
        long all = 0;
        for (int t = 0; t < counts.length; t++) {
            for (int p = 0; p < counts.length; p++) {
                all += counts[t][p];
                hit += t == p ? counts[t][p] : 0;
            }
        }
        return all == 0 ? 0 : (double) hit / all;
    }

    /** The table: rows are true classes, columns predictions (abbreviated), plus per-class recall. */
    public String format() {
        int w = 12;
        for (String n : names) {
            w = Math.max(w, n.length() + 1);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-" + w + "s", "true \\ pred"));
        for (String n : names) {
            sb.append(String.format("%6s", n.length() > 5 ? n.substring(0, 5) : n));
        }
        sb.append("  recall\n");
        for (int t = 0; t < counts.length; t++) {
            sb.append(String.format("%-" + w + "s", names.get(t)));
            long row = 0;
            for (int p = 0; p < counts.length; p++) {
                sb.append(String.format("%6d", counts[t][p]));
                row += counts[t][p];
            }
            sb.append(String.format("  %5.1f%%%n", row == 0 ? 0.0 : 100.0 * counts[t][t] / row));
        }
        return sb.toString();
    }
}
