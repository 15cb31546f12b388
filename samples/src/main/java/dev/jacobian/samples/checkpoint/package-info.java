/**
 * Checkpoints: the safetensors format (readable by PyTorch's {@code safetensors} package), the JSON
 * metadata beside it, and atomic writes (temporary file, {@code force}, atomic rename) so that a crash
 * never leaves a torn checkpoint.
 */
package dev.jacobian.samples.checkpoint;
