//! Seeds from the environment, replay commands, and failure reports.
//!
//! * `SIM_SEED=<u64>`: run exactly that seed (a replay).
//! * `SIM_SEEDS=<n>`: run `n` seeds instead of a test's default count.
//! * `SIM_FRESH_SEED=<text>`: CI passes something that changes per commit (e.g. the output
//!   of `git rev-parse HEAD`); the fresh-seed test hashes it into its seeds. Unset, a fixed
//!   base is used so local runs are repeatable.
//! * `SIM_TRACE=1`: a failure prints its whole trace, not just the tail.
//!
//! Core bugs the simulator found and that are not fixed yet are listed in [`KNOWN_CORE_BUGS`]:
//! their seeds stay out of the fixed seed list, and a fresh seed failing with one of them is
//! reported as known instead of failing the run (replaying it with `SIM_SEED` still fails).

use std::fmt;

use crate::world::{Sim, SimOptions};

/// A failed run: what broke, where, and the context to understand it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The invariant's name (see [`crate::oracle::inv`]) or `liveness...`.
    pub invariant: String,
    /// What was observed.
    pub detail: String,
    /// `faults`, `liveness` or `drain`.
    pub phase: &'static str,
    /// Machine steps taken when it was detected.
    pub step: u64,
    /// Virtual milliseconds since the start.
    pub virtual_ms: u64,
    /// The seed's fault profile.
    pub profile: String,
    /// The last trace lines (when the trace was recorded).
    pub trace_tail: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "sim seed {} failed in the {} phase", self.seed, self.phase)?;
        writeln!(f, "  profile: {}", self.profile)?;
        writeln!(f, "  invariant {} violated: {}", self.invariant, self.detail)?;
        write!(f, "  at machine step {}, virtual time +{}ms", self.step, self.virtual_ms)
    }
}

/// How often the situations worth testing came up in a run (a sweep sums them, so a drop
/// to zero shows a scenario the simulator stopped reaching).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Turns that ended normally, by interrupt, by failure (engine reports delivered).
    pub turns_completed: u64,
    /// See `turns_completed`.
    pub turns_interrupted: u64,
    /// See `turns_completed`.
    pub turns_failed: u64,
    /// Steers and interrupts the machine passed to the engine.
    pub steers: u64,
    /// See `steers`.
    pub interrupts: u64,
    /// Resume replies showing the thread active (a rejoin mid-turn).
    pub resumed_mid_turn: u64,
    /// Storage answers: loaded, not found, failed.
    pub loads_loaded: u64,
    /// See `loads_loaded`.
    pub loads_not_found: u64,
    /// See `loads_loaded`.
    pub loads_failed: u64,
    /// Threads closed (`CloseThread` commands: idle unloads and archives).
    pub unloads: u64,
    /// Forks persisted (a rollout starting with its source's id), archives and unarchives.
    pub forks: u64,
    /// See `forks`.
    pub archives: u64,
    /// See `forks`.
    pub unarchives: u64,
    /// Turns ended by archiving their thread (recorded interrupted, never announced).
    pub archived_mid_turn: u64,
    /// Server restarts.
    pub restarts: u64,
    /// Connections opened with a closed connection's id.
    pub reused_conn_ids: u64,
    /// Error replies.
    pub error_replies: u64,
    /// Engine requests and network attempts fed to the machine.
    pub engine_requests: u64,
    /// See `engine_requests`.
    pub network_attempts: u64,
    /// Server requests sent (new ids on the wire) and re-sent to resuming connections.
    pub server_requests_sent: u64,
    /// See `server_requests_sent`.
    pub requests_replayed: u64,
    /// Engine told how a request ended: with a decision, or abandoned by a turn transition.
    pub requests_resolved: u64,
    /// See `requests_resolved`.
    pub requests_abandoned: u64,
    /// Network verdicts: allowed, denied.
    pub network_allowed: u64,
    /// See `network_allowed`.
    pub network_denied: u64,
    /// `serverRequest/resolved` frames sent.
    pub resolved_notifications: u64,
    /// Answer frames clients sent, and how many were meant to be ignored (late, duplicate,
    /// foreign, unknown, string ids) or were errors and garbage.
    pub answers: u64,
    /// See `answers`.
    pub stray_answers: u64,
}

impl Coverage {
    /// Adds another run's counts.
    pub fn add(&mut self, o: &Coverage) {
        self.turns_completed += o.turns_completed;
        self.turns_interrupted += o.turns_interrupted;
        self.turns_failed += o.turns_failed;
        self.steers += o.steers;
        self.interrupts += o.interrupts;
        self.resumed_mid_turn += o.resumed_mid_turn;
        self.loads_loaded += o.loads_loaded;
        self.loads_not_found += o.loads_not_found;
        self.loads_failed += o.loads_failed;
        self.unloads += o.unloads;
        self.forks += o.forks;
        self.archives += o.archives;
        self.unarchives += o.unarchives;
        self.archived_mid_turn += o.archived_mid_turn;
        self.restarts += o.restarts;
        self.reused_conn_ids += o.reused_conn_ids;
        self.error_replies += o.error_replies;
        self.engine_requests += o.engine_requests;
        self.network_attempts += o.network_attempts;
        self.server_requests_sent += o.server_requests_sent;
        self.requests_replayed += o.requests_replayed;
        self.requests_resolved += o.requests_resolved;
        self.requests_abandoned += o.requests_abandoned;
        self.network_allowed += o.network_allowed;
        self.network_denied += o.network_denied;
        self.resolved_notifications += o.resolved_notifications;
        self.answers += o.answers;
        self.stray_answers += o.stray_answers;
    }
}

/// A core-sm bug the simulator found that is not fixed yet.
#[derive(Clone, Copy, Debug)]
pub struct KnownBug {
    /// The invariant it breaks.
    pub invariant: &'static str,
    /// A piece of the failure's detail that identifies it.
    pub detail: &'static str,
    /// What the machine does and what it should do.
    pub what: &'static str,
    /// Seeds below 1000 (of `Sim::run`) that fail with it.
    pub seeds: &'static [u64],
}

/// Core-sm bugs found by the simulator and not fixed yet. Remove an entry once the core is
/// fixed (`SIM_SEED=<seed> cargo test -p sim --test seeds fixed_seeds -- --exact` passes).
pub const KNOWN_CORE_BUGS: &[KnownBug] = &[];

/// The known core-sm bug a failure is, if any.
pub fn known_core_bug(f: &Failure) -> Option<&'static KnownBug> {
    KNOWN_CORE_BUGS.iter().find(|b| f.invariant == b.invariant && f.detail.contains(b.detail))
}

/// Whether `seed` is listed as failing on a known core-sm bug (kept out of fixed seed lists).
pub fn is_known_bug_seed(seed: u64) -> bool {
    KNOWN_CORE_BUGS.iter().any(|b| b.seeds.contains(&seed))
}

/// How to replay a seed from a test.
#[derive(Clone, Copy, Debug)]
pub struct Replay {
    /// The integration test target (file name under `tests/`).
    pub target: &'static str,
    /// The test function.
    pub test: &'static str,
    /// Cargo features the test needs (`""` for none).
    pub features: &'static str,
}

impl Replay {
    /// The one command that replays `seed` exactly.
    pub fn command(&self, seed: u64) -> String {
        let features =
            if self.features.is_empty() { String::new() } else { format!(" --features {}", self.features) };
        format!("SIM_SEED={seed} cargo test -p sim{features} --test {} {} -- --exact", self.target, self.test)
    }
}

/// The command that replays `seed` with the sweep binary, printing its trace.
pub fn binary_command(seed: u64) -> String {
    format!("cargo run -p sim --release -- --seed {seed} --trace")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `SIM_SEED`, if set.
pub fn env_seed() -> Option<u64> {
    env("SIM_SEED").map(|v| v.trim().parse().unwrap_or_else(|_| panic!("SIM_SEED must be a u64, got {v:?}")))
}

/// `SIM_SEEDS`, or `default`.
pub fn env_count(default: usize) -> usize {
    env("SIM_SEEDS").map_or(default, |v| {
        v.trim().parse().unwrap_or_else(|_| panic!("SIM_SEEDS must be a count, got {v:?}"))
    })
}

/// Whether `SIM_TRACE` asks for whole traces.
pub fn env_full_trace() -> bool {
    env("SIM_TRACE").is_some_and(|v| v != "0")
}

/// SplitMix64: spreads consecutive numbers into unrelated seeds.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The base of the fresh seeds: a hash of `SIM_FRESH_SEED` (FNV-1a), else a fixed value.
pub fn fresh_base() -> u64 {
    match env("SIM_FRESH_SEED") {
        Some(text) => text
            .trim()
            .bytes()
            .fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)),
        None => 0x5EED_0000_F4E5_4000,
    }
}

/// `n` seeds derived from `base`.
pub fn derived_seeds(base: u64, n: usize) -> Vec<u64> {
    (0..n as u64).map(|i| splitmix(base.wrapping_add(i))).collect()
}

/// Totals of a batch of seeds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    /// Seeds run.
    pub seeds: u64,
    /// Machine steps.
    pub steps: u64,
}

/// Re-runs a failed seed with its trace recorded and returns the full report: the failure,
/// the trace (tail, or all of it with `SIM_TRACE=1`), and `replay` as the last line.
pub fn explain(failure: &Failure, opts: &SimOptions, replay: &str) -> String {
    let mut traced = Sim::new(failure.seed, SimOptions { record_trace: true, ..opts.clone() });
    let again = traced.run().err();
    let mut out = String::new();
    match &again {
        Some(f) if f.invariant == failure.invariant && f.step == failure.step => {
            let lines = if env_full_trace() { traced.trace_lines().to_vec() } else { f.trace_tail.clone() };
            out.push_str(&format!("{f}\n  trace, last {} lines (SIM_TRACE=1 for all):\n", lines.len()));
            for line in lines {
                out.push_str(&format!("    {line}\n"));
            }
        }
        _ => out.push_str(&format!(
            "{failure}\n  NONDETERMINISM: the traced re-run ended differently: {again:?}\n"
        )),
    }
    out.push_str(replay);
    out
}

/// Runs one seed, printing its profile; on failure returns the full report (see [`explain`]).
/// With `tolerate_known`, a failure that is a [known core-sm bug](KNOWN_CORE_BUGS) is printed
/// and counted as a pass.
pub fn run_seed(seed: u64, opts: &SimOptions, replay: &str, tolerate_known: bool) -> Result<u64, String> {
    let mut sim = Sim::new(seed, opts.clone());
    println!("seed {seed}: {}", sim.profile());
    match sim.run() {
        Ok(stats) => Ok(stats.steps),
        Err(f) => match known_core_bug(&f) {
            Some(bug) if tolerate_known => {
                println!("seed {seed}: KNOWN CORE BUG, not failing the run: {}\n  {f}\n  {replay}", bug.what);
                Ok(f.step)
            }
            _ => Err(explain(&f, opts, replay)),
        },
    }
}

/// Runs every seed (or only `SIM_SEED`), stopping at the first failure, whose report (ending
/// with the replay command) is the error. Known core-sm bugs are tolerated except when
/// replaying one seed with `SIM_SEED`.
pub fn run_seeds(seeds: &[u64], opts: &SimOptions, replay: Replay) -> Result<Totals, String> {
    let replaying = env_seed();
    let seeds: Vec<u64> = replaying.map_or_else(|| seeds.to_vec(), |s| vec![s]);
    println!(
        "sim: {} seed(s); replay one with: {}",
        seeds.len(),
        replay.command(seeds.first().copied().unwrap_or(0))
    );
    let mut totals = Totals::default();
    for seed in seeds {
        totals.steps += run_seed(seed, opts, &replay.command(seed), replaying.is_none())?;
        totals.seeds += 1;
    }
    Ok(totals)
}
