/*
 * activations.h — the activations of dev.jacobian.backend.Activation (codes are its ordinals) and their
 * derivatives, shared by elementwise.cl (activation kernels, bias + activation) and matmul.cl (the GEMM's
 * bias + activation epilogue and its activation-derivative operand masks). KernelSources.load inlines this
 * file where a source says #include "activations.h", so each program is still built from one string.
 */
#ifndef JACOBIAN_ACTIVATIONS_H
#define JACOBIAN_ACTIVATIONS_H

#define ACT_IDENTITY 0
#define ACT_SIGMOID 1
#define ACT_TANH 2
#define ACT_RELU 3
#define ACT_LEAKY_RELU 4
#define ACT_ELU 5

inline float act_apply(const int f, const float x, const float param) {
    switch (f) {
        case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
        case ACT_TANH: return tanh(x);
        case ACT_RELU: return x > 0.0f ? x : 0.0f;
        case ACT_LEAKY_RELU: return x > 0.0f ? x : param * x;
        case ACT_ELU: return x > 0.0f ? x : param * expm1(x);
        default: return x;
    }
}

/* f'(x) in terms of the input x and the output y; at a kink the left derivative. */
inline float act_derivative(const int f, const float x, const float y, const float param) {
    switch (f) {
        case ACT_SIGMOID: return y * (1.0f - y);
        case ACT_TANH: return 1.0f - y * y;
        case ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
        case ACT_LEAKY_RELU: return x > 0.0f ? 1.0f : param;
        case ACT_ELU: return x > 0.0f ? 1.0f : y + param;
        default: return 1.0f;
    }
}

#endif
