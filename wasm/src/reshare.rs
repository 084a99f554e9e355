//! Resharing onto a new party set: a replacement takes over a retired party's index, then every
//! share is refreshed, so the retired party's share no longer combines with any current one.
//!
//! Both steps are the protocol crates' own mechanisms:
//! - ECDSA (DKLs23, `dkls23-core` 0.6.2 `protocols::repair`): the other parties (at least `t`,
//!   the *helpers*) each send the replacement one masked term; `repair_assemble` adds them into
//!   the retired index's share (a *hollow* party without OT state), checked against that index's
//!   verifying share. Then a *complete* refresh across all `n` parties (the crate requires the
//!   complete one after a repair) rebuilds the OT/multiplication state and re-randomizes every
//!   share under the same public key.
//! - FROST (`frost-core` 3.0 `keys::repairable`, Repairable Threshold Scheme): helpers split
//!   their Lagrange-weighted share into random deltas among themselves (round 1), each sends the
//!   sum of what it got to the replacement (round 2), who adds them up; then FROST's refresh
//!   (`keys::refresh`) among all `n` parties.
//!
//! What the crates leave to the caller, done here:
//! - DKLs23's repair checks the terms against the target's verifying share in a public key
//!   package, but a `Party` keeps no package. Each helper broadcasts its own verifying share
//!   `Y_i = f(i)·G`; the replacement interpolates `Y_target = Σ λ_i(target)·Y_i` and accepts the
//!   helpers' shares only if they interpolate to the key it was told to expect at 0
//!   (`Σ λ_i(0)·Y_i = pk`): one lying helper cannot move either point.
//! - FROST's part 3 does not check the repaired share at all: the replacement requires every
//!   helper to send the same public key package, with the expected group key, and the repaired
//!   share's verifying share to be the package's for that index.
//! - Who the replacement is, and that the retired party is not among the parties, is the node's
//!   check (its governance log); here, the replacement index is simply the one without a share.

use std::collections::BTreeMap;

use dkls23_core::protocols::repair::{repair_assemble, RepairTerm};
use dkls23_core::protocols::{Parameters, PublicKeyPackage};
use dkls23_secp256k1::Party;
use frost_core::keys::repairable::{repair_share_part1, repair_share_part2, repair_share_part3, Delta, Sigma};
use frost_core::keys::PublicKeyPackage as FrostPublic;
use frost_core::Identifier;
use k256::{AffinePoint, ProjectivePoint, Scalar, Secp256k1};
use serde::{Deserialize, Serialize};

use crate::dkls::DklsKeygen;
use crate::engine::{Advance, Outgoing, Protocol};
use crate::error::{Code, Fail};
use crate::frost::FrostKeygen;
use crate::rng::PlatformRng;
use crate::share::{FrostShare, FrostSuite, Scheme, Share};
use crate::wire::{decode_body, encode_body, join_body, split_body};

/// What the replacement knows before it holds a share: the key's shape and public key.
pub struct TargetInfo {
    pub scheme: Scheme,
    pub threshold: u8,
    pub parties: u8,
    pub public_key: Vec<u8>,
}

/// This party's side: a helper (a current holder) or the replacement.
pub enum Role {
    Helper(Share),
    Target(TargetInfo),
}

/// One step of the repair, scheme by scheme; ends with this party's share for the refresh.
trait Repair {
    fn rounds(&self) -> u8;
    fn start(&mut self) -> Result<Outgoing, Fail>;
    /// Rounds before the last.
    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Outgoing, Fail>;
    /// The last round's messages are in: the share to refresh (a helper's own, the replacement's repaired one).
    fn finish(&mut self, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Share, Fail>;
}

pub struct Reshare {
    parties: Vec<u8>,
    session_id: Vec<u8>,
    repair: Box<dyn Repair>,
    refresh_rounds: u8,
    refresh: Option<Box<dyn Protocol>>,
}

impl Reshare {
    /// `parties`: every index 1..=n of the new set; `target`: the index the replacement takes.
    pub fn new(session_id: &[u8], me: u8, parties: &[u8], target: u8, role: Role) -> Result<Reshare, Fail> {
        let (scheme, threshold, n) = match &role {
            Role::Helper(s) => (s.scheme(), s.threshold(), s.parties()),
            Role::Target(t) => (t.scheme, t.threshold, t.parties),
        };
        let mut sorted = parties.to_vec();
        sorted.sort_unstable();
        if sorted != (1..=n).collect::<Vec<u8>>() {
            return Err(Fail::bad_input(format!("a reshare needs every party 1..={n}, got {parties:?}")));
        }
        if target == 0 || target > n {
            return Err(Fail::bad_input(format!("the replacement's index {target} is not one of 1..={n}")));
        }
        match &role {
            Role::Helper(s) if s.index() == target => return Err(Fail::bad_input("the replacement cannot be a helper")),
            Role::Helper(s) if s.index() != me => return Err(Fail::bad_input(format!("this share is party {}, not {me}", s.index()))),
            Role::Target(_) if me != target => return Err(Fail::bad_input(format!("party {me} has no share and is not the replacement {target}"))),
            _ => {}
        }
        let helpers: Vec<u8> = sorted.iter().copied().filter(|p| *p != target).collect();
        if helpers.len() < threshold as usize {
            return Err(Fail::bad_input(format!("{} helpers are fewer than the threshold {threshold}", helpers.len())));
        }
        let common = Common { me, target, helpers, session_id: session_id.to_vec() };
        let (repair, refresh_rounds): (Box<dyn Repair>, u8) = match (scheme, role) {
            (Scheme::EcdsaSecp256k1, Role::Helper(Share::Ecdsa(p))) => (Box::new(DklsRepair { c: common, party: Some(p), expect: None }), 3),
            (Scheme::EcdsaSecp256k1, Role::Target(t)) => {
                let pk = k256::PublicKey::from_sec1_bytes(&t.public_key).map_err(|_| Fail::bad_input("the expected public key is not a secp256k1 point"))?;
                (Box::new(DklsRepair { c: common, party: None, expect: Some((*pk.as_affine(), t.threshold, t.parties)) }), 3)
            }
            (Scheme::FrostEd25519, Role::Helper(Share::Ed25519(s))) => (Box::new(FrostRepair::helper(common, s)?), 2),
            (Scheme::FrostEd25519, Role::Target(t)) => (Box::new(FrostRepair::<crate::share::Ed25519>::target(common, t)?), 2),
            (Scheme::FrostBip340, Role::Helper(Share::Bip340(s))) => (Box::new(FrostRepair::helper(common, s)?), 2),
            (Scheme::FrostBip340, Role::Target(t)) => (Box::new(FrostRepair::<crate::share::Bip340>::target(common, t)?), 2),
            _ => return Err(Fail::bad_input("the share is not of the scheme being reshared")),
        };
        Ok(Reshare { parties: parties.to_vec(), session_id: session_id.to_vec(), repair, refresh_rounds, refresh: None })
    }
}

impl Protocol for Reshare {
    fn rounds(&self) -> u8 {
        self.repair.rounds() + self.refresh_rounds
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        self.repair.start()
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        let repair_rounds = self.repair.rounds();
        if round < repair_rounds {
            return Ok(Advance::Send(self.repair.advance(round, incoming)?));
        }
        if round == repair_rounds {
            let share = self.repair.finish(incoming)?;
            let mut refresh: Box<dyn Protocol> = match &share {
                Share::Ecdsa(p) => Box::new(DklsKeygen::refresh(&self.session_id, p, &self.parties)?),
                Share::Ed25519(s) => Box::new(FrostKeygen::refresh(s, &self.parties)?),
                Share::Bip340(s) => Box::new(FrostKeygen::refresh(s, &self.parties)?),
            };
            let out = refresh.start()?;
            self.refresh = Some(refresh);
            return Ok(Advance::Send(out));
        }
        let refresh = self.refresh.as_mut().ok_or_else(|| Fail::new(Code::ProtocolAbort, "refresh round out of order"))?;
        refresh.advance(round - repair_rounds, incoming)
    }
}

struct Common {
    me: u8,
    target: u8,
    helpers: Vec<u8>,
    session_id: Vec<u8>,
}

impl Common {
    fn others(&self) -> impl Iterator<Item = u8> + '_ {
        self.helpers.iter().copied().chain(std::iter::once(self.target)).filter(move |p| *p != self.me)
    }
    /// Every message of the replacement in a repair round: it has nothing to say yet.
    fn nothing(&self) -> Outgoing {
        self.others().map(|p| (p, join_body(&[], &[]))).collect()
    }
    fn expect_empty(&self, round: u8, incoming: &BTreeMap<u8, Vec<u8>>, from_target_only: bool) -> Result<(), Fail> {
        for (&from, body) in incoming {
            if from_target_only && from != self.target {
                continue;
            }
            let (b, d) = split_body(from, round, body)?;
            if !b.is_empty() || !d.is_empty() {
                return Err(Fail::by(Code::Malformed, from, format!("round {round} message from party {from} should be empty")));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- DKLs23

/// A helper's verifying share, broadcast: `f(i)·G`, compressed.
#[derive(Serialize, Deserialize)]
struct VerifyingShare {
    point: AffinePoint,
}

struct DklsRepair {
    c: Common,
    party: Option<Box<Party>>,
    /// The replacement: the group key, threshold and party count it was told to expect.
    expect: Option<(AffinePoint, u8, u8)>,
}

fn index_scalar(i: u8) -> Scalar {
    Scalar::from(u64::from(i))
}

/// `λ_i(x)` over `set`.
fn lagrange(set: &[u8], i: u8, x: u8) -> Scalar {
    let mut num = Scalar::ONE;
    let mut den = Scalar::ONE;
    for &j in set.iter().filter(|j| **j != i) {
        num *= index_scalar(x) - index_scalar(j);
        den *= index_scalar(i) - index_scalar(j);
    }
    num * den.invert().unwrap()
}

impl Repair for DklsRepair {
    fn rounds(&self) -> u8 {
        1
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let Some(party) = &self.party else { return Ok(self.c.nothing()) };
        let helpers: Vec<_> = self.c.helpers.iter().map(|&h| dkls23_core::protocols::PartyIndex::new(h).expect("validated")).collect();
        let target = dkls23_core::protocols::PartyIndex::new(self.c.target).expect("validated");
        let term = party
            .repair_term(&helpers, target, &self.c.session_id)
            .map_err(|e| Fail::new(Code::ProtocolAbort, format!("DKLs23 repair: {e}")))?;
        let own = (ProjectivePoint::GENERATOR * party.poly_point).to_affine();
        let broadcast = encode_body(&VerifyingShare { point: own })?;
        let direct = encode_body(&term)?;
        Ok(self.c.others().map(|p| (p, join_body(&broadcast, if p == self.c.target { &direct } else { &[] }))).collect())
    }

    fn advance(&mut self, round: u8, _incoming: BTreeMap<u8, Vec<u8>>) -> Result<Outgoing, Fail> {
        Err(Fail::new(Code::ProtocolAbort, format!("no repair round {round}")))
    }

    fn finish(&mut self, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Share, Fail> {
        if let Some(party) = self.party.take() {
            self.c.expect_empty(1, &incoming, true)?;
            return Ok(Share::Ecdsa(party));
        }
        let (pk, threshold, n) = self.expect.ok_or_else(|| Fail::new(Code::ProtocolAbort, "no expected key"))?;
        let mut terms = Vec::new();
        let mut shares = BTreeMap::new();
        for (&from, body) in &incoming {
            let (b, d) = split_body(from, 1, body)?;
            let y: VerifyingShare = decode_body(from, 1, b)?;
            let term: RepairTerm<Secp256k1> = decode_body(from, 1, d)?;
            if term.helper.as_u8() != from || term.target.as_u8() != self.c.target {
                return Err(Fail::by(Code::Malformed, from, format!("party {from} sent a repair term of helper {} for party {}", term.helper, term.target)));
            }
            shares.insert(from, ProjectivePoint::from(y.point));
            terms.push(term);
        }
        // The helpers' verifying shares must interpolate to the expected key at 0.
        let set = &self.c.helpers;
        let at = |x: u8| set.iter().fold(ProjectivePoint::IDENTITY, |acc, &i| acc + shares[&i] * lagrange(set, i, x));
        if at(0).to_affine() != pk {
            return Err(Fail::new(Code::ProtocolAbort, "the helpers' verifying shares do not interpolate to the key's public key (a helper lied)"));
        }
        let target = dkls23_core::protocols::PartyIndex::new(self.c.target).expect("validated");
        let params = Parameters::new(threshold, n).map_err(|_| Fail::bad_input("invalid threshold parameters"))?;
        let package = PublicKeyPackage::<Secp256k1>::new(pk, BTreeMap::from([(target, at(self.c.target).to_affine())]), params);
        let party = repair_assemble(&package, target, &terms, |_| String::new()).map_err(|e| Fail::new(Code::ProtocolAbort, format!("DKLs23 repair: {e}")))?;
        Ok(Share::Ecdsa(Box::new(party)))
    }
}

// ---------------------------------------------------------------- FROST

struct FrostRepair<C: FrostSuite> {
    c: Common,
    ids: BTreeMap<u8, Identifier<C>>,
    share: Option<FrostShare<C>>,
    target: Option<TargetInfo>,
    own_delta: Option<Delta<C>>,
}

impl<C: FrostSuite> FrostRepair<C> {
    fn ids(c: &Common) -> Result<BTreeMap<u8, Identifier<C>>, Fail> {
        c.helpers
            .iter()
            .chain(std::iter::once(&c.target))
            .map(|&p| Identifier::<C>::try_from(p as u16).map(|id| (p, id)).map_err(|e| Fail::bad_input(e.to_string())))
            .collect()
    }
    fn helper(c: Common, share: FrostShare<C>) -> Result<Self, Fail> {
        Ok(FrostRepair { ids: Self::ids(&c)?, c, share: Some(share), target: None, own_delta: None })
    }
    fn target(c: Common, t: TargetInfo) -> Result<Self, Fail> {
        Ok(FrostRepair { ids: Self::ids(&c)?, c, share: None, target: Some(t), own_delta: None })
    }
    fn fail(&self, e: frost_core::Error<C>) -> Fail {
        Fail::new(Code::ProtocolAbort, format!("FROST repair: {e}"))
    }
}

impl<C: FrostSuite> Repair for FrostRepair<C> {
    fn rounds(&self) -> u8 {
        2
    }

    /// Round 1: each helper's deltas to the other helpers.
    fn start(&mut self) -> Result<Outgoing, Fail> {
        let Some(share) = &self.share else { return Ok(self.c.nothing()) };
        let helpers: Vec<Identifier<C>> = self.c.helpers.iter().map(|h| self.ids[h]).collect();
        let mut deltas = repair_share_part1(&helpers, &share.key, &mut PlatformRng, self.ids[&self.c.target]).map_err(|e| self.fail(e))?;
        self.own_delta = deltas.remove(&self.ids[&self.c.me]);
        let mut out = Vec::new();
        for p in self.c.others() {
            let direct = if p == self.c.target { Vec::new() } else { deltas.get(&self.ids[&p]).ok_or_else(|| Fail::new(Code::ProtocolAbort, format!("no delta for party {p}")))?.serialize() };
            out.push((p, join_body(&[], &direct)));
        }
        Ok(out)
    }

    /// Round 2: each helper's sigma (the sum of its deltas) to the replacement, with the public key package.
    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Outgoing, Fail> {
        if round != 1 {
            return Err(Fail::new(Code::ProtocolAbort, format!("no repair round {round}")));
        }
        let Some(share) = &self.share else {
            self.c.expect_empty(1, &incoming, false)?;
            return Ok(self.c.nothing());
        };
        let mut deltas = vec![self.own_delta.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 1 out of order"))?];
        for (&from, body) in &incoming {
            if from == self.c.target {
                continue;
            }
            let (b, d) = split_body(from, 1, body)?;
            if !b.is_empty() {
                return Err(Fail::by(Code::Malformed, from, "a repair delta has no broadcast part"));
            }
            deltas.push(Delta::<C>::deserialize(d).map_err(|e| Fail::by(Code::Malformed, from, format!("round 1 delta from party {from}: {e}")))?);
        }
        self.c.expect_empty(1, &incoming, true)?;
        let sigma = repair_share_part2(&deltas);
        let public = share.public.serialize().map_err(|e| self.fail(e))?;
        let sigma = sigma.serialize();
        Ok(self.c.others().map(|p| (p, join_body(&public, if p == self.c.target { &sigma } else { &[] }))).collect())
    }

    fn finish(&mut self, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Share, Fail> {
        if let Some(share) = self.share.take() {
            self.c.expect_empty(2, &incoming, true)?;
            return Ok(C::into_share(share));
        }
        let t = self.target.take().ok_or_else(|| Fail::new(Code::ProtocolAbort, "round 2 out of order"))?;
        let mut sigmas = Vec::new();
        let mut public: Option<Vec<u8>> = None;
        for (&from, body) in &incoming {
            let (b, d) = split_body(from, 2, body)?;
            match &public {
                None => public = Some(b.to_vec()),
                Some(p) if p.as_slice() != b => return Err(Fail::by(Code::ProtocolAbort, from, format!("party {from} sent another public key package than the other helpers"))),
                _ => {}
            }
            sigmas.push(Sigma::<C>::deserialize(d).map_err(|e| Fail::by(Code::Malformed, from, format!("round 2 sigma from party {from}: {e}")))?);
        }
        let public = FrostPublic::<C>::deserialize(&public.unwrap_or_default()).map_err(|e| self.fail(e))?;
        let id = self.ids[&self.c.target];
        let key = repair_share_part3(&sigmas, id, &public).map_err(|e| self.fail(e))?;
        if public.verifying_shares().get(&id) != Some(key.verifying_share()) {
            return Err(Fail::new(Code::ProtocolAbort, "the repaired share is not the one the key's public package names for this index (a helper lied)"));
        }
        let share = C::into_share(FrostShare { key, public, index: self.c.target, parties: t.parties });
        if share.public_key()? != t.public_key {
            return Err(Fail::new(Code::ProtocolAbort, "the helpers' public key package is for another key"));
        }
        if share.threshold() != t.threshold {
            return Err(Fail::new(Code::ProtocolAbort, "the helpers' key has another threshold"));
        }
        Ok(share)
    }
}
