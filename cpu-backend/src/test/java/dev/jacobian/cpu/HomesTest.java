package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link Homes}: the halves the products record, and how a range of an array is split among the threads by them. */
class HomesTest {

    /** Every element of {@code [0, n)} in exactly one range of {@code split}. */
    private static void assertCoversOnce(int[][] split, int n) {
        int[] seen = new int[n];
        for (int[] ranges : split) {
            assertEquals(0, ranges.length % 2, "pairs");
            for (int i = 0; i < ranges.length; i += 2) {
                assertTrue(ranges[i] < ranges[i + 1], "a range is not empty");
                for (int j = ranges[i]; j < ranges[i + 1]; j++) {
                    seen[j]++;
                }
            }
        }
        for (int j = 0; j < n; j++) {
            assertEquals(1, seen[j], "element " + j);
        }
    }

    private static long size(int[] ranges) {
        long size = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            size += ranges[i + 1] - ranges[i];
        }
        return size;
    }

    @Test
    void noRecordOfTheArrayOrInTheRangeLeavesTheSplitToTheCaller() {
        Homes homes = new Homes();
        float[] a = new float[1000];
        assertNull(homes.split(a, 0, 1000, 2, 10));
        homes.record(a, 100, 300, 500);
        assertNull(homes.split(new float[1000], 0, 1000, 2, 10), "another array");
        assertNull(homes.split(a, 500, 500, 2, 10), "a range after the record");
        assertNull(homes.split(a, 0, 100, 2, 10), "a range before it");
    }

    @Test
    void recordedHalvesGoToTheirHomesAndTheRestToTheLeastLoaded() {
        Homes homes = new Homes();
        float[] a = new float[1000];
        homes.record(a, 100, 300, 500);
        int[][] split = homes.split(a, 0, 1000, 2, 50);
        assertCoversOnce(split, 1000);
        assertArrayEquals(new int[] {100, 300}, java.util.Arrays.copyOf(split[0], 2), "thread 0's half first");
        assertArrayEquals(new int[] {300, 500}, java.util.Arrays.copyOf(split[1], 2), "thread 1's half first");
        assertTrue(Math.abs(size(split[0]) - size(split[1])) <= 250, "the rest evens the loads out");
        assertEquals(0, Homes.homeOf(split, 299));
        assertEquals(1, Homes.homeOf(split, 300));
    }

    @Test
    void aRangeThatCutsARecordKeepsItsPartOfEachHalf() {
        Homes homes = new Homes();
        float[] a = new float[1000];
        homes.record(a, 100, 300, 500);
        int[][] split = homes.split(a, 200, 600, 2, 1000);
        assertCoversOnce(split, 600);
        assertEquals(0, Homes.homeOf(split, 0), "element 200 of the array");
        assertEquals(0, Homes.homeOf(split, 99));
        assertEquals(1, Homes.homeOf(split, 100), "element 300");
        assertEquals(1, Homes.homeOf(split, 299));
        assertEquals(0, Homes.homeOf(split, 300), "the rest, one piece (shorter than the smallest), to thread 0");
    }

    @Test
    void aNewRecordAtTheSameStartReplacesTheOldAndOverlapsAreSkipped() {
        Homes homes = new Homes();
        float[] a = new float[1000];
        homes.record(a, 0, 50, 100);
        homes.record(a, 0, 80, 100);
        int[][] split = homes.split(a, 0, 100, 2, 1000);
        assertArrayEquals(new int[] {0, 80}, split[0]);
        assertArrayEquals(new int[] {80, 100}, split[1]);
        homes.record(a, 90, 150, 200); // overlaps the first: left to the split of the rest
        split = homes.split(a, 0, 200, 2, 1000);
        assertCoversOnce(split, 200);
        assertEquals(0, Homes.homeOf(split, 79));
        assertEquals(1, Homes.homeOf(split, 80));
    }

    @Test
    void moreThreadsThanHalvesTakeTheRestAndOldRecordsMakeRoom() {
        Homes homes = new Homes();
        float[] a = new float[10_000];
        homes.record(a, 0, 1000, 2000);
        int[][] split = homes.split(a, 0, 10_000, 3, 100);
        assertCoversOnce(split, 10_000);
        assertTrue(size(split[2]) >= 2000, "the third thread takes of the rest");
        for (int i = 0; i < Homes.CAPACITY; i++) {
            homes.record(new float[1], 0, 0, 1);
        }
        assertNull(homes.split(a, 0, 10_000, 3, 100), "the oldest record made room");
    }
}
