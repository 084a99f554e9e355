//! Threshold ECDSA on secp256k1: DKLs23 (0xCarbon `dkls23-core`) driven by the round engine.
//!
//! Keygen and refresh: three rounds (polynomial fragments; proof commitments + zero-share
//! commitments + chain-code commitments; zero-share openings + OT/multiplication setup +
//! chain-code openings). Signing: three rounds (two point-to-point, one broadcast).
//! Every inner sender/recipient field is checked against the envelope, so a party cannot
//! speak for another.

use std::collections::BTreeMap;
use std::rc::Rc;

use dkls23_core::protocols::dkg::{
    BroadcastDerivationPhase2to4, BroadcastDerivationPhase3to4, KeepInitMulPhase3to4, KeepInitZeroSharePhase3to4,
    ProofCommitment, TransmitInitMulPhase3to4, TransmitInitZeroSharePhase2to4, TransmitInitZeroSharePhase3to4,
};
use dkls23_core::protocols::presign::{PresignData, Presignature};
use dkls23_core::protocols::signing::{
    Broadcast3to4, KeepPhase1to2, KeepPhase2to3, SignData, TransmitPhase1to2, TransmitPhase2to3, UniqueKeep1to2,
    UniqueKeep2to3,
};
use dkls23_core::protocols::{Abort, AbortKind, AbortReason, Parameters, PartiesMessage, PartyIndex};
use dkls23_core::DkgSession;
use dkls23_secp256k1::Party;
use k256::{Scalar, Secp256k1};
use serde::{Deserialize, Serialize};

use crate::engine::{Advance, Outgoing, Protocol};
use crate::error::{Code, Fail};
use crate::share::Share;
use crate::wire::{decode_body, encode_body, join_body, only_broadcast, only_direct, split_body};

type Curve = Secp256k1;

fn pi(i: u8) -> PartyIndex {
    // Callers validated 1..=255 already; index 0 never reaches here.
    PartyIndex::new(i).expect("party index validated")
}

/// The party an abort blames, when the reason names one.
fn culprit_of(reason: &AbortReason) -> Option<u8> {
    match reason {
        AbortReason::MissingMulState { counterparty }
        | AbortReason::SessionBindingMismatch { counterparty }
        | AbortReason::ProofVerificationFailed { counterparty }
        | AbortReason::CommitmentMismatch { counterparty }
        | AbortReason::TrivialInstancePoint { counterparty }
        | AbortReason::OtConsistencyCheckFailed { counterparty }
        | AbortReason::MultiplicationVerificationFailed { counterparty, .. }
        | AbortReason::GammaUInconsistency { counterparty }
        | AbortReason::ZeroShareDecommitFailed { counterparty }
        | AbortReason::InvalidLocalState { counterparty, .. } => Some(counterparty.as_u8()),
        AbortReason::UnexpectedSender { sender } | AbortReason::DuplicateSender { sender } => Some(sender.as_u8()),
        AbortReason::MissingMessageFromParty { party }
        | AbortReason::MissingCommittedPoint { party }
        | AbortReason::ChainCodeCommitmentFailed { party } => Some(party.as_u8()),
        _ => None,
    }
}

pub fn abort(a: Abort) -> Fail {
    match a.kind {
        AbortKind::BanCounterparty(p) => Fail::by(
            Code::Ban,
            p.as_u8(),
            format!("party {} failed a consistency check ({}); it must never take part in a session for this key again", p.as_u8(), a.reason),
        ),
        AbortKind::Recoverable => Fail {
            code: Code::ProtocolAbort,
            culprit: culprit_of(&a.reason),
            message: format!("DKLs23 aborted: {}", a.reason),
        },
    }
}

fn check_route(parties: &PartiesMessage, from: u8, me: u8, round: u8) -> Result<(), Fail> {
    if parties.sender.as_u8() != from || parties.receiver.as_u8() != me {
        return Err(Fail::by(
            Code::Malformed,
            from,
            format!("round {round} message from party {from} claims sender {} and recipient {}", parties.sender, parties.receiver),
        ));
    }
    Ok(())
}

/// The direct messages of a signing or presigning round: one per sender, each routed from that sender to us.
fn direct_messages<T: serde::de::DeserializeOwned>(incoming: &BTreeMap<u8, Vec<u8>>, me: u8, round: u8, parties: impl Fn(&T) -> &PartiesMessage) -> Result<Vec<T>, Fail> {
    let mut received = Vec::new();
    for (&from, body) in incoming {
        let m: T = decode_body(from, round, only_direct(from, round, body)?)?;
        check_route(parties(&m), from, me, round)?;
        received.push(m);
    }
    Ok(received)
}

/// Each of a phase's messages sent directly to its receiver.
fn send_direct<T: Serialize>(transmit: Vec<T>, parties: impl Fn(&T) -> &PartiesMessage) -> Result<Outgoing, Fail> {
    transmit.into_iter().map(|m| Ok((parties(&m).receiver.as_u8(), join_body(&[], &encode_body(&m)?)))).collect()
}

fn find_for<T>(list: &mut Vec<T>, to: u8, receiver: impl Fn(&T) -> u8) -> Result<T, Fail> {
    let at = list
        .iter()
        .position(|m| receiver(m) == to)
        .ok_or_else(|| Fail::new(Code::ProtocolAbort, format!("no message produced for party {to}")))?;
    Ok(list.swap_remove(at))
}

// ---------------------------------------------------------------- keygen and refresh

#[derive(Serialize, Deserialize)]
struct Round1 {
    fragment: Scalar,
}

/// Round 2, broadcast part: what DKLs23 sends to all (proof commitment, chain-code commitment).
#[derive(Serialize, Deserialize)]
struct Round2Broadcast {
    proof: ProofCommitment<Curve>,
    /// Chain-code commitment: keygen only.
    chain: Option<BroadcastDerivationPhase2to4>,
}

/// Round 3, broadcast part: the chain-code opening (keygen only).
#[derive(Serialize, Deserialize)]
struct Round3Broadcast {
    chain: Option<BroadcastDerivationPhase3to4>,
}

/// Round 3, direct part.
#[derive(Serialize, Deserialize)]
struct Round3Direct {
    zero: TransmitInitZeroSharePhase3to4,
    mul: TransmitInitMulPhase3to4<Curve>,
}

enum Mode {
    Keygen(Option<DkgSession<Curve>>),
    /// Complete refresh of an existing share: a DKG whose polynomials have a zero
    /// constant term, so the public key stays and every share changes.
    Refresh { party: Box<Party>, sid: Vec<u8> },
}

pub struct DklsKeygen {
    me: u8,
    n: u8,
    mode: Mode,
    own_fragment: Option<Scalar>,
    // Refresh keeps these between rounds itself (DkgSession keeps them for keygen).
    correction: Option<Scalar>,
    zero_keep2: Option<BTreeMap<PartyIndex, dkls23_core::protocols::dkg::KeepInitZeroSharePhase2to3>>,
    zero_keep3: Option<BTreeMap<PartyIndex, KeepInitZeroSharePhase3to4>>,
    mul_keep3: Option<BTreeMap<PartyIndex, KeepInitMulPhase3to4<Curve>>>,
    proofs: Vec<ProofCommitment<Curve>>,
    zero2: Vec<TransmitInitZeroSharePhase2to4>,
    chain2: BTreeMap<PartyIndex, BroadcastDerivationPhase2to4>,
    chain3: BTreeMap<PartyIndex, BroadcastDerivationPhase3to4>,
}

fn all_parties(parties: &[u8], n: u8) -> Result<(), Fail> {
    let mut sorted = parties.to_vec();
    sorted.sort_unstable();
    if sorted != (1..=n).collect::<Vec<u8>>() {
        return Err(Fail::bad_input(format!("DKLs23 keygen and refresh need every party 1..={n}, got {parties:?}")));
    }
    Ok(())
}

impl DklsKeygen {
    pub fn keygen(session_id: &[u8], me: u8, parties: &[u8], threshold: u8) -> Result<DklsKeygen, Fail> {
        let n = u8::try_from(parties.len()).map_err(|_| Fail::bad_input("at most 255 parties"))?;
        all_parties(parties, n)?;
        let params = Parameters::new(threshold, n)
            .map_err(|_| Fail::bad_input(format!("threshold {threshold} of {n} parties is not allowed (need 2 <= t <= n)")))?;
        let session = DkgSession::new(params, pi(me), session_id.to_vec());
        Ok(DklsKeygen::with(me, n, Mode::Keygen(Some(session))))
    }

    pub fn refresh(session_id: &[u8], party: &Party, parties: &[u8]) -> Result<DklsKeygen, Fail> {
        let n = party.parameters.share_count;
        all_parties(parties, n)?;
        let me = party.party_index.as_u8();
        Ok(DklsKeygen::with(me, n, Mode::Refresh { party: Box::new(party.clone()), sid: session_id.to_vec() }))
    }

    fn with(me: u8, n: u8, mode: Mode) -> DklsKeygen {
        DklsKeygen {
            me,
            n,
            mode,
            own_fragment: None,
            correction: None,
            zero_keep2: None,
            zero_keep3: None,
            mul_keep3: None,
            proofs: Vec::new(),
            zero2: Vec::new(),
            chain2: BTreeMap::new(),
            chain3: BTreeMap::new(),
        }
    }

    fn others(&self) -> impl Iterator<Item = u8> + '_ {
        (1..=self.n).filter(move |p| *p != self.me)
    }
}

impl Protocol for DklsKeygen {
    fn rounds(&self) -> u8 {
        3
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let fragments = match &self.mode {
            Mode::Keygen(Some(s)) => s.phase1(),
            Mode::Keygen(None) => return Err(Fail::new(Code::Finished, "keygen already finished")),
            Mode::Refresh { party, .. } => party.refresh_complete_phase1(),
        };
        self.own_fragment = Some(fragments[(self.me - 1) as usize]);
        let mut out = Vec::new();
        for j in self.others() {
            out.push((j, join_body(&[], &encode_body(&Round1 { fragment: fragments[(j - 1) as usize] })?)));
        }
        Ok(out)
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        let me = self.me;
        match round {
            1 => {
                // Fragments ordered by sender, our own in our slot.
                let mut fragments = Vec::with_capacity(self.n as usize);
                for i in 1..=self.n {
                    if i == me {
                        fragments.push(self.own_fragment.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?);
                    } else {
                        let m: Round1 = decode_body(i, 1, only_direct(i, 1, &incoming[&i])?)?;
                        fragments.push(m.fragment);
                    }
                }
                let (proof, mut zero, chain) = match &mut self.mode {
                    Mode::Keygen(Some(s)) => {
                        let (p, z, c) = s.phase2(&fragments).map_err(abort)?;
                        (p, z, Some(c))
                    }
                    Mode::Keygen(None) => return Err(Fail::new(Code::Finished, "keygen already finished")),
                    Mode::Refresh { party, sid } => {
                        let (correction, p, keep, z) = party.refresh_complete_phase2(sid, &fragments);
                        self.correction = Some(correction);
                        self.zero_keep2 = Some(keep);
                        (p, z, None)
                    }
                };
                self.proofs.push(proof.clone());
                if let Some(c) = &chain {
                    self.chain2.insert(pi(me), c.clone());
                }
                let broadcast = encode_body(&Round2Broadcast { proof: proof.clone(), chain: chain.clone() })?;
                let mut out = Vec::new();
                for j in (1..=self.n).filter(|p| *p != me) {
                    let z = find_for(&mut zero, j, |m| m.parties.receiver.as_u8())?;
                    out.push((j, join_body(&broadcast, &encode_body(&z)?)));
                }
                Ok(Advance::Send(out))
            }
            2 => {
                let keygen = matches!(self.mode, Mode::Keygen(_));
                for (&from, body) in &incoming {
                    let (b, d) = split_body(from, 2, body)?;
                    let m: Round2Broadcast = decode_body(from, 2, b)?;
                    let zero: TransmitInitZeroSharePhase2to4 = decode_body(from, 2, d)?;
                    check_route(&zero.parties, from, me, 2)?;
                    if m.proof.index.as_u8() != from {
                        return Err(Fail::by(Code::Malformed, from, format!("round 2 proof from party {from} claims party {}", m.proof.index)));
                    }
                    match (keygen, m.chain) {
                        (true, Some(c)) if c.sender_index.as_u8() == from => {
                            self.chain2.insert(pi(from), c);
                        }
                        (false, None) => {}
                        _ => return Err(Fail::by(Code::Malformed, from, format!("round 2 chain-code commitment from party {from} is wrong"))),
                    }
                    self.proofs.push(m.proof);
                    self.zero2.push(zero);
                }
                self.proofs.sort_by_key(|p| p.index);
                let (mut zero, mut mul, chain) = match &mut self.mode {
                    Mode::Keygen(Some(s)) => {
                        let (z, m, c) = s.phase3().map_err(abort)?;
                        (z, m, Some(c))
                    }
                    Mode::Keygen(None) => return Err(Fail::new(Code::Finished, "keygen already finished")),
                    Mode::Refresh { party, sid } => {
                        let keep2 = self.zero_keep2.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 2 out of order"))?;
                        let (zk, z, mk, m) = party.refresh_complete_phase3(sid, &keep2);
                        self.zero_keep3 = Some(zk);
                        self.mul_keep3 = Some(mk);
                        (z, m, None)
                    }
                };
                if let Some(c) = &chain {
                    self.chain3.insert(pi(me), c.clone());
                }
                let broadcast = encode_body(&Round3Broadcast { chain: chain.clone() })?;
                let mut out = Vec::new();
                for j in (1..=self.n).filter(|p| *p != me) {
                    let z = find_for(&mut zero, j, |m| m.parties.receiver.as_u8())?;
                    let m = find_for(&mut mul, j, |m| m.parties.receiver.as_u8())?;
                    out.push((j, join_body(&broadcast, &encode_body(&Round3Direct { zero: z, mul: m })?)));
                }
                Ok(Advance::Send(out))
            }
            3 => {
                let keygen = matches!(self.mode, Mode::Keygen(_));
                let mut zero3 = Vec::new();
                let mut mul = Vec::new();
                for (&from, body) in &incoming {
                    let (b, d) = split_body(from, 3, body)?;
                    let shared: Round3Broadcast = decode_body(from, 3, b)?;
                    let m: Round3Direct = decode_body(from, 3, d)?;
                    check_route(&m.zero.parties, from, me, 3)?;
                    check_route(&m.mul.parties, from, me, 3)?;
                    match (keygen, shared.chain) {
                        (true, Some(c)) if c.sender_index.as_u8() == from => {
                            self.chain3.insert(pi(from), c);
                        }
                        (false, None) => {}
                        _ => return Err(Fail::by(Code::Malformed, from, format!("round 3 chain-code opening from party {from} is wrong"))),
                    }
                    zero3.push(m.zero);
                    mul.push(m.mul);
                }
                let party = match &mut self.mode {
                    Mode::Keygen(session) => {
                        let s = session.take().ok_or_else(|| Fail::new(Code::Finished, "keygen already finished"))?;
                        let (party, _package) = s
                            .phase4(&self.proofs, &self.zero2, &zero3, &mul, &self.chain2, &self.chain3, |_| String::new())
                            .map_err(abort)?;
                        party
                    }
                    Mode::Refresh { party, sid } => {
                        let correction = self.correction.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 3 out of order"))?;
                        let zk = self.zero_keep3.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 3 out of order"))?;
                        let mk = self.mul_keep3.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 3 out of order"))?;
                        party
                            .refresh_complete_phase4(sid, &correction, &self.proofs, &zk, &self.zero2, &zero3, &mk, &mul)
                            .map_err(abort)?
                    }
                };
                Ok(Advance::Done(Share::Ecdsa(Box::new(party)).encode()?))
            }
            _ => Err(Fail::new(Code::ProtocolAbort, format!("no round {round}"))),
        }
    }
}

// ---------------------------------------------------------------- signing

pub struct DklsSign {
    party: Box<Party>,
    data: SignData,
    keep1: Option<(UniqueKeep1to2<Curve>, BTreeMap<PartyIndex, KeepPhase1to2<Curve>>)>,
    keep2: Option<(UniqueKeep2to3<Curve>, BTreeMap<PartyIndex, KeepPhase2to3<Curve>>)>,
    x_coord: Option<String>,
    own_broadcast: Option<Broadcast3to4<Curve>>,
}

impl DklsSign {
    /// `party` is already derived to the signing path by the caller.
    pub fn new(session_id: &[u8], party: Party, signers: &[u8], digest: &[u8]) -> Result<DklsSign, Fail> {
        let digest: [u8; 32] = digest
            .try_into()
            .map_err(|_| Fail::bad_input(format!("ECDSA signs a 32-byte digest, got {} bytes", digest.len())))?;
        let t = party.parameters.threshold as usize;
        if signers.len() != t {
            return Err(Fail::bad_input(format!("DKLs23 signs with exactly {t} parties, got {}", signers.len())));
        }
        let me = party.party_index.as_u8();
        let counterparties = signers.iter().copied().filter(|p| *p != me).map(pi).collect();
        let data = SignData { sign_id: session_id.to_vec(), counterparties, message_hash: digest };
        Ok(DklsSign { party: Box::new(party), data, keep1: None, keep2: None, x_coord: None, own_broadcast: None })
    }
}

impl Protocol for DklsSign {
    fn rounds(&self) -> u8 {
        3
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let (unique, kept, transmit) = self.party.sign_phase1(&self.data).map_err(abort)?;
        self.keep1 = Some((unique, kept));
        send_direct(transmit, |m| &m.parties)
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        let me = self.party.party_index.as_u8();
        match round {
            1 => {
                let received = direct_messages(&incoming, me, 1, |m: &TransmitPhase1to2| &m.parties)?;
                let (unique, kept) = self.keep1.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?;
                let (u2, k2, transmit) = self.party.sign_phase2(&self.data, unique, kept, &received).map_err(abort)?;
                self.keep2 = Some((u2, k2));
                Ok(Advance::Send(send_direct(transmit, |m| &m.parties)?))
            }
            2 => {
                let received = direct_messages(&incoming, me, 2, |m: &TransmitPhase2to3<Curve>| &m.parties)?;
                let (unique, kept) = self.keep2.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 2 out of order"))?;
                let (x, broadcast) = self.party.sign_phase3(&self.data, unique, kept, &received).map_err(abort)?;
                self.x_coord = Some(x);
                let bytes = join_body(&encode_body(&broadcast)?, &[]);
                let mut out = Vec::new();
                for &j in incoming.keys() {
                    out.push((j, bytes.clone()));
                }
                self.own_broadcast = Some(broadcast);
                Ok(Advance::Send(out))
            }
            3 => {
                let mut received = vec![self.own_broadcast.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 3 out of order"))?];
                for (&from, body) in &incoming {
                    received.push(decode_body::<Broadcast3to4<Curve>>(from, 3, only_broadcast(from, 3, body)?)?);
                }
                let x = self.x_coord.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 3 out of order"))?;
                // phase 4 verifies the assembled signature against the public key, so a
                // tampered share yields an abort, never a wrong signature.
                let (s_hex, recid) = self.party.sign_phase4(&self.data, &x, &received, true).map_err(abort)?;
                let mut sig = vec![0u8; 65];
                hex_into(&x, &mut sig[..32])?;
                hex_into(&s_hex, &mut sig[32..64])?;
                sig[64] = recid;
                Ok(Advance::Done(sig))
            }
            _ => Err(Fail::new(Code::ProtocolAbort, format!("no round {round}"))),
        }
    }
}

fn hex_into(s: &str, out: &mut [u8]) -> Result<(), Fail> {
    if s.len() != out.len() * 2 {
        return Err(Fail::new(Code::ProtocolAbort, "signature component has the wrong length"));
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| Fail::new(Code::ProtocolAbort, "signature component is not hex"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- presignatures

/// A party's presignature as it is stored (secret, single use):
/// `"TPS" | version u8 (=1) | postcard(StoredPresignature)`.
#[derive(Serialize, Deserialize)]
struct StoredPresignature {
    /// The (master) key it belongs to, compressed.
    key: Vec<u8>,
    presignature: Presignature<Curve>,
}

const PRESIGNATURE_MAGIC: &[u8; 3] = b"TPS";
const PRESIGNATURE_VERSION: u8 = 1;

fn key_bytes(party: &Party) -> Vec<u8> {
    use elliptic_curve::sec1::ToSec1Point;
    party.pk.to_sec1_point(true).as_bytes().to_vec()
}

fn encode_presignature(p: &StoredPresignature) -> Result<Vec<u8>, Fail> {
    let mut out = PRESIGNATURE_MAGIC.to_vec();
    out.push(PRESIGNATURE_VERSION);
    out.extend(postcard::to_allocvec(p).map_err(|e| Fail::new(Code::ProtocolAbort, format!("cannot encode the presignature: {e}")))?);
    Ok(out)
}

fn decode_presignature(bytes: &[u8]) -> Result<StoredPresignature, Fail> {
    if bytes.len() < 4 || &bytes[..3] != PRESIGNATURE_MAGIC || bytes[3] != PRESIGNATURE_VERSION {
        return Err(Fail::bad_input("not a presignature (TPS v1)"));
    }
    postcard::from_bytes(&bytes[4..]).map_err(|e| Fail::bad_input(format!("corrupted presignature: {e}")))
}

fn sorted(signers: &[u8]) -> Vec<u8> {
    let mut s = signers.to_vec();
    s.sort_unstable();
    s
}

/// Presigning (the message-independent phases 1–3, fork variant `presign`): two rounds, no message.
/// The result is this party's presignature for the master key and this signer set.
pub struct DklsPresign {
    /// Shared by the presignatures of a batch (batch.rs): each has its own ids, not its own copy of the share.
    party: Rc<Party>,
    data: PresignData,
    keep1: Option<(UniqueKeep1to2<Curve>, BTreeMap<PartyIndex, KeepPhase1to2<Curve>>)>,
    keep2: Option<(UniqueKeep2to3<Curve>, BTreeMap<PartyIndex, KeepPhase2to3<Curve>>)>,
}

impl DklsPresign {
    /// `party` is the master key's share (children sign from their master's presignatures);
    /// `presign_id` the presignature's own id (the ceremony's session id names the whole batch).
    pub fn new(presign_id: &[u8], party: Rc<Party>, signers: &[u8]) -> Result<DklsPresign, Fail> {
        let t = party.parameters.threshold as usize;
        if signers.len() != t {
            return Err(Fail::bad_input(format!("DKLs23 presigns with exactly {t} parties, got {}", signers.len())));
        }
        let me = party.party_index.as_u8();
        let counterparties = signers.iter().copied().filter(|p| *p != me).map(pi).collect();
        let data = PresignData { presign_id: presign_id.to_vec(), counterparties };
        Ok(DklsPresign { party, data, keep1: None, keep2: None })
    }
}

impl Protocol for DklsPresign {
    fn rounds(&self) -> u8 {
        2
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let (unique, kept, transmit) = self.party.presign_phase1(&self.data).map_err(abort)?;
        self.keep1 = Some((unique, kept));
        send_direct(transmit, |m| &m.parties)
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        let me = self.party.party_index.as_u8();
        match round {
            1 => {
                let received = direct_messages(&incoming, me, 1, |m: &TransmitPhase1to2| &m.parties)?;
                let (unique, kept) = self.keep1.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?;
                let (u2, k2, transmit) = self.party.presign_phase2(&self.data, unique, kept, &received).map_err(abort)?;
                self.keep2 = Some((u2, k2));
                Ok(Advance::Send(send_direct(transmit, |m| &m.parties)?))
            }
            2 => {
                let received = direct_messages(&incoming, me, 2, |m: &TransmitPhase2to3<Curve>| &m.parties)?;
                let (unique, kept) = self.keep2.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 2 out of order"))?;
                let presignature = self.party.presign_phase3(&self.data, unique, kept, &received).map_err(abort)?;
                Ok(Advance::Done(encode_presignature(&StoredPresignature { key: key_bytes(&self.party), presignature })?))
            }
            _ => Err(Fail::new(Code::ProtocolAbort, format!("no round {round}"))),
        }
    }
}

/// Online signing from a presignature: one broadcast round. The caller must have erased the
/// presignature from storage before `start()` releases this party's partial signature.
pub struct DklsPresignSign {
    child: Box<Party>,
    data: SignData,
    x_coord: String,
    own: Option<Broadcast3to4<Curve>>,
}

impl DklsPresignSign {
    /// `master` is the share that presigned, `child` the key that signs (the master itself or a
    /// BIP32 child of it).
    pub fn new(session_id: &[u8], master: &Party, child: Party, signers: &[u8], digest: &[u8], presignature: &[u8]) -> Result<DklsPresignSign, Fail> {
        let digest: [u8; 32] = digest
            .try_into()
            .map_err(|_| Fail::bad_input(format!("ECDSA signs a 32-byte digest, got {} bytes", digest.len())))?;
        let stored = decode_presignature(presignature)?;
        if stored.key != key_bytes(master) {
            return Err(Fail::bad_input("the presignature belongs to another key"));
        }
        let me = master.party_index.as_u8();
        if stored.presignature.signers != sorted(signers) || !signers.contains(&me) {
            return Err(Fail::bad_input(format!("the presignature is for signers {:?}, not {:?}", stored.presignature.signers, sorted(signers))));
        }
        // BIP32 non-hardened derivation adds the same public tweak to every party's share.
        let tweak = child.poly_point - master.poly_point;
        let (x_coord, own) = master.presign_sign(stored.presignature, &digest, &tweak).map_err(abort)?;
        let counterparties = signers.iter().copied().filter(|p| *p != me).map(pi).collect();
        let data = SignData { sign_id: session_id.to_vec(), counterparties, message_hash: digest };
        Ok(DklsPresignSign { child: Box::new(child), data, x_coord, own: Some(own) })
    }
}

impl Protocol for DklsPresignSign {
    fn rounds(&self) -> u8 {
        1
    }

    fn partial(&self) -> Option<Vec<u8>> {
        let own = self.own.as_ref()?;
        let mut out = vec![0u8; 96];
        hex_into(&self.x_coord, &mut out[..32]).ok()?;
        out[32..64].copy_from_slice(&own.u.to_bytes());
        out[64..96].copy_from_slice(&own.w.to_bytes());
        Some(out)
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let own = self.own.as_ref().ok_or_else(|| Fail::new(Code::Finished, "session already started"))?;
        let bytes = join_body(&encode_body(own)?, &[]);
        Ok(self.data.counterparties.iter().map(|p| (p.as_u8(), bytes.clone())).collect())
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        if round != 1 {
            return Err(Fail::new(Code::ProtocolAbort, format!("no round {round}")));
        }
        let mut received = vec![self.own.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?];
        for (&from, body) in &incoming {
            received.push(decode_body::<Broadcast3to4<Curve>>(from, 1, only_broadcast(from, 1, body)?)?);
        }
        // Phase 4 verifies the assembled signature against the signing key: a wrong partial
        // signature (or parties that presigned different instance points) aborts, never signs wrongly.
        let (s_hex, recid) = self.child.sign_phase4(&self.data, &self.x_coord, &received, true).map_err(abort)?;
        let mut sig = vec![0u8; 65];
        hex_into(&self.x_coord, &mut sig[..32])?;
        hex_into(&s_hex, &mut sig[32..64])?;
        sig[64] = recid;
        Ok(Advance::Done(sig))
    }
}
