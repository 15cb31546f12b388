/*
 * random.cl — uniform floats in [0, 1) from the counter-based generator Philox4x32-10 (Salmon, Moraes, Dror,
 * Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC '11; the Random123 library), bit-identical to the
 * Java reference dev.jacobian.backend.Philox:
 *
 *   block b: counter words {lo32(counter + b), hi32(counter + b), 0, 0} (64-bit sum, wrapping), key words
 *            {key_lo, key_hi}; 10 rounds of
 *              (hi0, lo0) = 0xD2511F53 * c0,  (hi1, lo1) = 0xCD9E8D57 * c2
 *              c = {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0}
 *            with the key bumped by the Weyl constants (0x9E3779B9, 0xBB67AE85) before rounds 2..10
 *   out[4 * b + lane] = (c_lane >> 8) * 2^-24      for lane 0..3 with 4 * b + lane < count
 *
 * Integer arithmetic only (mul_hi for the high words), and the float conversion is exact: (u >> 8) < 2^24
 * converts to float without rounding and the product with 2^-24 is a power-of-two scaling of a normal
 * number, so every device gives the same bits.
 *
 * Layout: out is a flat float32 array of `count` elements. The 64-bit key and counter are passed as their
 * low and high 32-bit words.
 * Index order: one work-item per 4-element block (NDRange dimension 0 is the block index b, guarded by
 * ceil(count / 4), so the host may round the global size up); the last block writes only its first
 * count - 4 * b elements.
 *
 * Tuning constants: none (the host picks the work-group size).
 */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* One Philox4x32 round on c with round key (k0, k1). */
#define PHILOX_ROUND(c, k0, k1)                                                       \
    do {                                                                              \
        const uint hi0_ = mul_hi(PHILOX_M0, (c).s0);                                  \
        const uint lo0_ = PHILOX_M0 * (c).s0;                                         \
        const uint hi1_ = mul_hi(PHILOX_M1, (c).s2);                                  \
        const uint lo1_ = PHILOX_M1 * (c).s2;                                         \
        (c) = (uint4)(hi1_ ^ (c).s1 ^ (k0), lo1_, hi0_ ^ (c).s3 ^ (k1), lo0_);        \
    } while (0)

/* The Philox4x32-10 block for counter c and key (k0, k1). */
static uint4 philox4x32_10(uint4 c, uint k0, uint k1) {
    PHILOX_ROUND(c, k0, k1);
    for (int r = 1; r < 10; r++) {
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
        PHILOX_ROUND(c, k0, k1);
    }
    return c;
}

/* Exact: (u >> 8) < 2^24 is representable, and scaling by 2^-24 only changes the exponent. */
static float philox_uniform(uint u) {
    return (float)(u >> 8) * 0x1.0p-24f;
}

__kernel void random_uniform(const int count, const uint key_lo, const uint key_hi, const uint counter_lo,
                             const uint counter_hi, __global float* out) {
    const uint b = (uint) get_global_id(0);
    const uint blocks = ((uint) count + 3u) >> 2;
    if (b >= blocks) {
        return;
    }
    /* counter + b as a 64-bit sum of two 32-bit words: carry into the high word when the low word wraps. */
    const uint lo = counter_lo + b;
    const uint hi = counter_hi + (lo < counter_lo ? 1u : 0u);
    const uint4 r = philox4x32_10((uint4)(lo, hi, 0u, 0u), key_lo, key_hi);
    const uint base = b << 2;
    const uint left = (uint) count - base;
    out[base] = philox_uniform(r.s0);
    if (left > 1u) {
        out[base + 1u] = philox_uniform(r.s1);
    }
    if (left > 2u) {
        out[base + 2u] = philox_uniform(r.s2);
    }
    if (left > 3u) {
        out[base + 3u] = philox_uniform(r.s3);
    }
}
