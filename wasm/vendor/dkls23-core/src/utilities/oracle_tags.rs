//! Domain-separation tags for protocol oracles.
//!
//! Every internal protocol oracle must use a dedicated tag from this module.
//! Tags are versioned (`.../v1`) to allow explicit, auditable migrations.

/// Commitment hash oracle.
pub const TAG_COMMITMENT: &[u8] = b"dkls23/commitment/v1";

/// DLog randomized Fischlin transcript oracle.
pub const TAG_DLOG_PROOF_FISCHLIN: &[u8] = b"dkls23/proofs/dlog/fischlin/v1";
/// DLog proof commitment oracle.
pub const TAG_DLOG_PROOF_COMMITMENT: &[u8] = b"dkls23/proofs/dlog/commitment/v1";
/// EncProof Fiat-Shamir oracle.
pub const TAG_ENCPROOF_FS: &[u8] = b"dkls23/proofs/enc/fs/v1";

/// Zero-share fragment derivation oracle.
pub const TAG_ZERO_SHARE_FRAGMENT: &[u8] = b"dkls23/zero-share/fragment/v1";
/// Zero-share seed commitment context oracle (protocol, session ids, direction).
pub const TAG_ZERO_SHARE_SEED_CONTEXT: &[u8] = b"dkls23/zero-share/seed-context/v1";

/// Base OT hash-to-curve oracle (RFC 9380 domain-separation tag).
pub const TAG_OT_BASE_H: &[u8] = b"dkls23/ot/base/h/v2";
/// Base OT message derivation oracle.
pub const TAG_OT_BASE_MSG: &[u8] = b"dkls23/ot/base/msg/v1";

/// OTE PRG expansion oracle.
pub const TAG_OTE_PRG: &[u8] = b"dkls23/ot/extension/prg/v1";
/// OTE per-execution session-id oracle (caller session id and receiver nonce).
pub const TAG_OTE_SESSION: &[u8] = b"dkls23/ot/extension/session/v1";
/// OTE consistency-check chi oracle.
pub const TAG_OTE_CHI: &[u8] = b"dkls23/ot/extension/chi/v1";
/// OTE final randomization oracle.
pub const TAG_OTE_RANDOMIZE: &[u8] = b"dkls23/ot/extension/randomize/v1";

/// Multiplication public gadget oracle.
pub const TAG_MUL_GADGET: &[u8] = b"dkls23/mul/gadget/v1";
/// Multiplication receiver transcript oracle (Step 3 message digest).
pub const TAG_MUL_TRANSCRIPT_RECEIVER: &[u8] = b"dkls23/mul/transcript/receiver/v1";
/// Multiplication transcript oracle (Step 3 including the sender's salt and `tau`).
pub const TAG_MUL_TRANSCRIPT: &[u8] = b"dkls23/mul/transcript/v1";
/// Multiplication chi-tilde oracle.
pub const TAG_MUL_CHI_TILDE: &[u8] = b"dkls23/mul/chi-tilde/v2";
/// Multiplication chi-hat oracle.
pub const TAG_MUL_CHI_HAT: &[u8] = b"dkls23/mul/chi-hat/v2";
/// Multiplication verify-r oracle.
pub const TAG_MUL_VERIFY: &[u8] = b"dkls23/mul/verify/v1";

/// Signing message session-binding oracle.
pub const TAG_SIGN_SESSION_BINDING: &[u8] = b"dkls23/sign/session-binding/v1";
/// Signing multiplication session-id oracle.
pub const TAG_SIGN_MUL_SESSION: &[u8] = b"dkls23/sign/mul-session/v1";
/// Signing zero-share session-id oracle.
pub const TAG_SIGN_ZERO_SESSION: &[u8] = b"dkls23/sign/zero-session/v1";

/// Refresh session-id chaining oracle (previous session id, refresh id).
pub const TAG_REFRESH_SESSION: &[u8] = b"dkls23/refresh/session/v1";
/// Complete-refresh multiplication session-id oracle.
pub const TAG_REFRESH_MUL_SESSION: &[u8] = b"dkls23/refresh/mul-session/v1";
/// Share-repair mask session oracle (session, public key, repair id, target,
/// helpers).
pub const TAG_REPAIR_MASK: &[u8] = b"dkls23/repair/mask/v1";
/// Signing oracle for a pair's multiplication setup (both public gadgets).
pub const TAG_SIGN_PAIR_SETUP: &[u8] = b"dkls23/sign/pair-setup/v1";

/// Fast-refresh OT re-randomization oracle for `r0'`.
pub const TAG_REFRESH_FAST_R0: &[u8] = b"dkls23/refresh/fast/r0/v1";
/// Fast-refresh OT re-randomization oracle for `r1'`.
pub const TAG_REFRESH_FAST_R1: &[u8] = b"dkls23/refresh/fast/r1/v1";
/// Fast-refresh OT re-randomization oracle for `b'`.
pub const TAG_REFRESH_FAST_B: &[u8] = b"dkls23/refresh/fast/b/v1";

/// Tessera fork, presignature variant (see PRESIGN.md): the multiplication
/// session id of a presignature (no message).
pub const TAG_PRESIGN_MUL_SESSION: &[u8] = b"tessera/dkls23/presign/mul-session/v1";
/// Tessera fork: the zero-share session id of a presignature.
pub const TAG_PRESIGN_ZERO_SESSION: &[u8] = b"tessera/dkls23/presign/zero-session/v1";
/// Tessera fork: the session binding of presigning messages.
pub const TAG_PRESIGN_SESSION_BINDING: &[u8] = b"tessera/dkls23/presign/session-binding/v1";
/// Tessera fork: the public re-randomization offset of a presignature at
/// signing time (binds the message and the signing key).
pub const TAG_PRESIGN_RERANDOMIZE: &[u8] = b"tessera/dkls23/presign/rerandomize/v1";

/// Registry of all internal tags.
///
/// IMPORTANT: whenever a new tag constant is added, include it here to keep
/// `test_oracle_tags_are_unique` effective.
pub const ALL_TAGS: &[&[u8]] = &[
    TAG_COMMITMENT,
    TAG_DLOG_PROOF_FISCHLIN,
    TAG_DLOG_PROOF_COMMITMENT,
    TAG_ENCPROOF_FS,
    TAG_ZERO_SHARE_FRAGMENT,
    TAG_ZERO_SHARE_SEED_CONTEXT,
    TAG_OT_BASE_H,
    TAG_OT_BASE_MSG,
    TAG_OTE_PRG,
    TAG_OTE_SESSION,
    TAG_OTE_CHI,
    TAG_OTE_RANDOMIZE,
    TAG_MUL_GADGET,
    TAG_MUL_TRANSCRIPT_RECEIVER,
    TAG_MUL_TRANSCRIPT,
    TAG_MUL_CHI_TILDE,
    TAG_MUL_CHI_HAT,
    TAG_MUL_VERIFY,
    TAG_SIGN_SESSION_BINDING,
    TAG_SIGN_MUL_SESSION,
    TAG_SIGN_ZERO_SESSION,
    TAG_REFRESH_SESSION,
    TAG_REFRESH_MUL_SESSION,
    TAG_SIGN_PAIR_SETUP,
    TAG_REPAIR_MASK,
    TAG_REFRESH_FAST_R0,
    TAG_REFRESH_FAST_R1,
    TAG_REFRESH_FAST_B,
    TAG_PRESIGN_MUL_SESSION,
    TAG_PRESIGN_ZERO_SESSION,
    TAG_PRESIGN_SESSION_BINDING,
    TAG_PRESIGN_RERANDOMIZE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn test_oracle_tags_are_unique() {
        let mut set = HashSet::new();
        for tag in ALL_TAGS {
            assert!(set.insert(*tag), "duplicate tag: {:?}", tag);
        }
    }
}
