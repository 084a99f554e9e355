//! A deterministic getrandom for the differential test (never built into the wasm core).
//!
//! rand's `ThreadRng` (what both dkls23-core copies sample from) seeds itself from getrandom on
//! first use in a thread and reseeds from it every 64 KiB. Here getrandom is a per-thread SHA-256
//! counter stream from a seed set with [`seed_this_thread`]; two fresh threads with the same seed
//! that make the same sequence of draws get the same bytes.

use std::cell::RefCell;

use sha2::{Digest, Sha256};

thread_local! {
    static STREAM: RefCell<Option<([u8; 32], u64, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Starts this thread's random stream. Must run before the thread's first random draw.
pub fn seed_this_thread(seed: [u8; 32]) {
    STREAM.with(|s| *s.borrow_mut() = Some((seed, 0, Vec::new())));
}

fn fill(dest: &mut [u8]) {
    STREAM.with(|s| {
        let mut s = s.borrow_mut();
        let (seed, counter, buffered) = s.as_mut().expect("seed_this_thread was not called on this thread");
        let mut at = 0;
        while at < dest.len() {
            if buffered.is_empty() {
                let block = Sha256::new().chain_update(*seed).chain_update(counter.to_be_bytes()).finalize();
                *counter += 1;
                buffered.extend_from_slice(&block);
            }
            let n = (dest.len() - at).min(buffered.len());
            dest[at..at + n].copy_from_slice(&buffered[..n]);
            buffered.drain(..n);
            at += n;
        }
    });
}

/// getrandom's custom backend (selected by `--cfg getrandom_backend="custom"` in .cargo/config.toml).
///
/// # Safety
/// getrandom calls it with a valid buffer of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "Rust" fn __getrandom_v03_custom(dest: *mut u8, len: usize) -> Result<(), getrandom::Error> {
    let dest = unsafe { std::slice::from_raw_parts_mut(dest, len) };
    fill(dest);
    Ok(())
}
