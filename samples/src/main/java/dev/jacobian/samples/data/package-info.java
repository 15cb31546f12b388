/**
 * Training data: the IDX file reader (MNIST format, raw or gzip), the {@link dev.jacobian.samples.data.Dataset}
 * it produces, locating a data directory's files, and the seeded validation split and per-epoch shuffle.
 */
package dev.jacobian.samples.data;
