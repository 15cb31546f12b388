/**
 * Tensors and shapes: float32, row-major, with storage owned by a backend. Nothing here reads tensor
 * memory directly; everything goes through the {@link dev.jacobian.backend.Backend} that owns it.
 */
package dev.jacobian.tensor;
