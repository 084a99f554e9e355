//! The envelope every ceremony message travels in.
//!
//! ```text
//! version u8 (=1) | session id [32] | round u8 (1-based) | from u8 | to u8 | body
//! ```
//! Parties are 1-based; `to` is always one party (a broadcast is sent as one copy per
//! recipient, so every copy is bound to its recipient). The header is authenticated by
//! the transport (libp2p noise binds `from` to a peer id); the body's own sender and
//! recipient fields, where the protocol has them, are checked against the header.

use crate::error::{Code, Fail};

pub const VERSION: u8 = 1;
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
