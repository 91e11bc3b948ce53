//! The `protocol` target: a sequence of [`Action`]s fed to a real machine.
//!
//! Actions refer to things the machine announced by index (threads it opened, turns it started,
//! loads it asked for, server requests it sent), so almost every action lands on live state.
//! Frames are built from the schema's method table and params sketches ([`crate::sketch`]),
//! mostly well-formed, sometimes not; raw frames carry arbitrary bytes with `$T0`/`$U0`/`$F0`
//! placeholders for the machine's thread and turn ids and foreign thread ids.
//!
//! [`Script`] implements `Arbitrary` (the whole input is one script) and [`Script::encode`]
//! is its exact inverse, so seeds are written as values (see `examples/gen_corpus.rs`).

use std::fmt::Write as _;

use core_sm::{ConnectionId, Input, RequestKey, StorageResult, ThreadId, TurnId};

use crate::bytes::Src;
use crate::drive::{Drive, Failure, MAX_CONNS};
use crate::sketch::{write_str, Gen, Hint, Pools, Sketches, FOREIGN_THREADS, TEXTS};

mod codec;
mod payloads;

pub use payloads::{build_event, item_body, records_for};

/// At most this many actions per input: keeps every execution short.
pub const MAX_ACTIONS: usize = 48;

/// The client methods turnstile implements (core-sm's list); picked half the time.
pub use core_sm::wire::methods::IMPLEMENTED;

/// Method names that are not in the schema.
const BOGUS_METHODS: [&str; 5] = ["", "Initialize", "thread/start ", "initialized", "thread/rollback"];

/// A whole fuzz input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    /// What happens, in order.
    pub actions: Vec<Action>,
}

/// One thing that happens to the machine.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open connection `conn % MAX_CONNS` (reopening an open one resets it).
    Open { conn: u8 },
    /// Close it.
    Close { conn: u8 },
    /// A request (or, with [`Id::None`], a notification) built from the schema.
    Request { conn: u8, id: Id, method: u16, params: Vec<u8> },
    /// A reply to a server request the machine sent.
    Answer { conn: u8, target: u8, reply: u8, body: Vec<u8> },
    /// Raw text with placeholders (`$T<d>`, `$U<d>`, `$F<d>`).
    Raw { conn: u8, text: Text },
    /// An engine event for an announced thread and turn.
    Engine { thread: u8, turn: u8, event: Event },
    /// A storage answer to a load the machine asked for.
    Storage { load: u8, result: Stored },
    /// Time passes (see [`advance_ms`]), then `Tick`.
    Advance { step: u8 },
    /// The server stops (checked), then restarts over the same storage (see
    /// [`Drive::restart`](crate::drive::Drive::restart)).
    Shutdown,
}

/// Raw frame bytes; `Debug` shows them as (lossy) text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Text(pub Vec<u8>);

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.as_bytes().to_vec())
    }
}

/// A request id.
#[derive(Clone, Debug, PartialEq)]
pub enum Id {
    /// The next integer (1, 2, ...).
    Next,
    /// A string id `"r<n>"`.
    Str(u8),
    /// An id this connection used before (perhaps still pending).
    Reuse(u8),
    /// An odd integer (0, negative, extreme).
    Int(u8),
    /// Not an id: float, null, object, bool (the frame is a notification or undecodable).
    Weird(u8),
    /// No id: a notification.
    None,
}

/// An engine event; `u8` fields select from small tables at execution time.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The turn runs.
    TurnStarted,
    /// An item starts.
    ItemStarted { key: u8, body: u8 },
    /// An item streams.
    ItemDelta { key: u8, delta: u8 },
    /// An item completes.
    ItemCompleted { key: u8, body: u8 },
    /// Token usage.
    TokenUsage { size: u8 },
    /// A server request (the engine's key is fresh: keys are unique per thread by contract,
    /// and the oracle checks the driver keeps it).
    Request { kind: u8, item: u8, variant: u8 },
    /// A network attempt (fresh key, as for requests).
    Network { host: u8, port: u8 },
    /// A retried error.
    Retrying { error: u8 },
    /// A warning.
    Warning { text: u8 },
    /// The turn completed.
    TurnCompleted,
    /// The turn was aborted.
    TurnAborted,
    /// The turn failed.
    TurnFailed { error: u8 },
}

/// A storage answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    /// Records (see [`records_for`]).
    Loaded { variant: u8 },
    /// Nothing stored.
    NotFound,
    /// Storage failed.
    Failed { text: u8 },
}

// ---------------------------------------------------------------------------------------------
// Execution.

/// Runs a script against a fresh machine with every check on; `Err` is a finding.
pub fn run(script: &Script) -> Result<(), Failure> {
    let mut x = Exec { d: Drive::new(0x7u64), keys: 0, next_id: 0, ids: Vec::new(), buf: String::new() };
    for (i, a) in script.actions.iter().enumerate() {
        x.apply(a).map_err(|f| Failure { what: format!("action #{i} {a:?}: {}", f.what) })?;
    }
    x.d.quiesce().map_err(|f| Failure { what: format!("at quiescence: {}", f.what) })
}

/// Like [`run`] with a readable trace of every input and output (`examples/show.rs`).
pub fn run_traced(script: &Script) -> (Drive, Result<(), Failure>) {
    let mut x = Exec { d: Drive::new(0x7u64), keys: 0, next_id: 0, ids: Vec::new(), buf: String::new() };
    x.d.trace = Some(Vec::new());
    for (i, a) in script.actions.iter().enumerate() {
        if let Err(f) = x.apply(a) {
            return (x.d, Err(Failure { what: format!("action #{i} {a:?}: {}", f.what) }));
        }
    }
    let r = x.d.quiesce();
    (x.d, r)
}

struct Exec {
    d: Drive,
    /// Engine request keys handed out (unique per run, so per thread).
    keys: u64,
    next_id: i64,
    /// Ids each connection used, as JSON text.
    ids: Vec<(u8, String)>,
    buf: String,
}

fn conn_of(c: u8) -> ConnectionId {
    ConnectionId(u64::from(c % MAX_CONNS))
}

/// Milliseconds an [`Action::Advance`] moves the clock; `None` jumps to the next deadline.
pub fn advance_ms(step: u8) -> Option<u64> {
    const UNLOAD: u64 = 30 * 60 * 1000;
    const TABLE: [u64; 12] =
        [1, 10, 1000, 9_998, 9_999, 10_000, 60_000, UNLOAD - 2, UNLOAD - 1, UNLOAD, UNLOAD + 1, 1 << 40];
    (step < 240).then(|| TABLE[usize::from(step) % TABLE.len()])
}

impl Exec {
    fn apply(&mut self, a: &Action) -> Result<(), Failure> {
        match a {
            Action::Open { conn } => self.d.feed(Input::ConnectionOpened { conn: conn_of(*conn) }),
            Action::Close { conn } => self.d.feed(Input::ConnectionClosed { conn: conn_of(*conn) }),
            Action::Request { conn, id, method, params } => {
                let text = self.request_text(*conn, id, *method, params);
                self.d.feed(Input::Frame { conn: conn_of(*conn), text })
            }
            Action::Answer { conn, target, reply, body } => {
                let text = self.answer_text(*conn, *target, *reply, body);
                self.d.feed(Input::Frame { conn: conn_of(*conn), text })
            }
            Action::Raw { conn, text } => {
                let text = self.expand(&String::from_utf8_lossy(&text.0));
                self.d.feed(Input::Frame { conn: conn_of(*conn), text })
            }
            Action::Engine { thread, turn, event } => {
                let (thread_id, turn_id) = self.pick_thread_turn(*thread, *turn);
                if matches!(event, Event::Request { .. } | Event::Network { .. })
                    && !self.d.machine.loaded_threads().contains(&thread_id)
                {
                    // No engine runs a thread that is not loaded, so nobody would wait for the
                    // answer the oracle expects (the machine drops such events); other events
                    // still go to unloaded and foreign threads.
                    return Ok(());
                }
                self.keys += 1;
                let event = build_event(event, turn_id, RequestKey(self.keys));
                self.d.feed(Input::Engine { thread_id, event })
            }
            Action::Storage { load, result } => {
                let thread_id = self.pick_load(*load);
                let result = match result {
                    Stored::Loaded { variant } => StorageResult::Loaded {
                        thread_id,
                        records: records_for(&self.d, thread_id, *variant),
                    },
                    Stored::NotFound => StorageResult::NotFound { thread_id },
                    Stored::Failed { text } => StorageResult::Failed {
                        thread_id,
                        message: TEXTS[usize::from(*text) % TEXTS.len()].to_owned(),
                    },
                };
                self.d.feed(Input::Storage(result))
            }
            Action::Advance { step } => {
                match advance_ms(*step) {
                    Some(ms) => self.d.now = self.d.now.saturating_add(ms),
                    None => {
                        if let Some(t) = self.d.machine.poll_timeout() {
                            // Exactly at the deadline (the feed adds 1 ms: start just before).
                            self.d.now = self.d.now.max(t.0.saturating_sub(1));
                        }
                    }
                }
                self.d.feed(Input::Tick)
            }
            Action::Shutdown => {
                self.d.feed(Input::Shutdown)?;
                self.d.restart();
                Ok(())
            }
        }
    }

    fn pick_thread_turn(&self, thread: u8, turn: u8) -> (ThreadId, TurnId) {
        let foreign =
            |i: u8| ThreadId::parse(FOREIGN_THREADS[usize::from(i) % FOREIGN_THREADS.len()]).unwrap();
        let threads = &self.d.threads;
        let thread_id = if thread < 240 && !threads.is_empty() {
            threads[threads.len() - 1 - usize::from(thread) % threads.len()]
        } else {
            foreign(thread)
        };
        let mine: Vec<TurnId> =
            self.d.turns.iter().filter(|(t, _)| *t == thread_id).map(|(_, u)| *u).collect();
        let turn_id = match (turn, mine.last()) {
            (0..=191, Some(last)) => *last,
            (192..=239, Some(_)) => mine[usize::from(turn) % mine.len()],
            _ if !self.d.turns.is_empty() => self.d.turns[usize::from(turn) % self.d.turns.len()].1,
            _ => TurnId(foreign(turn).0),
        };
        (thread_id, turn_id)
    }

    fn pick_load(&self, load: u8) -> ThreadId {
        let out: Vec<ThreadId> = self.d.outstanding_loads.iter().copied().collect();
        if load < 200 && !out.is_empty() {
            return out[usize::from(load) % out.len()];
        }
        if load < 240 && !self.d.loads.is_empty() {
            return self.d.loads[usize::from(load) % self.d.loads.len()];
        }
        ThreadId::parse(FOREIGN_THREADS[usize::from(load) % FOREIGN_THREADS.len()]).unwrap()
    }

    fn id_text(&mut self, conn: u8, id: &Id) -> Option<String> {
        let text = match id {
            Id::Next => {
                self.next_id += 1;
                self.next_id.to_string()
            }
            Id::Str(b) => format!("\"r{b}\""),
            Id::Reuse(b) => {
                let mine: Vec<&String> = self
                    .ids
                    .iter()
                    .filter(|(c, _)| c % MAX_CONNS == conn % MAX_CONNS)
                    .map(|(_, s)| s)
                    .collect();
                match mine.len() {
                    0 => "1".to_owned(),
                    n => mine[n - 1 - usize::from(*b) % n].clone(),
                }
            }
            Id::Int(b) => {
                const ODD: [i64; 6] = [0, -1, i64::MAX, i64::MIN, 1 << 53, 7];
                ODD[usize::from(*b) % ODD.len()].to_string()
            }
            Id::Weird(b) => {
                const WEIRD: [&str; 6] = ["1.5", "null", "{}", "true", "[1]", "1e3"];
                return Some(WEIRD[usize::from(*b) % WEIRD.len()].to_owned());
            }
            Id::None => return None,
        };
        self.ids.push((conn, text.clone()));
        Some(text)
    }

    fn request_text(&mut self, conn: u8, id: &Id, method: u16, params: &[u8]) -> String {
        let sk = Sketches::get();
        let (name, node): (&str, Option<usize>) = if method & 1 == 0 {
            let i = sk.implemented[usize::from(method >> 1) % sk.implemented.len()];
            (&sk.client[i].0, Some(sk.client[i].2))
        } else {
            let i = usize::from(method >> 1) % (sk.client.len() + BOGUS_METHODS.len());
            match sk.client.get(i) {
                Some((m, _, n)) => (m, Some(*n)),
                None => (BOGUS_METHODS[i - sk.client.len()], None),
            }
        };
        let id = self.id_text(conn, id);
        let (name, node) = if id.is_none() && method & 2 == 0 {
            ("initialized", sk.notifications.first().map(|(_, n)| *n))
        } else {
            (name, node)
        };
        let pools = Pools { threads: &self.d.thread_strs, turns: &self.d.turn_strs };
        let mut g = Gen { sk, pools: &pools, src: Src::new(params), budget: 64 };
        let mode = g.src.byte();
        let out = &mut self.buf;
        out.clear();
        out.push('{');
        if mode >= 250 {
            out.push_str("\"jsonrpc\":\"2.0\",");
        }
        if let Some(id) = &id {
            let _ = write!(out, "\"id\":{id},");
        }
        out.push_str("\"method\":");
        write_str(out, name);
        match (mode, node) {
            (230..=239, _) => {}
            (240..=244, _) => out.push_str(",\"params\":null"),
            (245..=249, _) | (_, None) => {
                out.push_str(",\"params\":");
                g.any(0, out);
            }
            (_, Some(node)) => {
                out.push_str(",\"params\":");
                g.value(node, Hint::Plain, 0, out);
            }
        }
        out.push('}');
        std::mem::take(out)
    }

    fn answer_text(&mut self, conn: u8, target: u8, reply: u8, body: &[u8]) -> String {
        let c = conn_of(conn);
        let reqs = &self.d.server_requests;
        let mine: Vec<&crate::drive::ServerRequest> = reqs.iter().filter(|r| r.conn == c).collect();
        let (id, method) = match target {
            0..=127 if !mine.is_empty() => {
                let r = mine[mine.len() - 1 - usize::from(target) % mine.len()];
                (r.id, r.method.as_str())
            }
            0..=191 if !reqs.is_empty() => {
                let r = &reqs[usize::from(target) % reqs.len()];
                (r.id, r.method.as_str())
            }
            _ => (i64::from(target) - 192, ""),
        };
        let sk = Sketches::get();
        let pools = Pools { threads: &self.d.thread_strs, turns: &self.d.turn_strs };
        let mut g = Gen { sk, pools: &pools, src: Src::new(body), budget: 48 };
        let mut out = String::with_capacity(64);
        let _ = write!(out, "{{\"id\":{id},");
        match reply {
            0..=179 => {
                out.push_str("\"result\":");
                match sk.responses.get(method) {
                    Some(node) => g.value(*node, Hint::Plain, 0, &mut out),
                    None => g.any(0, &mut out),
                }
            }
            180..=219 => {
                const CODES: [i64; 5] = [-32600, -32601, -32603, 1, i64::MIN];
                let _ = write!(
                    out,
                    "\"error\":{{\"code\":{},\"message\":\"fuzz\"}}",
                    CODES[usize::from(reply) % CODES.len()]
                );
            }
            220..=239 => {
                out.push_str("\"result\":");
                g.any(0, &mut out);
            }
            _ => out.push_str("\"error\":{\"code\":\"x\"}"),
        }
        out.push('}');
        out
    }

    /// Substitutes `$T<d>` (announced thread), `$U<d>` (turn), `$F<d>` (foreign thread).
    fn expand(&self, text: &str) -> String {
        if !text.contains('$') {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 64);
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 1..];
            let mut chars = tail.chars();
            match (chars.next(), chars.next().and_then(|c| c.to_digit(10))) {
                (Some(k @ ('T' | 'U' | 'F')), Some(d)) => {
                    let d = d as usize;
                    let s = match k {
                        'T' => self
                            .d
                            .thread_strs
                            .get(d)
                            .cloned()
                            .unwrap_or_else(|| FOREIGN_THREADS[d % 4].to_owned()),
                        'U' => self
                            .d
                            .turn_strs
                            .get(d)
                            .cloned()
                            .unwrap_or_else(|| FOREIGN_THREADS[d % 4].to_owned()),
                        _ => FOREIGN_THREADS[d % 4].to_owned(),
                    };
                    out.push_str(&s);
                    rest = &tail[2..];
                }
                _ => {
                    out.push('$');
                    rest = tail;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// A readable form of the frames a script sends, for reports (thread ids as placeholders).
pub fn describe(script: &Script) -> String {
    let mut s = String::new();
    for (i, a) in script.actions.iter().enumerate() {
        let _ = writeln!(s, "#{i}: {a:?}");
    }
    s
}
