package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Plots}: the accuracy chart shows a validation series only when there is a validation set. */
class PlotsTest {
    private static Reports.EpochRecord epoch(int e, Double valAccuracy) {
        return new Reports.EpochRecord(e, 1.0 / e, 0.5 + 0.1 * e, valAccuracy, 1, 1000, 1, 0, 10, 0.05, List.of(),
                valAccuracy == null ? null : 0.9 / e, null);
    }

    @Test
    void validationSeriesOnlyWithAValidationSet() {
        assertEquals(List.of("train", "validation"),
                List.copyOf(Plots.accuracyChart(List.of(epoch(1, 0.6), epoch(2, 0.7))).getSeriesMap().keySet()));
        assertEquals(List.of("train"),
                List.copyOf(Plots.accuracyChart(List.of(epoch(1, null), epoch(2, null))).getSeriesMap().keySet()),
                "--validation 0 has no validation accuracy to plot (not 0%)");
    }
}
