//! The fork verifies proofs and signatures by other routes than upstream (one variable-time
//! multi-scalar multiplication per equation, no normalisation; `../dkls23-core/src/utilities/ec.rs`)
//! and hashes through its own SHA-256 buffering with four-lane finishing
//! (`utilities/hashes.rs`, `utilities/sha256x4.rs`). A verifier only says yes or no, so the
//! transcript comparison in differential.rs sees only honest proofs; here both crates judge the
//! same honest and tampered proofs and signatures and must agree on every one, and the hashes
//! are compared on inputs of every length around the block boundaries.

use dkls23_differential::seed_this_thread;
use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, ProjectivePoint, Scalar, Secp256k1};

type UpDLog = upstream::utilities::proofs::DLogProof<Secp256k1>;
type ForkDLog = fork::utilities::proofs::DLogProof<Secp256k1>;
type UpEnc = upstream::utilities::proofs::EncProof<Secp256k1>;
type ForkEnc = fork::utilities::proofs::EncProof<Secp256k1>;

/// The same value as the other crate's type (both serialise identically: differential.rs).
fn convert<A: serde::Serialize, B: serde::de::DeserializeOwned>(a: &A) -> B {
    postcard::from_bytes(&postcard::to_allocvec(a).unwrap()).unwrap()
}

fn other_point(k: u64) -> AffinePoint {
    (ProjectivePoint::GENERATOR * Scalar::from(k)).to_affine()
}

#[test]
fn dlog_proofs_are_judged_alike() {
    seed_this_thread([0x31; 32]);
    let sid = [9u8; 32];
    let witness = Scalar::from(123_456_789u64) * Scalar::from(987_654_321u64);
    let honest = UpDLog::prove(&witness, &sid).unwrap();
    let mut cases: Vec<(&str, UpDLog, bool)> = vec![("honest", honest.clone(), true)];
    let mut t = honest.clone();
    t.proofs[0].challenge_response += Scalar::ONE;
    cases.push(("response of the first proof + 1", t, false));
    let mut t = honest.clone();
    t.proofs[63].challenge_response = -t.proofs[63].challenge_response;
    cases.push(("last response negated", t, false));
    let mut t = honest.clone();
    t.proofs[5].challenge[0] ^= 1;
    cases.push(("a challenge bit flipped", t, false));
    let mut t = honest.clone();
    t.rand_commitments[7] = other_point(7);
    cases.push(("a commitment replaced", t, false));
    let mut t = honest.clone();
    t.point = other_point(5);
    cases.push(("another point", t, false));
    let mut t = honest.clone();
    t.point = AffinePoint::IDENTITY;
    cases.push(("the identity as point", t, false));
    let mut t = honest.clone();
    t.rand_commitments[3] = AffinePoint::IDENTITY;
    cases.push(("the identity as commitment", t, false));
    let mut t = honest.clone();
    t.proofs[4].challenge.push(0);
    cases.push(("a challenge one byte longer", t, false));
    let mut t = honest.clone();
    t.proofs[36].challenge.pop();
    cases.push(("a challenge one byte shorter", t, false));
    let mut t = honest.clone();
    t.proofs.swap(1, 2);
    cases.push(("two proofs swapped", t, false));
    for (label, proof, expected) in &cases {
        let up = UpDLog::verify(proof, &sid);
        let fk = ForkDLog::verify(&convert::<_, ForkDLog>(proof), &sid);
        assert_eq!(up, *expected, "{label}: upstream");
        assert_eq!(fk, up, "{label}: the fork judges differently from upstream");
    }
    // A proof for another session id.
    assert!(!ForkDLog::verify(&convert::<_, ForkDLog>(&honest), &[8u8; 32]));
}

#[test]
fn encryption_proofs_are_judged_alike() {
    seed_this_thread([0x32; 32]);
    let sid = [3u8; 32];
    let h = other_point(77);
    for bit in [false, true] {
        let r = Scalar::from(4242u64 + bit as u64);
        let honest = UpEnc::prove(&sid, &h, &r, bit);
        let mut cases: Vec<(&str, UpEnc, bool)> = vec![("honest", honest.clone(), true)];
        let mut t = honest.clone();
        t.challenge0 += Scalar::ONE;
        cases.push(("challenge0 + 1", t, false));
        let mut t = honest.clone();
        t.challenge1 += Scalar::ONE;
        t.challenge0 -= Scalar::ONE;
        cases.push(("challenges shifted (sum kept)", t, false));
        let mut t = honest.clone();
        t.proof0.challenge_response += Scalar::ONE;
        cases.push(("proof0 response + 1", t, false));
        let mut t = honest.clone();
        t.proof1.challenge_response += Scalar::ONE;
        cases.push(("proof1 response + 1", t, false));
        let mut t = honest.clone();
        t.commitments0.rc_g = other_point(11);
        cases.push(("commitment rc_g replaced", t, false));
        let mut t = honest.clone();
        t.commitments1.rc_h = other_point(12);
        cases.push(("commitment rc_h replaced", t, false));
        let mut t = honest.clone();
        t.proof0.base_g = other_point(2);
        t.proof1.base_g = other_point(2);
        cases.push(("base_g not the generator", t, false));
        let mut t = honest.clone();
        t.proof0.point_v = other_point(13);
        t.proof1.point_v = other_point(13);
        cases.push(("another u", t, false));
        let mut t = honest.clone();
        std::mem::swap(&mut t.proof0, &mut t.proof1);
        cases.push(("proofs swapped", t, false));
        for (label, proof, expected) in &cases {
            let up = proof.verify(&sid);
            let fk = convert::<_, ForkEnc>(proof).verify(&sid);
            assert_eq!(up, *expected, "bit {bit}, {label}: upstream");
            assert_eq!(fk, up, "bit {bit}, {label}: the fork judges differently from upstream");
        }
    }
}

#[test]
fn ecdsa_verification_is_judged_alike() {
    let key = SigningKey::from_bytes(&[0x42u8; 32].into()).unwrap();
    let pk = *key.verifying_key().as_affine();
    let digest = [0x17u8; 32];
    let sig: Signature = key.sign_prehash(&digest).unwrap();
    let (r, s): (Scalar, Scalar) = (*sig.r(), *sig.s());
    let hex32 = |x: &Scalar| x.to_repr().iter().map(|b| format!("{b:02x}")).collect::<String>();
    let n_minus_1 = -Scalar::ONE;
    let cases: Vec<(&str, [u8; 32], AffinePoint, String, String, bool)> = vec![
        ("honest", digest, pk, hex32(&r), hex32(&s), true),
        ("high s (same signature, negated s)", digest, pk, hex32(&r), hex32(&-s), true),
        ("s + 1", digest, pk, hex32(&r), hex32(&(s + Scalar::ONE)), false),
        ("r + 1", digest, pk, hex32(&(r + Scalar::ONE)), hex32(&s), false),
        ("another digest", [0x18; 32], pk, hex32(&r), hex32(&s), false),
        ("another key", digest, other_point(99), hex32(&r), hex32(&s), false),
        ("identity key", digest, AffinePoint::IDENTITY, hex32(&r), hex32(&s), false),
        ("s = 0", digest, pk, hex32(&r), hex32(&Scalar::ZERO), false),
        ("r = n - 1", digest, pk, hex32(&n_minus_1), hex32(&s), false),
        ("r = n (not canonical)", digest, pk, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141".into(), hex32(&s), false),
        ("not hex", digest, pk, "zz".into(), hex32(&s), false),
    ];
    for (label, d, key, r_hex, s_hex, expected) in &cases {
        let up = upstream::protocols::signing::verify_ecdsa_signature::<Secp256k1>(d, key, r_hex, s_hex);
        let fk = fork::protocols::signing::verify_ecdsa_signature::<Secp256k1>(d, key, r_hex, s_hex);
        assert_eq!(up, *expected, "{label}: upstream");
        assert_eq!(fk, up, "{label}: the fork judges differently from upstream");
    }
}

#[test]
fn tagged_hashes_match_upstream_at_every_length() {
    use fork::utilities::hashes::{finish_jobs, TaggedHasher};
    // Component lengths around every block boundary, and long inputs (the fork buffers up to two
    // blocks and compresses long inputs straight from the slice).
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 131 % 251) as u8).collect();
    let lens: Vec<usize> = (0..200).chain([255, 256, 257, 1000, 4095, 4096, 4999]).collect();
    for &a in &lens {
        for &b in [0usize, 1, 7, 8, 55, 56, 63, 64, 65, 120, 128, 129, 3000].iter() {
            let up = upstream::utilities::hashes::tagged_hash(b"tag", &[&data[..a], &data[..b]]);
            let fk = fork::utilities::hashes::tagged_hash(b"tag", &[&data[..a], &data[..b]]);
            assert_eq!(fk, up, "components of {a} and {b} bytes");
        }
    }
    // Two hashes of a shared long component side by side.
    for &a in &[0usize, 1, 7, 30, 40, 56, 63, 64, 100] {
        for &n in &[0usize, 1, 20, 63, 64, 65, 127, 128, 129, 1000, 4000, 4999] {
            let (x, y) = fork::utilities::hashes::tagged_hash_pair(
                b"pair",
                [&data[..a], b"one"],
                [&data[1..a + 1], b"two"],
                &data[..n],
            );
            assert_eq!(x, upstream::utilities::hashes::tagged_hash(b"pair", &[&data[..a], b"one", &data[..n]]), "pair {a}/{n} first");
            assert_eq!(y, upstream::utilities::hashes::tagged_hash(b"pair", &[&data[1..a + 1], b"two", &data[..n]]), "pair {a}/{n} second");
        }
    }
    // Prefixes of different lengths (hashed one after the other).
    let (x, y) = fork::utilities::hashes::tagged_hash_pair(b"pair", [b"a", b"one"], [b"ab", b"two"], &data[..300]);
    assert_eq!(x, upstream::utilities::hashes::tagged_hash(b"pair", &[b"a", b"one", &data[..300]]));
    assert_eq!(y, upstream::utilities::hashes::tagged_hash(b"pair", &[b"ab", b"two", &data[..300]]));
    // Four-lane finishing from (flushed) prefixes, groups of four and a remainder.
    for prefix_len in [0usize, 1, 40, 55, 63, 64, 100, 127, 128, 200] {
        let mut prefix = TaggedHasher::new(b"prefix-tag");
        prefix.component(&data[..prefix_len]);
        let mut flushed = prefix.clone();
        flushed.flush();
        for count in [1usize, 3, 4, 5, 9] {
            let tails: Vec<(Vec<u8>, Vec<u8>)> =
                (0..count).map(|k| (vec![k as u8; 1 + k % 3], data[k..k + 10 + 9 * k].to_vec())).collect();
            let mut got = vec![[0u8; 32]; count];
            for p in [&prefix, &flushed] {
                finish_jobs(count, |k| (p, [&tails[k].0[..], &tails[k].1[..]]), |k, h| got[k] = *h);
                for (k, (x, y)) in tails.iter().enumerate() {
                    let expected = upstream::utilities::hashes::tagged_hash(
                        b"prefix-tag",
                        &[&data[..prefix_len], x, y],
                    );
                    assert_eq!(got[k], expected, "prefix {prefix_len}, job {k} of {count}");
                }
            }
        }
    }
}

#[test]
fn four_lane_compression_matches_sha2() {
    // Natively the hashers finish four messages with sha2's own compression per lane
    // (`compress4_best`); the four-lane code wasm runs is still checked here, on [u32; 4] lanes.
    fork::utilities::sha256x4::self_check();
}

/// `scalar_sums::dot` (sums of products reduced once, used by the multiplication protocol) against
/// k256's reduced products and sums: random operands, and the largest ones (every carry, the bits
/// above 2^512) at every count the protocol uses and more.
#[test]
fn sums_of_products_match_reduced_products() {
    use fork::utilities::scalar_sums::{dot, Operand};
    use k256::elliptic_curve::Field;
    seed_this_thread([0x52; 32]);
    let mut rng = fork::utilities::rng::get_rng();
    let max = -Scalar::ONE;
    for count in [0usize, 1, 2, 3, 17, 416, 2000] {
        let random: Vec<(Scalar, Scalar)> = (0..count).map(|_| (Scalar::random(&mut rng), Scalar::random(&mut rng))).collect();
        let mixed: Vec<(Scalar, Scalar)> = (0..count).map(|k| if k % 3 == 0 { (max, max) } else { (Scalar::from(k as u64), max) }).collect();
        for terms in [random, vec![(max, max); count], vec![(max, Scalar::ONE); count], mixed] {
            let ops: Vec<(Operand<Secp256k1>, Operand<Secp256k1>)> = terms.iter().map(|(a, b)| (Operand::new(a), Operand::new(b))).collect();
            let fast = dot::<Secp256k1>(ops.iter().map(|(a, b)| (a, b)));
            let slow = terms.iter().fold(Scalar::ZERO, |acc, (a, b)| acc + a * b);
            assert_eq!(fast.to_repr(), slow.to_repr(), "{count} terms");
        }
    }
}

/// `hashes::absorb_shared` (the same bytes fed to up to four hashers in SIMD lanes, each from its own
/// offset) against feeding each hasher on its own, then finishing it with more input: every count of
/// hashers, prefixes of every alignment, lengths around the block boundaries and long ones.
#[test]
fn shared_absorption_matches_one_by_one() {
    use fork::utilities::hashes::{absorb_shared, TaggedHasher};
    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let prefixed = |k: usize, pad: usize| {
        let mut h = TaggedHasher::new(b"absorb");
        h.component(&data[..pad]).component(&[k as u8]);
        h
    };
    for n in 1..=4usize {
        for len in [0usize, 1, 50, 63, 64, 65, 100, 127, 128, 129, 191, 192, 193, 300, 1000, 19_968, 20_000] {
            for shift in [0usize, 1, 17, 40, 55, 56, 63, 64, 70, 120] {
                let pads: Vec<usize> = (0..n).map(|k| (shift + 23 * k) % 130).collect();
                let mut ours: Vec<TaggedHasher> = (0..n).map(|k| prefixed(k, pads[k])).collect();
                {
                    let mut refs: Vec<&mut TaggedHasher> = ours.iter_mut().collect();
                    absorb_shared(&mut refs, &data[..len]);
                }
                for (k, mut h) in ours.into_iter().enumerate() {
                    let mut alone = prefixed(k, pads[k]);
                    alone.piece(&data[..len]);
                    h.component(b"tail");
                    alone.component(b"tail");
                    assert_eq!(h.finish(), alone.finish(), "{n} hashers, {len} bytes, pads {pads:?}, hasher {k}");
                }
            }
        }
    }
}
