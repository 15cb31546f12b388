/**
 * The backend SPI: {@link dev.jacobian.backend.Backend} (memory, transfers and the primitive kernels
 * listed in {@link dev.jacobian.backend.Primitive}), {@link dev.jacobian.backend.BackendProvider}
 * (ServiceLoader discovery) and {@link dev.jacobian.backend.Backends} (selection by name). Nothing here
 * knows about OpenCL or the Vector API.
 */
package dev.jacobian.backend;
