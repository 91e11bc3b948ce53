//! Drives a real [`Machine`] with the simulator's invariant oracle watching every step, and
//! remembers what the fuzz targets may refer to (threads, turns, loads, server requests).
//!
//! The oracle is `sim::oracle::Oracle`, the same code the simulator runs: this module only adds
//! the checks that are about the fuzzer's own bookkeeping (output bounds, pending requests
//! against engine requests, deadlines cleared by `Tick`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use core_sm::history::RolloutRecord;
use core_sm::wire::{Frame, RequestId};
use core_sm::{
    ConnectionId, EngineCommand, EngineEvent, Input, Machine, MachineConfig, Output, StorageResult, ThreadId,
    Timestamp, TurnId,
};
use sim::oracle::scan::Kind;
use sim::oracle::{Oracle, OracleOptions, Violation};

/// Connection ids the targets use: `0..MAX_CONNS`.
pub const MAX_CONNS: u8 = 4;

/// Time of the first input (2025-11-24, like the behaviour tests).
pub const EPOCH: u64 = 1_764_000_000_000;

/// A broken invariant or bound, with enough context to reproduce it.
#[derive(Debug)]
pub struct Failure {
    /// What broke.
    pub what: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl From<Violation> for Failure {
    fn from(v: Violation) -> Self {
        Failure { what: format!("oracle: {v}") }
    }
}

fn fail<T>(what: impl Into<String>) -> Result<T, Failure> {
    Err(Failure { what: what.into() })
}

/// A server request as a connection received it.
#[derive(Clone, Debug)]
pub struct ServerRequest {
    /// The recipient.
    pub conn: ConnectionId,
    /// Its id.
    pub id: i64,
    /// Its method.
    pub method: String,
}

/// The machine, the oracle and the fuzzer's bookkeeping.
pub struct Drive {
    /// The machine under test.
    pub machine: Machine,
    /// The simulator's invariant oracle.
    pub oracle: Oracle,
    /// Current time (Unix ms); every input advances it by 1 ms.
    pub now: u64,
    /// Inputs fed.
    pub steps: u64,
    /// Connections open (as the inputs and `Close` outputs say).
    pub open: BTreeSet<ConnectionId>,
    /// Threads the machine announced to an engine, in order.
    pub threads: Vec<ThreadId>,
    /// `threads` as strings (for frames).
    pub thread_strs: Vec<String>,
    /// Turns the machine gave an engine, in order, with their thread.
    pub turns: Vec<(ThreadId, TurnId)>,
    /// `turns` as strings.
    pub turn_strs: Vec<String>,
    /// Every `Load` asked for, in order.
    pub loads: Vec<ThreadId>,
    /// `Load`s not answered yet.
    pub outstanding_loads: BTreeSet<ThreadId>,
    /// Server requests sent, in order (one entry per recipient).
    pub server_requests: Vec<ServerRequest>,
    /// Records persisted per thread.
    pub persisted: BTreeMap<ThreadId, Vec<RolloutRecord>>,
    /// Engine `Request` and `NetworkAttempt` events fed (accepted or not).
    pub engine_requests: usize,
    /// Frames sent since recording started, when recording.
    pub record: Option<Vec<(ConnectionId, Frame)>>,
    /// Outputs of the largest step so far.
    pub max_outputs: usize,
    /// Bytes of client frames fed so far.
    pub input_bytes: usize,
    /// The machine's seed (generation 0).
    pub seed: u64,
    /// Restarts so far.
    pub generation: u64,
    /// A readable log of every input and output, when set (for `examples/show.rs`).
    pub trace: Option<Vec<String>>,
}

impl Drive {
    /// A fresh machine with seed `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            machine: Machine::new(MachineConfig::new(seed)),
            oracle: Oracle::new(OracleOptions::default()),
            now: EPOCH,
            steps: 0,
            open: BTreeSet::new(),
            threads: Vec::new(),
            thread_strs: Vec::new(),
            turns: Vec::new(),
            turn_strs: Vec::new(),
            loads: Vec::new(),
            outstanding_loads: BTreeSet::new(),
            server_requests: Vec::new(),
            persisted: BTreeMap::new(),
            engine_requests: 0,
            record: None,
            max_outputs: 0,
            input_bytes: 0,
            seed,
            generation: 0,
            trace: None,
        }
    }

    /// A legitimate step emits at most a few frames per connection for every thing the machine
    /// holds (threads, items, pending requests), all of which are bounded by the inputs so far.
    fn output_bound(&self) -> usize {
        let conns = usize::from(MAX_CONNS) + 1;
        64 + 8 * conns * (self.steps as usize + 1)
    }

    /// A frame carries at most what the inputs so far put in: a fixed envelope and per input a
    /// bounded amount of text (items, names, questions), so its size is linear in the steps.
    fn frame_bound(&self) -> usize {
        64 * 1024 + 8 * 1024 * self.steps as usize + 2 * self.input_bytes
    }

    /// Feeds one input 1 ms after the previous one, drains and checks the outputs.
    pub fn feed(&mut self, input: Input) -> Result<(), Failure> {
        self.now += 1;
        self.feed_at(self.now, input)
    }

    /// Feeds one input at `now` (which may lie behind the drive's clock).
    pub fn feed_at(&mut self, now: u64, input: Input) -> Result<(), Failure> {
        let ts = Timestamp(now);
        let tick = matches!(input, Input::Tick);
        match &input {
            Input::ConnectionOpened { conn } => {
                self.open.insert(*conn);
            }
            Input::ConnectionClosed { conn } => {
                self.open.remove(conn);
            }
            Input::Engine {
                event: EngineEvent::Request { .. } | EngineEvent::NetworkAttempt { .. }, ..
            } => self.engine_requests += 1,
            Input::Storage(
                StorageResult::Loaded { thread_id, .. }
                | StorageResult::NotFound { thread_id }
                | StorageResult::Failed { thread_id, .. },
            ) => {
                self.outstanding_loads.remove(thread_id);
            }
            _ => {}
        }
        if let Some(t) = &mut self.trace {
            t.push(format!("@{now} in  {}", show_input(&input)));
        }
        if let Input::Frame { conn, text } = &input {
            self.input_bytes += text.len();
            // The oracle's scanner accepts some RFC 8259 JSON that serde_json (and so the
            // machine) rejects: numbers beyond f64 (`1e400`), nesting at depth 128, lone
            // surrogate escapes in skipped strings. The machine drops such frames unanswered,
            // as Codex does, so show the oracle what the machine sees: an undecodable frame.
            if may_reject(text) && core_sm::wire::Incoming::decode(text).is_err() {
                let blank = Input::Frame { conn: *conn, text: String::new() };
                self.oracle.observe_input(ts, &blank)?;
            } else {
                self.oracle.observe_input(ts, &input)?;
            }
        } else {
            self.oracle.observe_input(ts, &input)?;
        }
        self.machine.handle(ts, input);
        self.steps += 1;
        let bound = self.output_bound();
        let mut n = 0;
        while let Some(out) = self.machine.poll_output() {
            n += 1;
            if n > bound {
                return fail(format!("step {} produced more than {bound} outputs", self.steps));
            }
            if let Some(t) = &mut self.trace {
                t.push(format!("       out {}", show_output(&out)));
            }
            if let Output::Send { conn, frame } = &out {
                let limit = self.frame_bound();
                if frame.len() > limit {
                    return fail(format!(
                        "step {}: a {}-byte frame to {conn} (bound {limit}): {}...",
                        self.steps,
                        frame.len(),
                        frame.chars().take(300).collect::<String>()
                    ));
                }
            }
            self.oracle.observe_output(&out)?;
            self.absorb(out);
        }
        self.max_outputs = self.max_outputs.max(n);
        self.oracle.end_step(&self.machine)?;
        let pending = self.machine.pending_requests().len();
        if pending > self.engine_requests {
            return fail(format!(
                "{pending} server requests pending but the engine made only {}",
                self.engine_requests
            ));
        }
        if tick {
            let now = Timestamp(self.now.max(now));
            if let Some(d) = self.machine.poll_timeout().filter(|d| *d <= now) {
                return fail(format!(
                    "poll_timeout() is {d} after a Tick at {now}: the deadline was not handled"
                ));
            }
        }
        Ok(())
    }

    fn absorb(&mut self, out: Output) {
        match out {
            Output::Send { conn, frame } => {
                if let Some(s) = self.oracle.last_summary() {
                    if let (Kind::Request, Some(RequestId::Integer(id))) = (s.kind, &s.id) {
                        self.server_requests.push(ServerRequest {
                            conn,
                            id: *id,
                            method: s.method().to_owned(),
                        });
                    }
                }
                if let Some(r) = &mut self.record {
                    r.push((conn, frame));
                }
            }
            Output::Close { conn } => {
                self.open.remove(&conn);
            }
            Output::Engine { thread_id, command } => match command {
                EngineCommand::OpenThread { .. } if !self.threads.contains(&thread_id) => {
                    self.threads.push(thread_id);
                    self.thread_strs.push(thread_id.to_string());
                }
                EngineCommand::StartTurn { turn_id, .. } => {
                    self.turns.push((thread_id, turn_id));
                    self.turn_strs.push(turn_id.to_string());
                }
                _ => {}
            },
            Output::Persist { thread_id, record } => {
                self.persisted.entry(thread_id).or_default().push(record)
            }
            Output::Load { thread_id } => {
                self.loads.push(thread_id);
                self.outstanding_loads.insert(thread_id);
            }
            _ => {}
        }
    }

    /// The server restarts, as the simulator's restart fault does: a fresh machine (next
    /// generation of the seed) over the same storage, every connection and everything in flight
    /// gone, the oracle restarted. Persisted rollouts stay, so announced threads can be loaded
    /// back. Used after `Shutdown`, which ends a machine's useful life.
    pub fn restart(&mut self) {
        self.generation += 1;
        self.machine = Machine::new(MachineConfig::new(self.seed.wrapping_add(self.generation)));
        self.oracle.restart();
        self.open.clear();
        self.outstanding_loads.clear();
        self.server_requests.clear();
        self.engine_requests = 0;
        if let Some(t) = &mut self.trace {
            t.push(format!("@{} restart (generation {})", self.now, self.generation));
        }
    }

    /// The latest turn the engine was given for each thread.
    pub fn latest_turns(&self) -> BTreeMap<ThreadId, TurnId> {
        self.turns.iter().copied().collect()
    }

    /// Plays a well-behaved world until nothing is in flight, then runs the oracle's quiescence
    /// checks: storage answers every load (not found), the engine ends every turn it was given,
    /// time passes for the token-refresh deadline. Every request on an open connection must
    /// then have exactly one reply, and no thread may be left active.
    pub fn quiesce(&mut self) -> Result<(), Failure> {
        for _ in 0..4 {
            let loads: Vec<ThreadId> = self.outstanding_loads.iter().copied().collect();
            for thread_id in loads {
                self.feed(Input::Storage(StorageResult::NotFound { thread_id }))?;
            }
            for (thread_id, turn_id) in self.latest_turns() {
                if self.machine.loaded_threads().contains(&thread_id) {
                    self.feed(Input::Engine { thread_id, event: EngineEvent::TurnAborted { turn_id } })?;
                }
            }
            self.now += 10_001;
            self.feed(Input::Tick)?;
            if self.outstanding_loads.is_empty() {
                break;
            }
        }
        self.oracle.check_quiescent(&self.machine)?;
        Ok(())
    }
}

fn show_input(input: &Input) -> String {
    match input {
        Input::Frame { conn, text } => format!("{conn} <- {text}"),
        Input::Engine { thread_id, event } => format!("engine {thread_id}: {event:?}"),
        other => format!("{other:?}"),
    }
}

fn show_output(out: &Output) -> String {
    match out {
        Output::Send { conn, frame } => format!("{conn} -> {frame}"),
        Output::Engine { thread_id, command } => format!("engine {thread_id}: {command:?}"),
        Output::Persist { thread_id, record } => format!("persist {thread_id}: {record:?}"),
        other => format!("{other:?}"),
    }
}

/// Whether serde_json might reject text the oracle's scanner accepts (a cheap over-estimate:
/// an exponent outside strings, a `\\u` escape, or enough brackets for serde_json's depth limit).
fn may_reject(text: &str) -> bool {
    let (mut in_str, mut esc, mut open, mut prev) = (false, false, 0usize, 0u8);
    for &c in text.as_bytes() {
        if in_str {
            if esc {
                esc = false;
                if c == b'u' {
                    return true;
                }
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'e' | b'E' if prev.is_ascii_digit() => return true,
                b'[' | b'{' => open += 1,
                _ => {}
            }
        }
        prev = c;
    }
    open >= 127
}
