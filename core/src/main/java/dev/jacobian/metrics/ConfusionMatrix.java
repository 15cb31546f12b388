package dev.jacobian.metrics;

import java.util.List;
import java.util.Locale;

/**
 * Counts of (true class, predicted class) pairs, accumulated over batches, and the metrics they give:
 * accuracy, and per class and macro-averaged precision, recall and F1.
 *
 * <p>Conventions (scikit-learn's with {@code zero_division=0}): the precision of a class never predicted, the
 * recall of a class with no samples, and the F1 of a class whose precision and recall are both 0 are 0. Macro
 * averages are the unweighted means over all {@link #classes()} classes, those absent from the data included
 * (as {@code sklearn.metrics.precision_recall_fscore_support(..., labels=range(classes), average="macro")}).
 * Not thread-safe.
 */
public final class ConfusionMatrix {
    private final long[][] counts;

    /** An empty matrix over {@code classes} classes (labels {@code 0 .. classes-1}), &gt;= 1. */
    public ConfusionMatrix(int classes) {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1: " + classes);
        }
        this.counts = new long[classes][classes];
    }

    /** A matrix over {@code classes} classes holding {@code actual} against {@code predicted}. */
    public static ConfusionMatrix of(int[] actual, int[] predicted, int classes) {
        ConfusionMatrix m = new ConfusionMatrix(classes);
        m.add(actual, predicted);
        return m;
    }

    /** Number of classes. */
    public int classes() {
        return counts.length;
    }

    /** Counts one sample of true class {@code actual} predicted as {@code predicted}. */
    public void add(int actual, int predicted) {
        checkClass("actual", actual);
        checkClass("predicted", predicted);
        counts[actual][predicted]++;
    }

    /** Counts a batch: {@code actual[i]} against {@code predicted[i]}; both arrays have the same length. */
    public void add(int[] actual, int[] predicted) {
        if (actual.length != predicted.length) {
            throw new IllegalArgumentException("actual has " + actual.length + " labels but predicted has "
                    + predicted.length);
        }
        for (int i = 0; i < actual.length; i++) {
            checkClass("actual[" + i + "]", actual[i]);
            checkClass("predicted[" + i + "]", predicted[i]);
        }
        for (int i = 0; i < actual.length; i++) {
            counts[actual[i]][predicted[i]]++;
        }
    }

    /** Adds every count of {@code other} (same number of classes), e.g. to merge the matrices of shards. */
    public void addAll(ConfusionMatrix other) {
        if (other.classes() != classes()) {
            throw new IllegalArgumentException("other has " + other.classes() + " classes, this " + classes());
        }
        for (int t = 0; t < counts.length; t++) {
            for (int p = 0; p < counts.length; p++) {
                counts[t][p] += other.counts[t][p];
            }
        }
    }

    /** Clears every count. */
    public void reset() {
        for (long[] row : counts) {
            java.util.Arrays.fill(row, 0);
        }
    }

    private void checkClass(String name, int c) {
        if (c < 0 || c >= counts.length) {
            throw new IllegalArgumentException(name + " must be a class in [0, " + counts.length + "): " + c);
        }
    }

    /** Samples of true class {@code actual} predicted as {@code predicted}. */
    public long count(int actual, int predicted) {
        checkClass("actual", actual);
        checkClass("predicted", predicted);
        return counts[actual][predicted];
    }

    /** {@code counts()[t][p]}: samples of true class {@code t} predicted as {@code p} (a copy). */
    public long[][] counts() {
        long[][] c = new long[counts.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].clone();
        }
        return c;
    }

    /** Samples counted. */
    public long total() {
        long all = 0;
        for (long[] row : counts) {
            for (long v : row) {
                all += v;
            }
        }
        return all;
    }

    /** Samples of true class {@code c} (the row sum; scikit-learn's {@code support}). */
    public long support(int c) {
        checkClass("class", c);
        long s = 0;
        for (long v : counts[c]) {
            s += v;
        }
        return s;
    }

    /** Samples predicted as class {@code c} (the column sum). */
    public long predicted(int c) {
        checkClass("class", c);
        long s = 0;
        for (long[] row : counts) {
            s += row[c];
        }
        return s;
    }

    /** Fraction of samples on the diagonal; 0 when empty. */
    public double accuracy() {
        long hit = 0;
        for (int t = 0; t < counts.length; t++) {
            hit += counts[t][t];
        }
        long all = total();
        return all == 0 ? 0 : (double) hit / all;
    }

    /** Of the samples predicted as {@code c}, the fraction that are {@code c}; 0 when none is predicted as {@code c}. */
    public double precision(int c) {
        long p = predicted(c);
        return p == 0 ? 0 : (double) counts[c][c] / p;
    }

    /** Of the samples of class {@code c}, the fraction predicted as {@code c}; 0 when there are none. */
    public double recall(int c) {
        long s = support(c);
        return s == 0 ? 0 : (double) counts[c][c] / s;
    }

    /** The harmonic mean of {@link #precision} and {@link #recall} of class {@code c}; 0 when both are 0. */
    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** {@link #precision} of every class, by label. */
    public double[] precisions() {
        double[] out = new double[counts.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = precision(c);
        }
        return out;
    }

    /** {@link #recall} of every class, by label. */
    public double[] recalls() {
        double[] out = new double[counts.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = recall(c);
        }
        return out;
    }

    /** {@link #f1} of every class, by label. */
    public double[] f1Scores() {
        double[] out = new double[counts.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = f1(c);
        }
        return out;
    }

    /** The unweighted mean of the per-class precisions. */
    public double macroPrecision() {
        return mean(precisions());
    }

    /** The unweighted mean of the per-class recalls. */
    public double macroRecall() {
        return mean(recalls());
    }

    /** The unweighted mean of the per-class F1 scores (not the F1 of the macro precision and recall). */
    public double macroF1() {
        return mean(f1Scores());
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    /**
     * A table for a person: rows are true classes, columns predictions (names cut to 5 characters), then each
     * class's recall.
     *
     * @param names one name per class
     */
    public String format(List<String> names) {
        if (names.size() != counts.length) {
            throw new IllegalArgumentException("names must have " + counts.length + " entries: " + names.size());
        }
        int w = 12;
        for (String n : names) {
            w = Math.max(w, n.length() + 1);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-" + w + "s", "true \\ pred"));
        for (String n : names) {
            sb.append(String.format(Locale.ROOT, "%6s", n.length() > 5 ? n.substring(0, 5) : n));
        }
        sb.append("  recall\n");
        for (int t = 0; t < counts.length; t++) {
            sb.append(String.format(Locale.ROOT, "%-" + w + "s", names.get(t)));
            for (int p = 0; p < counts.length; p++) {
                sb.append(String.format(Locale.ROOT, "%6d", counts[t][p]));
            }
            sb.append(String.format(Locale.ROOT, "  %5.1f%%%n", 100.0 * recall(t)));
        }
        return sb.toString();
    }
}
