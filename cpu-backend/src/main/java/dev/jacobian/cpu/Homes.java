package dev.jacobian.cpu;

import java.lang.ref.WeakReference;
import java.util.Arrays;

/**
 * Which thread last worked on each half of a layer's weights, so that the optimizer's update of a parameter arena
 * gives each half back to the thread that reads it in the products ({@link CpuMatmul}'s depth halves: thread 0 the rows
 * {@code [0, half)} of a weight {@code [k, n]}, thread 1 the rest).
 *
 * <p>Why: on a machine whose two vCPUs sit on different dies (an AMD EPYC of family 26, Zen 5, whose two vCPUs
 * answered a round trip through memory in 430-470 ns), a cache line that one core wrote and the other then reads
 * crosses between the dies' caches, slowly; and two cores that write interleaved chunks of one array lose far more: the
 * prefetchers of each fetch the other's next chunk (an SGD-like pass over three 784x256 arrays on 2 threads ran 0.14x
 * as fast as on one with 128- or 256-float chunks, 0.28x with 1024, 0.65x with 4096, 1.4x with 16384, 2.0x with
 * contiguous halves). So ownership here is by contiguous halves, never by interleaved chunks.
 *
 * <p>A record is a hint: any split gives an elementwise update the same bits. Records hold their arrays weakly, at
 * most {@link #CAPACITY} of them (the newest replace the oldest), and are made and read on the calling thread only.
 */
final class Homes {
    /** Records kept: a network's weight matrices that are split by depth halves. */
    static final int CAPACITY = 32;

    private final WeakReference<?>[] arrays = new WeakReference<?>[CAPACITY];
    private final int[] from = new int[CAPACITY];
    private final int[] mid = new int[CAPACITY];
    private final int[] to = new int[CAPACITY];
    private int next;

    /**
     * Records that thread 0 works on {@code array[from, mid)} and thread 1 on {@code array[mid, to)}; replaces a record
     * of the same array that starts at the same index.
     */
    void record(float[] array, int from, int mid, int to) {
        int slot = -1;
        for (int i = 0; i < CAPACITY; i++) {
            if (arrays[i] != null && arrays[i].get() == array && this.from[i] == from) {
                slot = i;
                break;
            }
        }
        if (slot < 0) {
            slot = next;
            next = (next + 1) % CAPACITY;
            arrays[slot] = new WeakReference<>(array);
        }
        this.from[slot] = from;
        this.mid[slot] = mid;
        this.to[slot] = to;
    }

    /**
     * The elements {@code [0, n)} of {@code array[off..]}, split among {@code threads} homes: for home {@code h},
     * {@code result[h]} holds pairs {@code from, to} (relative to {@code off}) of contiguous ranges. The recorded halves
     * that lie in the range go to their homes; the rest is cut into pieces of at least {@code minPiece} elements, each
     * given to the home with the fewest elements so far. Null when no record lies in the range (the caller splits it as
     * it likes).
     */
    int[][] split(float[] array, int off, int n, int threads, int minPiece) {
        int[][] found = new int[CAPACITY][];
        int count = 0;
        for (int i = 0; i < CAPACITY; i++) {
            if (arrays[i] == null || arrays[i].get() != array) {
                continue;
            }
            int f = Math.max(from[i], off) - off;
            int t = Math.min(to[i], off + n) - off;
            if (f < t) {
                found[count++] = new int[] {f, Math.min(t, Math.max(f, mid[i] - off)), t};
            }
        }
        if (count == 0) {
            return null;
        }
        int[][] halves = Arrays.copyOf(found, count);
        Arrays.sort(halves, (x, y) -> Integer.compare(x[0], y[0]));
        Ranges[] homes = new Ranges[threads];
        for (int h = 0; h < threads; h++) {
            homes[h] = new Ranges();
        }
        int end = 0;
        int[][] gaps = new int[count + 1][];
        int gapCount = 0;
        for (int[] half : halves) {
            if (half[0] < end) {
                continue; // overlaps a record already placed
            }
            if (end < half[0]) {
                gaps[gapCount++] = new int[] {end, half[0]};
            }
            homes[0].add(half[0], half[1]);
            homes[1 % threads].add(half[1], half[2]);
            end = half[2];
        }
        if (end < n) {
            gaps[gapCount++] = new int[] {end, n};
        }
        for (int g = 0; g < gapCount; g++) {
            int f = gaps[g][0];
            int length = gaps[g][1] - f;
            int pieces = Math.max(1, Math.min(threads, length / Math.max(1, minPiece)));
            for (int p = 0; p < pieces; p++) {
                int least = 0;
                for (int h = 1; h < threads; h++) {
                    if (homes[h].size < homes[least].size) {
                        least = h;
                    }
                }
                homes[least].add(f + (int) ((long) length * p / pieces), f + (int) ((long) length * (p + 1) / pieces));
            }
        }
        int[][] result = new int[threads][];
        for (int h = 0; h < threads; h++) {
            result[h] = Arrays.copyOf(homes[h].bounds, homes[h].count);
        }
        return result;
    }

    /** The home, in a {@link #split}'s result, of the range that holds {@code index}; 0 when none does. */
    static int homeOf(int[][] split, int index) {
        for (int h = 0; h < split.length; h++) {
            int[] ranges = split[h];
            for (int i = 0; i < ranges.length; i += 2) {
                if (ranges[i] <= index && index < ranges[i + 1]) {
                    return h;
                }
            }
        }
        return 0;
    }

    /** The ranges of one home, as {@code from, to} pairs, and how many elements they hold. */
    private static final class Ranges {
        int[] bounds = new int[8];
        int count;
        long size;

        void add(int from, int to) {
            if (from >= to) {
                return;
            }
            if (count + 2 > bounds.length) {
                bounds = Arrays.copyOf(bounds, bounds.length * 2);
            }
            bounds[count++] = from;
            bounds[count++] = to;
            size += to - from;
        }
    }
}
