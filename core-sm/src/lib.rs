//! The turnstile core: a synchronous, deterministic state machine for the Codex app-server
//! protocol (JSON-RPC v2: threads, turns, items, server requests).
//!
//! The machine decides everything and does nothing: it reads no clock, draws from no global
//! RNG, spawns nothing and blocks on nothing. Adapters (stdio, websocket, the simulator, a fuzzer)
//! feed it [`Input`]s and carry out its [`Output`]s.
//!
//! # Driving the machine
//!
//! * Feed every event with [`Machine::handle`]`(now, input)`. `now` is wall-clock time in Unix
//!   milliseconds; it stamps `emittedAtMs`, `createdAt` and the other timestamps and is the
//!   timestamp part of every UUIDv7 the machine mints.
//! * After every `handle`, drain [`Machine::poll_output`] until it returns `None`, and carry out
//!   each output in order (frames to one connection must be written in the order drained).
//! * [`Machine::poll_timeout`] gives the next deadline (idle thread unload); feed
//!   [`Input::Tick`] once it has passed.
//!
//! # Rules that hold everywhere
//!
//! * The same [`MachineConfig::seed`] and the same inputs produce byte-identical outputs.
//! * A notification is sent only once the thing it announces is true in the machine
//!   (`turn/started` after the engine reports the turn running, `thread/status/changed` to
//!   `active` before it, `idle` before `turn/completed`).
//! * Responses go only to the requesting connection, thread events only to the thread's current
//!   subscribers, broadcasts only to initialized connections, all minus each connection's
//!   `optOutNotificationMethods`.
//! * Bad input never panics and never corrupts state: undecodable frames are dropped (logged via
//!   `tracing`), everything else gets the JSON-RPC error Codex sends.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod approvals;
mod config;
mod connection;
mod dynamic_tools;
pub mod engine;
mod handlers;
pub mod history;
mod ids;
mod io;
mod machine;
mod pending;
mod routing;
mod thread;
mod time;
pub mod wire;

#[cfg(feature = "inject-bugs")]
pub use config::InjectedBug;
pub use config::{MachineConfig, PROTOCOL_VERSION};
pub use engine::{
    EngineCommand, EngineEvent, EngineRequest, ItemDelta, ItemKey, RequestKey, RequestOutcome, ThreadSettings,
};
pub use ids::{ConnectionId, ItemId, ThreadId, TurnId};
pub use io::{Input, Output, StorageResult};
pub use machine::Machine;
pub use time::Timestamp;
