//! Fuzzing harnesses for the turnstile core, shared by the cargo-fuzz targets
//! (`fuzz_targets/`), the stable regression test (`tests/replay.rs`) and the seed generator
//! (`examples/gen_corpus.rs`).
//!
//! * [`protocol`]: a decoded [`protocol::Script`] of actions (connections, schema-built frames,
//!   engine events, storage answers, time) against a real `core_sm::Machine`, checked after
//!   every step by the simulator's oracle (`sim::oracle`) plus the fuzzer's own bounds.
//! * [`wire`]: one arbitrary frame after a fixed prelude, every output schema-validated.
#![forbid(unsafe_code)]

pub mod bytes;
pub mod drive;
pub mod protocol;
pub mod sketch;
pub mod wire;
