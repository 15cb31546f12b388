package dev.jacobian.backend;

/** Which way a reduction runs over the matrix view {@code [m, n]} of a tensor. */
public enum Axis {
    /** Over dimension 0 (down each column): {@code [m, n] -> [1, n]}. The bias gradient is one. */
    ROWS,
    /** Over dimension 1 (along each row): {@code [m, n] -> [m, 1]}. Per-sample sums are one. */
    COLS,
    /** Over every element: {@code [m, n] -> [1, 1]}. */
    ALL
}
