package dev.jacobian.check;

import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Numerical gradient checking: compares the executor's backprop gradients with centered finite
 * differences {@code (L(w + h) - L(w - h)) / 2h}, element by element, using the relative error
 * {@code |a - n| / max(|a|, |n|, tiny)}.
 *
 * <p>Works on any graph whose target is a scalar. The inputs must already be {@link Executor#feed fed}.
 * Each checked element costs two forward passes, so large parameters are sampled
 * ({@link #maxElementsPerParameter}). Parameters are restored exactly afterwards.
 *
 * <pre>{@code
 * GradientCheck.Result r = new GradientCheck().check(exec, loss, batch);
 * assert r.maxRelativeError() < 1e-2 : r;
 * }</pre>
 *
 * With float32 tensors, {@code h} around 1e-2 balances truncation error against rounding error.
 */
public final class GradientCheck {
    private double epsilon = 1e-2;
    private double tiny = 1e-3;
    private int maxElementsPerParameter = 64;
    private long seed = 1;

    /** A check with the defaults: {@code h} 1e-2, denominator floor 1e-3, at most 64 elements per parameter, seed 1. */
    public GradientCheck() {
    }

    /** Step {@code h} of the finite differences (default 1e-2). */
    public GradientCheck epsilon(double h) {
        this.epsilon = h;
        return this;
    }

    /** Floor of the relative error's denominator, so that tiny gradients do not divide by ~0 (default 1e-3). */
    public GradientCheck tiny(double t) {
        this.tiny = t;
        return this;
    }

    /** Elements checked per parameter at most; larger parameters are sampled with {@link #seed}. */
    public GradientCheck maxElementsPerParameter(int n) {
        this.maxElementsPerParameter = n;
        return this;
    }

    /** Seed of the random choice of elements when a parameter is sampled (default 1). */
    public GradientCheck seed(long s) {
        this.seed = s;
        return this;
    }

    /** One compared element. */
    public record Entry(String parameter, int index, double analytic, double numeric, double relativeError) {
    }

    /** Every compared element and the worst of them. */
    public record Result(List<Entry> entries) {
        /** The entry with the largest relative error (a NaN error counts as the largest); null when there are none. */
        public Entry worst() {
            Entry w = null;
            for (Entry e : entries) {
                if (w == null || !(e.relativeError() <= w.relativeError())) {
                    w = e;
                }
            }
            return w;
        }

        /** The relative error of {@link #worst()} (NaN if that one is NaN); 0 when no element was checked. */
        public double maxRelativeError() {
            Entry w = worst();
            return w == null ? 0 : w.relativeError();
        }

        @Override
        public String toString() {
            Entry w = worst();
            return entries.size() + " elements checked; worst " + (w == null ? "-" : w.parameter() + "[" + w.index()
                    + "]: analytic " + w.analytic() + ", numeric " + w.numeric() + ", relative error " + w.relativeError());
        }
    }

    /** Checks the gradients of {@code loss} (a scalar node) with respect to every parameter of its graph. */
    public Result check(Executor exec, Node loss, int batch) {
        return check(exec, loss, batch, exec.graph().parameters());
    }

    /** Checks the gradients of {@code loss} with respect to {@code params}. */
    public Result check(Executor exec, Node loss, int batch, List<Parameter> params) {
        Tensor out = exec.forward(loss, batch);
        if (out.size() != 1) {
            throw new IllegalArgumentException("gradient check needs a scalar target, got " + out.shape());
        }
        exec.backward();
        List<Entry> entries = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : params) {
            float[] analytic = exec.gradient(p).download();
            Tensor value = exec.value(p);
            float[] w = value.download();
            int[] idx = sample(w.length, random);
            float[] one = new float[1];
            for (int i : idx) {
                float orig = w[i];
                one[0] = (float) (orig + epsilon);
                value.backend().upload(one, 0, value, i, 1);
                double plus = exec.forward(loss, batch).get(0);
                one[0] = (float) (orig - epsilon);
                value.backend().upload(one, 0, value, i, 1);
                double minus = exec.forward(loss, batch).get(0);
                one[0] = orig;
                value.backend().upload(one, 0, value, i, 1);
                // the perturbation actually applied, in float
                double h2 = ((double) (float) (orig + epsilon)) - ((double) (float) (orig - epsilon));
                double numeric = (plus - minus) / h2;
                double a = analytic[i];
                double rel = Math.abs(a - numeric) / Math.max(Math.max(Math.abs(a), Math.abs(numeric)), tiny);
                entries.add(new Entry(p.name(), i, a, numeric, rel));
            }
        }
        // leave the executor as it was: forward and backward at the original weights
        exec.forward(loss, batch);
        exec.backward();
        return new Result(entries);
    }

    private int[] sample(int n, SplittableRandom random) {
        if (n <= maxElementsPerParameter) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = 0; i < maxElementsPerParameter; i++) {
            int j = i + random.nextInt(n - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return java.util.Arrays.copyOf(perm, maxElementsPerParameter);
    }
}
