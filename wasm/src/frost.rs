//! Threshold Schnorr: FROST (Zcash Foundation `frost-core` 3.0) for Ed25519 and for
//! BIP340 on secp256k1 (`frost-secp256k1-tr`), driven by the round engine.
//!
//! DKG and refresh: two rounds (broadcast commitments with proofs of knowledge, then
//! secret shares point to point). Signing: two rounds (nonce commitments, then signature
//! shares); aggregation verifies every share, so a cheater is named, and the final
//! signature is checked against the group key before it is returned.

use std::collections::BTreeMap;

use frost_core::keys::dkg::{round1, round2};
use frost_core::keys::{KeyPackage, PublicKeyPackage};
use frost_core::{Ciphersuite, Identifier};

use crate::engine::{Advance, Outgoing, Protocol};
use crate::error::{Code, Fail};
use crate::rng::PlatformRng;
use crate::share::{FrostShare, FrostSuite};
use crate::wire::{join_body, only_broadcast, only_direct};

/// Maps a FROST error to ours, naming the culprit party when FROST identifies one.
fn frost_fail<C: Ciphersuite>(e: frost_core::Error<C>, ids: &BTreeMap<u8, Identifier<C>>) -> Fail {
    let culprits = e.culprits();
    let culprit = culprits.first().and_then(|c| ids.iter().find(|(_, id)| *id == c).map(|(p, _)| *p));
    Fail { code: Code::ProtocolAbort, culprit, message: format!("FROST aborted: {e}") }
}

fn identifiers<C: Ciphersuite>(parties: &[u8]) -> Result<BTreeMap<u8, Identifier<C>>, Fail> {
    parties
        .iter()
        .map(|&p| {
            if p == 0 {
                return Err(Fail::bad_input("party indices start at 1"));
            }
            Identifier::<C>::try_from(p as u16).map(|id| (p, id)).map_err(|e| Fail::bad_input(e.to_string()))
        })
        .collect()
}

fn decode<T>(from: u8, round: u8, r: Result<T, impl std::fmt::Display>) -> Result<T, Fail> {
    r.map_err(|e| Fail::by(Code::Malformed, from, format!("round {round} message from party {from} does not decode: {e}")))
}

// ---------------------------------------------------------------- DKG and refresh

pub struct FrostKeygen<C: FrostSuite> {
    me: u8,
    n: u16,
    t: u16,
    ids: BTreeMap<u8, Identifier<C>>,
    secret1: Option<round1::SecretPackage<C>>,
    secret2: Option<round2::SecretPackage<C>>,
    round1: BTreeMap<Identifier<C>, round1::Package<C>>,
    /// Refresh: the share being refreshed (same group key, new shares).
    old: Option<FrostShare<C>>,
}

impl<C: FrostSuite> FrostKeygen<C> {
    pub fn keygen(me: u8, parties: &[u8], threshold: u8) -> Result<Self, Fail> {
        let ids = identifiers::<C>(parties)?;
        if ids.len() != parties.len() {
            return Err(Fail::bad_input("duplicate party index"));
        }
        let n = parties.len() as u16;
        if threshold < 2 || threshold as u16 > n {
            return Err(Fail::bad_input(format!("threshold {threshold} of {n} parties is not allowed (need 2 <= t <= n)")));
        }
        Ok(FrostKeygen { me, n, t: threshold as u16, ids, secret1: None, secret2: None, round1: BTreeMap::new(), old: None })
    }

    pub fn refresh(share: &FrostShare<C>, parties: &[u8]) -> Result<Self, Fail> {
        let mut sorted = parties.to_vec();
        sorted.sort_unstable();
        if sorted != (1..=share.parties).collect::<Vec<u8>>() {
            return Err(Fail::bad_input(format!("refresh needs every party 1..={}, got {parties:?}", share.parties)));
        }
        let mut k = Self::keygen(share.index, parties, *share.key.min_signers() as u8)?;
        k.old = Some(share.clone());
        Ok(k)
    }
}

impl<C: FrostSuite> Protocol for FrostKeygen<C> {
    fn rounds(&self) -> u8 {
        2
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let id = self.ids[&self.me];
        let r = if self.old.is_some() {
            frost_core::keys::refresh::refresh_dkg_part1(id, self.n, self.t, PlatformRng)
        } else {
            frost_core::keys::dkg::part1(id, self.n, self.t, PlatformRng)
        };
        let (secret, package) = r.map_err(|e| frost_fail(e, &self.ids))?;
        self.secret1 = Some(secret);
        // Commitments and proof of knowledge: the broadcast RFC 9591 requires all to see alike.
        let bytes = join_body(&package.serialize().map_err(|e| frost_fail(e, &self.ids))?, &[]);
        Ok(self.ids.keys().filter(|p| **p != self.me).map(|p| (*p, bytes.clone())).collect())
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        match round {
            1 => {
                for (&from, body) in &incoming {
                    let p = decode(from, 1, round1::Package::<C>::deserialize(only_broadcast(from, 1, body)?))?;
                    self.round1.insert(self.ids[&from], p);
                }
                let secret = self.secret1.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?;
                let r = if self.old.is_some() {
                    frost_core::keys::refresh::refresh_dkg_part2(secret, &self.round1)
                } else {
                    frost_core::keys::dkg::part2(secret, &self.round1)
                };
                let (secret2, packages) = r.map_err(|e| frost_fail(e, &self.ids))?;
                self.secret2 = Some(secret2);
                let mut out = Vec::new();
                for (&p, id) in &self.ids {
                    if p == self.me {
                        continue;
                    }
                    let pkg = packages.get(id).ok_or_else(|| Fail::new(Code::ProtocolAbort, format!("no share produced for party {p}")))?;
                    out.push((p, join_body(&[], &pkg.serialize().map_err(|e| frost_fail(e, &self.ids))?)));
                }
                Ok(Advance::Send(out))
            }
            2 => {
                let mut round2_packages = BTreeMap::new();
                for (&from, body) in &incoming {
                    let p = decode(from, 2, round2::Package::<C>::deserialize(only_direct(from, 2, body)?))?;
                    round2_packages.insert(self.ids[&from], p);
                }
                let secret2 = self.secret2.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 2 out of order"))?;
                let (key, public) = match self.old.take() {
                    Some(old) => frost_core::keys::refresh::refresh_dkg_shares(&secret2, &self.round1, &round2_packages, old.public, old.key),
                    None => frost_core::keys::dkg::part3(&secret2, &self.round1, &round2_packages),
                }
                .map_err(|e| frost_fail(e, &self.ids))?;
                Ok(Advance::Done(encode_share(key, public, self.me, self.n as u8)?))
            }
            _ => Err(Fail::new(Code::ProtocolAbort, format!("no round {round}"))),
        }
    }
}

fn encode_share<C: FrostSuite>(key: KeyPackage<C>, public: PublicKeyPackage<C>, index: u8, parties: u8) -> Result<Vec<u8>, Fail> {
    C::into_share(FrostShare { key, public, index, parties }).encode()
}

// ---------------------------------------------------------------- signing

pub struct FrostSign<C: Ciphersuite> {
    share: FrostShare<C>,
    ids: BTreeMap<u8, Identifier<C>>,
    message: Vec<u8>,
    nonces: Option<frost_core::round1::SigningNonces<C>>,
    own_commitments: Option<frost_core::round1::SigningCommitments<C>>,
    package: Option<frost_core::SigningPackage<C>>,
    own_share: Option<frost_core::round2::SignatureShare<C>>,
}

impl<C: Ciphersuite> FrostSign<C> {
    pub fn new(share: &FrostShare<C>, signers: &[u8], message: &[u8]) -> Result<Self, Fail> {
        let ids = identifiers::<C>(signers)?;
        if ids.len() != signers.len() {
            return Err(Fail::bad_input("duplicate party index"));
        }
        let t = *share.key.min_signers() as usize;
        if signers.len() < t {
            return Err(Fail::bad_input(format!("FROST needs at least {t} signers, got {}", signers.len())));
        }
        if signers.iter().any(|p| *p > share.parties) {
            return Err(Fail::bad_input(format!("signers must be parties 1..={}", share.parties)));
        }
        Ok(FrostSign { share: share.clone(), ids, message: message.to_vec(), nonces: None, own_commitments: None, package: None, own_share: None })
    }
}

impl<C: Ciphersuite> Protocol for FrostSign<C> {
    fn rounds(&self) -> u8 {
        2
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let mut rng = PlatformRng;
        let (nonces, commitments) = frost_core::round1::commit(self.share.key.signing_share(), &mut rng);
        let bytes = join_body(&commitments.serialize().map_err(|e| frost_fail(e, &self.ids))?, &[]);
        self.nonces = Some(nonces);
        self.own_commitments = Some(commitments);
        Ok(self.ids.keys().filter(|p| **p != self.share.index).map(|p| (*p, bytes.clone())).collect())
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        let me = self.share.index;
        match round {
            1 => {
                let mut commitments = BTreeMap::new();
                commitments.insert(self.ids[&me], self.own_commitments.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?);
                for (&from, body) in &incoming {
                    let c = decode(from, 1, frost_core::round1::SigningCommitments::<C>::deserialize(only_broadcast(from, 1, body)?))?;
                    commitments.insert(self.ids[&from], c);
                }
                let package = frost_core::SigningPackage::new(commitments, &self.message);
                let nonces = self.nonces.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?;
                let share = frost_core::round2::sign(&package, &nonces, &self.share.key).map_err(|e| frost_fail(e, &self.ids))?;
                let bytes = join_body(&share.serialize(), &[]);
                self.package = Some(package);
                self.own_share = Some(share);
                Ok(Advance::Send(incoming.keys().map(|p| (*p, bytes.clone())).collect()))
            }
            2 => {
                let mut shares = BTreeMap::new();
                shares.insert(self.ids[&me], self.own_share.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 2 out of order"))?);
                for (&from, body) in &incoming {
                    let s = decode(from, 2, frost_core::round2::SignatureShare::<C>::deserialize(only_broadcast(from, 2, body)?))?;
                    shares.insert(self.ids[&from], s);
                }
                let package = self.package.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 2 out of order"))?;
                let signature = frost_core::aggregate(&package, &shares, &self.share.public).map_err(|e| frost_fail(e, &self.ids))?;
                self.share
                    .public
                    .verifying_key()
                    .verify(&self.message, &signature)
                    .map_err(|e| Fail::new(Code::ProtocolAbort, format!("aggregated signature does not verify: {e}")))?;
                let bytes = signature.serialize().map_err(|e| frost_fail(e, &self.ids))?;
                Ok(Advance::Done(bytes))
            }
            _ => Err(Fail::new(Code::ProtocolAbort, format!("no round {round}"))),
        }
    }
}
