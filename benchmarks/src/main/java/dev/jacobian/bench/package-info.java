/**
 * JMH benchmarks of Jacobian's kernels against peers: one class per op family ({@link
 * dev.jacobian.bench.GemmBenchmark} for SGEMM against OpenBLAS through netlib-java). Each fork gets the
 * Vector API flag; results go to JMH's JSON ({@code -rf json}), which {@code benchmarks/report.py} turns
 * into a table of GFLOP/s and ratios.
 */
package dev.jacobian.bench;
