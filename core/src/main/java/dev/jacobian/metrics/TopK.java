package dev.jacobian.metrics;

/**
 * Top-k accuracy from the rank of each sample's target: the rank is the number of classes whose score is
 * strictly greater than the target's (0: the target has the highest score). A sample is a top-k hit when its
 * rank is below {@code k}: ties are counted in the target's favour (a target tied with the k-th highest score
 * is a hit), where {@code torch.topk} would break the tie by position. Hence top-1 accuracy can exceed the
 * arg-max accuracy when scores tie exactly (never for distinct scores). A rank of {@link #NO_RANK} (a NaN
 * score) is never a hit.
 *
 * <p>Keeps a histogram of ranks, so one pass answers every {@code k}. Not thread-safe.
 */
public final class TopK {
    /** The rank of a sample whose target score was NaN: a miss for every k. */
    public static final int NO_RANK = Integer.MAX_VALUE;
    private final long[] byRank;
    private long missing;

    /** A histogram for {@code classes} (&gt;= 1) classes: ranks {@code 0 .. classes-1}. */
    public TopK(int classes) {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1: " + classes);
        }
        this.byRank = new long[classes];
    }

    /** Counts one sample whose target has rank {@code rank} (or {@link #NO_RANK}). */
    public void add(int rank) {
        if (rank == NO_RANK) {
            missing++;
            return;
        }
        if (rank < 0 || rank >= byRank.length) {
            throw new IllegalArgumentException("rank must be in [0, " + byRank.length + ") or NO_RANK: " + rank);
        }
        byRank[rank]++;
    }

    /**
     * The ranks of a batch's targets computed on the host from the scores {@code [rows, classes]} (row-major)
     * and the labels: what {@link Evaluator} computes on the device, for tests and host-side scores.
     */
    public static int[] ranks(float[] scores, int[] labels) {
        int rows = labels.length;
        if (rows == 0 || scores.length % rows != 0) {
            throw new IllegalArgumentException("scores must hold labels.length rows: " + scores.length + " scores, "
                    + rows + " labels");
        }
        int classes = scores.length / rows;
        int[] out = new int[rows];
        for (int i = 0; i < rows; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("labels[" + i + "] must be a class in [0, " + classes + "): " + labels[i]);
            }
            float target = scores[i * classes + labels[i]];
            int greater = 0;
            for (int j = 0; j < classes; j++) {
                greater += scores[i * classes + j] > target ? 1 : 0;
            }
            out[i] = Float.isNaN(target) ? NO_RANK : greater;
        }
        return out;
    }

    /** Counts a batch of ranks. */
    public void addAll(int[] ranks) {
        for (int r : ranks) {
            add(r);
        }
    }

    /** Samples counted. */
    public long total() {
        long n = missing;
        for (long v : byRank) {
            n += v;
        }
        return n;
    }

    /** Samples whose target ranks below {@code k} (&gt;= 1); {@code k >= classes} counts every ranked sample. */
    public long hits(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1: " + k);
        }
        long h = 0;
        for (int r = 0; r < Math.min(k, byRank.length); r++) {
            h += byRank[r];
        }
        return h;
    }

    /** The fraction of samples whose target ranks below {@code k}; 0 when empty. */
    public double accuracy(int k) {
        if (k < 1) { // checked before the count: an empty histogram took any k
            throw new IllegalArgumentException("k must be >= 1: " + k);
        }
        long n = total();
        return n == 0 ? 0 : (double) hits(k) / n;
    }

    /** Forgets every sample. */
    public void reset() {
        java.util.Arrays.fill(byRank, 0);
        missing = 0;
    }
}
