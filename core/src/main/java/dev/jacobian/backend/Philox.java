package dev.jacobian.backend;

import java.util.Objects;

/**
 * The counter-based generator Philox4x32-10 of Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as
 * easy as 1, 2, 3" (SC '11, 2011), as in their Random123 library: the reference that every backend's
 * {@link Backend#randomUniform} reproduces bit for bit.
 *
 * <p>A block maps a 128-bit counter and a 64-bit key to 128 random bits with 10 rounds of
 * {@code (hi, lo) = M * x} on two of the four 32-bit words, the high halves XORed with the other two words
 * and the round key, and a Weyl-sequence bump of the key between rounds. Only 32- and 64-bit integer
 * arithmetic is involved, so the output is the same on every platform.
 *
 * <p>The uniform floats follow {@link Backend#randomUniform}: element {@code i} of a draw with
 * {@code (key, counter)} is lane {@code i % 4} of the block with counter words
 * {@code {lo32(counter + i / 4), hi32(counter + i / 4), 0, 0}} (the 64-bit sum wraps) and key words
 * {@code {lo32(key), hi32(key)}}, turned into {@code (u >>> 8) * 2^-24}: one of the 2^24 evenly spaced
 * floats in {@code [0, 1)}, computed exactly in float32.
 *
 * <p>Stateless; every method is thread-safe.
 */
public final class Philox {
    /** The round multiplier applied to counter word 0 ({@code PHILOX_M4x32_0}). */
    public static final int M0 = 0xD2511F53;
    /** The round multiplier applied to counter word 2 ({@code PHILOX_M4x32_1}). */
    public static final int M1 = 0xCD9E8D57;
    /** The Weyl constant added to key word 0 between rounds ({@code PHILOX_W32_0}, the golden ratio). */
    public static final int W0 = 0x9E3779B9;
    /** The Weyl constant added to key word 1 between rounds ({@code PHILOX_W32_1}, {@code sqrt(3) - 1}). */
    public static final int W1 = 0xBB67AE85;
    /** Number of rounds. */
    public static final int ROUNDS = 10;
    /** The float spacing {@code 2^-24} of {@link #toUniform}. */
    public static final float ULP = 0x1p-24f;

    private static final long MASK = 0xFFFF_FFFFL;

    private Philox() {
    }

    /**
     * One Philox4x32-10 block: writes the four output words for counter {@code {ctr0, ctr1, ctr2, ctr3}}
     * and key {@code {key0, key1}} (each an unsigned 32-bit word held in an {@code int}) to
     * {@code out4[0..3]}.
     *
     * @throws IllegalArgumentException when {@code out4} has fewer than 4 elements
     */
    public static void block(int ctr0, int ctr1, int ctr2, int ctr3, int key0, int key1, int[] out4) {
        Objects.requireNonNull(out4, "out4");
        if (out4.length < 4) {
            throw new IllegalArgumentException("out4 needs 4 elements, has " + out4.length);
        }
        int c0 = ctr0;
        int c1 = ctr1;
        int c2 = ctr2;
        int c3 = ctr3;
        int k0 = key0;
        int k1 = key1;
        for (int r = 0; r < ROUNDS; r++) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & MASK) * (c0 & MASK);
            long p1 = (M1 & MASK) * (c2 & MASK);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
        }
        out4[0] = c0;
        out4[1] = c1;
        out4[2] = c2;
        out4[3] = c3;
    }

    /** The uniform float in {@code [0, 1)} made from the 32 random bits {@code u}: {@code (u >>> 8) * 2^-24}, exact. */
    public static float toUniform(int u) {
        return (u >>> 8) * ULP;
    }

    /**
     * Element {@code i} of the draw {@code (key, counter)}, as {@link Backend#randomUniform} specifies: lane
     * {@code i % 4} of the block for counter {@code counter + i / 4} (wrapping), as a float in {@code [0, 1)}.
     *
     * @throws IllegalArgumentException when {@code i} is negative
     */
    public static float uniform(long key, long counter, int i) {
        if (i < 0) {
            throw new IllegalArgumentException("element index must be >= 0: " + i);
        }
        long c = counter + (i >>> 2);
        int[] out = new int[4];
        block((int) c, (int) (c >>> 32), 0, 0, (int) key, (int) (key >>> 32), out);
        return toUniform(out[i & 3]);
    }

    /**
     * Writes elements {@code 0 .. n - 1} of the draw {@code (key, counter)} to {@code out[offset .. offset + n)},
     * computing each block once for its four elements. Equal, element for element, to {@link #uniform}.
     *
     * @throws IndexOutOfBoundsException when the range does not fit in {@code out}
     */
    public static void fill(long key, long counter, float[] out, int offset, int n) {
        Objects.checkFromIndexSize(offset, n, Objects.requireNonNull(out, "out").length);
        int k0 = (int) key;
        int k1 = (int) (key >>> 32);
        int[] words = new int[4];
        for (int base = 0; base < n; base += 4) {
            long c = counter + (base >>> 2);
            block((int) c, (int) (c >>> 32), 0, 0, k0, k1, words);
            int lanes = Math.min(4, n - base);
            for (int lane = 0; lane < lanes; lane++) {
                out[offset + base + lane] = toUniform(words[lane]);
            }
        }
    }
}
