package dev.jacobian.bench;

import dev.jacobian.tensor.Shape;

/**
 * A GEMM size as the GEMM benchmarks' {@code shape} parameter spells it: {@code MxNxK:TT}, where C is
 * {@code [M, N]}, the inner dimension is {@code K}, and the two letters say whether A and B are used
 * transposed ({@code T}) or as stored ({@code N}); a bare {@code N} means {@code NxNxN:NN}.
 */
record GemmShape(int m, int n, int k, boolean transA, boolean transB) {

    /** Parses {@code MxNxK:TT} or a bare {@code N}, e.g. {@code 784x256x128:TN} or {@code 1024}. */
    static GemmShape parse(String shape) {
        String spec = shape.contains("x") ? shape : shape + "x" + shape + "x" + shape + ":NN";
        int colon = spec.indexOf(':');
        String[] dims = spec.substring(0, colon).split("x");
        return new GemmShape(Integer.parseInt(dims[0]), Integer.parseInt(dims[1]), Integer.parseInt(dims[2]),
                spec.charAt(colon + 1) == 'T', spec.charAt(colon + 2) == 'T');
    }

    /** A as stored: {@code [K, M]} when transposed, else {@code [M, K]}. */
    Shape a() {
        return transA ? Shape.matrix(k, m) : Shape.matrix(m, k);
    }

    /** B as stored: {@code [N, K]} when transposed, else {@code [K, N]}. */
    Shape b() {
        return transB ? Shape.matrix(n, k) : Shape.matrix(k, n);
    }

    /** C: {@code [M, N]}. */
    Shape c() {
        return Shape.matrix(m, n);
    }
}
