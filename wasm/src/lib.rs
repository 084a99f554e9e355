//! Tessera's MPC core, compiled to WebAssembly and run unchanged in Node (share-holder
//! nodes), workerd (the edge) and browsers.
//!
//! Two objects cross the boundary:
//! - `KeyShare`: a party's share, living in wasm memory; imported/exported as opaque
//!   versioned bytes only when it has to be stored.
//! - `Session`: a ceremony (keygen, sign, refresh) as a state machine: `start()` gives the
//!   first messages, `receive(bytes)` takes one message and gives the next ones, and once
//!   `done`, `result()` gives the key share bytes or the signature. Session state stays in
//!   wasm between calls, so a round costs no serialisation of the share through JS.
//!
//! Errors are JS `Error`s whose message is `tessera-mpc:` + JSON `{code, culprit, message}`;
//! the TypeScript wrapper (wasm/index.ts) turns them into typed `MpcError`s.

use wasm_bindgen::prelude::*;

mod batch;
mod dkls;
mod engine;
mod error;
mod frost;
mod reshare;
mod rng;
mod share;
mod wire;

use std::alloc::{GlobalAlloc, Layout, System};
use std::rc::Rc;

use engine::{Engine, Protocol};
use error::Fail;
use share::{Scheme, Share};
use wire::SESSION_ID_LEN;

/// The system allocator, zeroing every block it frees. Shares, nonces and their encodings pass
/// through heap buffers this crate does not own (wasm-bindgen's staging copies, serialisation
/// buffers); wiping on free means a share that was dropped — a retired generation after a
/// refresh, a session's nonces — leaves no copy in the module's linear memory. The protocol crates'
/// own secret types also zeroize on drop; this covers everything in between.
struct ZeroOnFree;

unsafe impl GlobalAlloc for ZeroOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe {
            std::ptr::write_bytes(ptr, 0, layout.size());
            // Keep the wipe from being optimised away as a store to memory about to be freed.
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
            System.dealloc(ptr, layout)
        }
    }
    // realloc: the trait's default (alloc, copy, dealloc) so the old block is wiped too.
}

#[global_allocator]
static ALLOCATOR: ZeroOnFree = ZeroOnFree;

fn js(f: Fail) -> JsError {
    JsError::new(&format!("tessera-mpc:{}", f.to_json()))
}

/// Crate and wire versions, for logs and compatibility checks.
#[wasm_bindgen]
pub fn version() -> String {
    format!("tessera-mpc {} (wire v{})", env!("CARGO_PKG_VERSION"), wire::VERSION)
}

#[wasm_bindgen]
pub struct KeyShare {
    inner: Share,
}

#[wasm_bindgen]
impl KeyShare {
    /// Parses exported share bytes (validated; a wrong or corrupted blob is refused).
    #[wasm_bindgen(js_name = import)]
    pub fn import(bytes: &[u8]) -> Result<KeyShare, JsError> {
        Share::decode(bytes).map(|inner| KeyShare { inner }).map_err(js)
    }

    #[wasm_bindgen(js_name = export)]
    pub fn export(&self) -> Result<Vec<u8>, JsError> {
        self.inner.encode().map_err(js)
    }

    #[wasm_bindgen(getter)]
    pub fn scheme(&self) -> String {
        self.inner.scheme().name().to_string()
    }

    #[wasm_bindgen(getter, js_name = partyIndex)]
    pub fn party_index(&self) -> u8 {
        self.inner.index()
    }

    #[wasm_bindgen(getter)]
    pub fn threshold(&self) -> u8 {
        self.inner.threshold()
    }

    #[wasm_bindgen(getter)]
    pub fn parties(&self) -> u8 {
        self.inner.parties()
    }

    /// ECDSA: 33-byte compressed key. Ed25519: 32 bytes. BIP340: 32-byte x-only key.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self) -> Result<Vec<u8>, JsError> {
        self.inner.public_key().map_err(js)
    }

    /// What all parties must agree on after keygen/refresh (see `Share::public_view`).
    #[wasm_bindgen(js_name = publicView)]
    pub fn public_view(&self) -> Result<Vec<u8>, JsError> {
        self.inner.public_view().map_err(js)
    }

    /// ECDSA: the BIP32 chain code shared by all parties (public; with the public key it
    /// forms the extended public key, so outsiders can check derived keys).
    #[wasm_bindgen(js_name = chainCode)]
    pub fn chain_code(&self) -> Result<Vec<u8>, JsError> {
        match &self.inner {
            Share::Ecdsa(p) => Ok(p.chain_code().to_vec()),
            _ => Err(js(Fail::bad_input("chain codes exist only for ecdsa-secp256k1"))),
        }
    }

    /// BIP32 non-hardened child public key (ECDSA only), e.g. `m/0/7`.
    #[wasm_bindgen(js_name = derivePublicKey)]
    pub fn derive_public_key(&self, path: &str) -> Result<Vec<u8>, JsError> {
        match &self.inner {
            Share::Ecdsa(p) => {
                let child = derive(p, path).map_err(js)?;
                Share::Ecdsa(Box::new(child)).public_key().map_err(js)
            }
            _ => Err(js(Fail::bad_input("derivation is only available for ecdsa-secp256k1"))),
        }
    }
}

fn derive(p: &dkls23_secp256k1::Party, path: &str) -> Result<dkls23_secp256k1::Party, Fail> {
    if path.is_empty() || path == "m" {
        return Ok(p.clone());
    }
    p.derive_from_path(path, |_| String::new())
        .map_err(|e| Fail::bad_input(format!("derivation path {path:?}: {}", e.description)))
}

fn check_parties(parties: &[u8]) -> Result<(), Fail> {
    let mut sorted = parties.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != parties.len() || sorted.first() == Some(&0) || parties.len() < 2 {
        return Err(Fail::bad_input(format!("parties must be at least two distinct indices from 1, got {parties:?}")));
    }
    Ok(())
}

#[wasm_bindgen]
pub struct Session {
    engine: Engine,
}

#[wasm_bindgen]
impl Session {
    /// Distributed key generation: `threshold`-of-`parties.len()`; no dealer, no party
    /// ever holds the key.
    pub fn keygen(scheme: &str, session_id: &[u8], me: u8, parties: &[u8], threshold: u8) -> Result<Session, JsError> {
        Self::keygen_inner(scheme, session_id, me, parties, threshold).map_err(js)
    }

    /// Signs `message` with the parties in `signers`: ECDSA takes a 32-byte digest and
    /// exactly `threshold` signers; FROST takes the message bytes themselves.
    /// `path` (ECDSA only) signs with the BIP32 non-hardened child key.
    pub fn sign(share: &KeyShare, session_id: &[u8], signers: &[u8], message: &[u8], path: Option<String>) -> Result<Session, JsError> {
        Self::sign_inner(share, session_id, signers, message, path).map_err(js)
    }

    /// ECDSA presigning (the fork's presignature variant, wasm/vendor/dkls23-core/PRESIGN.md):
    /// the message-independent rounds with exactly `threshold` signers, ahead of time, for a
    /// batch of presignatures at once (batch.rs): `presignature_ids` is their 32-byte ids back to
    /// back (1 to 64, distinct), each the id its presignature is made under. `result()` bundles
    /// this party's presignatures in that order (`count u32 | (len u32 | bytes)*`), each for the
    /// master key and this signer set: secret, single use.
    pub fn presign(share: &KeyShare, session_id: &[u8], signers: &[u8], presignature_ids: &[u8]) -> Result<Session, JsError> {
        Self::presign_inner(share, session_id, signers, presignature_ids).map_err(js)
    }

    /// ECDSA signing from a presignature made by this share with these signers: one round.
    /// The caller must have erased `presignature` from its storage before `start()`, which
    /// releases this party's partial signature. `path` signs with a BIP32 child of the key.
    #[wasm_bindgen(js_name = signPresigned)]
    pub fn sign_presigned(share: &KeyShare, session_id: &[u8], signers: &[u8], message: &[u8], path: Option<String>, presignature: &[u8]) -> Result<Session, JsError> {
        Self::sign_presigned_inner(share, session_id, signers, message, path, presignature).map_err(js)
    }

    /// Refresh with every party: same public key, new shares; old shares stop working.
    pub fn refresh(share: &KeyShare, session_id: &[u8], parties: &[u8]) -> Result<Session, JsError> {
        Self::refresh_inner(share, session_id, parties).map_err(js)
    }

    /// Reshare, a current holder's side: with the other holders, gives the replacement the share
    /// of index `target` (whose holder is retired), then refreshes every share (see reshare.rs).
    #[wasm_bindgen(js_name = reshareHelper)]
    pub fn reshare_helper(share: &KeyShare, session_id: &[u8], parties: &[u8], target: u8) -> Result<Session, JsError> {
        let me = share.inner.index();
        let role = reshare::Role::Helper(share.inner.clone());
        Self::reshare_inner(session_id, me, parties, target, role).map_err(js)
    }

    /// Reshare, the replacement's side: it holds nothing yet and takes index `target` of the key
    /// `public_key` (`threshold` of `parties.len()`), which the result must be a share of.
    #[wasm_bindgen(js_name = reshareTarget)]
    pub fn reshare_target(scheme: &str, session_id: &[u8], parties: &[u8], target: u8, threshold: u8, public_key: &[u8]) -> Result<Session, JsError> {
        let info = reshare::TargetInfo { scheme: Scheme::parse(scheme).map_err(js)?, threshold, parties: parties.len() as u8, public_key: public_key.to_vec() };
        Self::reshare_inner(session_id, target, parties, target, reshare::Role::Target(info)).map_err(js)
    }

    pub fn start(&mut self) -> Result<Vec<u8>, JsError> {
        self.engine.start().map_err(js)
    }

    pub fn receive(&mut self, message: &[u8]) -> Result<Vec<u8>, JsError> {
        self.engine.receive(message).map_err(js)
    }

    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.engine.done()
    }

    #[wasm_bindgen(getter)]
    pub fn round(&self) -> u8 {
        self.engine.round()
    }

    #[wasm_bindgen(js_name = waitingFor)]
    pub fn waiting_for(&self) -> Vec<u8> {
        self.engine.waiting_for()
    }

    /// Keygen/refresh: the new key share bytes. Sign: ECDSA `r || s || recid` (65 bytes),
    /// FROST the 64-byte signature.
    pub fn result(&self) -> Result<Vec<u8>, JsError> {
        self.engine.result().map_err(js)
    }

    /// A signature from a presignature, once started: `x(R') || u_i' || w_i` (96 bytes) — the
    /// broadcast this party sends the other signers and the signature's public `r` — so a
    /// coordinator can assemble `s = Σw / Σu` itself (PRESIGN.md); empty for any other session
    /// or once the round is over.
    pub fn partial(&self) -> Vec<u8> {
        self.engine.partial().unwrap_or_default()
    }
}

impl Session {
    fn keygen_inner(scheme: &str, session_id: &[u8], me: u8, parties: &[u8], threshold: u8) -> Result<Session, Fail> {
        check_parties(parties)?;
        let protocol: Box<dyn Protocol> = match Scheme::parse(scheme)? {
            Scheme::EcdsaSecp256k1 => Box::new(dkls::DklsKeygen::keygen(session_id, me, parties, threshold)?),
            Scheme::FrostEd25519 => Box::new(frost::FrostKeygen::<share::Ed25519>::keygen(me, parties, threshold)?),
            Scheme::FrostBip340 => Box::new(frost::FrostKeygen::<share::Bip340>::keygen(me, parties, threshold)?),
        };
        Ok(Session { engine: Engine::new(session_id, me, parties, protocol)? })
    }

    fn sign_inner(share: &KeyShare, session_id: &[u8], signers: &[u8], message: &[u8], path: Option<String>) -> Result<Session, Fail> {
        check_parties(signers)?;
        let me = share.inner.index();
        let path = path.unwrap_or_default();
        let protocol: Box<dyn Protocol> = match &share.inner {
            Share::Ecdsa(p) => {
                if signers.iter().any(|s| *s > p.parameters.share_count) {
                    return Err(Fail::bad_input(format!("signers must be parties 1..={}", p.parameters.share_count)));
                }
                Box::new(dkls::DklsSign::new(session_id, derive(p, &path)?, signers, message)?)
            }
            Share::Ed25519(_) | Share::Bip340(_) if !(path.is_empty() || path == "m") => {
                return Err(Fail::bad_input("derivation paths are only available for ecdsa-secp256k1"));
            }
            Share::Ed25519(s) => Box::new(frost::FrostSign::new(s, signers, message)?),
            Share::Bip340(s) => Box::new(frost::FrostSign::new(s, signers, message)?),
        };
        Ok(Session { engine: Engine::new(session_id, me, signers, protocol)? })
    }

    fn presign_inner(share: &KeyShare, session_id: &[u8], signers: &[u8], presignature_ids: &[u8]) -> Result<Session, Fail> {
        check_parties(signers)?;
        let me = share.inner.index();
        let Share::Ecdsa(p) = &share.inner else {
            return Err(Fail::bad_input("presignatures exist only for ecdsa-secp256k1"));
        };
        if signers.iter().any(|s| *s > p.parameters.share_count) {
            return Err(Fail::bad_input(format!("signers must be parties 1..={}", p.parameters.share_count)));
        }
        if presignature_ids.is_empty() || presignature_ids.len() % SESSION_ID_LEN != 0 {
            return Err(Fail::bad_input(format!("presignature ids are {SESSION_ID_LEN} bytes each, got {} bytes", presignature_ids.len())));
        }
        let ids: Vec<&[u8]> = presignature_ids.chunks(SESSION_ID_LEN).collect();
        if ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id) || *id == session_id) {
            return Err(Fail::bad_input("the presignatures of a batch need distinct ids, other than the ceremony's session id"));
        }
        let party = Rc::new((**p).clone());
        let items = ids.iter().map(|id| Ok(Box::new(dkls::DklsPresign::new(id, party.clone(), signers)?) as Box<dyn Protocol>)).collect::<Result<Vec<_>, Fail>>()?;
        let protocol = Box::new(batch::Batch::new(me, items)?);
        Ok(Session { engine: Engine::new(session_id, me, signers, protocol)? })
    }

    fn sign_presigned_inner(share: &KeyShare, session_id: &[u8], signers: &[u8], message: &[u8], path: Option<String>, presignature: &[u8]) -> Result<Session, Fail> {
        check_parties(signers)?;
        let me = share.inner.index();
        let Share::Ecdsa(p) = &share.inner else {
            return Err(Fail::bad_input("presignatures exist only for ecdsa-secp256k1"));
        };
        if signers.iter().any(|s| *s > p.parameters.share_count) {
            return Err(Fail::bad_input(format!("signers must be parties 1..={}", p.parameters.share_count)));
        }
        let child = derive(p, &path.unwrap_or_default())?;
        let protocol = Box::new(dkls::DklsPresignSign::new(session_id, p, child, signers, message, presignature)?);
        Ok(Session { engine: Engine::new(session_id, me, signers, protocol)? })
    }

    fn reshare_inner(session_id: &[u8], me: u8, parties: &[u8], target: u8, role: reshare::Role) -> Result<Session, Fail> {
        check_parties(parties)?;
        let protocol = reshare::Reshare::new(session_id, me, parties, target, role)?;
        Ok(Session { engine: Engine::new(session_id, me, parties, Box::new(protocol))? })
    }

    fn refresh_inner(share: &KeyShare, session_id: &[u8], parties: &[u8]) -> Result<Session, Fail> {
        check_parties(parties)?;
        let me = share.inner.index();
        let protocol: Box<dyn Protocol> = match &share.inner {
            Share::Ecdsa(p) => Box::new(dkls::DklsKeygen::refresh(session_id, p, parties)?),
            Share::Ed25519(s) => Box::new(frost::FrostKeygen::refresh(s, parties)?),
            Share::Bip340(s) => Box::new(frost::FrostKeygen::refresh(s, parties)?),
        };
        Ok(Session { engine: Engine::new(session_id, me, parties, protocol)? })
    }
}
