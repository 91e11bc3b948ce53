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

use arbitrary::{Arbitrary, Unstructured};
use core_sm::history::{RolloutRecord, SessionMeta};
use core_sm::wire::server_requests::{
    CommandDecision, NetworkProtocol, PermissionProfile, UserInputQuestion,
};
use core_sm::wire::{CommandAction, FileUpdateChange, ItemBody, ThreadTokenUsage, TurnError};
use core_sm::{
    ConnectionId, EngineEvent, EngineRequest, Input, ItemDelta, ItemKey, RequestKey, StorageResult, ThreadId,
    TurnId,
};
use serde_json::json;

use crate::bytes::{Sink, Src};
use crate::drive::{Drive, Failure, MAX_CONNS};
use crate::sketch::{write_str, Gen, Hint, Pools, Sketches, FOREIGN_THREADS, TEXTS};

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
// Decoding and encoding. Each tag byte range maps to one variant; the encoder writes the first
// byte of the range.

const ACTION_TAGS: [(u8, u8); 9] = [
    (0, 9),     // Open
    (10, 14),   // Close
    (15, 99),   // Request
    (100, 124), // Answer
    (125, 139), // Raw
    (140, 219), // Engine
    (220, 232), // Storage
    (233, 252), // Advance
    (253, 255), // Shutdown
];

const EVENT_TAGS: [(u8, u8); 12] = [
    (0, 29),    // TurnStarted
    (30, 69),   // ItemStarted
    (70, 104),  // ItemDelta
    (105, 144), // ItemCompleted
    (145, 154), // TokenUsage
    (155, 194), // Request
    (195, 209), // Network
    (210, 214), // Retrying
    (215, 219), // Warning
    (220, 237), // TurnCompleted
    (238, 246), // TurnAborted
    (247, 255), // TurnFailed
];

const ID_TAGS: [(u8, u8); 6] = [(0, 199), (200, 214), (215, 229), (230, 239), (240, 247), (248, 255)];
const STORED_TAGS: [(u8, u8); 3] = [(0, 119), (120, 199), (200, 255)];

fn tag(b: u8, table: &[(u8, u8)]) -> usize {
    table.iter().position(|(lo, hi)| (*lo..=*hi).contains(&b)).expect("tables cover 0..=255")
}

impl Script {
    /// Decodes a script (never fails; every byte string is a script).
    pub fn decode(data: &[u8]) -> Script {
        let mut src = Src::new(data);
        let mut actions = Vec::new();
        while !src.is_empty() && actions.len() < MAX_ACTIONS {
            actions.push(Action::decode(&mut src));
        }
        Script { actions }
    }

    /// The bytes that decode to this script.
    pub fn encode(&self) -> Vec<u8> {
        let mut sink = Sink::default();
        for a in &self.actions {
            a.encode(&mut sink);
        }
        sink.out
    }
}

impl<'a> Arbitrary<'a> for Script {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.len();
        Ok(Script::decode(u.bytes(n)?))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Script::decode(u.take_rest()))
    }
}

impl Action {
    fn decode(src: &mut Src) -> Action {
        match tag(src.byte(), &ACTION_TAGS) {
            0 => Action::Open { conn: src.byte() },
            1 => Action::Close { conn: src.byte() },
            2 => Action::Request {
                conn: src.byte(),
                id: Id::decode(src),
                method: src.u16(),
                params: src.chunk(),
            },
            3 => {
                Action::Answer { conn: src.byte(), target: src.byte(), reply: src.byte(), body: src.chunk() }
            }
            4 => Action::Raw { conn: src.byte(), text: Text(src.chunk16()) },
            5 => Action::Engine { thread: src.byte(), turn: src.byte(), event: Event::decode(src) },
            6 => Action::Storage { load: src.byte(), result: Stored::decode(src) },
            7 => Action::Advance { step: src.byte() },
            _ => Action::Shutdown,
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| ACTION_TAGS[i].0;
        match self {
            Action::Open { conn } => {
                s.byte(t(0));
                s.byte(*conn);
            }
            Action::Close { conn } => {
                s.byte(t(1));
                s.byte(*conn);
            }
            Action::Request { conn, id, method, params } => {
                s.byte(t(2));
                s.byte(*conn);
                id.encode(s);
                s.u16(*method);
                s.chunk(params);
            }
            Action::Answer { conn, target, reply, body } => {
                s.byte(t(3));
                s.byte(*conn);
                s.byte(*target);
                s.byte(*reply);
                s.chunk(body);
            }
            Action::Raw { conn, text } => {
                s.byte(t(4));
                s.byte(*conn);
                s.chunk16(&text.0);
            }
            Action::Engine { thread, turn, event } => {
                s.byte(t(5));
                s.byte(*thread);
                s.byte(*turn);
                event.encode(s);
            }
            Action::Storage { load, result } => {
                s.byte(t(6));
                s.byte(*load);
                result.encode(s);
            }
            Action::Advance { step } => {
                s.byte(t(7));
                s.byte(*step);
            }
            Action::Shutdown => s.byte(t(8)),
        }
    }
}

impl Id {
    fn decode(src: &mut Src) -> Id {
        match tag(src.byte(), &ID_TAGS) {
            0 => Id::Next,
            1 => Id::Str(src.byte()),
            2 => Id::Reuse(src.byte()),
            3 => Id::Int(src.byte()),
            4 => Id::Weird(src.byte()),
            _ => Id::None,
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| ID_TAGS[i].0;
        match self {
            Id::Next => s.byte(t(0)),
            Id::Str(b) => {
                s.byte(t(1));
                s.byte(*b);
            }
            Id::Reuse(b) => {
                s.byte(t(2));
                s.byte(*b);
            }
            Id::Int(b) => {
                s.byte(t(3));
                s.byte(*b);
            }
            Id::Weird(b) => {
                s.byte(t(4));
                s.byte(*b);
            }
            Id::None => s.byte(t(5)),
        }
    }
}

impl Event {
    fn decode(src: &mut Src) -> Event {
        match tag(src.byte(), &EVENT_TAGS) {
            0 => Event::TurnStarted,
            1 => Event::ItemStarted { key: src.byte(), body: src.byte() },
            2 => Event::ItemDelta { key: src.byte(), delta: src.byte() },
            3 => Event::ItemCompleted { key: src.byte(), body: src.byte() },
            4 => Event::TokenUsage { size: src.byte() },
            5 => Event::Request { kind: src.byte(), item: src.byte(), variant: src.byte() },
            6 => Event::Network { host: src.byte(), port: src.byte() },
            7 => Event::Retrying { error: src.byte() },
            8 => Event::Warning { text: src.byte() },
            9 => Event::TurnCompleted,
            10 => Event::TurnAborted,
            _ => Event::TurnFailed { error: src.byte() },
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| EVENT_TAGS[i].0;
        let mut put = |tag: u8, bytes: &[u8]| {
            s.byte(tag);
            for b in bytes {
                s.byte(*b);
            }
        };
        match self {
            Event::TurnStarted => put(t(0), &[]),
            Event::ItemStarted { key, body } => put(t(1), &[*key, *body]),
            Event::ItemDelta { key, delta } => put(t(2), &[*key, *delta]),
            Event::ItemCompleted { key, body } => put(t(3), &[*key, *body]),
            Event::TokenUsage { size } => put(t(4), &[*size]),
            Event::Request { kind, item, variant } => put(t(5), &[*kind, *item, *variant]),
            Event::Network { host, port } => put(t(6), &[*host, *port]),
            Event::Retrying { error } => put(t(7), &[*error]),
            Event::Warning { text } => put(t(8), &[*text]),
            Event::TurnCompleted => put(t(9), &[]),
            Event::TurnAborted => put(t(10), &[]),
            Event::TurnFailed { error } => put(t(11), &[*error]),
        }
    }
}

impl Stored {
    fn decode(src: &mut Src) -> Stored {
        match tag(src.byte(), &STORED_TAGS) {
            0 => Stored::Loaded { variant: src.byte() },
            1 => Stored::NotFound,
            _ => Stored::Failed { text: src.byte() },
        }
    }

    fn encode(&self, s: &mut Sink) {
        let t = |i: usize| STORED_TAGS[i].0;
        match self {
            Stored::Loaded { variant } => {
                s.byte(t(0));
                s.byte(*variant);
            }
            Stored::NotFound => s.byte(t(1)),
            Stored::Failed { text } => {
                s.byte(t(2));
                s.byte(*text);
            }
        }
    }
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

fn text(b: u8) -> String {
    TEXTS[usize::from(b) % TEXTS.len()].to_owned()
}

fn item_key(k: u8) -> ItemKey {
    if k >= 248 {
        // The machine's own user-message keys count down from u64::MAX.
        ItemKey(u64::MAX - u64::from(k - 248))
    } else {
        ItemKey(u64::from(k % 8))
    }
}

/// Item bodies by selector: the kind is `b % 11`, in progress below 128, final above.
pub fn item_body(b: u8) -> ItemBody {
    static TABLE: std::sync::OnceLock<Vec<ItemBody>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=255u8).map(make_item_body).collect())[usize::from(b)].clone()
}

fn make_item_body(b: u8) -> ItemBody {
    let done = b >= 128;
    let t = text(b / 11);
    let status = if done { ["completed", "failed", "declined"][usize::from(b) % 3] } else { "inProgress" };
    let tool_status = if done { ["completed", "failed"][usize::from(b) % 2] } else { "inProgress" };
    let v = match b % 11 {
        0 => {
            json!({"type": "agentMessage", "text": if done { t } else { String::new() }, "phase": if b & 16 == 0 { serde_json::Value::Null } else { json!("final_answer") }})
        }
        1 => {
            json!({"type": "reasoning", "summary": if done { vec![t.clone()] } else { vec![] }, "content": []})
        }
        2 => json!({"type": "plan", "text": t}),
        3 => {
            json!({"type": "commandExecution", "command": "ls -la", "cwd": "/tmp", "commandActions": [{"type": "listFiles", "command": "ls -la", "path": null}], "status": status, "aggregatedOutput": if done { json!(t) } else { json!(null) }, "exitCode": if done { json!(0) } else { json!(null) }, "durationMs": if done { json!(5) } else { json!(null) }})
        }
        4 => {
            json!({"type": "fileChange", "changes": [{"path": "/tmp/a.txt", "kind": {"type": "update", "move_path": null}, "diff": "@@ -1 +1 @@\n-a\n+b\n"}], "status": status})
        }
        5 => {
            json!({"type": "mcpToolCall", "server": "srv", "tool": "t", "arguments": {"q": t}, "status": tool_status, "result": if done { json!({"content": []}) } else { json!(null) }})
        }
        6 => {
            json!({"type": "dynamicToolCall", "tool": "lookup", "namespace": null, "arguments": {}, "status": tool_status, "contentItems": null, "success": if done { json!(true) } else { json!(null) }})
        }
        7 => json!({"type": "webSearch", "query": t, "action": null}),
        8 => json!({"type": "imageView", "path": "/tmp/i.png"}),
        9 => json!({"type": "contextCompaction"}),
        _ => {
            json!({"type": "userMessage", "content": [{"type": "text", "text": t, "text_elements": []}], "clientId": null})
        }
    };
    serde_json::from_value(v).expect("item body templates match ItemBody")
}

fn delta(b: u8) -> ItemDelta {
    let t = text(b / 6);
    let index = [0i64, 1, -1, i64::MAX, 2][usize::from(b / 6) % 5];
    match b % 6 {
        0 => ItemDelta::AgentMessage(t),
        1 => ItemDelta::Plan(t),
        2 => ItemDelta::ReasoningSummary { index, text: t },
        3 => ItemDelta::ReasoningSummaryPartAdded { index },
        4 => ItemDelta::ReasoningText { index, text: t },
        _ => ItemDelta::CommandOutput(t),
    }
}

fn turn_error(b: u8) -> TurnError {
    static TABLE: std::sync::OnceLock<Vec<TurnError>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=255u8).map(make_turn_error).collect())[usize::from(b)].clone()
}

fn make_turn_error(b: u8) -> TurnError {
    let v = match b % 3 {
        0 => json!({"message": text(b), "codexErrorInfo": null, "additionalDetails": null}),
        1 => {
            json!({"message": "rate limited", "codexErrorInfo": "usageLimitExceeded", "additionalDetails": "retry later"})
        }
        _ => json!({"message": "", "codexErrorInfo": {"httpConnectionFailed": {"httpStatusCode": 502}}}),
    };
    serde_json::from_value(v).expect("turn error templates match TurnError")
}

fn usage(b: u8) -> ThreadTokenUsage {
    static TABLE: std::sync::OnceLock<Vec<ThreadTokenUsage>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=255u8).map(make_usage).collect())[usize::from(b)]
}

fn make_usage(b: u8) -> ThreadTokenUsage {
    let n = [0i64, 1, 1000, i64::MAX, -1][usize::from(b) % 5];
    serde_json::from_value(json!({
        "total": {"totalTokens": n, "inputTokens": n, "cachedInputTokens": 0, "cacheWriteInputTokens": 0, "outputTokens": 0, "reasoningOutputTokens": 0},
        "last": {"totalTokens": n, "inputTokens": n, "cachedInputTokens": 0, "cacheWriteInputTokens": 0, "outputTokens": 0, "reasoningOutputTokens": 0},
        "modelContextWindow": if b & 8 == 0 { json!(200000) } else { json!(null) },
    }))
    .expect("usage template matches ThreadTokenUsage")
}

fn engine_request(kind: u8, item: u8, variant: u8) -> EngineRequest {
    static TABLE: std::sync::OnceLock<Vec<EngineRequest>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..7 * 256).map(|i| make_engine_request((i / 256) as u8, 0, (i % 256) as u8)).collect()
    });
    let mut r = table[usize::from(kind % 7) * 256 + usize::from(variant)].clone();
    match &mut r {
        EngineRequest::CommandApproval { item: k, .. }
        | EngineRequest::FileChangeApproval { item: k, .. } => *k = item_key(item),
        _ => {}
    }
    r
}

fn make_engine_request(kind: u8, item: u8, variant: u8) -> EngineRequest {
    let item = item_key(item);
    let reason = (variant & 1 == 1).then(|| text(variant));
    match kind % 7 {
        0 => EngineRequest::CommandApproval {
            item,
            approval_id: (variant & 2 == 2).then(|| format!("approval-{}", variant % 3)),
            command: "rm -rf build".into(),
            cwd: "/tmp".into(),
            command_actions: vec![serde_json::from_value::<CommandAction>(json!({"type": "unknown", "command": "rm -rf build"})).expect("action")],
            reason,
            available_decisions: (variant & 4 == 4).then(|| vec![CommandDecision::Accept, CommandDecision::Decline]),
            proposed_execpolicy_amendment: (variant & 8 == 8).then(|| vec!["rm".into()]),
        },
        1 => EngineRequest::FileChangeApproval {
            item,
            changes: vec![serde_json::from_value::<FileUpdateChange>(json!({"path": "/tmp/a.txt", "kind": {"type": "add"}, "diff": "a\n"})).expect("change")],
            reason,
            grant_root: (variant & 2 == 2).then(|| "/tmp".into()),
        },
        2 => EngineRequest::Permissions {
            permissions: serde_json::from_value::<PermissionProfile>(match variant % 3 {
                0 => json!({"network": {"enabled": true}}),
                1 => json!({"fileSystem": {"write": ["/tmp"]}}),
                _ => json!({}),
            })
            .expect("profile"),
            reason,
        },
        3 => EngineRequest::UserInput {
            questions: (0..variant % 3)
                .map(|i| {
                    serde_json::from_value::<UserInputQuestion>(json!({"id": format!("q{i}"), "header": "H", "question": text(variant), "isOther": i == 1, "isSecret": false, "options": if i == 0 { json!([{"label": "yes", "description": "y"}]) } else { json!(null) }}))
                        .expect("question")
                })
                .collect(),
            is_blocking: variant & 4 == 0,
        },
        4 => EngineRequest::DynamicToolCall {
            tool: ["lookup", "", "ns.tool"][usize::from(variant) % 3].into(),
            namespace: (variant & 4 == 4).then(|| "ns".into()),
            arguments: json!({"q": text(variant)}),
        },
        5 => EngineRequest::Elicitation {
            server_name: "srv".into(),
            request: match json!({"mode": "form", "message": text(variant), "requestedSchema": {"type": "object", "properties": {}}}) {
                serde_json::Value::Object(m) if variant & 2 == 0 => m,
                _ => serde_json::Map::new(),
            },
        },
        _ => EngineRequest::AuthRefresh { previous_account_id: (variant & 1 == 1).then(|| "acct".into()) },
    }
}

/// Builds the engine event for an [`Event`] on turn `turn_id`; `key` names a request or
/// network attempt.
pub fn build_event(e: &Event, turn_id: TurnId, key: RequestKey) -> EngineEvent {
    match e {
        Event::TurnStarted => EngineEvent::TurnStarted { turn_id },
        Event::ItemStarted { key, body } => {
            EngineEvent::ItemStarted { turn_id, key: item_key(*key), body: item_body(body & 0x7f) }
        }
        Event::ItemDelta { key, delta: d } => {
            EngineEvent::ItemDelta { turn_id, key: item_key(*key), delta: delta(*d) }
        }
        Event::ItemCompleted { key, body } => {
            EngineEvent::ItemCompleted { turn_id, key: item_key(*key), body: item_body(body | 0x80) }
        }
        Event::TokenUsage { size } => EngineEvent::TokenUsage { turn_id, usage: usage(*size) },
        Event::Request { kind, item, variant } => {
            EngineEvent::Request { turn_id, key, request: engine_request(*kind, *item, *variant) }
        }
        Event::Network { host, port } => {
            const HOSTS: [&str; 5] = ["example.com", "EXAMPLE.com", "api.openai.com", "", "10.0.0.1"];
            const PORTS: [u16; 4] = [443, 80, 0, 65535];
            const PROTOS: [NetworkProtocol; 4] = [
                NetworkProtocol::Https,
                NetworkProtocol::Http,
                NetworkProtocol::Socks5Tcp,
                NetworkProtocol::Socks5Udp,
            ];
            EngineEvent::NetworkAttempt {
                turn_id,
                key,
                host: HOSTS[usize::from(*host) % HOSTS.len()].into(),
                protocol: PROTOS[usize::from(*host / 5) % PROTOS.len()],
                port: PORTS[usize::from(*port) % PORTS.len()],
            }
        }
        Event::Retrying { error } => EngineEvent::Retrying { turn_id, error: turn_error(*error) },
        Event::Warning { text: t } => EngineEvent::Warning { message: text(*t) },
        Event::TurnCompleted => EngineEvent::TurnCompleted { turn_id },
        Event::TurnAborted => EngineEvent::TurnAborted { turn_id },
        Event::TurnFailed { error } => EngineEvent::TurnFailed { turn_id, error: turn_error(*error) },
    }
}

/// What storage returns for `thread_id`: its persisted records, or synthesized ones.
pub fn records_for(d: &Drive, thread_id: ThreadId, variant: u8) -> Vec<RolloutRecord> {
    let stored = d.persisted.get(&thread_id);
    let other = d.persisted.iter().find(|(t, _)| **t != thread_id).map(|(_, r)| r);
    let meta = |id: ThreadId| {
        RolloutRecord::SessionMeta(SessionMeta {
            id,
            created_at_ms: crate::drive::EPOCH - 1000,
            cwd: "/tmp".into(),
            model: "turnstile-scripted".into(),
            model_provider: "turnstile".into(),
            originator: Some("fuzz".into()),
            name: (variant & 16 == 16).then(|| "stored".into()),
            preview: "stored thread".into(),
        })
    };
    let turn = TurnId(ThreadId::parse(FOREIGN_THREADS[usize::from(variant) % 4]).unwrap().0);
    let started = RolloutRecord::TurnStarted { turn_id: turn, started_at: 1_763_999_999 };
    let item = || {
        let body = item_body(0x80);
        RolloutRecord::ItemCompleted {
            turn_id: turn,
            item: serde_json::from_value(json!({"id": "stored-item", "type": "agentMessage", "text": "hi", "phase": null, "startedAtMs": 1, "completedAtMs": 2}))
                .unwrap_or_else(|_| panic!("stored item template: {body:?}")),
        }
    };
    let ended = || {
        serde_json::from_value::<RolloutRecord>(json!({"type": "turn_ended", "payload": {"turn_id": turn.to_string(), "status": "completed", "error": null, "completed_at": 1_764_000_000, "duration_ms": 5}}))
            .expect("turn_ended template")
    };
    match variant % 8 {
        0 => stored.cloned().unwrap_or_else(|| vec![meta(thread_id)]),
        1 => vec![meta(thread_id)],
        2 => vec![meta(thread_id), started, item()],
        3 => vec![meta(thread_id), started, item(), ended()],
        4 => Vec::new(),
        5 => other.cloned().unwrap_or_else(|| vec![meta(ThreadId::parse(FOREIGN_THREADS[0]).unwrap())]),
        6 => vec![started, item(), ended(), meta(thread_id)],
        _ => {
            let mut r = stored.cloned().unwrap_or_else(|| vec![meta(thread_id), started, item()]);
            r.truncate(usize::from(variant / 8) % (r.len() + 1));
            r
        }
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
