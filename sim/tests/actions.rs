//! The action model under proptest: a generated `Vec<Action>` drives the simulator with the
//! oracle watching, then the liveness phase runs. A failure is shrunk to a minimal action
//! list automatically; proptest saves it in `tests/actions.proptest-regressions` and replays
//! it first on the next `cargo test -p sim --test actions`.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed};
use sim::{Sim, SimOptions};
use support::action;

/// The generator seed `cargo test` uses, so the test is repeatable; `PROPTEST_RNG_SEED`
/// explores others.
const DEFAULT_RNG_SEED: u64 = 0x5EED_0001;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: env_u64("PROPTEST_CASES").map_or(64, |n| n as u32),
        rng_seed: RngSeed::Fixed(env_u64("PROPTEST_RNG_SEED").unwrap_or(DEFAULT_RNG_SEED)),
        max_shrink_iters: 4096,
        // Next to this file: tests/actions.proptest-regressions, replayed first on every run.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    /// Any action sequence keeps every invariant and ends quiescent.
    #[test]
    fn actions_keep_the_invariants(seed in any::<u64>(), actions in prop::collection::vec(action(), 0..250)) {
        let mut sim = Sim::new(seed, SimOptions::default());
        if let Err(f) = sim.run_actions(&actions) {
            let replay = "cargo test -p sim --test actions actions_keep_the_invariants -- --exact";
            prop_assert!(false, "{f}\n{replay}");
        }
    }
}
