// One 2-of-3 transcript: DKG, then signatures by every signer pair, on the master key and on a
// BIP32 child. Included twice by differential.rs, with `dkls` naming the upstream crate or the
// fork. Every message a party sends (and every share it ends with) is recorded as postcard bytes.

use std::collections::BTreeMap;

use dkls::protocols::signing::{
    Broadcast3to4, KeepPhase1to2, KeepPhase2to3, SignData, TransmitPhase1to2, TransmitPhase2to3, UniqueKeep1to2,
    UniqueKeep2to3,
};
use dkls::protocols::{Parameters, Party, PartyIndex};
use dkls::DkgSession;
use k256::elliptic_curve::sec1::ToSec1Point;
use k256::{Scalar, Secp256k1};

type C = Secp256k1;

pub struct Signed {
    pub label: String,
    pub digest: [u8; 32],
    pub public_key: Vec<u8>,
    pub r_hex: String,
    pub s_hex: String,
    pub recid: u8,
}

pub struct Outcome {
    pub transcript: Vec<(String, Vec<u8>)>,
    pub signatures: Vec<Signed>,
}

fn h(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

fn pi(i: u8) -> PartyIndex {
    PartyIndex::new(i).unwrap()
}

fn enc<T: serde::Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap()
}

fn dkg(t: &mut Vec<(String, Vec<u8>)>) -> Vec<Party<C>> {
    let n = 3u8;
    let params = Parameters::new(2, n).unwrap();
    let sid = b"differential-test-dkg-session-01".to_vec();
    let mut sessions: Vec<DkgSession<C>> = (1..=n).map(|i| DkgSession::new(params.clone(), pi(i), sid.clone())).collect();

    let fragments: Vec<Vec<Scalar>> = sessions.iter().map(|s| s.phase1()).collect();
    for (i, f) in fragments.iter().enumerate() {
        t.push((format!("dkg phase1 party {}", i + 1), enc(f)));
    }

    let mut proofs = Vec::new();
    let mut zero2 = Vec::new();
    let mut chain2 = BTreeMap::new();
    for i in 0..n as usize {
        let mine: Vec<Scalar> = (0..n as usize).map(|j| fragments[j][i]).collect();
        let (p, z, c) = sessions[i].phase2(&mine).unwrap();
        t.push((format!("dkg phase2 party {} proof", i + 1), enc(&p)));
        t.push((format!("dkg phase2 party {} zero", i + 1), enc(&z)));
        t.push((format!("dkg phase2 party {} chain", i + 1), enc(&c)));
        proofs.push(p);
        zero2.extend(z);
        chain2.insert(pi(i as u8 + 1), c);
    }

    let mut zero3 = Vec::new();
    let mut mul = Vec::new();
    let mut chain3 = BTreeMap::new();
    for i in 0..n as usize {
        let (z, m, c) = sessions[i].phase3().unwrap();
        t.push((format!("dkg phase3 party {} zero", i + 1), enc(&z)));
        t.push((format!("dkg phase3 party {} mul", i + 1), enc(&m)));
        t.push((format!("dkg phase3 party {} chain", i + 1), enc(&c)));
        zero3.extend(z);
        mul.extend(m);
        chain3.insert(pi(i as u8 + 1), c);
    }

    let mut parties = Vec::new();
    for (i, s) in sessions.into_iter().enumerate() {
        let me = pi(i as u8 + 1);
        let z2: Vec<_> = zero2.iter().filter(|m| m.parties.receiver == me).cloned().collect();
        let z3: Vec<_> = zero3.iter().filter(|m| m.parties.receiver == me).cloned().collect();
        let m3: Vec<_> = mul.iter().filter(|m| m.parties.receiver == me).cloned().collect();
        let (party, package) = s.phase4(&proofs, &z2, &z3, &m3, &chain2, &chain3, |_| String::new()).unwrap();
        t.push((format!("dkg phase4 party {} share", i + 1), enc(&party)));
        t.push((format!("dkg phase4 party {} package", i + 1), enc(&package)));
        parties.push(party);
    }
    parties
}

fn sign(t: &mut Vec<(String, Vec<u8>)>, label: &str, parties: &[&Party<C>], sign_id: &[u8], digest: [u8; 32]) -> Signed {
    let indices: Vec<PartyIndex> = parties.iter().map(|p| p.party_index).collect();
    let data: Vec<SignData> = indices
        .iter()
        .map(|me| SignData {
            sign_id: sign_id.to_vec(),
            counterparties: indices.iter().copied().filter(|i| i != me).collect(),
            message_hash: digest,
        })
        .collect();

    let mut unique1: Vec<UniqueKeep1to2<C>> = Vec::new();
    let mut kept1: Vec<BTreeMap<PartyIndex, KeepPhase1to2<C>>> = Vec::new();
    let mut sent1: Vec<TransmitPhase1to2> = Vec::new();
    for (k, p) in parties.iter().enumerate() {
        let (u, keep, out) = p.sign_phase1(&data[k]).unwrap();
        for m in &out {
            t.push((format!("{label} phase1 {} -> {}", m.parties.sender, m.parties.receiver), enc(m)));
        }
        unique1.push(u);
        kept1.push(keep);
        sent1.extend(out);
    }

    let mut unique2: Vec<UniqueKeep2to3<C>> = Vec::new();
    let mut kept2: Vec<BTreeMap<PartyIndex, KeepPhase2to3<C>>> = Vec::new();
    let mut sent2: Vec<TransmitPhase2to3<C>> = Vec::new();
    for (k, (p, (u, keep))) in parties.iter().zip(unique1.into_iter().zip(kept1)).enumerate() {
        let inbox: Vec<_> = sent1.iter().filter(|m| m.parties.receiver == p.party_index).cloned().collect();
        let (u2, keep2, out) = p.sign_phase2(&data[k], u, keep, &inbox).unwrap();
        for m in &out {
            t.push((format!("{label} phase2 {} -> {}", m.parties.sender, m.parties.receiver), enc(m)));
        }
        unique2.push(u2);
        kept2.push(keep2);
        sent2.extend(out);
    }

    let mut x = Vec::new();
    let mut broadcasts: Vec<Broadcast3to4<C>> = Vec::new();
    for (k, (p, (u, keep))) in parties.iter().zip(unique2.into_iter().zip(kept2)).enumerate() {
        let inbox: Vec<_> = sent2.iter().filter(|m| m.parties.receiver == p.party_index).cloned().collect();
        let (xk, b) = p.sign_phase3(&data[k], u, keep, &inbox).unwrap();
        t.push((format!("{label} phase3 {} x", p.party_index), xk.as_bytes().to_vec()));
        t.push((format!("{label} phase3 {} broadcast", p.party_index), enc(&b)));
        x.push(xk);
        broadcasts.push(b);
    }
    assert!(x.iter().all(|xk| *xk == x[0]), "{label}: parties disagree on r");

    let mut result = None;
    for (k, p) in parties.iter().enumerate() {
        let (s_hex, recid) = p.sign_phase4(&data[k], &x[0], &broadcasts, true).unwrap();
        t.push((format!("{label} phase4 {} signature", p.party_index), [s_hex.as_bytes(), &[recid]].concat()));
        result = Some((s_hex, recid));
    }
    let (s_hex, recid) = result.unwrap();
    Signed {
        label: label.to_string(),
        digest,
        public_key: parties[0].pk.to_sec1_point(true).as_bytes().to_vec(),
        r_hex: x[0].clone(),
        s_hex,
        recid,
    }
}

pub fn run() -> Outcome {
    let mut t = Vec::new();
    let parties = dkg(&mut t);
    let mut signatures = Vec::new();
    let pairs: [(usize, usize); 3] = [(0, 1), (0, 2), (1, 2)];
    for (n, (a, b)) in pairs.iter().enumerate() {
        let digest = h(format!("message {n}").as_bytes());
        let label = format!("master {}+{}", a + 1, b + 1);
        signatures.push(sign(&mut t, &label, &[&parties[*a], &parties[*b]], format!("sign-{n}").as_bytes(), digest));
    }
    // A BIP32 child signs with the same OT state under another public key.
    let children: Vec<Party<C>> = parties.iter().map(|p| p.derive_from_path("m/0/7", |_| String::new()).unwrap()).collect();
    let digest = h(b"child message");
    signatures.push(sign(&mut t, "child m/0/7 3+1", &[&children[2], &children[0]], b"sign-child", digest));
    // The same signer set and sign id twice (a retry): fresh randomness, different transcript.
    signatures.push(sign(&mut t, "retry 1+2", &[&parties[0], &parties[1]], b"sign-0", digest));
    Outcome { transcript: t, signatures }
}
