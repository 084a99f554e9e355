//! The fork's presignature variant (../dkls23-core/PRESIGN.md): presign ahead of time, then sign
//! in one round; every signature checked by RustCrypto's ecdsa (recovery id included), for the
//! master key and for a BIP32 child signing from its master's presignature.


use dkls23_differential::seed_this_thread;
use fork::protocols::presign::{PresignData, Presignature};
use fork::protocols::signing::SignData;
use fork::protocols::{Party, PartyIndex};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use k256::elliptic_curve::sec1::ToSec1Point;
use k256::Secp256k1;

#[allow(dead_code, unused_imports)]
mod fork_run {
    use fork as dkls;
    include!("run/scenario.rs");
    pub fn parties() -> Vec<Party<C>> {
        dkg(&mut Vec::new())
    }
}

fn presign(parties: &[&Party<Secp256k1>], id: &[u8]) -> Vec<Presignature<Secp256k1>> {
    let idx: Vec<PartyIndex> = parties.iter().map(|p| p.party_index).collect();
    let data: Vec<PresignData> = idx
        .iter()
        .map(|me| PresignData { presign_id: id.to_vec(), counterparties: idx.iter().copied().filter(|i| i != me).collect() })
        .collect();
    let mut k1 = Vec::new();
    let mut sent1 = Vec::new();
    for (k, p) in parties.iter().enumerate() {
        let (u, keep, out) = p.presign_phase1(&data[k]).unwrap();
        k1.push((u, keep));
        sent1.extend(out);
    }
    let mut k2 = Vec::new();
    let mut sent2 = Vec::new();
    for (k, (p, (u, keep))) in parties.iter().zip(k1).enumerate() {
        let inbox: Vec<_> = sent1.iter().filter(|m| m.parties.receiver == p.party_index).cloned().collect();
        let (u2, keep2, out) = p.presign_phase2(&data[k], u, keep, &inbox).unwrap();
        k2.push((u2, keep2));
        sent2.extend(out);
    }
    parties
        .iter()
        .zip(k2)
        .enumerate()
        .map(|(k, (p, (u, keep)))| {
            let inbox: Vec<_> = sent2.iter().filter(|m| m.parties.receiver == p.party_index).cloned().collect();
            p.presign_phase3(&data[k], u, keep, &inbox).unwrap()
        })
        .collect()
}

fn online(masters: &[&Party<Secp256k1>], children: &[&Party<Secp256k1>], pre: Vec<Presignature<Secp256k1>>, digest: [u8; 32]) -> ([u8; 64], u8) {
    let mut x = Vec::new();
    let mut broadcasts = Vec::new();
    for ((m, c), p) in masters.iter().zip(children).zip(pre) {
        let tweak = c.poly_point - m.poly_point;
        let (xk, b) = m.presign_sign(p, &digest, &tweak).unwrap();
        x.push(xk);
        broadcasts.push(b);
    }
    assert!(x.iter().all(|xk| *xk == x[0]));
    let data = SignData { sign_id: b"online".to_vec(), counterparties: vec![], message_hash: digest };
    let (s, recid) = children[0].sign_phase4(&data, &x[0], &broadcasts, true).unwrap();
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&hex(&x[0]));
    sig[32..].copy_from_slice(&hex(&s));
    (sig, recid)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn check(pk: &Party<Secp256k1>, digest: &[u8; 32], sig: &[u8; 64], recid: u8) {
    let key = VerifyingKey::from_sec1_bytes(pk.pk.to_sec1_point(true).as_bytes()).unwrap();
    let signature = Signature::from_slice(sig).unwrap();
    key.verify_prehash(digest, &signature).expect("signature from a presignature verifies");
    let recovered = VerifyingKey::recover_from_prehash(digest, &signature, RecoveryId::from_byte(recid).unwrap()).unwrap();
    assert_eq!(recovered, key);
}

#[test]
fn presignatures_sign_in_one_round() {
    std::thread::spawn(|| {
        seed_this_thread([0x33; 32]);
        let parties = fork_run::parties();
        let (a, b) = (&parties[0], &parties[2]);

        let digest = [0x42u8; 32];
        let (sig, recid) = online(&[a, b], &[a, b], presign(&[a, b], b"presig-1"), digest);
        check(a, &digest, &sig, recid);

        // A child key signs from its master's presignature.
        let ca = a.derive_from_path("m/0/7", |_| String::new()).unwrap();
        let cb = b.derive_from_path("m/0/7", |_| String::new()).unwrap();
        let (sig, recid) = online(&[a, b], &[&ca, &cb], presign(&[a, b], b"presig-2"), digest);
        check(&ca, &digest, &sig, recid);

        // Two presignatures of one signer set have independent instance points.
        let p1 = presign(&[a, b], b"presig-3");
        let p2 = presign(&[a, b], b"presig-4");
        assert_ne!(p1[0].instance_point, p2[0].instance_point);

        // Using one party's share of a presignature for another message than its peer's does not sign.
        let mut pre = presign(&[a, b], b"presig-5").into_iter();
        let (pa, pb) = (pre.next().unwrap(), pre.next().unwrap());
        let tweak = a.poly_point - a.poly_point;
        let (xa, ba) = a.presign_sign(pa, &[1u8; 32], &tweak).unwrap();
        let (_, bb) = b.presign_sign(pb, &[2u8; 32], &tweak).unwrap();
        let data = SignData { sign_id: vec![], counterparties: vec![], message_hash: [1u8; 32] };
        assert!(a.sign_phase4(&data, &xa, &[ba, bb], true).is_err());
    })
    .join()
    .unwrap();
}
