package dev.jacobian.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jacobian.data.ByteConverter;
import dev.jacobian.data.ImageDataset;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend's pixel converter gives the bits of {@code (b & 0xff) / divisor} with and without vectors, at any
 * offset and length (the vector steps and the tail), is the one core's image sets find, and checks its ranges.
 */
class CpuByteConverterTest {
    /** Every byte value, then a random tail: 256 + 57 bytes, so that no length divides it. */
    private static byte[] bytes() {
        byte[] b = new byte[256 + 57];
        for (int i = 0; i < 256; i++) {
            b[i] = (byte) i;
        }
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 256; i < b.length; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    private static float[] definition(byte[] src, int from, int count, float divisor, int dstOffset, int dstLength) {
        float[] d = new float[dstLength];
        for (int k = 0; k < count; k++) {
            d[dstOffset + k] = (src[from + k] & 0xff) / divisor;
        }
        return d;
    }

    @Test
    void vectorAndLoopGiveTheDefinitionsBitsAtEveryOffsetAndLength() {
        byte[] src = bytes();
        CpuByteConverter vector = new CpuByteConverter();
        CpuByteConverter loop = new CpuByteConverter(false);
        assertEquals(CpuBackend.vectorAvailable(), vector.usesVector(), "vector whenever the Vector API is on");
        assertTrue(!loop.usesVector());
        for (float divisor : new float[] {ImageDataset.SCALE, 3f, 0.1f}) {
            for (int from = 0; from < 40; from += 3) {
                for (int count : new int[] {0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 100, 256, src.length - from}) {
                    if (from + count > src.length) {
                        continue;
                    }
                    int dstOffset = from % 5;
                    float[] want = definition(src, from, count, divisor, dstOffset, count + 9);
                    for (CpuByteConverter c : new CpuByteConverter[] {vector, loop}) {
                        float[] got = new float[count + 9];
                        c.toFloats(src, from, got, dstOffset, count, divisor);
                        String where = "from " + from + " count " + count + " divisor " + divisor + " vector "
                                + c.usesVector();
                        assertArrayEquals(want, got, where);
                    }
                }
            }
        }
    }

    @Test
    void coresImageSetsFindItAndConvertWithIt() {
        assertTrue(ServiceLoader.load(ByteConverter.class).stream()
                .anyMatch(p -> p.type() == CpuByteConverter.class), "registered as a service");
        // a shuffled batch of 28x28 images and single images, as the data loader and the evaluator read them
        int n = 40;
        int f = 28 * 28;
        byte[] px = new byte[n * f];
        new SplittableRandom(3).nextBytes(px);
        ImageDataset images = new ImageDataset("random", px, new int[n], 1, 28, 28);
        int[] order = {17, 3, 39, 0, 22, 5, 5, 11};
        float[] batch = new float[order.length * f];
        images.copyFeatures(order, 0, order.length, batch, 0);
        for (int i = 0; i < order.length; i++) {
            float[] one = new float[f];
            images.copyFeatures(order[i], one, 0);
            for (int k = 0; k < f; k++) {
                float want = (px[order[i] * f + k] & 0xff) / ImageDataset.SCALE;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(batch[i * f + k]));
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(one[k]));
            }
        }
    }

    @Test
    void rangesOutsideTheArraysAreRefused() {
        CpuByteConverter c = new CpuByteConverter();
        byte[] src = new byte[20];
        float[] dst = new float[20];
        assertThrows(IndexOutOfBoundsException.class, () -> c.toFloats(src, 5, dst, 0, 16, 255f));
        assertThrows(IndexOutOfBoundsException.class, () -> c.toFloats(src, 0, dst, 5, 16, 255f));
        assertThrows(IndexOutOfBoundsException.class, () -> c.toFloats(src, -1, dst, 0, 4, 255f));
        assertThrows(IndexOutOfBoundsException.class, () -> c.toFloats(src, 0, dst, 0, -1, 255f));
    }
}
