//! SHA-256 compression of four independent blocks at once (Tessera fork).
//!
//! The OT extension hashes hundreds of short, independent messages per
//! signature (PRG rows, the randomization of every OT). SHA-256 itself is
//! unchanged: this is FIPS 180-4's compression function, run on four
//! (state, block) pairs side by side in the four 32-bit lanes of a wasm
//! `v128` (one message per lane, "multi-buffer" hashing). The scalar
//! `sha2::compress256` computes one block at a time and cannot use the lanes
//! for the rounds, which are sequential within one message.
//!
//! Outside wasm (the native differential test, other targets) the same code
//! runs on `[u32; 4]` lanes. In wasm, [`self_check`] compares the vector
//! path with `sha2` once per instance before it is first used.

use sha2::block_api::compress256;

/// The eight 32-bit words of a SHA-256 state.
pub type State = [u32; 8];

/// The SHA-256 initial state (FIPS 180-4, 5.3.3).
pub const IV: State = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct V(v128);

    #[inline(always)]
    pub fn from4(a: u32, b: u32, c: u32, d: u32) -> V {
        V(u32x4(a, b, c, d))
    }
    #[inline(always)]
    pub fn splat(x: u32) -> V {
        V(u32x4_splat(x))
    }
    #[inline(always)]
    pub fn lane(v: V, i: usize) -> u32 {
        match i {
            0 => u32x4_extract_lane::<0>(v.0),
            1 => u32x4_extract_lane::<1>(v.0),
            2 => u32x4_extract_lane::<2>(v.0),
            _ => u32x4_extract_lane::<3>(v.0),
        }
    }
    #[inline(always)]
    pub fn add(a: V, b: V) -> V {
        V(i32x4_add(a.0, b.0))
    }
    #[inline(always)]
    pub fn xor(a: V, b: V) -> V {
        V(v128_xor(a.0, b.0))
    }
    #[inline(always)]
    pub fn rotr(a: V, n: u32) -> V {
        V(v128_or(u32x4_shr(a.0, n), i32x4_shl(a.0, 32 - n)))
    }
    #[inline(always)]
    pub fn shr(a: V, n: u32) -> V {
        V(u32x4_shr(a.0, n))
    }
    /// `(e & f) ^ (!e & g)`
    #[inline(always)]
    pub fn ch(e: V, f: V, g: V) -> V {
        V(v128_bitselect(f.0, g.0, e.0))
    }
    /// The 16 big-endian message words of four blocks, word `t` of lane `l`
    /// in lane `l` of the `t`-th vector: per 16 bytes, one load and a byte
    /// swap per block, then a 4x4 transpose.
    #[inline(always)]
    pub fn load_words(blocks: [&[u8; 64]; 4]) -> [V; 16] {
        let mut w = [V(u32x4_splat(0)); 16];
        for q in 0..4 {
            let r = blocks.map(|b| {
                // Big-endian words straight from the bytes (LLVM turns this
                // into a load and a byte shuffle; no unsafe code in the crate).
                let o = 16 * q;
                u8x16(
                    b[o + 3], b[o + 2], b[o + 1], b[o], b[o + 7], b[o + 6], b[o + 5], b[o + 4],
                    b[o + 11], b[o + 10], b[o + 9], b[o + 8], b[o + 15], b[o + 14], b[o + 13], b[o + 12],
                )
            });
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(r[0], r[1]);
            let t1 = i32x4_shuffle::<2, 6, 3, 7>(r[0], r[1]);
            let t2 = i32x4_shuffle::<0, 4, 1, 5>(r[2], r[3]);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(r[2], r[3]);
            w[4 * q] = V(i64x2_shuffle::<0, 2>(t0, t2));
            w[4 * q + 1] = V(i64x2_shuffle::<1, 3>(t0, t2));
            w[4 * q + 2] = V(i64x2_shuffle::<0, 2>(t1, t3));
            w[4 * q + 3] = V(i64x2_shuffle::<1, 3>(t1, t3));
        }
        w
    }
    /// `(a & b) ^ (a & c) ^ (b & c)`: `c` where `a` and `b` differ, else `b`.
    #[inline(always)]
    pub fn maj(a: V, b: V, c: V) -> V {
        V(v128_bitselect(c.0, b.0, v128_xor(a.0, b.0)))
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    #[derive(Clone, Copy)]
    pub struct V([u32; 4]);

    #[inline(always)]
    fn map2(a: V, b: V, f: impl Fn(u32, u32) -> u32) -> V {
        V([f(a.0[0], b.0[0]), f(a.0[1], b.0[1]), f(a.0[2], b.0[2]), f(a.0[3], b.0[3])])
    }
    #[inline(always)]
    pub fn from4(a: u32, b: u32, c: u32, d: u32) -> V {
        V([a, b, c, d])
    }
    #[inline(always)]
    pub fn splat(x: u32) -> V {
        V([x; 4])
    }
    #[inline(always)]
    pub fn lane(v: V, i: usize) -> u32 {
        v.0[i]
    }
    #[inline(always)]
    pub fn add(a: V, b: V) -> V {
        map2(a, b, u32::wrapping_add)
    }
    #[inline(always)]
    pub fn xor(a: V, b: V) -> V {
        map2(a, b, |x, y| x ^ y)
    }
    #[inline(always)]
    pub fn rotr(a: V, n: u32) -> V {
        V(a.0.map(|x| x.rotate_right(n)))
    }
    #[inline(always)]
    pub fn shr(a: V, n: u32) -> V {
        V(a.0.map(|x| x >> n))
    }
    #[inline(always)]
    pub fn ch(e: V, f: V, g: V) -> V {
        xor(map2(e, f, |x, y| x & y), map2(e, g, |x, y| !x & y))
    }
    #[inline(always)]
    pub fn load_words(blocks: [&[u8; 64]; 4]) -> [V; 16] {
        core::array::from_fn(|t| {
            V(blocks.map(|b| u32::from_be_bytes([b[4 * t], b[4 * t + 1], b[4 * t + 2], b[4 * t + 3]])))
        })
    }
    #[inline(always)]
    pub fn maj(a: V, b: V, c: V) -> V {
        let ab = map2(a, b, |x, y| x & y);
        let ac = map2(a, c, |x, y| x & y);
        let bc = map2(b, c, |x, y| x & y);
        xor(xor(ab, ac), bc)
    }
}

use lanes::*;

/// Compresses `blocks[i]` into `states[i]` for the four lanes `i`, exactly as
/// `sha2::compress256(&mut states[i], &[*blocks[i]])` would.
#[inline(never)]
pub fn compress4(states: &mut [State; 4], blocks: [&[u8; 64]; 4]) {
    let mut w = load_words(blocks);
    let mut s = [splat(0); 8];
    for (i, si) in s.iter_mut().enumerate() {
        *si = from4(states[0][i], states[1][i], states[2][i], states[3][i]);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = s;
    for t in 0..64 {
        if t >= 16 {
            let w15 = w[(t + 1) % 16];
            let w2 = w[(t + 14) % 16];
            let s0 = xor(xor(rotr(w15, 7), rotr(w15, 18)), shr(w15, 3));
            let s1 = xor(xor(rotr(w2, 17), rotr(w2, 19)), shr(w2, 10));
            w[t % 16] = add(add(w[t % 16], s0), add(w[(t + 9) % 16], s1));
        }
        let big_s1 = xor(xor(rotr(e, 6), rotr(e, 11)), rotr(e, 25));
        let t1 = add(add(add(h, big_s1), add(ch(e, f, g), splat(K[t]))), w[t % 16]);
        let big_s0 = xor(xor(rotr(a, 2), rotr(a, 13)), rotr(a, 22));
        let t2 = add(big_s0, maj(a, b, c));
        h = g;
        g = f;
        f = e;
        e = add(d, t1);
        d = c;
        c = b;
        b = a;
        a = add(t1, t2);
    }
    let out = [a, b, c, d, e, f, g, h];
    for (i, oi) in out.iter().enumerate() {
        let sum = add(s[i], *oi);
        for (lane_index, state) in states.iter_mut().enumerate() {
            state[i] = lane(sum, lane_index);
        }
    }
}

/// Compares [`compress4`] with `sha2`'s compression on fixed inputs (four
/// different states and blocks); panics if they differ.
pub fn self_check() {
    let mut blocks = [[0u8; 64]; 4];
    let mut states = [IV; 4];
    for (i, block) in blocks.iter_mut().enumerate() {
        for (j, byte) in block.iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(97).wrapping_add((j as u8).wrapping_mul(31)) ^ 0xa5;
        }
        for (j, word) in states[i].iter_mut().enumerate() {
            *word = word.rotate_left((i * 5 + j) as u32) ^ (i as u32).wrapping_mul(0x9e37_79b9);
        }
    }
    let mut expected = states;
    for (state, block) in expected.iter_mut().zip(blocks.iter()) {
        compress256(state, core::slice::from_ref(block));
    }
    compress4(&mut states, [&blocks[0], &blocks[1], &blocks[2], &blocks[3]]);
    assert!(states == expected, "sha256x4 differs from sha2: refusing to run");
}

/// [`self_check`] once per instance in wasm, where the vector code runs.
#[inline]
pub fn ensure_checked() {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        static CHECKED: AtomicBool = AtomicBool::new(false);
        if !CHECKED.load(Ordering::Relaxed) {
            self_check();
            CHECKED.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn compress4_matches_sha2() {
        super::self_check();
    }
}

/// What the hashers call. In wasm: [`compress4`], the four vector lanes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn compress4_best(states: &mut [State; 4], blocks: [&[u8; 64]; 4]) {
    compress4(states, blocks)
}

/// What the hashers call. Outside wasm: `sha2`'s own compression once per
/// lane, which uses the CPU's SHA extensions where there are any — faster
/// there than four software lanes, and the native build is the bench's
/// yardstick for the wasm one. Same outputs; [`compress4`]'s lanes are still
/// checked against `sha2` natively by the unit test.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn compress4_best(states: &mut [State; 4], blocks: [&[u8; 64]; 4]) {
    for (state, block) in states.iter_mut().zip(blocks) {
        compress256(state, core::slice::from_ref(block));
    }
}
