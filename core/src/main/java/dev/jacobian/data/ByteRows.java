package dev.jacobian.data;

/**
 * A batch's features as rows of unsigned bytes, read where the data set stores them ({@link Batch#byteRows()}): row
 * {@code r} (for {@code r < rows()}) is the {@link #rowLength()} bytes of {@link #source()} from {@link #offsets()
 * offsets()[r]}, and each byte {@code b} stands for the float {@code (b & 0xff) / divisor()} (one correctly rounded
 * float division), exactly what {@link Batch#features()} holds for it.
 *
 * <p>A backend takes such rows in one pass ({@code Backend.uploadByteRows}): it gathers the rows and converts them as
 * it writes its tensor, where the float path first converts them into the batch's host array and then copies that
 * array; a batch of 128 Fashion-MNIST images is 100 KB of bytes against 400 KB of floats.
 *
 * <p><b>Shared, not copied.</b> {@link #source()} is the data set's own pixel array (read it, never write it), or,
 * when the loader prefetches, the batch's copy of its images, and {@link #offsets()} is the loader's array, refilled
 * for the next batch: both are valid as long as the batch is (see {@link Batch}).
 */
public final class ByteRows {
    private final byte[] source;
    private final int[] offsets;
    private final int rowLength;
    private final float divisor;
    private int rows;

    /** Rows of {@code rowLength} bytes of {@code source}, room for {@code offsets.length}; none set yet. */
    ByteRows(byte[] source, int[] offsets, int rowLength, float divisor) {
        this.source = source;
        this.offsets = offsets;
        this.rowLength = rowLength;
        this.divisor = divisor;
    }

    /** Sets how many rows of {@link #offsets()} are this batch's (the loader, after it filled them). */
    void setRows(int rows) {
        this.rows = rows;
    }

    /** The bytes the rows are read from: the data set's stored pixels or the batch's copy of them (read only). */
    public byte[] source() {
        return source;
    }

    /**
     * Where each row starts in {@link #source()}: the first {@link #rows()} entries are this batch's; the array has
     * room for a whole batch and is the loader's.
     */
    public int[] offsets() {
        return offsets;
    }

    /** The rows of this batch. */
    public int rows() {
        return rows;
    }

    /** Bytes per row: the data set's {@link Dataset#features()}. */
    public int rowLength() {
        return rowLength;
    }

    /** What each byte value is divided by ({@link ImageDataset#SCALE} for images). */
    public float divisor() {
        return divisor;
    }

    /**
     * Writes the rows' floats one row after another from {@code dst[dstOffset]}: {@code rows() * rowLength()} values,
     * the same bits as a backend's upload of them.
     *
     * @throws IndexOutOfBoundsException when {@code dst} has no room for them from {@code dstOffset}
     */
    public void toFloats(float[] dst, int dstOffset) {
        java.util.Objects.checkFromIndexSize(dstOffset, rows * rowLength, dst.length);
        for (int r = 0; r < rows; r++) {
            ImageDataset.toFloats(source, offsets[r], dst, dstOffset + r * rowLength, rowLength, divisor);
        }
    }

    @Override
    public String toString() {
        return "ByteRows[" + rows + " rows of " + rowLength + " bytes, divided by " + divisor + "]";
    }
}
