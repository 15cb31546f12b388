/**
 * OpenCL C kernel sources, shipped as classpath resources under {@code dev/jacobian/kernels/*.cl} (one
 * file per op family), and {@link dev.jacobian.kernels.KernelSources}, the loader that reads them. Nothing
 * here touches OpenCL itself; the OpenCL backend compiles these sources.
 */
package dev.jacobian.kernels;
