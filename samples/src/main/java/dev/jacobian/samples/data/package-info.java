/**
 * The command line's data: locating a data directory's MNIST-format files ({@link
 * dev.jacobian.samples.data.DataDirectory}), the class names, and the training-time augmentation. The IDX reader,
 * the data sets, the seeded split and the data loader are the library's ({@code dev.jacobian.data}).
 */
package dev.jacobian.samples.data;
