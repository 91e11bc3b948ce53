//! Proof that the simulator finds bugs: with the core's `inject-bugs` feature, each known-bad
//! behaviour must be reported as its invariant within 1,000 seeds.
//! Run with `cargo test -p sim --features inject-bugs`.
#![cfg(feature = "inject-bugs")]

use core_sm::InjectedBug;
use sim::oracle::OracleOptions;
use sim::{Sim, SimOptions};

/// Runs seeds (or only `SIM_SEED`) until one fails; returns (seed, invariant).
fn first_failure(opts: &SimOptions) -> Option<(u64, String)> {
    let seeds = sim::report::env_seed().map_or(0..1000, |s| s..s + 1);
    seeds.into_iter().find_map(|seed| {
        let failure = Sim::new(seed, opts.clone()).run().err()?;
        println!("{failure}");
        // A real core bug the simulator knows about is not the injected one.
        if sim::report::known_core_bug(&failure).is_some() {
            return None;
        }
        Some((seed, failure.invariant))
    })
}

/// Asserts the first failure names the expected invariant; the message ends with the replay.
fn expect(test: &str, opts: SimOptions, prefix: &str) {
    let replay = |seed: u64| {
        format!(
            "SIM_SEED={seed} cargo test -p sim --features inject-bugs --test inject_bugs {test} -- --exact"
        )
    };
    let Some((seed, invariant)) = first_failure(&opts) else {
        panic!("the injected bug went unnoticed for 1000 seeds\n{}", replay(0));
    };
    assert!(
        invariant.starts_with(prefix),
        "seed {seed} reported {invariant}, expected invariant {prefix}\n{}",
        replay(seed)
    );
    println!("caught as {invariant} by seed {seed}; replay: {}", replay(seed));
}

#[test]
fn early_turn_started_breaks_invariant_1() {
    let opts = SimOptions { bug: Some(InjectedBug::EarlyTurnStarted), ..SimOptions::default() };
    expect("early_turn_started_breaks_invariant_1", opts, "1-");
}

#[test]
fn leaked_subscription_breaks_invariant_5() {
    let opts = SimOptions { bug: Some(InjectedBug::LeakSubscriptionOnClose), ..SimOptions::default() };
    expect("leaked_subscription_breaks_invariant_5", opts, "5-");
}

#[test]
fn leaked_subscription_shows_in_the_frames_alone() {
    // Without comparing against `Machine::thread_subscribers`, the leak must still surface as
    // events reaching a connection that reused the id and never subscribed.
    let opts = SimOptions {
        bug: Some(InjectedBug::LeakSubscriptionOnClose),
        oracle: OracleOptions { cross_check_subscribers: false },
        ..SimOptions::default()
    };
    expect("leaked_subscription_shows_in_the_frames_alone", opts, "5-");
}

#[test]
fn replayed_resolved_requests_break_invariant_3() {
    // Answered requests replayed, with the pending ones, to a connection resuming the thread:
    // a resolved request must never be sent again.
    let opts = SimOptions { bug: Some(InjectedBug::ReplayResolvedRequests), ..SimOptions::default() };
    expect("replayed_resolved_requests_break_invariant_3", opts, "3-");
}

#[test]
fn forgotten_interrupters_break_invariant_8() {
    // Archiving a thread whose turn was accepted but not started by the engine: the
    // `turn/interrupt` requests waiting on that turn must still be answered.
    let opts =
        SimOptions { bug: Some(InjectedBug::ArchiveForgetsUnstartedInterrupters), ..SimOptions::default() };
    expect("forgotten_interrupters_break_invariant_8", opts, "8-");
}

mod support;

#[test]
fn proptest_shrinks_an_injected_bug_to_a_few_actions() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

    let opts = SimOptions { bug: Some(InjectedBug::EarlyTurnStarted), ..SimOptions::default() };
    let mut runner = TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() });
    let strategy = (any::<u64>(), prop::collection::vec(support::action(), 0..250));
    let result =
        runner.run(&strategy, |(seed, actions)| match Sim::new(seed, opts.clone()).run_actions(&actions) {
            Ok(_) => Ok(()),
            Err(f) => Err(TestCaseError::fail(f.invariant)),
        });
    match result {
        Err(TestError::Fail(reason, (seed, actions))) => {
            println!("minimal case: seed {seed}, {reason}, actions {actions:#?}");
            assert!(reason.message().starts_with("1-"), "{reason}");
            // Connect, initialize, a thread, a turn: shrinking must get close to that.
            assert!(actions.len() <= 6, "shrunk to {} actions: {actions:?}", actions.len());
        }
        other => panic!("proptest did not catch EarlyTurnStarted: {other:?}"),
    }
}

#[test]
fn proptest_shrinks_a_replayed_resolved_request() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

    let opts = SimOptions { bug: Some(InjectedBug::ReplayResolvedRequests), ..SimOptions::default() };
    let config = Config {
        cases: 256,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5EED_0003),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = (any::<u64>(), prop::collection::vec(support::action(), 0..250));
    let result =
        runner.run(&strategy, |(seed, actions)| match Sim::new(seed, opts.clone()).run_actions(&actions) {
            Ok(_) => Ok(()),
            Err(f) => Err(TestCaseError::fail(f.invariant)),
        });
    match result {
        Err(TestError::Fail(reason, (seed, actions))) => {
            println!("minimal case: seed {seed}, {reason}, actions {actions:#?}");
            assert!(reason.message().starts_with("3-"), "{reason}");
            // Connect, initialize, a thread, a turn, deliveries up to a request, an answer, a
            // resume: shrinking must get close to that.
            assert!(actions.len() <= 16, "shrunk to {} actions: {actions:?}", actions.len());
        }
        other => panic!("proptest did not catch ReplayResolvedRequests: {other:?}"),
    }
}
