/**
 * The {@code jacobian} command line: {@link dev.jacobian.samples.JacobianCli} and its subcommands
 * {@code train}, {@code eval}, {@code predict} and {@code info}. The work itself lives in the
 * {@code data}, {@code checkpoint} and {@code training} subpackages.
 */
package dev.jacobian.samples;
