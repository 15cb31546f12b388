package dev.jacobian.samples.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AugmentationTest {
    private static final int H = 5;
    private static final int W = 7;

    /** An image whose every pixel is distinct (1-based, so that a zero fill is told apart from pixel 0). */
    private static float[] image() {
        float[] x = new float[H * W];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
        }
        return x;
    }

    /** The definition, pixel by pixel: out(r, c) = in(r - dy, mirror(c - dx)), zero outside. */
    private static float[] reference(float[] in, boolean mirror, int dy, int dx) {
        float[] out = new float[H * W];
        for (int r = 0; r < H; r++) {
            for (int c = 0; c < W; c++) {
                int sr = r - dy;
                int sc = c - dx;
                if (sr >= 0 && sr < H && sc >= 0 && sc < W) {
                    out[r * W + c] = in[sr * W + (mirror ? W - 1 - sc : sc)];
                }
            }
        }
        return out;
    }

    @Test
    void everyDrawIsTheDefinitionsFlipAndShift() {
        Augmentation aug = new Augmentation(true, 2);
        float[] in = image();
        SplittableRandom random = new SplittableRandom(7);
        SplittableRandom same = new SplittableRandom(7);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            float[] out = new float[3 + H * W];
            aug.apply(in, 0, out, 3, H, W, random);
            boolean mirror = same.nextBoolean();
            int dy = same.nextInt(5) - 2;
            int dx = same.nextInt(5) - 2;
            float[] expected = new float[3 + H * W];
            System.arraycopy(reference(in, mirror, dy, dx), 0, expected, 3, H * W);
            assertArrayEquals(expected, out, "mirror " + mirror + " dy " + dy + " dx " + dx);
            seen.add(mirror + " " + dy + " " + dx);
        }
        assertEquals(2 * 5 * 5, seen.size(), "every flip and shift is drawn");
    }

    @Test
    void shiftLargerThanTheImageGivesZeros() {
        Augmentation aug = new Augmentation(false, 9);
        float[] in = image();
        SplittableRandom random = new SplittableRandom(3);
        SplittableRandom same = new SplittableRandom(3);
        for (int i = 0; i < 300; i++) {
            float[] out = new float[H * W];
            aug.apply(in, 0, out, 0, H, W, random);
            int dy = same.nextInt(19) - 9;
            int dx = same.nextInt(19) - 9;
            assertArrayEquals(reference(in, false, dy, dx), out, "dy " + dy + " dx " + dx);
        }
    }

    @Test
    void noneCopiesAndDrawsNothing() {
        float[] in = image();
        float[] out = new float[H * W];
        SplittableRandom random = new SplittableRandom(11);
        Augmentation.NONE.apply(in, 0, out, 0, H, W, random);
        assertArrayEquals(in, out);
        assertEquals(new SplittableRandom(11).nextLong(), random.nextLong(), "no draw taken");
        assertFalse(Augmentation.NONE.active());
    }

    @Test
    void namesAreParsedAndBadOnesNamed() {
        assertEquals(new Augmentation(true, Augmentation.SHIFT_PIXELS), Augmentation.of(List.of("flip", "SHIFT")));
        assertEquals(new Augmentation(true, 0), Augmentation.of(List.of("flip")));
        assertEquals(Augmentation.NONE, Augmentation.of(List.of("none")));
        assertTrue(Augmentation.of(List.of("shift")).active());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Augmentation.of(List.of("rotate")));
        assertTrue(e.getMessage().contains("--augment takes [none, flip, shift], got 'rotate'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Augmentation.of(List.of("none", "flip")));
        assertTrue(e.getMessage().contains("--augment none cannot be combined"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Augmentation(false, -1));
    }
}
