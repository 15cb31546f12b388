package dev.jacobian.backend;

/**
 * Named float tolerances for comparing a backend against the reference. A value passes when
 * {@code |actual - expected| <= atol + rtol * |expected|}.
 */
public final class Tolerances {
    /** Relative tolerance for FP32 elementwise results (a few ulp of transcendental functions). */
    public static final double FP32_RTOL = 1e-4;
    /** Absolute tolerance for FP32 elementwise results near zero. */
    public static final double FP32_ATOL = 1e-5;
    /** Absolute tolerance per unit of summation length for reductions and GEMM (float accumulation order). */
    public static final double FP32_ATOL_PER_TERM = 2e-6;
    /** Relative tolerance for reductions and GEMM accumulated in float in any order. */
    public static final double FP32_SUM_RTOL = 1e-4;

    private Tolerances() {
    }

    /** Absolute tolerance for a sum over {@code terms} values of magnitude about one. */
    public static double sumAtol(int terms) {
        return FP32_ATOL + FP32_ATOL_PER_TERM * terms;
    }
}
