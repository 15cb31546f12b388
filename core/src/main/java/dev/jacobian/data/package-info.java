/**
 * Training data in memory: the {@link dev.jacobian.data.IdxReader} of MNIST-format files (raw or gzip, checked
 * before anything is allocated; every problem one {@link dev.jacobian.data.IdxFormatException}), the
 * {@link dev.jacobian.data.Dataset} abstraction with {@link dev.jacobian.data.ImageDataset} (pixels kept as bytes,
 * scaled per sample) and {@link dev.jacobian.data.FloatDataset}, index views and the seeded
 * {@link dev.jacobian.data.Split}, and the {@link dev.jacobian.data.DataLoader}, which shuffles by seed and epoch
 * ({@link dev.jacobian.data.Shuffling}) and prepares the next {@link dev.jacobian.data.Batch} on a thread of its own
 * while a step runs.
 */
package dev.jacobian.data;
