package dev.jacobian.parallel;

import java.util.List;

/**
 * How a data-parallel step splits its batch and sums its gradients, in one place so that every runner (threads on
 * one machine, a cluster) computes the same thing.
 *
 * <ul>
 *   <li>A batch of {@code rows} samples is cut into {@code shards} contiguous shards whose sizes differ by at most
 *       one ({@link #start}).</li>
 *   <li>The batch's mean loss is the mean over its samples, so shard {@code s}, whose own loss is the mean over its
 *       {@code rows_s} samples, counts with weight {@code rows_s / rows} ({@link #weights}).</li>
 *   <li>{@link #weightedSum} adds the shards' gradients in shard order, in double precision, and rounds once: the
 *       order is fixed, so the sum does not depend on which worker computed which shard or when it finished.</li>
 * </ul>
 */
public final class Shards {
    /** Elements summed per block (the block's double accumulators stay in the L1 cache). */
    private static final int BLOCK = 1024;

    private Shards() {
    }

    /**
     * The first row, relative to the batch, of shard {@code shard} of a batch of {@code rows} cut into
     * {@code shards}; {@code start(rows, shards, shards) == rows}.
     */
    public static int start(int rows, int shards, int shard) {
        if (shards <= 0 || shard < 0 || shard > shards) {
            throw new IllegalArgumentException("shard " + shard + " of " + shards);
        }
        return (int) ((long) rows * shard / shards);
    }

    /**
     * The shards worker {@code worker} of {@code workers} computes: {@code [first, end)}, contiguous, at least one
     * each when {@code shards >= workers}.
     */
    public static int firstShardOf(int shards, int workers, int worker) {
        return start(shards, workers, worker);
    }

    /** Each shard's weight in the batch's mean: its rows over the batch's rows (they sum to 1). */
    public static double[] weights(int rows, int shards) {
        double[] w = new double[shards];
        for (int s = 0; s < shards; s++) {
            w[s] = (double) (start(rows, shards, s + 1) - start(rows, shards, s)) / rows;
        }
        return w;
    }

    /**
     * {@code out[i] = (float) sum over s, in order, of weights[s] * parts.get(s)[i]} with the sum kept in double:
     * the batch's gradient from its shards' (each the gradient of its shard's mean loss).
     *
     * @throws IllegalArgumentException when the counts or lengths disagree
     */
    public static void weightedSum(List<float[]> parts, double[] weights, float[] out) {
        weightedSum(parts, weights, out, 0, out.length);
    }

    /**
     * {@link #weightedSum(List, double[], float[])} on the elements {@code [from, to)} only: each element's sum is
     * the same whatever range it is summed in, so workers can share the sum by ranges.
     */
    public static void weightedSum(List<float[]> parts, double[] weights, float[] out, int from, int to) {
        java.util.Objects.checkFromToIndex(from, to, out.length);
        if (parts.size() != weights.length || parts.isEmpty()) {
            throw new IllegalArgumentException("weightedSum: " + parts.size() + " parts and " + weights.length + " weights");
        }
        for (float[] p : parts) {
            if (p.length != out.length) {
                throw new IllegalArgumentException("weightedSum: a part of " + p.length + " values for an output of "
                        + out.length);
            }
        }
        double[] acc = new double[Math.min(BLOCK, Math.max(1, to - from))];
        for (int start = from; start < to; start += BLOCK) {
            int len = Math.min(BLOCK, to - start);
            java.util.Arrays.fill(acc, 0, len, 0.0);
            for (int s = 0; s < parts.size(); s++) { // per element: 0 + w0 g0 + w1 g1 + ..., in shard order
                float[] p = parts.get(s);
                double w = weights[s];
                for (int j = 0; j < len; j++) {
                    acc[j] += w * p[start + j];
                }
            }
            for (int j = 0; j < len; j++) {
                out[start + j] = (float) acc[j];
            }
        }
    }

    /** The weighted sum of per-shard scalars (the batch's mean loss from its shards' mean losses), in order. */
    public static float weightedSum(float[] values, double[] weights) {
        if (values.length != weights.length) {
            throw new IllegalArgumentException("weightedSum: " + values.length + " values and " + weights.length
                    + " weights");
        }
        double acc = 0;
        for (int s = 0; s < values.length; s++) {
            acc += weights[s] * values[s];
        }
        return (float) acc;
    }
}
