//! Key shares: what a party keeps between ceremonies, as opaque versioned bytes.
//!
//! ```text
//! "TSK" | version u8 (=1) | scheme u8 | postcard(body)
//! ```
//! ECDSA body: the DKLs23 `Party` (secret share, OT state, chain code).
//! FROST bodies: frost's own serialisations of `KeyPackage` and `PublicKeyPackage`.
//! Shares never leave a node; encryption at rest is the node's job.

use dkls23_secp256k1::Party;
use elliptic_curve::sec1::ToSec1Point;
use serde::{Deserialize, Serialize};

use crate::error::Fail;

const MAGIC: &[u8; 3] = b"TSK";
const VERSION: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    EcdsaSecp256k1 = 1,
    FrostEd25519 = 2,
    FrostBip340 = 3,
}

impl Scheme {
    pub fn parse(name: &str) -> Result<Scheme, Fail> {
        match name {
            "ecdsa-secp256k1" => Ok(Scheme::EcdsaSecp256k1),
            "frost-ed25519" => Ok(Scheme::FrostEd25519),
            "frost-bip340" => Ok(Scheme::FrostBip340),
            other => Err(Fail::bad_input(format!("unknown scheme {other:?}"))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Scheme::EcdsaSecp256k1 => "ecdsa-secp256k1",
            Scheme::FrostEd25519 => "frost-ed25519",
            Scheme::FrostBip340 => "frost-bip340",
        }
    }
}

pub type Ed25519 = frost_ed25519::Ed25519Sha512;
pub type Bip340 = frost_secp256k1_tr::Secp256K1Sha256TR;

pub struct FrostShare<C: frost_core::Ciphersuite> {
    pub key: frost_core::keys::KeyPackage<C>,
    pub public: frost_core::keys::PublicKeyPackage<C>,
    pub index: u8,
    pub parties: u8,
}

impl<C: frost_core::Ciphersuite> Clone for FrostShare<C> {
    fn clone(&self) -> Self {
        FrostShare { key: self.key.clone(), public: self.public.clone(), index: self.index, parties: self.parties }
    }
}

/// The two FROST ciphersuites we ship, each mapped to its `Share` variant.
pub trait FrostSuite: frost_core::Ciphersuite + Sized {
    fn into_share(share: FrostShare<Self>) -> Share;
}
impl FrostSuite for Ed25519 {
    fn into_share(share: FrostShare<Self>) -> Share {
        Share::Ed25519(share)
    }
}
impl FrostSuite for Bip340 {
    fn into_share(share: FrostShare<Self>) -> Share {
        Share::Bip340(share)
    }
}

pub enum Share {
    Ecdsa(Box<Party>),
    Ed25519(FrostShare<Ed25519>),
    Bip340(FrostShare<Bip340>),
}

impl Clone for Share {
    fn clone(&self) -> Self {
        match self {
            Share::Ecdsa(p) => Share::Ecdsa(p.clone()),
            Share::Ed25519(s) => Share::Ed25519(s.clone()),
            Share::Bip340(s) => Share::Bip340(s.clone()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct FrostBody {
    index: u8,
    parties: u8,
    key: Vec<u8>,
    public: Vec<u8>,
}

fn frost_body<C: frost_core::Ciphersuite>(s: &FrostShare<C>) -> Result<Vec<u8>, Fail> {
    let body = FrostBody {
        index: s.index,
        parties: s.parties,
        key: s.key.serialize().map_err(|e| Fail::bad_input(format!("key package: {e}")))?,
        public: s.public.serialize().map_err(|e| Fail::bad_input(format!("public key package: {e}")))?,
    };
    postcard::to_allocvec(&body).map_err(|e| Fail::bad_input(format!("share: {e}")))
}

fn frost_from<C: frost_core::Ciphersuite>(body: &[u8]) -> Result<FrostShare<C>, Fail> {
    let b: FrostBody = postcard::from_bytes(body).map_err(|e| Fail::bad_input(format!("key share does not decode: {e}")))?;
    let key = frost_core::keys::KeyPackage::<C>::deserialize(&b.key).map_err(|e| Fail::bad_input(format!("key share: {e}")))?;
    let public = frost_core::keys::PublicKeyPackage::<C>::deserialize(&b.public).map_err(|e| Fail::bad_input(format!("key share: {e}")))?;
    let id = frost_core::Identifier::<C>::try_from(b.index as u16).map_err(|e| Fail::bad_input(format!("key share: {e}")))?;
    if *key.identifier() != id {
        return Err(Fail::bad_input("key share: index does not match its key package"));
    }
    Ok(FrostShare { key, public, index: b.index, parties: b.parties })
}

impl Share {
    pub fn scheme(&self) -> Scheme {
        match self {
            Share::Ecdsa(_) => Scheme::EcdsaSecp256k1,
            Share::Ed25519(_) => Scheme::FrostEd25519,
            Share::Bip340(_) => Scheme::FrostBip340,
        }
    }

    pub fn index(&self) -> u8 {
        match self {
            Share::Ecdsa(p) => p.party_index.as_u8(),
            Share::Ed25519(s) => s.index,
            Share::Bip340(s) => s.index,
        }
    }

    pub fn threshold(&self) -> u8 {
        match self {
            Share::Ecdsa(p) => p.parameters.threshold,
            Share::Ed25519(s) => *s.key.min_signers() as u8,
            Share::Bip340(s) => *s.key.min_signers() as u8,
        }
    }

    pub fn parties(&self) -> u8 {
        match self {
            Share::Ecdsa(p) => p.parameters.share_count,
            Share::Ed25519(s) => s.parties,
            Share::Bip340(s) => s.parties,
        }
    }

    /// ECDSA: 33-byte compressed SEC1. Ed25519: the 32-byte key. BIP340: the 32-byte x-only key.
    pub fn public_key(&self) -> Result<Vec<u8>, Fail> {
        match self {
            Share::Ecdsa(p) => Ok(p.pk.to_sec1_point(true).as_bytes().to_vec()),
            Share::Ed25519(s) => s.public.verifying_key().serialize().map_err(|e| Fail::bad_input(e.to_string())),
            Share::Bip340(s) => {
                let sec1 = s.public.verifying_key().serialize().map_err(|e| Fail::bad_input(e.to_string()))?;
                Ok(sec1[1..].to_vec())
            }
        }
    }

    /// What every party of the key must agree on after keygen and refresh: FROST the public key
    /// package (group key and every party's verifying share); ECDSA the public key and chain
    /// code (a DKLs23 `Party` keeps no other party's public share; those travel in the echoed
    /// round-2 proof commitments).
    pub fn public_view(&self) -> Result<Vec<u8>, Fail> {
        match self {
            Share::Ecdsa(p) => {
                let mut out = p.pk.to_sec1_point(true).as_bytes().to_vec();
                out.extend_from_slice(&p.chain_code().to_vec());
                Ok(out)
            }
            Share::Ed25519(s) => s.public.serialize().map_err(|e| Fail::bad_input(format!("public key package: {e}"))),
            Share::Bip340(s) => s.public.serialize().map_err(|e| Fail::bad_input(format!("public key package: {e}"))),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, Fail> {
        let body = match self {
            Share::Ecdsa(p) => postcard::to_allocvec(p.as_ref()).map_err(|e| Fail::bad_input(format!("share: {e}")))?,
            Share::Ed25519(s) => frost_body(s)?,
            Share::Bip340(s) => frost_body(s)?,
        };
        let mut out = Vec::with_capacity(5 + body.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.scheme() as u8);
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Share, Fail> {
        if bytes.len() < 5 || &bytes[..3] != MAGIC {
            return Err(Fail::bad_input("not a Tessera key share"));
        }
        if bytes[3] != VERSION {
            return Err(Fail::bad_input(format!("unsupported key share version {}", bytes[3])));
        }
        let body = &bytes[5..];
        match bytes[4] {
            1 => {
                let party: Party = postcard::from_bytes(body).map_err(|e| Fail::bad_input(format!("key share does not decode: {e}")))?;
                Ok(Share::Ecdsa(Box::new(party)))
            }
            2 => Ok(Share::Ed25519(frost_from(body)?)),
            3 => Ok(Share::Bip340(frost_from(body)?)),
            s => Err(Fail::bad_input(format!("unknown scheme {s} in key share"))),
        }
    }
}
