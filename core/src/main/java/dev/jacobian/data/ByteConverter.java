package dev.jacobian.data;

/**
 * Converts unsigned bytes to floats: {@code dst[dstOffset + i] = (src[srcOffset + i] & 0xff) / divisor} for each
 * {@code i} in {@code [0, count)}, exactly those bits (each value one correctly rounded float division).
 *
 * <p>A service: {@link ImageDataset} converts its pixels with the first implementation {@link java.util.ServiceLoader}
 * finds on its class loader, and with loops of its own when there is none. The CPU backend registers one that runs on
 * the Vector API, several times as fast as what the JIT makes of the plain loop (which widens the bytes one at a
 * time). An implementation is listed in {@code META-INF/services/dev.jacobian.data.ByteConverter} and has a public
 * constructor without arguments; it must be safe to call from several threads at once.
 */
public interface ByteConverter {
    /**
     * Writes {@code (src[srcOffset + i] & 0xff) / divisor} to {@code dst[dstOffset + i]} for {@code i} in
     * {@code [0, count)}.
     *
     * @param src       the bytes, read as unsigned ({@code 0..255})
     * @param srcOffset the first byte read
     * @param dst       where the floats go
     * @param dstOffset the first float written
     * @param count     how many
     * @param divisor   what each byte value is divided by (as a float division)
     * @throws IndexOutOfBoundsException when either range lies outside its array or {@code count} is negative
     */
    void toFloats(byte[] src, int srcOffset, float[] dst, int dstOffset, int count, float divisor);
}
