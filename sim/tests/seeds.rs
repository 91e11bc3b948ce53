//! Seed sweeps: a fixed seed list, fresh seeds derived from the commit, and the determinism
//! self-check. Replay a failing seed with the command its report ends with.

use sim::report::{derived_seeds, env_count, fresh_base, run_seeds, Replay};
use sim::{Sim, SimOptions};

/// Seeds every `cargo test` runs (`SIM_SEEDS` overrides).
const FIXED_SEEDS: usize = 150;
/// Fresh seeds per run (CI sets `SIM_FRESH_SEED` from the commit; `SIM_SEEDS` overrides).
const FRESH_SEEDS: usize = 16;

fn replay(test: &'static str) -> Replay {
    Replay { target: "seeds", test, features: "" }
}

#[test]
fn fixed_seeds() {
    let seeds: Vec<u64> = (0..env_count(FIXED_SEEDS) as u64).collect();
    if let Err(report) = run_seeds(&seeds, &SimOptions::default(), replay("fixed_seeds")) {
        panic!("{report}");
    }
}

#[test]
fn fresh_seeds() {
    let base = fresh_base();
    println!("fresh seed base {base:#x} (from SIM_FRESH_SEED)");
    let seeds = derived_seeds(base, env_count(FRESH_SEEDS));
    if let Err(report) = run_seeds(&seeds, &SimOptions::default(), replay("fresh_seeds")) {
        panic!("{report}");
    }
}

#[test]
fn same_seed_same_trace_hash() {
    for seed in [1, 2, 0xDEAD_BEEF] {
        let a = Sim::new(seed, SimOptions::default()).run();
        let b = Sim::new(seed, SimOptions::default()).run();
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "seed {seed} is not deterministic"),
            (a, b) => assert_eq!(a.err(), b.err(), "seed {seed} failed differently"),
        }
    }
    let a = Sim::new(1, SimOptions::default()).run().map(|s| s.trace_hash);
    let b = Sim::new(2, SimOptions::default()).run().map(|s| s.trace_hash);
    assert_ne!(a, b, "different seeds give different traces");
    // Recording the trace lines must not change the run (a failure's trace is recorded by
    // re-running its seed).
    let traced = SimOptions { record_trace: true, ..SimOptions::default() };
    let c = Sim::new(1, traced).run().map(|s| s.trace_hash);
    assert_eq!(a, c, "recording the trace changed the run");
}
