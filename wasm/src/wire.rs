//! The envelope every ceremony message travels in.
//!
//! ```text
//! version u8 (=2) | session id [32] | round u8 (1-based) | from u8 | to u8 | body
//! body = broadcast length u32 BE | broadcast part | direct part
//! ```
//! The broadcast part is what the protocol requires every recipient to see identically (FROST
//! DKG commitments and proofs of knowledge, DKLs23 proof and chain-code commitments, signing
//! nonce commitments...); the direct part is for the recipient alone. The core emits the same
//! broadcast part in every copy of a round, so the nodes can check by digests alone that a
//! sender told everyone the same thing (an echo broadcast) without understanding the protocol.
//! Parties are 1-based; `to` is always one party (a broadcast is sent as one copy per
//! recipient, so every copy is bound to its recipient). The header is authenticated by
//! the transport (libp2p noise binds `from` to a peer id); the body's own sender and
//! recipient fields, where the protocol has them, are checked against the header.

use crate::error::{Code, Fail};

pub const VERSION: u8 = 2;
pub const SESSION_ID_LEN: usize = 32;
pub const HEADER_LEN: usize = 1 + SESSION_ID_LEN + 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub session_id: [u8; SESSION_ID_LEN],
    pub round: u8,
    pub from: u8,
    pub to: u8,
}

impl Header {
    pub fn encode(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.push(VERSION);
        out.extend_from_slice(&self.session_id);
        out.push(self.round);
        out.push(self.from);
        out.push(self.to);
        out.extend_from_slice(body);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<(Header, &[u8]), Fail> {
        if bytes.len() < HEADER_LEN {
            return Err(Fail::new(Code::Malformed, format!("message of {} bytes is shorter than its header", bytes.len())));
        }
        if bytes[0] != VERSION {
            return Err(Fail::new(Code::Malformed, format!("unknown message version {}", bytes[0])));
        }
        let mut session_id = [0u8; SESSION_ID_LEN];
        session_id.copy_from_slice(&bytes[1..1 + SESSION_ID_LEN]);
        let h = Header {
            session_id,
            round: bytes[1 + SESSION_ID_LEN],
            from: bytes[2 + SESSION_ID_LEN],
            to: bytes[3 + SESSION_ID_LEN],
        };
        Ok((h, &bytes[HEADER_LEN..]))
    }
}

/// Several outgoing messages handed to JS in one call: `u32 BE length | message`, repeated.
pub fn encode_batch(messages: &[Vec<u8>]) -> Vec<u8> {
    let total: usize = messages.iter().map(|m| 4 + m.len()).sum();
    let mut out = Vec::with_capacity(total);
    for m in messages {
        out.extend_from_slice(&(m.len() as u32).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

/// A message body from its broadcast and direct parts.
pub fn join_body(broadcast: &[u8], direct: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + broadcast.len() + direct.len());
    out.extend_from_slice(&(broadcast.len() as u32).to_be_bytes());
    out.extend_from_slice(broadcast);
    out.extend_from_slice(direct);
    out
}

/// Splits a body into its broadcast and direct parts.
pub fn split_body(from: u8, round: u8, body: &[u8]) -> Result<(&[u8], &[u8]), Fail> {
    if body.len() < 4 {
        return Err(Fail::by(Code::Malformed, from, format!("round {round} message from party {from} has no body")));
    }
    let n = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
    if n > body.len() - 4 {
        return Err(Fail::by(Code::Malformed, from, format!("round {round} message from party {from} claims a broadcast part longer than itself")));
    }
    Ok((&body[4..4 + n], &body[4 + n..]))
}

/// The broadcast part of a round that has no direct part.
pub fn only_broadcast(from: u8, round: u8, body: &[u8]) -> Result<&[u8], Fail> {
    let (b, d) = split_body(from, round, body)?;
    if !d.is_empty() {
        return Err(Fail::by(Code::Malformed, from, format!("round {round} message from party {from} has a direct part where none belongs")));
    }
    Ok(b)
}

/// The direct part of a round that has no broadcast part.
pub fn only_direct(from: u8, round: u8, body: &[u8]) -> Result<&[u8], Fail> {
    let (b, d) = split_body(from, round, body)?;
    if !b.is_empty() {
        return Err(Fail::by(Code::Malformed, from, format!("round {round} message from party {from} has a broadcast part where none belongs")));
    }
    Ok(d)
}

/// Decodes a protocol body with postcard, refusing trailing bytes: one encoding per value.
pub fn decode_body<T: serde::de::DeserializeOwned>(from: u8, round: u8, body: &[u8]) -> Result<T, Fail> {
    match postcard::take_from_bytes::<T>(body) {
        Ok((value, rest)) if rest.is_empty() => Ok(value),
        Ok((_, rest)) => Err(Fail::by(Code::Malformed, from, format!("round {round} message from party {from} has {} trailing bytes", rest.len()))),
        Err(e) => Err(Fail::by(Code::Malformed, from, format!("round {round} message from party {from} does not decode: {e}"))),
    }
}

pub fn encode_body<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Fail> {
    postcard::to_allocvec(value).map_err(|e| Fail::new(Code::ProtocolAbort, format!("cannot encode message: {e}")))
}
