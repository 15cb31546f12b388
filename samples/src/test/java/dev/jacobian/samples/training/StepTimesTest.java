package dev.jacobian.samples.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Reports.StepTimes}: an epoch's step times summarized as metrics.json reports them. */
class StepTimesTest {
    /** Milliseconds are rounded to the microsecond: exact values compare within this. */
    private static final double MS_TOLERANCE = 1e-9;

    @Test
    void medianPercentileMaximumTenthsAndWaiting() {
        // 25 steps: the first five slow (a cold start), then 1 ms each but one stall of 9 ms at step 20
        long[] nanos = new long[30]; // longer than the count: only the first 25 count
        for (int i = 0; i < 25; i++) {
            nanos[i] = i < 5 ? 4_000_000L : 1_000_000L;
        }
        nanos[20] = 9_000_000L;
        nanos[27] = 99_000_000L;
        Reports.StepTimes t = Reports.StepTimes.of(nanos, 25, 1_234_567L);
        assertEquals(1.0, t.medianMs(), MS_TOLERANCE);
        // the 90th percentile of 25 is the 23rd smallest: 4 ms (five steps of 4 ms and one of 9 above twenty of 1 ms)
        assertEquals(4.0, t.p90Ms(), MS_TOLERANCE);
        assertEquals(9.0, t.maxMs(), MS_TOLERANCE);
        assertEquals(1.235, t.waitingMs(), MS_TOLERANCE);
        // tenths of 25 steps: runs of 2, 3, 2, 3, ... steps (steps 0-1, 2-4, 5-6, 7-9, ..., 20-21, 22-24)
        assertEquals(10, t.tenthsMs().size());
        double[] expected = {4.0, 4.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 1.0};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], t.tenthsMs().get(i), MS_TOLERANCE, "tenth " + i);
        }
    }

    @Test
    void fewerStepsThanTenthsGiveOneRunPerStepAndNoStepsGiveNothing() {
        Reports.StepTimes t = Reports.StepTimes.of(new long[] {3_000_000L, 1_000_000L, 2_000_000L}, 3, 0);
        assertEquals(List.of(3.0, 1.0, 2.0), t.tenthsMs());
        assertEquals(2.0, t.medianMs(), MS_TOLERANCE);
        assertEquals(3.0, t.p90Ms(), MS_TOLERANCE);
        assertNull(Reports.StepTimes.of(new long[0], 0, 0));
    }
}
