/**
 * Files: models saved and loaded with their architecture and PyTorch-compatible weights
 * ({@link dev.jacobian.io.ModelFile}), the safetensors format ({@link dev.jacobian.io.SafeTensors}) and atomic writes
 * ({@link dev.jacobian.io.AtomicFiles}). Every reader validates before it allocates and reports a bad file as a
 * {@link dev.jacobian.io.ModelFormatException} whose one-line message names the file.
 */
package dev.jacobian.io;
