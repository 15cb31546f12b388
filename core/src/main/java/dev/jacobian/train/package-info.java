/** The training step: batch upload, forward, backward, optimizer update, and NaN detection. */
package dev.jacobian.train;
