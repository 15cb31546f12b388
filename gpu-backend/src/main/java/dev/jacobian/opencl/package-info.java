/**
 * The OpenCL backend: {@link dev.jacobian.opencl.ClBackend} (JOCL), its provider, and
 * {@link dev.jacobian.opencl.ClInfo}, which lists platforms and devices with their limits. Inside, one
 * file per concern: the context and queue ({@code ClContext}), program cache, buffer pool, the loader
 * shim for machines with only {@code libOpenCL.so.1}, and the host side of each kernel family
 * ({@code ClMatmul}, {@code ClElementwise}, {@code ClBroadcast}, {@code ClReduce}, {@code ClSoftmaxLoss},
 * {@code ClOptimizer}). Tensor views at a nonzero offset are sub-buffers.
 * Kernel sources come from the {@code jacobian-kernels} module.
 */
package dev.jacobian.opencl;
