//! Extra functionalities needed in `protocols`.

pub mod commits;
pub(crate) mod ct;
pub mod ec;
pub mod hashes;
pub mod multiplication;
pub mod oracle_tags;
pub mod ot;
pub mod proofs;
pub mod rng;
pub mod scalar_sums;
pub mod sha256x4;
pub mod zero_shares;
pub const ID_LEN: usize = 32;
