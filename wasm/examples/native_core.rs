//! The MPC core compiled natively (x86-64), for the benchmarks' "ratio to native" figure: the very
//! same Rust as the wasm artifact (this crate's Session and KeyShare), all parties in one process,
//! messages routed in memory, each party's own calls timed — as bench/mpc-core.bench.mjs does in
//! wasm. Prints one JSON line.
//!
//!   cargo run --release --example native_core -- [signatures=60] [keygens=1]
use std::collections::VecDeque;
use std::time::Instant;

use tessera_mpc::{KeyShare, Session};

/// Splits an outgoing batch: u32 big-endian length, then the message, repeated.
fn split(batch: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < batch.len() {
        let len = u32::from_be_bytes(batch[at..at + 4].try_into().unwrap()) as usize;
        out.push(batch[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    out
}

/// Runs the sessions to the end; returns each party's compute time in ms (by position).
fn run(sessions: &mut [(u8, Session)]) -> Vec<f64> {
    let mut cpu = vec![0.0; sessions.len()];
    let mut queue = VecDeque::new();
    for (k, (_, s)) in sessions.iter_mut().enumerate() {
        let t = Instant::now();
        let out = s.start().unwrap_or_else(|_| panic!("start failed"));
        cpu[k] += t.elapsed().as_secs_f64() * 1e3;
        queue.extend(split(&out));
    }
    while let Some(m) = queue.pop_front() {
        let to = m[35]; // header: version, session id [32], round, from, to
        let k = sessions.iter().position(|(me, _)| *me == to).expect("message to a party that is not here");
        let t = Instant::now();
        let out = sessions[k].1.receive(&m).unwrap_or_else(|_| panic!("receive failed"));
        cpu[k] += t.elapsed().as_secs_f64() * 1e3;
        queue.extend(split(&out));
    }
    cpu
}

fn session_id(i: u64) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&i.to_be_bytes());
    id[8] = 0x5e;
    id
}

fn p50(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("numbers")).collect();
    let n_sign = *args.first().unwrap_or(&60) as usize;
    let n_keygen = *args.get(1).unwrap_or(&1) as usize;

    let mut dkg_per_party = Vec::new();
    let mut shares = Vec::new();
    for k in 0..n_keygen {
        let mut ss: Vec<(u8, Session)> = (1..=3u8)
            .map(|me| (me, Session::keygen("ecdsa-secp256k1", &session_id(1_000 + k as u64), me, &[1, 2, 3], 2).unwrap_or_else(|_| panic!("keygen"))))
            .collect();
        dkg_per_party.extend(run(&mut ss));
        shares = ss.iter().map(|(_, s)| KeyShare::import(&s.result().unwrap_or_else(|_| panic!("result"))).unwrap_or_else(|_| panic!("import"))).collect();
    }

    let digest = [7u8; 32];
    let mut sign_per_party = Vec::new();
    for i in 0..n_sign + 5 {
        let id = session_id(i as u64);
        let mut ss: Vec<(u8, Session)> = [1u8, 2]
            .iter()
            .map(|&me| (me, Session::sign(&shares[me as usize - 1], &id, &[1, 2], &digest, None).unwrap_or_else(|_| panic!("sign"))))
            .collect();
        let cpu = run(&mut ss);
        assert!(ss.iter().all(|(_, s)| s.done()));
        if i >= 5 {
            sign_per_party.extend(cpu);
        }
    }
    println!(
        "{{\"sign_per_party_p50_ms\":{:.3},\"sign_samples\":{},\"dkg_per_party_p50_ms\":{:.1},\"dkg_samples\":{}}}",
        p50(&mut sign_per_party),
        sign_per_party.len(),
        p50(&mut dkg_per_party),
        dkg_per_party.len()
    );
}
