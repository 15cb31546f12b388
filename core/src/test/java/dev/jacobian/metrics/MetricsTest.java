package dev.jacobian.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Host-side metrics on small cases checked by hand (the device side: {@code TrainingLoopSuite}). */
class MetricsTest {
    /** Exact fractions computed in double. */
    static final double EXACT = 1e-12;

    //               sample  0  1  2  3  4  5  6  7  8  9
    static final int[] ACTUAL = {0, 0, 0, 1, 1, 2, 2, 2, 2, 0};
    static final int[] PREDICTED = {0, 1, 0, 1, 2, 2, 2, 1, 2, 0};

    /**
     * <pre>
     * true \ pred  0  1  2     precision 3/3, 1/3, 3/4; recall 3/4, 1/2, 3/4
     *   0          3  1  0     F1 6/7, 2/5, 3/4
     *   1          0  1  1
     *   2          0  1  3
     * </pre>
     */
    @Test
    void confusionMatrixOfAHandCheckedCase() {
        ConfusionMatrix m = ConfusionMatrix.of(ACTUAL, PREDICTED, 3);
        assertArrayEquals(new long[][] {{3, 1, 0}, {0, 1, 1}, {0, 1, 3}}, m.counts());
        assertEquals(10, m.total());
        assertEquals(0.7, m.accuracy(), EXACT);
        assertArrayEquals(new double[] {1, 1.0 / 3, 0.75}, m.precisions(), EXACT);
        assertArrayEquals(new double[] {0.75, 0.5, 0.75}, m.recalls(), EXACT);
        assertArrayEquals(new double[] {6.0 / 7, 0.4, 0.75}, m.f1Scores(), EXACT);
        assertEquals(25.0 / 36, m.macroPrecision(), EXACT);
        assertEquals(2.0 / 3, m.macroRecall(), EXACT);
        assertEquals((6.0 / 7 + 0.4 + 0.75) / 3, m.macroF1(), EXACT);
        assertEquals(4, m.support(0));
        assertEquals(3, m.predicted(1));
    }

    /** A class with no samples and no predictions scores 0 (zero_division=0) and still counts in macro averages. */
    @Test
    void anAbsentClassScoresZeroAndCountsInMacroAverages() {
        ConfusionMatrix m = new ConfusionMatrix(4);
        m.add(java.util.Arrays.copyOf(ACTUAL, 5), java.util.Arrays.copyOf(PREDICTED, 5));
        m.add(java.util.Arrays.copyOfRange(ACTUAL, 5, 10), java.util.Arrays.copyOfRange(PREDICTED, 5, 10));
        assertEquals(0, m.precision(3));
        assertEquals(0, m.recall(3));
        assertEquals(0, m.f1(3));
        assertEquals(25.0 / 48, m.macroPrecision(), EXACT);
        ConfusionMatrix merged = new ConfusionMatrix(4);
        merged.addAll(m);
        merged.addAll(m);
        assertEquals(2 * m.total(), merged.total());
        merged.reset();
        assertEquals(0, merged.total());
        assertEquals(0, merged.accuracy());
    }

    @Test
    void formatShowsCountsAndRecall() {
        String table = ConfusionMatrix.of(ACTUAL, PREDICTED, 3).format(List.of("cat", "dog", "bird"));
        assertTrue(table.contains("true \\ pred"), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("cat") && l.contains("75.0%")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("dog") && l.contains("50.0%")), table);
    }

    /** Ranks count the scores strictly above the target's: a tie is in the target's favour. */
    @Test
    void topKRanksWithTies() {
        float[] scores = {
            0.5f, 0.2f, 0.5f, 0.1f,   // target 2 ties with class 0 for first: rank 0
            0.5f, 0.2f, 0.5f, 0.1f,   // target 1: two scores above it: rank 2
            0.1f, 0.2f, 0.3f, 0.4f,   // target 0 is last: rank 3
            Float.NaN, 0f, 0f, 0f,    // NaN target score: no rank
        };
        int[] ranks = TopK.ranks(scores, new int[] {2, 1, 0, 0});
        assertArrayEquals(new int[] {0, 2, 3, TopK.NO_RANK}, ranks);
        TopK t = new TopK(4);
        t.addAll(ranks);
        assertEquals(4, t.total());
        assertEquals(0.25, t.accuracy(1), EXACT);
        assertEquals(0.25, t.accuracy(2), EXACT);
        assertEquals(0.5, t.accuracy(3), EXACT);
        assertEquals(0.75, t.accuracy(4), EXACT, "a NaN score is never a hit");
        assertEquals(0.75, t.accuracy(100), EXACT);
        t.reset();
        assertEquals(0, t.accuracy(1));
    }

    @Test
    void meanLossWeightsBatchesBySize() {
        MeanLoss l = new MeanLoss();
        assertTrue(Double.isNaN(l.value()));
        l.add(1.0, 3);
        l.add(2.0, 1);
        assertEquals(1.25, l.value(), EXACT);
        assertEquals(4, l.samples());
    }

    @Test
    void metricModes() {
        assertTrue(MetricMode.MIN.improvesAbsolute(0.8, 1.0, 0.1));
        assertFalse(MetricMode.MIN.improvesAbsolute(0.9, 1.0, 0.1), "not by more than minDelta");
        assertTrue(MetricMode.MAX.improvesRelative(1.2, 1.0, 0.1));
        assertFalse(MetricMode.MAX.improvesAbsolute(Double.NaN, 1.0, 0));
        assertTrue(MetricMode.MIN.improvesAbsolute(5, MetricMode.MIN.worst(), 0));
    }

    @Test
    void badInputsNameTheParameterAndValue() {
        assertMessage(() -> new ConfusionMatrix(0), "classes must be >= 1: 0");
        assertMessage(() -> ConfusionMatrix.of(new int[] {0, 1}, new int[] {0}, 2), "actual has 2 labels but predicted has 1");
        assertMessage(() -> ConfusionMatrix.of(new int[] {0, 3}, new int[] {0, 1}, 3), "actual[1] must be a class in [0, 3): 3");
        assertMessage(() -> ConfusionMatrix.of(new int[] {0}, new int[] {-1}, 3), "predicted[0] must be a class in [0, 3): -1");
        assertMessage(() -> new ConfusionMatrix(2).format(List.of("a")), "names must have 2 entries: 1");
        assertMessage(() -> new TopK(3).add(3), "rank must be in [0, 3) or NO_RANK: 3");
        assertMessage(() -> new TopK(3).hits(0), "k must be >= 1: 0");
        assertMessage(() -> TopK.ranks(new float[] {1, 2, 3}, new int[] {0, 0}), "scores must hold labels.length rows");
        assertMessage(() -> TopK.ranks(new float[] {1, 2}, new int[] {2}), "labels[0] must be a class in [0, 2): 2");
        assertMessage(() -> new MeanLoss().add(1, 0), "rows must be >= 1: 0");
        ConfusionMatrix m = new ConfusionMatrix(2);
        assertMessage(() -> m.addAll(new ConfusionMatrix(3)), "other has 3 classes, this 2");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }
}
