//! The run's trace: a running hash of everything that crossed the machine's boundary (the
//! determinism check compares it), and, when recording, one compact line per event so two
//! runs can be diffed.

use std::fmt::Write as _;

use core_sm::{
    EngineCommand, EngineEvent, EngineRequest, Input, Output, RequestOutcome, StorageResult, ThreadId, TurnId,
};

use crate::oracle::scan::{Kind, Status, Summary};
use crate::world::EPOCH_MS;

/// Running hash plus optional lines.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    lines: Option<Vec<String>>,
    /// The last frame hashed and its digest: a fan-out sends one frame to many connections.
    last_frame: Option<(core_sm::wire::Frame, u64)>,
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(K).rotate_left(29)
}

impl Trace {
    /// A trace that records lines only if `record`.
    pub fn new(record: bool) -> Self {
        Self { hash: 0x243F_6A88_85A3_08D3, lines: record.then(Vec::new), last_frame: None }
    }

    /// The hash of everything mixed in so far.
    pub fn hash(&self) -> u64 {
        self.hash ^ (self.hash >> 31)
    }

    /// Mixes one number into the hash.
    pub fn mix(&mut self, v: u64) {
        self.hash = mix(self.hash, v);
    }

    /// Mixes a tagged byte string (a frame's text) into the hash: four independent lanes of
    /// eight bytes each, so the multiplications overlap instead of waiting on each other.
    pub fn mix_bytes(&mut self, tag: u64, bytes: &[u8]) {
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("8 bytes"));
        let mut lanes =
            [mix(self.hash, tag ^ (bytes.len() as u64) << 8), K, K.rotate_left(17), K.rotate_left(41)];
        let mut blocks = bytes.chunks_exact(32);
        for b in &mut blocks {
            for (lane, c) in lanes.iter_mut().zip(b.chunks_exact(8)) {
                *lane = mix(*lane, word(c));
            }
        }
        let mut h = lanes.into_iter().fold(0, mix);
        let mut words = blocks.remainder().chunks_exact(8);
        for c in &mut words {
            h = mix(h, word(c));
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        self.hash = mix(h, u64::from_le_bytes(last));
    }

    /// Mixes a frame sent to `conn` into the hash, digesting each shared frame only once.
    pub fn mix_frame(&mut self, conn: u64, frame: &core_sm::wire::Frame) {
        let digest = match &self.last_frame {
            Some((f, d)) if std::sync::Arc::ptr_eq(f, frame) => *d,
            _ => {
                let mut t = Trace { hash: 0x7A, lines: None, last_frame: None };
                t.mix_bytes(0x700, frame.as_bytes());
                self.last_frame = Some((frame.clone(), t.hash));
                t.hash
            }
        };
        self.mix(digest ^ conn << 1);
    }

    /// Whether lines are being recorded.
    pub fn recording(&self) -> bool {
        self.lines.is_some()
    }

    /// Records a line (built only when recording).
    pub fn line(&mut self, make: impl FnOnce() -> String) {
        if let Some(lines) = &mut self.lines {
            lines.push(make());
        }
    }

    /// The recorded lines.
    pub fn lines(&self) -> &[String] {
        self.lines.as_deref().unwrap_or(&[])
    }
}

impl Trace {
    /// Mixes an input fed at `now` into the hash (and records its line). `frame` is the
    /// scan of an input frame.
    pub fn input(&mut self, now: u64, input: &Input, frame: Option<&Summary>) {
        self.mix(now);
        let at = now - EPOCH_MS;
        match input {
            Input::ConnectionOpened { conn } => {
                self.mix(0x100 | conn.0 << 16);
                self.line(|| format!("{at:>8} {conn} open"));
            }
            Input::ConnectionClosed { conn } => {
                self.mix(0x200 | conn.0 << 16);
                self.line(|| format!("{at:>8} {conn} close"));
            }
            Input::Frame { conn, text } => {
                self.mix_bytes(0x300 | conn.0 << 16, text.as_bytes());
                let s = frame;
                self.line(|| match s {
                    Some(s) => format!("{at:>8} {conn} > {}", describe(s)),
                    None => format!("{at:>8} {conn} > (not JSON) {text}"),
                });
            }
            Input::Engine { thread_id, event } => {
                let (tag, name) = event_tag(event);
                let turn = event.turn_id().map_or(0, |t| t.0.as_u128() as u64);
                self.mix(0x400 | tag << 8 | (thread_id.0.as_u128() as u64) << 16);
                self.mix(turn);
                let key = match event {
                    EngineEvent::Request { key, .. } | EngineEvent::NetworkAttempt { key, .. } => {
                        self.mix(key.0);
                        format!(" key={}", key.0)
                    }
                    _ => String::new(),
                };
                self.line(|| {
                    let turn = event.turn_id().map(tu).unwrap_or_default();
                    format!("{at:>8} engine {} {name}{key} {turn}", th(*thread_id))
                });
            }
            Input::Storage(result) => {
                let thread = crate::storage::thread_of(result);
                let (tag, name) = match result {
                    StorageResult::Loaded { records, .. } => (records.len() as u64, "loaded"),
                    StorageResult::NotFound { .. } => (u64::MAX, "not-found"),
                    _ => (u64::MAX - 1, "failed"),
                };
                self.mix(0x500 ^ tag ^ thread.0.as_u128() as u64);
                self.line(|| format!("{at:>8} storage {} {name}", th(thread)));
            }
            _ => {
                self.mix(0x600);
                self.line(|| format!("{at:>8} tick"));
            }
        }
    }

    /// Mixes an output drained at `now` into the hash (and records its line). `frame` is
    /// the scan of a sent frame.
    pub fn output(&mut self, now: u64, out: &Output, frame: Option<&Summary>) {
        let at = now - EPOCH_MS;
        match out {
            Output::Send { conn, frame: text } => {
                self.mix_frame(conn.0, text);
                let s = frame;
                self.line(|| match s {
                    Some(s) => format!("{at:>8} {conn} < {}", describe(s)),
                    None => format!("{at:>8} {conn} < (not JSON) {text}"),
                });
            }
            Output::Close { conn } => {
                self.mix(0x800 | conn.0 << 16);
                self.line(|| format!("{at:>8} {conn} closed by server"));
            }
            Output::Engine { thread_id, command } => {
                let (tag, name) = command_tag(command);
                self.mix(0x900 ^ tag ^ (thread_id.0.as_u128() as u64) << 8);
                let detail = match command {
                    EngineCommand::RequestResolved { key, outcome } => {
                        self.mix(key.0);
                        Some((key.0, Ok(outcome)))
                    }
                    EngineCommand::NetworkVerdict { key, verdict } => {
                        self.mix(key.0 << 1 | u64::from(verdict.is_ok()));
                        Some((key.0, Err(if verdict.is_ok() { "allow" } else { "deny" })))
                    }
                    _ => None,
                };
                // Words for the line only when lines are recorded.
                self.line(|| {
                    let detail = match detail {
                        Some((key, Ok(outcome))) => format!(" key={key} {}", outcome_word(outcome)),
                        Some((key, Err(word))) => format!(" key={key} {word}"),
                        None => String::new(),
                    };
                    format!("{at:>8} command {} {name}{detail}", th(*thread_id))
                });
            }
            Output::Persist { thread_id, .. } => {
                self.mix(0xA00 ^ thread_id.0.as_u128() as u64);
                self.line(|| format!("{at:>8} persist {}", th(*thread_id)));
            }
            Output::Load { thread_id } => {
                self.mix(0xB00 ^ thread_id.0.as_u128() as u64);
                self.line(|| format!("{at:>8} load {}", th(*thread_id)));
            }
            _ => self.mix(0xC00),
        }
    }
}

/// The last six hex digits of a UUID: enough to tell a run's ids apart, short enough to diff.
pub fn short(id: uuid_like::U) -> String {
    format!("{:06x}", id & 0xFF_FFFF)
}

/// Thread and turn ids as numbers for [`short`].
pub mod uuid_like {
    /// A UUID's value.
    pub type U = u128;

    /// A thread id's value.
    pub fn thread(t: core_sm::ThreadId) -> U {
        t.0.as_u128()
    }

    /// A turn id's value.
    pub fn turn(t: core_sm::TurnId) -> U {
        t.0.as_u128()
    }
}

/// `th=abc123`.
pub fn th(t: ThreadId) -> String {
    format!("th={}", short(uuid_like::thread(t)))
}

/// `tu=abc123`.
pub fn tu(t: TurnId) -> String {
    format!("tu={}", short(uuid_like::turn(t)))
}

/// One frame as a trace fragment: `#12 ok th=..`, `#12 err -32600`, `turn/started th=.. tu=..`.
pub fn describe(s: &Summary) -> String {
    let mut out = String::new();
    match s.kind {
        Kind::Request => {
            let _ = write!(out, "#{} {}", id(s), s.method());
        }
        Kind::Reply => {
            let _ = write!(out, "#{} ok", id(s));
        }
        Kind::ErrorReply => {
            let _ = write!(out, "#{} err {}", id(s), s.error_code.unwrap_or(0));
        }
        Kind::Notification => out.push_str(s.method()),
        Kind::Other => out.push_str("(not a message)"),
    }
    if let Some(t) = s.thread_id {
        let _ = write!(out, " {}", th(t));
    }
    if let Some(t) = s.turn_id {
        let _ = write!(out, " {}", tu(t));
    }
    if let Some(st) = s.turn_status {
        let _ = write!(out, " turn:{st:?}");
    }
    if let Some(ty) = s.item_type {
        let _ = write!(out, " {ty}");
    }
    if let Some(i) = s.item_id {
        let _ = write!(out, " it={}", short(i));
    }
    if let Some(st) = s.status {
        let _ = write!(out, " {}", status(st));
    }
    if let Some(w) = s.status_word {
        let _ = write!(out, " {w}");
    }
    out
}

fn id(s: &Summary) -> String {
    s.id.as_ref().map_or_else(|| "?".into(), ToString::to_string)
}

/// A status as a short word.
pub fn status(s: Status) -> &'static str {
    match s {
        Status::NotLoaded => "notLoaded",
        Status::Idle => "idle",
        Status::SystemError => "systemError",
        Status::Active(0) => "active",
        Status::Active(_) => "active+flags",
        Status::Unknown => "?status",
    }
}

fn event_tag(event: &EngineEvent) -> (u64, &'static str) {
    match event {
        EngineEvent::TurnStarted { .. } => (1, "TurnStarted"),
        EngineEvent::ItemStarted { .. } => (2, "ItemStarted"),
        EngineEvent::ItemDelta { .. } => (3, "ItemDelta"),
        EngineEvent::ItemCompleted { .. } => (4, "ItemCompleted"),
        EngineEvent::TokenUsage { .. } => (5, "TokenUsage"),
        EngineEvent::Retrying { .. } => (6, "Retrying"),
        EngineEvent::Warning { .. } => (7, "Warning"),
        EngineEvent::TurnCompleted { .. } => (8, "TurnCompleted"),
        EngineEvent::TurnAborted { .. } => (9, "TurnAborted"),
        EngineEvent::TurnFailed { .. } => (10, "TurnFailed"),
        EngineEvent::Request { request, .. } => match request {
            EngineRequest::CommandApproval { approval_id: None, .. } => (11, "Request:command"),
            EngineRequest::CommandApproval { .. } => (12, "Request:sub-command"),
            EngineRequest::FileChangeApproval { .. } => (13, "Request:fileChange"),
            EngineRequest::Permissions { .. } => (14, "Request:permissions"),
            EngineRequest::UserInput { .. } => (15, "Request:userInput"),
            EngineRequest::DynamicToolCall { .. } => (16, "Request:toolCall"),
            EngineRequest::Elicitation { .. } => (17, "Request:elicitation"),
            EngineRequest::AuthRefresh { .. } => (18, "Request:authRefresh"),
            _ => (19, "Request:other"),
        },
        EngineEvent::NetworkAttempt { .. } => (20, "NetworkAttempt"),
        _ => (21, "Other"),
    }
}

/// A request outcome as a short word.
fn outcome_word(outcome: &RequestOutcome) -> String {
    match outcome {
        RequestOutcome::Command(d) => format!("command:{d:?}"),
        RequestOutcome::FileChange(d) => format!("fileChange:{d:?}"),
        RequestOutcome::Permissions { scope, .. } => format!("permissions:{scope:?}"),
        RequestOutcome::UserInput(a) => format!("userInput:{}", a.len()),
        RequestOutcome::DynamicTool { success, .. } => format!("tool:{success}"),
        RequestOutcome::Elicitation { action, .. } => format!("elicitation:{action:?}"),
        RequestOutcome::AuthTokens { .. } => "tokens".into(),
        RequestOutcome::ClientError { code, .. } => format!("client-error:{code}"),
        RequestOutcome::Malformed { .. } => "malformed".into(),
        RequestOutcome::AuthFailed { .. } => "auth-failed".into(),
        RequestOutcome::Abandoned => "abandoned".into(),
        _ => "other".into(),
    }
}

fn command_tag(command: &EngineCommand) -> (u64, &'static str) {
    match command {
        EngineCommand::OpenThread { .. } => (1, "OpenThread"),
        EngineCommand::StartTurn { .. } => (2, "StartTurn"),
        EngineCommand::Steer { .. } => (3, "Steer"),
        EngineCommand::Interrupt { .. } => (4, "Interrupt"),
        EngineCommand::CloseThread => (5, "CloseThread"),
        EngineCommand::RequestResolved { .. } => (6, "RequestResolved"),
        EngineCommand::NetworkVerdict { .. } => (7, "NetworkVerdict"),
        _ => (8, "Other"),
    }
}
