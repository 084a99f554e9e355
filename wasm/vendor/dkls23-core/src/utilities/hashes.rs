//! Functions relating hashes and byte conversions.
//!
//! Each subprotocol uses a different random oracle via [`tagged_hash`]
//! and fixed tags in `utilities::oracle_tags`.

use elliptic_curve::ops::Reduce;
use elliptic_curve::{CurveArithmetic, FieldBytes};
use group::{Curve as GroupCurve, GroupEncoding};
use hash2curve::GroupDigest;
use sha2::block_api::compress256;

use super::sha256x4;

use crate::curve::DklsCurve;
use crate::SECURITY;

/// Represents the output of the hash function.
///
/// We are using SHA-256, so the hash values have 256 bits.
pub type HashOutput = [u8; SECURITY as usize];

/// A [`tagged_hash`] computed incrementally: the same bytes
/// (`len(tag)||tag||len(component_0)||component_0||...`) fed straight into
/// SHA-256, without building the encoding in memory.
///
/// Cloning it after a fixed prefix gives the SHA-256 midstate of that prefix:
/// the blocks already compressed are not compressed again for each message
/// that shares the prefix (Tessera fork; the outputs are unchanged).
///
/// SHA-256 (FIPS 180-4) is computed here over `sha2`'s block function rather
/// than through `sha2::Sha256`, so that up to two blocks stay pending until
/// [`Self::finish`]: [`finish4_after`] compresses the tails of four
/// independent messages side by side ([`super::sha256x4`]).
#[derive(Clone)]
pub struct TaggedHasher {
    state: sha256x4::State,
    /// Pending bytes, not yet compressed (at most two blocks).
    buf: [u8; 128],
    pending: usize,
    /// Bytes compressed into `state` so far (a multiple of 64).
    compressed: u64,
}

impl TaggedHasher {
    /// Starts a tagged hash with `tag`.
    #[must_use]
    #[inline]
    pub fn new(tag: &[u8]) -> Self {
        let mut h = TaggedHasher {
            state: sha256x4::IV,
            buf: [0; 128],
            pending: 0,
            compressed: 0,
        };
        h.component(tag);
        h
    }

    /// Feeds raw bytes.
    #[inline]
    fn update(&mut self, mut data: &[u8]) {
        if self.pending + data.len() <= self.buf.len() {
            self.buf[self.pending..self.pending + data.len()].copy_from_slice(data);
            self.pending += data.len();
            return;
        }
        self.update_slow(&mut data);
    }

    #[inline(never)]
    fn update_slow(&mut self, data: &mut &[u8]) {
        // Complete and compress whole pending blocks while the rest does not fit.
        while self.pending + data.len() > self.buf.len() {
            if self.pending < 64 {
                let take = 64 - self.pending;
                self.buf[self.pending..64].copy_from_slice(&data[..take]);
                self.pending = 64;
                *data = &data[take..];
            }
            let block: &[u8; 64] = self.buf[..64].try_into().expect("64 bytes");
            compress256(&mut self.state, core::slice::from_ref(block));
            self.compressed += 64;
            self.buf.copy_within(64..self.pending, 0);
            self.pending -= 64;
            if self.pending == 0 && data.len() > self.buf.len() {
                // Long input: whole blocks straight from it, keeping the last
                // (up to two) blocks pending.
                let whole = (data.len() - self.buf.len()).div_ceil(64);
                let (blocks, rest) = data.split_at(whole * 64);
                let (blocks, _) = blocks.as_chunks::<64>();
                compress256(&mut self.state, blocks);
                self.compressed += (whole * 64) as u64;
                *data = rest;
            }
        }
        self.buf[self.pending..self.pending + data.len()].copy_from_slice(data);
        self.pending += data.len();
    }

    /// Compresses every complete pending block now, so that clones of this
    /// prefix share them (call it on a prefix before cloning it per message;
    /// the hash is unchanged).
    #[inline]
    pub fn flush(&mut self) -> &mut Self {
        while self.pending >= 64 {
            let block: &[u8; 64] = self.buf[..64].try_into().expect("64 bytes");
            compress256(&mut self.state, core::slice::from_ref(block));
            self.compressed += 64;
            self.buf.copy_within(64..self.pending, 0);
            self.pending -= 64;
        }
        self
    }

    /// Appends one length-prefixed component.
    #[inline]
    pub fn component(&mut self, component: &[u8]) -> &mut Self {
        self.update(&(component.len() as u64).to_be_bytes());
        self.update(component);
        self
    }

    /// Starts a component of `len` bytes that the caller then feeds with
    /// [`Self::piece`] (exactly `len` bytes in total).
    #[inline]
    pub fn component_len(&mut self, len: usize) -> &mut Self {
        self.update(&(len as u64).to_be_bytes());
        self
    }

    /// Feeds part of a component started with [`Self::component_len`].
    #[inline]
    pub fn piece(&mut self, bytes: &[u8]) -> &mut Self {
        self.update(bytes);
        self
    }

    /// The pending bytes with SHA-256's padding: 1 to 3 blocks.
    #[inline]
    fn padded_tail(&self) -> ([u8; 192], usize) {
        let mut tail = [0u8; 192];
        tail[..self.pending].copy_from_slice(&self.buf[..self.pending]);
        tail[self.pending] = 0x80;
        let blocks = (self.pending + 1 + 8).div_ceil(64);
        let bits = (self.compressed + self.pending as u64) * 8;
        tail[blocks * 64 - 8..blocks * 64].copy_from_slice(&bits.to_be_bytes());
        (tail, blocks)
    }

    /// The hash.
    #[must_use]
    #[inline]
    pub fn finish(self) -> HashOutput {
        let (tail, blocks) = self.padded_tail();
        let mut state = self.state;
        let (tail_blocks, _) = tail[..blocks * 64].as_chunks::<64>();
        compress256(&mut state, tail_blocks);
        state_to_bytes(&state)
    }

    /// The hash reduced to a scalar, as [`tagged_hash_as_scalar`].
    #[must_use]
    #[inline]
    pub fn finish_scalar<C: CurveArithmetic>(self) -> C::Scalar
    where
        C::Scalar: Reduce<FieldBytes<C>>,
    {
        let as_bytes = zeroize::Zeroizing::new(self.finish());
        reduce_hash_to_scalar::<C>(&as_bytes)
    }
}

fn state_to_bytes(state: &sha256x4::State) -> HashOutput {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state.iter()) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The hashes of four messages, each a (flushed) prefix followed by two
/// length-prefixed components, the blocks after the prefixes compressed side
/// by side (Tessera fork): the same outputs as cloning each prefix, adding
/// its two components and calling [`TaggedHasher::finish`].
#[must_use]
pub fn finish4_after(prefixes: [&TaggedHasher; 4], lanes: [[&[u8]; 2]; 4]) -> [HashOutput; 4] {
    sha256x4::ensure_checked();
    // Like the hasher's own buffer, these stack copies of the last blocks are
    // not wiped (in the wasm core every heap block is wiped on free).
    let mut tails = [[0u8; 128]; 4];
    let mut blocks = [0usize; 4];
    for i in 0..4 {
        let p = prefixes[i];
        let total = p.pending + lanes[i].iter().map(|c| 8 + c.len()).sum::<usize>();
        if total + 9 > 128 {
            return finish4_one_by_one(prefixes, lanes);
        }
        let tail = &mut tails[i];
        tail[..p.pending].copy_from_slice(&p.buf[..p.pending]);
        let mut at = p.pending;
        for c in lanes[i] {
            tail[at..at + 8].copy_from_slice(&(c.len() as u64).to_be_bytes());
            tail[at + 8..at + 8 + c.len()].copy_from_slice(c);
            at += 8 + c.len();
        }
        tail[at] = 0x80;
        blocks[i] = (at + 9).div_ceil(64);
        let bits = (p.compressed + at as u64) * 8;
        tail[blocks[i] * 64 - 8..blocks[i] * 64].copy_from_slice(&bits.to_be_bytes());
    }
    if blocks.iter().any(|&b| b != blocks[0]) {
        return finish4_one_by_one(prefixes, lanes);
    }
    let mut states = prefixes.map(|p| p.state);
    for round in 0..blocks[0] {
        let block = |i: usize| -> &[u8; 64] {
            tails[i][round * 64..round * 64 + 64].try_into().expect("64 bytes")
        };
        sha256x4::compress4_best(&mut states, [block(0), block(1), block(2), block(3)]);
    }
    states.map(|s| state_to_bytes(&s))
}

fn finish4_one_by_one(prefixes: [&TaggedHasher; 4], lanes: [[&[u8]; 2]; 4]) -> [HashOutput; 4] {
    [0, 1, 2, 3].map(|i| {
        let mut h = prefixes[i].clone();
        h.component(lanes[i][0]).component(lanes[i][1]);
        h.finish()
    })
}

/// `count` hashes, job `i` being a prefix and two components, finished four
/// at a time through [`finish4_after`]; `out(i, hash)` receives them in order.
pub fn finish_jobs<'a>(
    count: usize,
    job: impl Fn(usize) -> (&'a TaggedHasher, [&'a [u8]; 2]),
    mut out: impl FnMut(usize, &HashOutput),
) {
    let mut first = 0;
    while first < count {
        // A last group of fewer than four repeats its last job (result dropped).
        let jobs = [0, 1, 2, 3].map(|k| job((first + k).min(count - 1)));
        let hashes = finish4_after(jobs.map(|j| j.0), jobs.map(|j| j.1));
        for (k, hash) in hashes.iter().enumerate() {
            if first + k < count {
                out(first + k, hash);
            }
        }
        first += 4;
    }
}

/// `(tagged_hash(tag, [first[0], first[1], shared]), tagged_hash(tag,
/// [second[0], second[1], shared]))`: two hashes of a long common last
/// component behind prefixes of equal lengths, compressed side by side in two
/// lanes of [`sha256x4::compress4`] (Tessera fork; same outputs). Prefixes of
/// different lengths are hashed one after the other.
#[must_use]
pub fn tagged_hash_pair(
    tag: &[u8],
    first: [&[u8]; 2],
    second: [&[u8]; 2],
    shared: &[u8],
) -> (HashOutput, HashOutput) {
    let mut a = TaggedHasher::new(tag);
    a.component(first[0]).component(first[1]).component_len(shared.len()).flush();
    let mut b = TaggedHasher::new(tag);
    b.component(second[0]).component(second[1]).component_len(shared.len()).flush();
    if a.pending != b.pending || a.compressed != b.compressed || a.pending + shared.len() < 64 {
        a.piece(shared);
        b.piece(shared);
        return (a.finish(), b.finish());
    }
    sha256x4::ensure_checked();
    // The first block: each prefix's pending bytes, then the start of `shared`.
    let head = 64 - a.pending;
    let mut block_a = [0u8; 64];
    let mut block_b = [0u8; 64];
    block_a[..a.pending].copy_from_slice(&a.buf[..a.pending]);
    block_b[..b.pending].copy_from_slice(&b.buf[..b.pending]);
    block_a[a.pending..].copy_from_slice(&shared[..head]);
    block_b[b.pending..].copy_from_slice(&shared[..head]);
    let mut states = [a.state, b.state, a.state, b.state];
    sha256x4::compress4_best(&mut states, [&block_a, &block_b, &block_a, &block_b]);
    // Then whole blocks of `shared`, the same block in both lanes.
    let (blocks, rest) = shared[head..].as_chunks::<64>();
    for block in blocks {
        sha256x4::compress4_best(&mut states, [block, block, block, block]);
    }
    let compressed = a.compressed + 64 * (1 + blocks.len() as u64);
    for (h, state) in [(&mut a, states[0]), (&mut b, states[1])] {
        h.state = state;
        h.compressed = compressed;
        h.pending = 0;
        h.piece(rest);
    }
    (a.finish(), b.finish())
}

/// Feeds the same bytes `shared` to up to four hashers at once (Tessera
/// fork): each hasher gets exactly the bytes [`TaggedHasher::piece`] would
/// give it, but the blocks of all of them are compressed side by side in the
/// lanes of [`sha256x4::compress4`], whatever each one's alignment (each lane
/// reads `shared` from its own offset). Same states, hence same hashes, as
/// feeding them one after the other.
///
/// # Panics
///
/// With more than four hashers.
pub fn absorb_shared(hashers: &mut [&mut TaggedHasher], shared: &[u8]) {
    let n = hashers.len();
    assert!(n <= 4, "absorb_shared: at most four hashers");
    for h in hashers.iter_mut() {
        h.flush();
    }
    // Lanes pay off only with two hashers or more and at least one whole
    // block each after the first.
    if n < 2 || hashers.iter().any(|h| h.pending + shared.len() < 128) {
        for h in hashers.iter_mut() {
            h.piece(shared);
        }
        return;
    }
    sha256x4::ensure_checked();
    let lane = |i: usize| i.min(n - 1);
    // The first block of each: its pending bytes, then the start of `shared`.
    let mut first = [[0u8; 64]; 4];
    let mut offset = [0usize; 4];
    for i in 0..n {
        let p = hashers[i].pending;
        first[i][..p].copy_from_slice(&hashers[i].buf[..p]);
        first[i][p..].copy_from_slice(&shared[..64 - p]);
        offset[i] = 64 - p;
    }
    let mut states = [0, 1, 2, 3].map(|i| hashers[lane(i)].state);
    sha256x4::compress4_best(
        &mut states,
        [&first[lane(0)], &first[lane(1)], &first[lane(2)], &first[lane(3)]],
    );
    // Then the whole blocks every lane has, each lane at its own offset.
    let common = (0..n)
        .map(|i| (shared.len() - offset[i]) / 64)
        .min()
        .expect("two hashers or more");
    for k in 0..common {
        let block = |i: usize| -> &[u8; 64] {
            let at = offset[lane(i)] + 64 * k;
            shared[at..at + 64].try_into().expect("64 bytes")
        };
        sha256x4::compress4_best(&mut states, [block(0), block(1), block(2), block(3)]);
    }
    // The rest (less than two blocks) through each hasher's own buffer.
    for i in 0..n {
        let h = &mut *hashers[i];
        h.state = states[i];
        h.compressed += 64 * (1 + common as u64);
        h.pending = 0;
        h.piece(&shared[offset[i] + 64 * common..]);
    }
}

/// The two Fiat–Shamir challenges of the OT extension's consistency check,
/// `tagged_hash(TAG_OTE_CHI, [session_id, "chi1" | "chi2", u])` (Tessera fork:
/// as [`tagged_hash_pair`]), with `u` fed to `also` in a third lane of the same
/// compressions: the multiplication protocol's receiver transcript hashes `u`
/// too.
#[must_use]
pub fn chi_pair_absorbing(
    tag: &[u8],
    session_id: &[u8],
    u: &[u8],
    also: Option<&mut TaggedHasher>,
) -> (HashOutput, HashOutput) {
    let mut a = TaggedHasher::new(tag);
    a.component(session_id).component(b"chi1").component_len(u.len());
    let mut b = TaggedHasher::new(tag);
    b.component(session_id).component(b"chi2").component_len(u.len());
    match also {
        Some(t) => absorb_shared(&mut [&mut a, &mut b, t], u),
        None => absorb_shared(&mut [&mut a, &mut b], u),
    }
    (a.finish(), b.finish())
}

impl zeroize::Zeroize for TaggedHasher {
    fn zeroize(&mut self) {
        self.buf.zeroize();
        self.state.zeroize();
    }
}

/// Length-delimited tagged hash with result in bytes.
///
/// Encoding is:
/// `len(tag)||tag||len(component_0)||component_0||...`.
///
/// Tessera fork: hashed incrementally ([`TaggedHasher`]) instead of building
/// the encoding in a (wiped) heap buffer first; same output.
#[must_use]
pub fn tagged_hash(tag: &[u8], components: &[&[u8]]) -> HashOutput {
    let mut h = TaggedHasher::new(tag);
    for component in components {
        h.component(component);
    }
    h.finish()
}

/// Length-delimited tagged hash with result as a scalar.
#[must_use]
pub fn tagged_hash_as_scalar<C: CurveArithmetic>(tag: &[u8], components: &[&[u8]]) -> C::Scalar
where
    C::Scalar: Reduce<FieldBytes<C>>,
{
    let as_bytes = zeroize::Zeroizing::new(tagged_hash(tag, components));
    reduce_hash_to_scalar::<C>(&as_bytes)
}

fn append_len_prefixed(encoded: &mut Vec<u8>, component: &[u8]) {
    encoded.extend_from_slice(&(component.len() as u64).to_be_bytes());
    encoded.extend_from_slice(component);
}

/// Length-delimited tagged hash with result as a curve point.
///
/// This is RFC 9380 `hash_to_curve` with the curve's random-oracle suite
/// ([`GroupDigest`]), e.g. `secp256k1_XMD:SHA-256_SSWU_RO_` or
/// `P256_XMD:SHA-256_SSWU_RO_`. The DST is `tag || "-with-" || suite_id`,
/// and the message is the length-delimited encoding of `components` used
/// by [`tagged_hash`].
///
/// The running time depends only on the inputs, which must be public.
///
/// # Panics
///
/// Panics if the curve's `expand_message` rejects the input. The XMD suites
/// of secp256k1 and P-256 never do: a DST over 255 bytes is hashed down as
/// RFC 9380 specifies, and the output length is fixed.
#[must_use]
pub fn tagged_hash_as_point<C: DklsCurve>(tag: &[u8], components: &[&[u8]]) -> C::AffinePoint {
    let mut msg = Vec::with_capacity(components.iter().map(|c| 8 + c.len()).sum::<usize>());
    for component in components {
        append_len_prefixed(&mut msg, component);
    }
    hash_to_curve::<C>(tag, &msg)
}

/// RFC 9380 `hash_to_curve` of `msg` with DST `tag || "-with-" || suite_id`.
fn hash_to_curve<C: DklsCurve>(tag: &[u8], msg: &[u8]) -> C::AffinePoint {
    <C as GroupDigest>::hash_from_bytes(&[msg], &[tag, b"-with-", C::HASH_TO_CURVE_ID])
        .expect("DST and output length are within RFC 9380 limits")
        .to_affine()
}

/// Reduce a 32-byte hash output into a scalar for curve `C`.
///
/// Uses `Reduce<FieldBytes<C>>` which is already a bound on `CurveArithmetic::Scalar`.
pub(crate) fn reduce_hash_to_scalar<C: CurveArithmetic>(hash: &HashOutput) -> C::Scalar
where
    C::Scalar: Reduce<FieldBytes<C>>,
{
    let field_bytes: &FieldBytes<C> = hash
        .as_slice()
        .try_into()
        .expect("hash output length matches field size");
    <C::Scalar as Reduce<FieldBytes<C>>>::reduce(field_bytes)
}

/// Converts a `Scalar` to bytes.
///
/// The scalar is represented by an integer.
/// This function writes this integer as a byte array.
#[must_use]
pub fn scalar_to_bytes<C: CurveArithmetic>(scalar: &C::Scalar) -> Vec<u8> {
    let fb: FieldBytes<C> = (*scalar).into();
    <FieldBytes<C> as AsRef<[u8]>>::as_ref(&fb).to_vec()
}

/// [`scalar_to_bytes`] without a heap allocation (Tessera fork).
#[must_use]
#[inline]
pub fn scalar_to_field_bytes<C: CurveArithmetic>(scalar: &C::Scalar) -> FieldBytes<C> {
    (*scalar).into()
}

/// Converts a point on the elliptic curve to bytes.
///
/// Apart from the point at infinity, it computes the compressed
/// representation of `point`.
#[must_use]
pub fn point_to_bytes<C: CurveArithmetic>(point: &C::AffinePoint) -> Vec<u8>
where
    C::AffinePoint: GroupEncoding,
{
    point.to_bytes().as_ref().to_vec()
}

#[cfg(test)]
mod tests {

    use super::*;
    use sha2::Sha256;
    use crate::utilities::rng;
    use hash2curve::ExpandMsgXmd;
    use k256::elliptic_curve::{point::AffineCoordinates, Field};
    use k256::{AffinePoint, Scalar, Secp256k1};
    use p256::NistP256;
    use rand::RngExt;

    #[test]
    fn test_tagged_hash_is_length_delimited() {
        let tag = b"tag";
        let hash1 = tagged_hash(tag, &[b"ab", b"c"]);
        let hash2 = tagged_hash(tag, &[b"a", b"bc"]);
        assert_ne!(hash1, hash2);
    }

    /// Checks [`tagged_hash_as_point`] against the RFC 9380 test vectors
    /// (Appendices J.1.1 and J.8.1), whose domain-separation tags have the form
    /// `tag || "-with-" || suite_id`.
    #[test]
    fn test_rfc9380_test_vectors() {
        fn check<C: DklsCurve>(msg: &[u8], x: &str, y: &str) {
            let point = hash_to_curve::<C>(b"QUUX-V01-CS02", msg);
            let y = hex::decode(y).unwrap();
            assert_eq!(hex::encode(point.x()), x);
            assert_eq!(bool::from(point.y_is_odd()), y[31] & 1 == 1);
        }

        check::<Secp256k1>(
            b"",
            "c1cae290e291aee617ebaef1be6d73861479c48b841eaba9b7b5852ddfeb1346",
            "64fa678e07ae116126f08b022a94af6de15985c996c3a91b64c406a960e51067",
        );
        check::<Secp256k1>(
            b"abc",
            "3377e01eab42db296b512293120c6cee72b6ecf9f9205760bd9ff11fb3cb2c4b",
            "7f95890f33efebd1044d382a01b1bee0900fb6116f94688d487c6c7b9c8371f6",
        );

        check::<NistP256>(
            b"",
            "2c15230b26dbc6fc9a37051158c95b79656e17a1a920b11394ca91c44247d3e4",
            "8a7a74985cc5c776cdfe4b1f19884970453912e9d31528c060be9ab5c43e8415",
        );
        check::<NistP256>(
            b"abc",
            "0bb8b87485551aa43ed54f009230450b492fead5f1cc91658775dac4a3388a0f",
            "5c41b3d0731a27a7b14bc0bf0ccded2d8751f83493404c84a88e71ffd424212e",
        );
    }

    /// Tests that [`tagged_hash_as_point`] dispatches to the RFC 9380 suite
    /// of each supported curve with the documented DST and message encoding.
    #[test]
    fn test_tagged_hash_as_point_uses_rfc9380_suite() {
        let tag = b"tag";
        let components: [&[u8]; 2] = [b"ab", b"c"];
        let msg = [
            2u64.to_be_bytes().as_slice(),
            b"ab",
            &1u64.to_be_bytes(),
            b"c",
        ]
        .concat();

        let expected = hash2curve::hash_from_bytes::<Secp256k1, ExpandMsgXmd<Sha256>>(
            &[&msg],
            &[b"tag-with-secp256k1_XMD:SHA-256_SSWU_RO_"],
        )
        .unwrap()
        .to_affine();
        assert_eq!(
            tagged_hash_as_point::<Secp256k1>(tag, &components),
            expected
        );

        let expected = hash2curve::hash_from_bytes::<NistP256, ExpandMsgXmd<Sha256>>(
            &[&msg],
            &[b"tag-with-P256_XMD:SHA-256_SSWU_RO_"],
        )
        .unwrap()
        .to_affine();
        assert_eq!(tagged_hash_as_point::<NistP256>(tag, &components), expected);

        // Length-delimited: shifting bytes between components changes the point.
        assert_ne!(
            tagged_hash_as_point::<Secp256k1>(tag, &[b"ab", b"c"]),
            tagged_hash_as_point::<Secp256k1>(tag, &[b"a", b"bc"])
        );
    }

    /// Pins the base OT point for fixed inputs, so that any change to its
    /// tag, encoding or suite is caught here and not only in interop.
    #[test]
    fn test_tagged_hash_as_point_ot_base_h_is_stable() {
        use crate::utilities::oracle_tags::TAG_OT_BASE_H;

        let session_id = [0x11u8; 32];
        let seed = [0x22u8; 32];
        let components: [&[u8]; 2] = [&session_id, &seed];

        assert_eq!(
            hex::encode(point_to_bytes::<Secp256k1>(&tagged_hash_as_point::<
                Secp256k1,
            >(
                TAG_OT_BASE_H, &components
            ))),
            "02c25835ab4369b3b41f49aee010b74c253f2605089ba1158ad63fdee932c049ff"
        );
        assert_eq!(
            hex::encode(point_to_bytes::<NistP256>(
                &tagged_hash_as_point::<NistP256>(TAG_OT_BASE_H, &components)
            )),
            "02d62753e8e5ad43b7432a7955ad3185e307992652ac807d130c0a8cc35cee60ff"
        );
    }

    /// Tests if [`scalar_to_bytes`] converts a `Scalar`
    /// in the expected way.
    #[test]
    fn test_scalar_to_bytes() {
        for _ in 0..100 {
            let number: u32 = rng::get_rng().random();
            let scalar = Scalar::from(number);

            let number_as_bytes = [vec![0u8; 28], number.to_be_bytes().to_vec()].concat();

            assert_eq!(number_as_bytes, scalar_to_bytes::<Secp256k1>(&scalar));
        }
    }

    /// Tests if [`point_to_bytes`] indeed returns the compressed
    /// representation of a point on the elliptic curve.
    #[test]
    fn test_point_to_bytes() {
        for _ in 0..100 {
            let point = (AffinePoint::GENERATOR * Scalar::random(&mut rng::get_rng())).to_affine();
            if point == AffinePoint::IDENTITY {
                continue;
            }

            let mut compressed_point = Vec::with_capacity(33);
            compressed_point.push(if bool::from(point.y_is_odd()) { 3 } else { 2 });
            compressed_point.extend_from_slice(point.x().as_ref());

            assert_eq!(compressed_point, point_to_bytes::<Secp256k1>(&point));
        }
    }
}
