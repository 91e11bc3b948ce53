//! A seeded, deterministic simulator for the turnstile core.
//!
//! One [`Sim`] owns a [`core_sm::Machine`], a few fake clients (each opening connections over
//! time), a fake engine per thread, a fake rollout store and a virtual clock. Every choice
//! comes from PRNG streams derived from the run's seed (one per concern, so shrinking an
//! action list does not reshuffle unrelated choices), nothing reads real time, and only
//! ordered collections are iterated, so a seed fixes the whole run and its trace hash.
//!
//! A run has two phases. In the fault phase the seed's [`FaultProfile`] (drawn first: swarm
//! testing) injects disconnects, connection-id reuse, restarts, slow or failing storage,
//! long engine delays, interrupts and malformed frames while the [`oracle`] checks the safety
//! invariants after every machine step. In the liveness phase faults stop, every client
//! reconnects and resumes, and within a step bound every turn must end, every request be
//! answered and every queue drain.
//!
//! Turns make server requests: the fake [`engine`] asks for every kind of approval, user
//! input, dynamic tool call, elicitation and token refresh, and makes network attempts to a
//! small destination pool, then waits for the machine's resolution like a real engine (an
//! accepted command runs, a `cancel` waits for the interrupt). The fake [`clients`] answer
//! them (accept, for the session, decline, cancel, errors, garbage), answer late, twice,
//! from connections that never received them, with ids nobody received, or not at all, so
//! interrupts, turn ends, disconnects, resumes and restarts find them pending; in the
//! liveness phase they answer everything, and threads nobody watches any more are resumed
//! by a client so their requests get answered. The [`oracle`] checks invariants 3, 4 and 7
//! (resolved exactly once, replay on resume, network prompts) from the boundary alone.
//!
//! Entry points: [`Sim::run`] for a seed, [`Sim::run_actions`] for an explicit action list
//! (the proptest model), [`report::run_seeds`] for test batches with replay lines, and the
//! `sim` binary for long sweeps. The [`oracle`] is independent of the simulator's choices, so
//! a fuzzer can drive the machine and check the same invariants.
//!
//! # Running and replaying
//!
//! ```text
//! cargo test -p sim                                    # fixed seeds, fresh seeds, proptest
//! SIM_SEEDS=500 cargo test -p sim --test seeds fixed_seeds
//! SIM_FRESH_SEED=$(git rev-parse HEAD) cargo test -p sim --test seeds fresh_seeds
//! SIM_SEED=42 cargo test -p sim --test seeds fixed_seeds -- --exact   # replay one seed
//! SIM_TRACE=1 ...                                      # a failure prints its whole trace
//! cargo test -p sim --features inject-bugs             # the oracle catches planted bugs
//! cargo run -p sim --release -- --seeds 10000          # sweep with progress and speed
//! cargo run -p sim --release -- --seed 42 --trace      # one seed, one line per event
//! cargo run -p sim --release -- --baseline --seeds 500 # the bare machine on the same inputs
//! ```
//!
//! Every failure report ends with the one command that replays it; a seed always produces
//! the same trace hash (a test asserts it).
//!
//! # Layout
//!
//! [`world`] (the `Sim`, clock, queue, phases), [`clients`], [`engine`], [`storage`],
//! [`faults`] (swarm profiles), [`actions`] (the action model shared with proptest),
//! [`oracle`] (invariants), [`trace`] (hash and lines), [`report`] (seeds, replay lines).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actions;
pub mod clients;
pub mod engine;
pub mod faults;
pub mod oracle;
pub mod report;
pub mod storage;
pub mod trace;
pub mod world;

pub use actions::{Action, ClientOp, Malformed};
pub use faults::FaultProfile;
pub use report::{Failure, Replay};
pub use world::{RunStats, Sim, SimOptions};
