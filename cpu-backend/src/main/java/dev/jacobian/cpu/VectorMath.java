package dev.jacobian.cpu;

import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.IS_NAN;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.OR;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

/**
 * Deterministic float transcendentals for the vector kernels, built only from IEEE basic operations
 * (add, sub, mul, div, fma, min/max, compare/blend, bit operations on the lanes' bits).
 *
 * <p>The Vector API's own transcendental lanewise operations ({@code lanewise(EXP)}, {@code LOG},
 * {@code TANH}, ...) run a Java fallback in interpreted and C1 code and an SVML intrinsic in C2 code; the
 * two differ in the last bit, so a training run's result would depend on how warm the JVM is. Every
 * operation used here gives the same bits in interpreted and compiled code, so these functions do not
 * (the same reason as {@link Simd#sumLanes}). Accuracy is about 1-3 ulp of {@link Math} over the float range
 * (see {@code VectorMathTest}); special values follow {@link Math}: NaN propagates, the signs of zero are
 * kept where {@code Math} keeps them, overflow gives infinity and underflow gives zero.
 */
final class VectorMath {
    /** {@code 1.5 * 2^23}: adding it rounds a float below 2^22 in magnitude to an integer (ties to even). */
    private static final float MAGIC = 12582912f;
    /** The bits of {@link #MAGIC}; {@code bits(MAGIC + n) - MAGIC_BITS == n} for an integer n. */
    private static final int MAGIC_BITS = 0x4B400000;
    private static final float LOG2E = 1.44269504088896341f;
    /** Cody-Waite split of ln 2: {@code LN2_HI} has 9 trailing zero bits, so {@code n * LN2_HI} is exact. */
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.428606765330187045e-6f;
    /** exp underflows to 0 below about -103.97 and overflows above about 88.72; clamp outside these. */
    private static final float EXP_MIN = -104f;
    private static final float EXP_MAX = 89f;
    /** expm1 is -1 in float below about -17.33. */
    private static final float EXPM1_MIN = -30f;
    /** tanh is +-1 in float above about 9.01. */
    private static final float TANH_MAX = 10f;

    /** Taylor coefficients of {@code (e^r - 1 - r) / r^2} = 1/2! + r/3! + ... + r^6/8! (|r| <= ln2/2). */
    private static final float E2 = 1f / 2f;
    private static final float E3 = 1f / 6f;
    private static final float E4 = 1f / 24f;
    private static final float E5 = 1f / 120f;
    private static final float E6 = 1f / 720f;
    private static final float E7 = 1f / 5040f;
    private static final float E8 = 1f / 40320f;

    /** log: ln 2 split for {@code k * ln2} (FreeBSD/musl logf). */
    private static final float LOG_LN2_HI = 6.9313812256e-01f;
    private static final float LOG_LN2_LO = 9.0580006145e-06f;
    /** log: minimax coefficients of {@code log(1+f)} in {@code s = f/(2+f)} (FreeBSD/musl logf). */
    private static final float LG1 = 0.66666662693f;
    private static final float LG2 = 0.40000972152f;
    private static final float LG3 = 0.28498786688f;
    private static final float LG4 = 0.24279078841f;
    /** {@code bits(sqrt(2)/2)}: the reduced argument of log lies in [sqrt(2)/2, sqrt(2)). */
    private static final int SQRT_HALF_BITS = 0x3f3504f3;
    private static final float MIN_NORMAL = 0x1p-126f;
    private static final float SUBNORMAL_SCALE = 0x1p25f;

    private VectorMath() {
    }

    /** Lanewise {@code e^x}: {@code Math.exp} within about 1 ulp; 0 below about -103.97, +Inf above about 88.72. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_MIN).min(EXP_MAX); // max and min keep NaN
        FloatVector t = xc.fma(LOG2E, MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector p = expm1Reduced(reduce(xc, n));
        // 2^n with n in [-150, 128] is split into two normal factors: s1 = 2^[-125, 127] keeps s1 (1 + p)
        // normal, and s2 = 2^[-25, 1] rounds a subnormal result once or overflows to +Inf.
        IntVector ni = t.reinterpretAsInts().sub(MAGIC_BITS);
        IntVector n1 = ni.max(-125).min(127);
        FloatVector s1 = pow2(n1);
        FloatVector s2 = pow2(ni.sub(n1));
        return s1.fma(p, s1).mul(s2);
    }

    /** Lanewise {@code e^x - 1}, accurate near 0 (ulps of {@code Math.expm1}); -1 below about -17.3. */
    static FloatVector expm1(FloatVector x) {
        FloatVector xc = x.max(EXPM1_MIN).min(EXP_MAX);
        FloatVector t = xc.fma(LOG2E, MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector p = expm1Reduced(reduce(xc, n));
        // e^x - 1 = 2^n (e^r - 1) + (2^n - 1), with n in [-44, 128]; only n = 128 needs a second factor 2
        // (where the -1 no longer matters), which overflows to +Inf or not as the true value does.
        IntVector ni = t.reinterpretAsInts().sub(MAGIC_BITS);
        IntVector n1 = ni.min(127);
        FloatVector s1 = pow2(n1);
        FloatVector s2 = pow2(ni.sub(n1));
        FloatVector y = s1.fma(p, s1.sub(1f)).mul(s2);
        return y.blend(x, x.compare(EQ, 0f)); // expm1(-0) = -0
    }

    /** Lanewise {@code ln x}: {@code Math.log} within about 1 ulp; -Inf at +-0, NaN below 0, +Inf at +Inf. */
    static FloatVector log(FloatVector x) {
        // Subnormals are scaled into the normal range first.
        VectorMask<Float> subnormal = x.compare(LT, MIN_NORMAL);
        FloatVector xs = x.blend(x.mul(SUBNORMAL_SCALE), subnormal);
        // x = 2^k m with m in [sqrt2/2, sqrt2): adding bits(1) - bits(sqrt2/2) carries into the exponent
        // field exactly when the mantissa is at least sqrt2's; the mantissa is then rebased on sqrt2/2.
        IntVector ix = xs.reinterpretAsInts().add(0x3f800000 - SQRT_HALF_BITS);
        IntVector ki = ix.lanewise(ASHR, 23).sub(0x7f);
        FloatVector m = ix.lanewise(AND, 0x007fffff).add(SQRT_HALF_BITS).reinterpretAsFloats();
        FloatVector k = intToFloat(ki).add(x.broadcast(0f).blend(-25f, subnormal));
        FloatVector f = m.sub(1f);
        FloatVector s = f.div(f.add(2f));
        FloatVector z = s.mul(s);
        FloatVector w = z.mul(z);
        FloatVector t1 = w.mul(w.fma(LG4, LG2));
        FloatVector t2 = z.mul(w.fma(LG3, LG1));
        FloatVector r = t2.add(t1);
        FloatVector hfsq = f.mul(f).mul(0.5f);
        FloatVector y = s.mul(hfsq.add(r)).add(k.mul(LOG_LN2_LO)).sub(hfsq).add(f).add(k.mul(LOG_LN2_HI));
        y = y.blend(Float.NaN, x.compare(LT, 0f));
        y = y.blend(Float.NEGATIVE_INFINITY, x.compare(EQ, 0f));
        return y.blend(x, x.compare(EQ, Float.POSITIVE_INFINITY).or(x.test(IS_NAN)));
    }

    /** Lanewise {@code ln(1 + x)}, accurate near 0 (ulps of {@code Math.log1p}); -Inf at -1, NaN below. */
    static FloatVector log1p(FloatVector x) {
        FloatVector u = x.add(1f);
        // log(u) is the log of 1 + x rounded; the first-order term corrects for that rounding.
        FloatVector y = log(u).sub(u.sub(1f).sub(x).div(u));
        y = y.blend(x, u.compare(EQ, 1f).or(x.compare(EQ, Float.POSITIVE_INFINITY))); // tiny x (and +-0), +Inf
        return y.blend(Float.NEGATIVE_INFINITY, u.compare(EQ, 0f));
    }

    /** Lanewise {@code tanh x}: {@code Math.tanh} within a few ulp, via {@code expm1(2|x|)}; +-1 above about 9.01. */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs().min(TANH_MAX);
        FloatVector e = expm1(a.mul(2f));
        FloatVector t = e.div(e.add(2f));
        IntVector sign = x.reinterpretAsInts().lanewise(AND, 0x80000000);
        return t.reinterpretAsInts().lanewise(OR, sign).reinterpretAsFloats();
    }

    /**
     * Lanewise {@code 1 / (1 + e^-x)}, as {@code 1 / (1 + e)} for {@code x >= 0} and {@code e / (1 + e)} below,
     * with {@code e = e^-|x|}, so that {@code e} never overflows and tiny results keep their subnormals.
     */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        return x.broadcast(1f).blend(e, x.compare(LT, 0f)).div(e.add(1f));
    }

    /** {@code r = x - n ln2} (Cody-Waite, two fused steps). */
    private static FloatVector reduce(FloatVector x, FloatVector n) {
        FloatVector minusN = n.neg();
        return minusN.fma(x.broadcast(LN2_LO), minusN.fma(x.broadcast(LN2_HI), x));
    }

    /** {@code e^r - 1} for {@code |r| <= ln2/2}: {@code r + r^2 (1/2! + r/3! + ... + r^6/8!)}. */
    private static FloatVector expm1Reduced(FloatVector r) {
        FloatVector q = r.fma(E8, E7).fma(r, r.broadcast(E6)).fma(r, r.broadcast(E5)).fma(r, r.broadcast(E4))
                .fma(r, r.broadcast(E3)).fma(r, r.broadcast(E2));
        return r.mul(r).fma(q, r);
    }

    /** {@code 2^n} for integer lanes n in [-126, 127], built in the exponent bits. */
    private static FloatVector pow2(IntVector n) {
        return n.add(127).lanewise(LSHL, 23).reinterpretAsFloats();
    }

    /** Integer lanes (|k| < 2^22) to float, exactly, through the bits of {@link #MAGIC}. */
    private static FloatVector intToFloat(IntVector k) {
        return k.add(MAGIC_BITS).reinterpretAsFloats().sub(MAGIC);
    }
}
