//! Several sessions of one protocol run in lockstep under one envelope: a presigning ceremony that
//! makes a batch of presignatures (dkls.rs) sends one message per round and recipient, carrying
//! every item's message for that round, so what a round costs outside the core (statement
//! signatures, framing, transport) is paid once per batch rather than once per presignature.
//!
//! ```text
//! body   = join_body(bundle(item broadcast parts), bundle(item direct parts))
//! bundle = count u32 BE | (length u32 BE | bytes) * count
//! result = bundle(item results)
//! ```
//! Every item is a complete session of its own (its own ids inside the protocol); the batch only
//! routes. A sender whose bundle has another item count, a length that overruns, or trailing
//! bytes is named as the culprit (`malformed`) before any item sees its message; an item's own
//! failure ends the whole batch with that item's culprit, so nothing of a failed batch is kept.

use std::collections::BTreeMap;

use crate::engine::{Advance, Outgoing, Protocol};
use crate::error::{Code, Fail};
use crate::wire::{join_body, split_body};

/// Largest batch: a presigning round message is a few KiB, so 64 of them stay well inside the
/// nodes' 4 MiB round frames.
pub const MAX_ITEMS: usize = 64;

pub struct Batch {
    me: u8,
    items: Vec<Box<dyn Protocol>>,
}

impl Batch {
    pub fn new(me: u8, items: Vec<Box<dyn Protocol>>) -> Result<Batch, Fail> {
        if items.is_empty() || items.len() > MAX_ITEMS {
            return Err(Fail::bad_input(format!("a batch has 1 to {MAX_ITEMS} sessions, not {}", items.len())));
        }
        let rounds = items[0].rounds();
        if items.iter().any(|i| i.rounds() != rounds) {
            return Err(Fail::bad_input("the sessions of a batch must have the same rounds"));
        }
        Ok(Batch { me, items })
    }
}

/// `count | (len | bytes)*`.
pub fn bundle(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + parts.iter().map(|p| 4 + p.len()).sum::<usize>());
    out.extend_from_slice(&(parts.len() as u32).to_be_bytes());
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// The `expected` parts of a bundle from `from`; anything else is that sender's fault.
fn unbundle<'a>(from: u8, round: u8, what: &str, bytes: &'a [u8], expected: usize) -> Result<Vec<&'a [u8]>, Fail> {
    let bad = |why: String| Fail::by(Code::Malformed, from, format!("round {round} batch from party {from}: its {what} bundle {why}"));
    let u32_at = |at: usize| -> Option<usize> { bytes.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize) };
    let count = u32_at(0).ok_or_else(|| bad(format!("is {} bytes, too short for its item count", bytes.len())))?;
    if count != expected {
        return Err(bad(format!("has {count} items, the batch has {expected}")));
    }
    let mut parts = Vec::with_capacity(count);
    let mut at = 4;
    for i in 0..count {
        let len = u32_at(at).ok_or_else(|| bad(format!("ends before item {}", i + 1)))?;
        at += 4;
        let part = bytes.get(at..).and_then(|rest| rest.get(..len)).ok_or_else(|| bad(format!("item {} claims {len} bytes, more than are left", i + 1)))?;
        parts.push(part);
        at += len;
    }
    if at != bytes.len() {
        return Err(bad(format!("has {} trailing bytes", bytes.len() - at)));
    }
    Ok(parts)
}

/// One item's failure, as the batch's: the item's code and culprit, its position in the message.
fn item_failed(i: usize, count: usize, f: Fail) -> Fail {
    Fail { message: format!("session {} of {count} in the batch: {}", i + 1, f.message), ..f }
}

/// The items' messages of one round, one body per recipient.
fn regroup(me: u8, round: u8, outs: Vec<Outgoing>) -> Result<Outgoing, Fail> {
    let recipients: Vec<u8> = outs[0].iter().map(|(to, _)| *to).collect();
    let mut by_item: Vec<BTreeMap<u8, Vec<u8>>> = outs.into_iter().map(|o| o.into_iter().collect()).collect();
    let mut out = Vec::with_capacity(recipients.len());
    for to in recipients {
        let bodies = by_item
            .iter_mut()
            .map(|m| m.remove(&to).ok_or_else(|| Fail::new(Code::ProtocolAbort, format!("round {round}: a session of the batch has no message for party {to}"))))
            .collect::<Result<Vec<_>, Fail>>()?;
        let split = bodies.iter().map(|b| split_body(me, round, b)).collect::<Result<Vec<_>, Fail>>()?;
        let broadcasts: Vec<&[u8]> = split.iter().map(|(b, _)| *b).collect();
        let directs: Vec<&[u8]> = split.iter().map(|(_, d)| *d).collect();
        out.push((to, join_body(&bundle(&broadcasts), &bundle(&directs))));
    }
    if by_item.iter().any(|m| !m.is_empty()) {
        return Err(Fail::new(Code::ProtocolAbort, format!("round {round}: the sessions of the batch address different parties")));
    }
    Ok(out)
}

impl Protocol for Batch {
    fn rounds(&self) -> u8 {
        self.items[0].rounds()
    }

    fn start(&mut self) -> Result<Outgoing, Fail> {
        let count = self.items.len();
        let outs = self.items.iter_mut().enumerate().map(|(i, p)| p.start().map_err(|f| item_failed(i, count, f))).collect::<Result<Vec<_>, Fail>>()?;
        regroup(self.me, 1, outs)
    }

    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail> {
        let count = self.items.len();
        let mut per_item: Vec<BTreeMap<u8, Vec<u8>>> = (0..count).map(|_| BTreeMap::new()).collect();
        for (&from, body) in &incoming {
            let (broadcast, direct) = split_body(from, round, body)?;
            let broadcasts = unbundle(from, round, "broadcast", broadcast, count)?;
            let directs = unbundle(from, round, "direct", direct, count)?;
            for (i, slot) in per_item.iter_mut().enumerate() {
                slot.insert(from, join_body(broadcasts[i], directs[i]));
            }
        }
        let mut sends = Vec::new();
        let mut results = Vec::new();
        for (i, (item, incoming)) in self.items.iter_mut().zip(per_item).enumerate() {
            match item.advance(round, incoming).map_err(|f| item_failed(i, count, f))? {
                Advance::Send(out) => sends.push(out),
                Advance::Done(result) => results.push(result),
            }
        }
        if results.len() == count {
            let parts: Vec<&[u8]> = results.iter().map(|r| r.as_slice()).collect();
            return Ok(Advance::Done(bundle(&parts)));
        }
        if sends.len() != count {
            return Err(Fail::new(Code::ProtocolAbort, format!("round {round}: the sessions of the batch fell out of step")));
        }
        Ok(Advance::Send(regroup(self.me, round + 1, sends)?))
    }
}
