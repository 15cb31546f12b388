/**
 * The pure-Java CPU backend: {@link dev.jacobian.cpu.CpuBackend} and its provider.
 *
 * <p>One class per op family ({@code CpuMatmul}, {@code CpuElementwise}, {@code CpuReduce},
 * {@code CpuOptimizer}) holds the scalar twins and dispatches to a {@code *Vector} class holding the Vector
 * API kernels. Only the {@code *Vector} classes and {@code Simd} reference {@code jdk.incubator.vector};
 * they are loaded only when {@code VectorSupport} found that module at run time, so the backend still
 * works (scalar, with one warning) on a JVM started without {@code --add-modules=jdk.incubator.vector}.
 * Threading lives in {@code Parallel} and never inside a SIMD loop.
 */
package dev.jacobian.cpu;
