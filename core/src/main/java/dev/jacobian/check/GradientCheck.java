package dev.jacobian.check;

import dev.jacobian.graph.Executor;
import dev.jacobian.graph.Node;
import dev.jacobian.graph.Parameter;
import dev.jacobian.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Numerical gradient checking: compares the executor's backprop gradients with centered finite
 * differences {@code (L(w + h) - L(w - h)) / 2h}, element by element, using the relative error
 * {@code |a - n| / max(|a|, |n|, floor)}.
 *
 * <p>Works on any graph whose target is a scalar. The inputs must already be {@link Executor#feed fed}.
 * Each element costs two forward passes where it agrees, at most {@code 4 (1 + }{@value #REFINEMENTS}{@code )}
 * where it straddles a kink, so large parameters are sampled ({@link #maxElementsPerParameter}). Parameters are
 * restored exactly afterwards.
 *
 * <pre>{@code
 * GradientCheck.Result r = new GradientCheck().check(exec, loss, batch);
 * assert r.maxRelativeError() < 1e-2 : r;
 * assert r.skippedFraction() < 0.25 : r; // a check that skipped everything would prove nothing
 * }</pre>
 *
 * <h2>Precision</h2>
 * Tensors are float32 on every backend (the reference backend accumulates in double but stores float32), so the
 * loss cannot be evaluated in double: each evaluation is rounded by up to half an ulp of the loss, which moves the
 * difference quotient by up to {@code ulp(L) / 2h}. With {@code h} around 1e-2 this balances truncation error
 * against rounding error. The relative error's floor is the larger of {@link #tiny} and {@value #RESOLUTION_ULPS}
 * {@code ulp(L) / 2h}: a gradient smaller than float32 resolves at this step (about 2e-2 for a loss near 8, 3e-3
 * near 1) is compared absolutely, and rounding alone stays below 2e-3 relative.
 *
 * <h2>Kinks</h2>
 * ReLU, max, maxout, max pooling, hinge losses, abs and clamp are not differentiable everywhere. When
 * {@code [w - h, w + h]} straddles such a point, the centered difference mixes two slopes and disagrees with the
 * correct gradient by up to half the jump in slope: a correct graph would fail the check. So where an element
 * disagrees by more than {@value #AGREEMENT} relative, the check also evaluates {@code L(w +- h/2)}. On a smooth
 * loss the differences at both steps are consistent: the centered ones agree ({@code A = c(h) - c(h/2)} is of
 * order {@code h^2} times the third derivative) and the gap between the one-sided slopes,
 * {@code g(h) = (L(w+h) - L(w)) / h - (L(w) - L(w-h)) / h}, halves with the step as curvature makes it
 * ({@code B = g(h) - 2 g(h/2)} is of order {@code h^3}). One kink between the evaluated points makes the centered
 * difference's error exactly {@code 2A - B/2} or {@code 2A + B/2} (as it lies right or left of {@code w}), so
 * {@code D = 2|A| + |B|/2} bounds it. An element whose disagreement is within {@value #KINK_EXPLAINS} {@code D},
 * or whose {@code D} exceeds {@value #KINK_EVIDENCE} of its gradient's scale (several kinks, or one exactly at
 * {@code w} where backprop picks a side by convention), straddles a kink: it is tried again with a step
 * {@value #STEP_SHRINK} times smaller (a kink further away than the new step no longer matters), at most
 * {@value #REFINEMENTS} times, and if it still straddles one it is skipped and reported in {@link Result#kinks()}
 * instead of compared. A disagreement that no kink between the evaluated points explains is compared, so a wrong
 * gradient still shows; so is a kink whose error stays under {@value #AGREEMENT} relative. Each element gets its
 * own steps: the perturbations actually applied in float32, on each side.
 */
public final class GradientCheck {
    /**
     * The relative error's floor in units of {@code ulp(L) / 2h}, the most float32's rounding of the loss (half an
     * ulp per evaluation) moves a centered difference: rounding alone stays under 1/500 = 2e-3 relative.
     */
    public static final double RESOLUTION_ULPS = 500;
    /**
     * Relative disagreement up to which an element is compared without a kink test (and so is never skipped): half
     * the 1e-2 a float32 check asserts, above float32's noise at the default step.
     */
    public static final double AGREEMENT = 5e-3;
    /**
     * An element straddles a kink when its disagreement is at most this many times the inconsistency {@code D} of
     * its differences (one kink's error in the centered difference is at most {@code D}; the factor leaves room
     * for rounding and curvature).
     */
    public static final double KINK_EXPLAINS = 2;
    /**
     * Inconsistency {@code D}, relative to the gradient's scale {@code max(|a|, |n|, floor)}, that marks a kink
     * whatever the disagreement: several kinks, or one exactly at {@code w}, can disagree by more than
     * {@link #KINK_EXPLAINS} {@code D}.
     */
    public static final double KINK_EVIDENCE = 0.05;
    /** How many times an element whose differences straddle a kink is tried again with a smaller step. */
    public static final int REFINEMENTS = 2;
    /** The factor by which each retry shrinks the step. */
    public static final double STEP_SHRINK = 4;

    private double epsilon = 1e-2;
    private double tiny = 1e-3;
    private int maxElementsPerParameter = 64;
    private long seed = 1;

    /** A check with the defaults: {@code h} 1e-2, denominator floor 1e-3, at most 64 elements per parameter, seed 1. */
    public GradientCheck() {
    }

    /** Step {@code h} of the finite differences (default 1e-2); positive and finite. */
    public GradientCheck epsilon(double h) {
        if (!(h > 0) || !Double.isFinite(h)) {
            throw new IllegalArgumentException("gradient check step must be positive and finite, got " + h);
        }
        this.epsilon = h;
        return this;
    }

    /**
     * Floor of the relative error's denominator, so that tiny gradients do not divide by ~0 (default 1e-3); the
     * float32 resolution ({@link #RESOLUTION_ULPS}) floors it too, whichever is larger.
     */
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

    /**
     * One compared element.
     *
     * @param parameter     the parameter's name
     * @param index         the element's flat index in the parameter
     * @param analytic      the backprop gradient
     * @param numeric       the centered difference at the configured step, or at a smaller one where that one
     *                      straddled a kink (see the class comment)
     * @param relativeError {@code |analytic - numeric| / max(|analytic|, |numeric|, floor)}
     */
    public record Entry(String parameter, int index, double analytic, double numeric, double relativeError) {
    }

    /**
     * One element skipped because its finite differences straddle a point where the loss is not differentiable,
     * at every step tried (see the class comment).
     *
     * @param parameter     the parameter's name
     * @param index         the element's flat index in the parameter
     * @param analytic      the backprop gradient
     * @param step          the smallest step {@code h} tried
     * @param numeric       the centered difference at {@code step} (not trusted here)
     * @param leftSlope     {@code (L(w) - L(w - h/2)) / (h/2)}
     * @param rightSlope    {@code (L(w + h/2) - L(w)) / (h/2)}
     * @param inconsistency {@code D}, which bounds one kink's error in {@code numeric}
     */
    public record Kink(String parameter, int index, double analytic, double step, double numeric, double leftSlope,
                       double rightSlope, double inconsistency) {
    }

    /**
     * Every compared element, every element skipped at a kink, and the worst compared one.
     *
     * @param entries the compared elements
     * @param kinks   the elements skipped because their differences straddle a kink
     */
    public record Result(List<Entry> entries, List<Kink> kinks) {
        /** Copies both lists. */
        public Result {
            entries = List.copyOf(entries);
            kinks = List.copyOf(kinks);
        }

        /** A result without skipped elements. */
        public Result(List<Entry> entries) {
            this(entries, List.of());
        }

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

        /** The relative error of {@link #worst()} (NaN if that one is NaN); 0 when no element was compared. */
        public double maxRelativeError() {
            Entry w = worst();
            return w == null ? 0 : w.relativeError();
        }

        /** How many elements were skipped at kinks ({@link #kinks()}). */
        public int skippedCount() {
            return kinks.size();
        }

        /**
         * The share of the examined elements that were skipped at kinks, in {@code [0, 1]}; 0 when none was examined.
         * A large share means the check compared little: try a smaller step, or inputs away from the kinks.
         */
        public double skippedFraction() {
            int all = entries.size() + kinks.size();
            return all == 0 ? 0 : (double) kinks.size() / all;
        }

        @Override
        public String toString() {
            Entry w = worst();
            return entries.size() + " elements checked, " + kinks.size() + " skipped at kinks; worst "
                    + (w == null ? "-" : w.parameter() + "[" + w.index() + "]: analytic " + w.analytic() + ", numeric "
                    + w.numeric() + ", relative error " + w.relativeError());
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
        double f0 = out.get(0);
        exec.backward();
        List<Entry> entries = new ArrayList<>();
        List<Kink> kinks = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : params) {
            float[] analytic = exec.gradient(p).download();
            Tensor value = exec.value(p);
            float[] w = value.download();
            for (int i : sample(w.length, random)) {
                Element e = new Element(exec, loss, batch, value, i, w[i], f0);
                try {
                    compare(e, p.name(), analytic[i], entries, kinks);
                } finally {
                    e.restore();
                }
            }
        }
        // leave the executor as it was: forward and backward at the original weights
        exec.forward(loss, batch);
        exec.backward();
        return new Result(entries, kinks);
    }

    /**
     * Compares one element: at the configured step, then, while its differences straddle a kink, at steps
     * {@link #STEP_SHRINK} times smaller ({@link #REFINEMENTS} times at most); adds an {@link Entry}, or a
     * {@link Kink} when the smallest step still straddles one.
     */
    private void compare(Element e, String name, double a, List<Entry> entries, List<Kink> kinks) {
        double h = epsilon;
        for (int level = 0; ; level++, h /= STEP_SHRINK) {
            double plus = e.at(h);
            double minus = e.at(-h);
            double hp = e.step(h);
            double hm = -e.step(-h);
            double numeric = (plus - minus) / (hp + hm);
            float largest = (float) Math.max(Math.abs(e.f0), Math.max(Math.abs(plus), Math.abs(minus)));
            double floor = Math.max(tiny, RESOLUTION_ULPS * Math.ulp(largest) / (hp + hm));
            double scale = Math.max(Math.max(Math.abs(a), Math.abs(numeric)), floor);
            double off = Math.abs(a - numeric);
            if (off > AGREEMENT * scale) {
                Kink k = kinkTest(e, name, a, h, numeric, plus, minus, hp, hm);
                if (off <= KINK_EXPLAINS * k.inconsistency() || k.inconsistency() > KINK_EVIDENCE * scale) {
                    if (level < REFINEMENTS) {
                        continue;
                    }
                    kinks.add(k);
                    return;
                }
            }
            entries.add(new Entry(name, e.index, a, numeric, off / scale));
            return;
        }
    }

    /**
     * Evaluates {@code L(w +- h/2)} and measures {@code D = 2|A| + |B|/2} (see the class comment); a NaN counts as
     * no evidence, so that the element is compared and its NaN reported.
     */
    private static Kink kinkTest(Element e, String name, double a, double h, double numeric, double plus,
                                 double minus, double hp, double hm) {
        double plus2 = e.at(h / 2);
        double minus2 = e.at(-h / 2);
        double hp2 = e.step(h / 2);
        double hm2 = -e.step(-h / 2);
        double half = (plus2 - minus2) / (hp2 + hm2);
        double right2 = (plus2 - e.f0) / hp2;
        double left2 = (e.f0 - minus2) / hm2;
        double gap = (plus - e.f0) / hp - (e.f0 - minus) / hm;
        double d = 2 * Math.abs(numeric - half) + Math.abs(gap - 2 * (right2 - left2)) / 2;
        return new Kink(name, e.index, a, h, numeric, left2, right2, Double.isNaN(d) ? 0 : d);
    }

    /** One element being perturbed: the loss at {@code w + step}, and {@code w} put back. */
    private static final class Element {
        private final Executor exec;
        private final Node loss;
        private final int batch;
        private final Tensor value;
        private final int index;
        private final float original;
        private final double f0;
        private final float[] one = new float[1];

        Element(Executor exec, Node loss, int batch, Tensor value, int index, float original, double f0) {
            this.exec = exec;
            this.loss = loss;
            this.batch = batch;
            this.value = value;
            this.index = index;
            this.original = original;
            this.f0 = f0;
        }

        /** The perturbation actually applied for a requested {@code step}: {@code float(w + step) - w}, exactly. */
        double step(double step) {
            return (double) (float) (original + step) - original;
        }

        /** The loss with the element at {@code float(w + step)}. */
        double at(double step) {
            one[0] = (float) (original + step);
            value.backend().upload(one, 0, value, index, 1);
            return exec.forward(loss, batch).get(0);
        }

        /** Puts the original value back. */
        void restore() {
            one[0] = original;
            value.backend().upload(one, 0, value, index, 1);
        }
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
        return Arrays.copyOf(perm, maxElementsPerParameter);
    }
}
