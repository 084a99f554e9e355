//! A protocol-agnostic round engine: the state machine JS drives.
//!
//! Each protocol is a sequence of rounds in which every participant sends exactly one
//! message to every other participant. The engine checks envelopes, buffers messages
//! that arrive early (a fast peer may already be one round ahead), refuses replays, and
//! calls the protocol once a round is complete. Transport, storage and clock stay outside:
//! the same engine runs in one process for tests and over libp2p between nodes.

use std::collections::BTreeMap;

use crate::error::{Code, Fail};
use crate::wire::{encode_batch, split_body, Header, SESSION_ID_LEN};

/// Outgoing bodies of one round, by recipient (each built with `wire::join_body`).
pub type Outgoing = Vec<(u8, Vec<u8>)>;

pub enum Advance {
    Send(Outgoing),
    Done(Vec<u8>),
}

pub trait Protocol {
    /// Number of rounds of incoming messages before the result.
    fn rounds(&self) -> u8;
    /// Round-1 messages.
    fn start(&mut self) -> Result<Outgoing, Fail>;
    /// All messages of `round` (one per other participant, keyed by sender) are in.
    fn advance(&mut self, round: u8, incoming: BTreeMap<u8, Vec<u8>>) -> Result<Advance, Fail>;
    /// What this party reveals in its round besides the messages, for a coordinator to combine:
    /// only the online round of a signature from a presignature has it (dkls.rs).
    fn partial(&self) -> Option<Vec<u8>> {
        None
    }
}

enum State {
    Fresh,
    Running,
    Done(Vec<u8>),
    Failed(Fail),
}

pub struct Engine {
    session_id: [u8; SESSION_ID_LEN],
    me: u8,
    others: Vec<u8>,
    /// The round whose messages we are collecting (1-based once started).
    round: u8,
    buffer: BTreeMap<u8, BTreeMap<u8, Vec<u8>>>,
    state: State,
    protocol: Box<dyn Protocol>,
}

impl Engine {
    pub fn new(session_id: &[u8], me: u8, parties: &[u8], protocol: Box<dyn Protocol>) -> Result<Engine, Fail> {
        let session_id: [u8; SESSION_ID_LEN] = session_id
            .try_into()
            .map_err(|_| Fail::bad_input(format!("session id must be {SESSION_ID_LEN} bytes, got {}", session_id.len())))?;
        if !parties.contains(&me) {
            return Err(Fail::bad_input(format!("party {me} is not among the participants {parties:?}")));
        }
        let others = parties.iter().copied().filter(|p| *p != me).collect();
        Ok(Engine { session_id, me, others, round: 0, buffer: BTreeMap::new(), state: State::Fresh, protocol })
    }

    pub fn start(&mut self) -> Result<Vec<u8>, Fail> {
        if !matches!(self.state, State::Fresh) {
            return Err(Fail::new(Code::Finished, "session already started"));
        }
        self.state = State::Running;
        self.round = 1;
        let out = self.protocol.start();
        self.emit(out, 1)
    }

    /// Takes one incoming message; returns the (possibly empty) batch of messages to send.
    /// A message refused for its envelope (wrong session, misrouted, unknown sender,
    /// replay) leaves the session untouched; a protocol failure ends it.
    pub fn receive(&mut self, message: &[u8]) -> Result<Vec<u8>, Fail> {
        match &self.state {
            State::Running => {}
            State::Fresh => return Err(Fail::new(Code::NotDone, "session not started")),
            State::Done(_) | State::Failed(_) => return Err(Fail::new(Code::Finished, "session is over")),
        }
        let (h, body) = Header::decode(message)?;
        if h.session_id != self.session_id {
            return Err(Fail::new(Code::WrongSession, "message belongs to another session"));
        }
        if h.to != self.me {
            return Err(Fail::new(Code::Misrouted, format!("message for party {} reached party {}", h.to, self.me)));
        }
        if !self.others.contains(&h.from) {
            return Err(Fail::new(Code::UnknownSender, format!("party {} is not in this session", h.from)));
        }
        if h.round == 0 || h.round > self.protocol.rounds() {
            return Err(Fail::by(Code::Malformed, h.from, format!("round {} does not exist", h.round)));
        }
        if h.round < self.round {
            return Err(Fail::by(Code::Replay, h.from, format!("round {} from party {} was already processed", h.round, h.from)));
        }
        // The body must split into broadcast and direct parts before the protocol sees it.
        split_body(h.from, h.round, body)?;
        let slot = self.buffer.entry(h.round).or_default();
        if slot.contains_key(&h.from) {
            return Err(Fail::by(Code::Replay, h.from, format!("second round {} message from party {}", h.round, h.from)));
        }
        slot.insert(h.from, body.to_vec());

        let mut batch = Vec::new();
        while matches!(self.state, State::Running) && self.round_complete() {
            let incoming = self.buffer.remove(&self.round).unwrap_or_default();
            let round = self.round;
            match self.protocol.advance(round, incoming) {
                Ok(Advance::Send(out)) => {
                    self.round += 1;
                    let bytes = self.emit(Ok(out), round + 1)?;
                    batch.extend_from_slice(&bytes);
                }
                Ok(Advance::Done(result)) => {
                    self.buffer.clear();
                    self.state = State::Done(result);
                }
                Err(fail) => {
                    self.buffer.clear();
                    self.state = State::Failed(fail.clone());
                    return Err(fail);
                }
            }
        }
        Ok(batch)
    }

    fn round_complete(&self) -> bool {
        self.buffer.get(&self.round).is_some_and(|m| m.len() == self.others.len())
    }

    fn emit(&mut self, out: Result<Outgoing, Fail>, round: u8) -> Result<Vec<u8>, Fail> {
        let out = match out {
            Ok(out) => out,
            Err(fail) => {
                self.state = State::Failed(fail.clone());
                return Err(fail);
            }
        };
        // An echo broadcast compares the broadcast parts of a round across recipients: an honest
        // party must emit the same one in every copy, or it would be the one accused.
        let mut parts = out.iter().map(|(to, body)| split_body(self.me, round, body).map(|(b, _)| b).map_err(|_| *to));
        if let Some(Ok(first)) = parts.next() {
            if parts.any(|b| b != Ok(first)) {
                let fail = Fail::new(Code::ProtocolAbort, format!("round {round}: this party would send different broadcast parts (a bug)"));
                self.state = State::Failed(fail.clone());
                return Err(fail);
            }
        }
        let messages: Vec<Vec<u8>> = out
            .iter()
            .map(|(to, body)| Header { session_id: self.session_id, round, from: self.me, to: *to }.encode(body))
            .collect();
        Ok(encode_batch(&messages))
    }

    pub fn done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    pub fn round(&self) -> u8 {
        self.round
    }

    /// Parties whose message for the current round has not arrived: what a timeout names.
    pub fn waiting_for(&self) -> Vec<u8> {
        if !matches!(self.state, State::Running) {
            return Vec::new();
        }
        let got = self.buffer.get(&self.round);
        self.others.iter().copied().filter(|p| !got.is_some_and(|m| m.contains_key(p))).collect()
    }

    pub fn partial(&self) -> Option<Vec<u8>> {
        self.protocol.partial()
    }

    pub fn result(&self) -> Result<Vec<u8>, Fail> {
        match &self.state {
            State::Done(r) => Ok(r.clone()),
            State::Failed(f) => Err(f.clone()),
            _ => Err(Fail::new(Code::NotDone, "session has not finished")),
        }
    }
}
