package dev.jacobian.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PhiloxTest {

    /**
     * Known-answer vectors for philox4x32 with 10 rounds: counter (4 words), key (2 words), expected (4 words).
     * The first three are the philox4x32 10 lines of Random123's {@code examples/kat_vectors} (Salmon et al.),
     * the rest come from the extended, generated {@code kat_vectors} of the Random123 test suite (single-bit and
     * high-bit counters and keys).
     */
    static Stream<int[]> knownAnswers() {
        return Stream.of(
                new int[] {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
                        0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                new int[] {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
                        0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
                        0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                new int[] {0x00000001, 0x00000000, 0x00000000, 0x00000000, 0x00000001, 0x00000000,
                        0xac08141b, 0xdfc5ccbe, 0x79c07a47, 0xa7f66093},
                new int[] {0x00000000, 0x80000000, 0x00000000, 0x00000000, 0x00000001, 0x00000000,
                        0x34a4d61d, 0x340e4017, 0xf6945830, 0xe9f52b96},
                new int[] {0x00000000, 0x00000000, 0x00000000, 0x80000000, 0x00000000, 0x80000000,
                        0xf7a0b371, 0xe51dc93d, 0x56ce135d, 0x1d4b5580},
                new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0x00000000, 0x80000000,
                        0x63675d2c, 0x422d7c4d, 0x3145d30d, 0x3bce33a4});
    }

    @ParameterizedTest
    @MethodSource("knownAnswers")
    void blockMatchesRandom123(int[] v) {
        int[] out = new int[4];
        Philox.block(v[0], v[1], v[2], v[3], v[4], v[5], out);
        assertArrayEquals(new int[] {v[6], v[7], v[8], v[9]}, out,
                () -> String.format("ctr %08x %08x %08x %08x key %08x %08x", v[0], v[1], v[2], v[3], v[4], v[5]));
    }

    @Test
    void uniformIsTheSpecifiedLaneOfTheSpecifiedBlock() {
        // element i is lane i % 4 of the block for counter + i / 4, low counter word first, upper two words 0
        long key = 0x299f31d0a4093822L;
        long counter = 0x85a308d3243f6a88L;
        int[] words = new int[4];
        for (int i = 0; i < 12; i++) {
            long c = counter + i / 4;
            Philox.block((int) c, (int) (c >>> 32), 0, 0, 0xa4093822, 0x299f31d0, words);
            float expected = (words[i % 4] >>> 8) * 0x1p-24f;
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(Philox.uniform(key, counter, i)),
                    "element " + i);
        }
        // all-zero counter and key: the first vector, lane by lane
        int[] zero = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
        for (int lane = 0; lane < 4; lane++) {
            assertEquals((zero[lane] >>> 8) / 16777216.0, Philox.uniform(0L, 0L, lane), 0.0, "lane " + lane);
        }
    }

    @Test
    void counterWrapsAtTwoToTheSixtyFour() {
        long counter = -1L;                 // 2^64 - 1: element 4 uses counter 0
        assertEquals(Philox.uniform(7L, 0L, 0), Philox.uniform(7L, counter, 4));
        assertEquals(Philox.uniform(7L, 0L, 3), Philox.uniform(7L, counter, 7));
        long lowCarry = 0xFFFF_FFFFL;       // element 4 carries into the high counter word
        assertEquals(Philox.uniform(7L, 1L << 32, 1), Philox.uniform(7L, lowCarry, 5));
    }

    @Test
    void toUniformIsExactAndBelowOne() {
        assertEquals(0f, Philox.toUniform(0));
        assertEquals(0f, Philox.toUniform(0xFF));
        assertEquals(0x1p-24f, Philox.toUniform(0x100));
        assertEquals(1f - 0x1p-24f, Philox.toUniform(-1));
        assertTrue(Philox.toUniform(-1) < 1f);
        assertEquals(0.5f, Philox.toUniform(0x80000000));
    }

    @Test
    void fillMatchesUniformElementByElement() {
        long[][] draws = {{0L, 0L}, {0x8000_0000_0000_0001L, -3L}, {42L, 0xFFFF_FFFEL}, {-1L, 123_456_789L}};
        for (long[] d : draws) {
            for (int n : new int[] {0, 1, 3, 4, 5, 17, 1000}) {
                float[] out = new float[n + 10];
                java.util.Arrays.fill(out, -1f);
                Philox.fill(d[0], d[1], out, 3, n);
                for (int i = 0; i < out.length; i++) {
                    boolean inside = i >= 3 && i < 3 + n;
                    float expected = inside ? Philox.uniform(d[0], d[1], i - 3) : -1f;
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[i]),
                            "key " + d[0] + " counter " + d[1] + " n " + n + " index " + i);
                }
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> Philox.block(0, 0, 0, 0, 0, 0, new int[3]));
        assertThrows(IllegalArgumentException.class, () -> Philox.uniform(0, 0, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> Philox.fill(0, 0, new float[4], 1, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> Philox.fill(0, 0, new float[4], -1, 1));
    }

    @Test
    void meanIsAboutOneHalf() {
        float[] out = new float[100_000];
        Philox.fill(0x5EEDL, 0L, out, 0, out.length);
        double sum = 0;
        for (float v : out) {
            assertTrue(v >= 0f && v < 1f, "in [0, 1): " + v);
            sum += v;
        }
        assertEquals(0.5, sum / out.length, 0.01);
    }
}
