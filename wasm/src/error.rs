//! The one error type that crosses into JavaScript.
//!
//! Every failure is typed by a stable `code` and, where the protocol can tell, names the
//! `culprit` party: the node layer uses that to refuse the peer (and, for `ban`, to refuse
//! it forever for this key, as DKLs23 requires after a failed OT consistency check).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The caller's own inputs are wrong (parameters, share, digest length, path).
    BadInput,
    /// A message body or header cannot be decoded, or its inner sender/recipient
    /// disagree with its header.
    Malformed,
    /// The message belongs to another session.
    WrongSession,
    /// The message is addressed to another party.
    Misrouted,
    /// The sender is not a participant of this session.
    UnknownSender,
    /// A message for a round already processed, or a second message from the same
    /// sender for one round.
    Replay,
    /// The protocol itself aborted (a check failed); the session is over.
    ProtocolAbort,
    /// DKLs23: the counterparty failed the OT/multiplication consistency check and MUST
    /// never take part in a session for this key again.
    Ban,
    /// The session has already finished (or failed) and takes no more messages.
    Finished,
    /// `result()` was asked for before the session finished.
    NotDone,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadInput => "bad-input",
            Code::Malformed => "malformed",
            Code::WrongSession => "wrong-session",
            Code::Misrouted => "misrouted",
            Code::UnknownSender => "unknown-sender",
            Code::Replay => "replay",
            Code::ProtocolAbort => "protocol-abort",
            Code::Ban => "ban",
            Code::Finished => "finished",
            Code::NotDone => "not-done",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fail {
    pub code: Code,
    pub culprit: Option<u8>,
    pub message: String,
}

impl Fail {
    pub fn new(code: Code, message: impl Into<String>) -> Fail {
        Fail { code, culprit: None, message: message.into() }
    }
    pub fn by(code: Code, culprit: u8, message: impl Into<String>) -> Fail {
        Fail { code, culprit: Some(culprit), message: message.into() }
    }
    pub fn bad_input(message: impl Into<String>) -> Fail {
        Fail::new(Code::BadInput, message)
    }

    /// JSON carried in the JS `Error` message; the TypeScript wrapper turns it into an
    /// `MpcError { code, culprit }`. Hand-written: three fields do not justify serde_json.
    pub fn to_json(&self) -> String {
        let culprit = match self.culprit {
            Some(p) => p.to_string(),
            None => "null".into(),
        };
        format!(
            "{{\"code\":\"{}\",\"culprit\":{},\"message\":{}}}",
            self.code.as_str(),
            culprit,
            json_string(&self.message)
        )
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
