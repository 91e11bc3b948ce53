//! Server-to-client requests (approvals, user input, dynamic tool calls, elicitations, token
//! refreshes, network prompts): invariants 3, 4 and 7.
//!
//! The model is built from what crosses the machine's boundary and nothing the driver
//! chose: engine inputs open requests ([`EngineEvent::Request`], [`EngineEvent::NetworkAttempt`])
//! and say what each is about; request frames, `serverRequest/resolved`, client answers and
//! the engine commands ([`EngineCommand::RequestResolved`], [`EngineCommand::NetworkVerdict`],
//! `CloseThread`) say what happened to it; [`Machine::pending_requests`] reveals requests sent
//! to nobody (no subscribers) and which ones left the table. At the end of every step the
//! model is reconciled with the machine:
//!
//! * ids: an engine request is either answered in its step or opens exactly one request, with
//!   the next id of one counter starting at 0 (per machine; token refreshes sent to nobody are
//!   counted too), going to every initialized subscriber at that moment (every initialized
//!   connection for token refreshes), byte-identical on every send.
//! * resolution: a request leaves the pending set exactly once, in a step whose input is the
//!   first answer from a connection that received it, a turn transition of its thread, a
//!   teardown (unload, shutdown: silent), or a token refresh's 10 s timeout. Then the engine
//!   is told exactly once (`Abandoned` only on turn transitions, the client's decision for
//!   answered approvals), never about a key it did not ask (nor one asked by an engine of the
//!   thread that was closed before the current one was opened), and, except for `item/tool/call`
//!   and token refreshes, every current subscriber gets `serverRequest/resolved`; that
//!   notification never reaches a connection that did not receive the request and never
//!   comes in any other step. A resolved request is never sent again.
//! * resume (invariant 4): right after its `thread/resume` reply a connection receives every
//!   request still pending for the thread, original ids ascending, identical frames.
//! * network (invariant 7): one outstanding prompt per (host lowercased, protocol, port) per
//!   thread; a destination allowed (or denied) for the session is answered at once without a
//!   prompt while the thread stays loaded; every attempt gets exactly one verdict, matching
//!   the decision that released it.
//! * status: the flags of every status the machine announces agree with the model's pending
//!   requests of the thread (`waitingOnApproval`, `waitingOnUserInput`), and a change of
//!   those flags is announced.
//! * quiescence: nothing is pending, every engine request and network attempt was answered.

use std::collections::{BTreeMap, BTreeSet};

use core_sm::wire::server_requests::{
    CommandApprovalResponse, CommandDecision, FileChangeApprovalResponse, NetworkPolicyAction,
    NetworkProtocol,
};
use core_sm::wire::Frame;
use core_sm::{
    ConnectionId, EngineCommand, EngineEvent, EngineRequest, Machine, RequestOutcome, ThreadId, Timestamp,
};
use serde_json::Value;

mod checks;

use super::conn::ConnModel;
use super::scan::{Kind, Summary};
use super::{inv, Violation};

/// How long a token refresh waits for an answer (PROTOCOL.md §11.8).
const AUTH_REFRESH_TIMEOUT_MS: u64 = 10_000;

/// A managed-network destination: host lowercased, protocol, port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Dest {
    host: String,
    protocol: NetworkProtocol,
    port: u16,
}

impl Dest {
    fn new(host: &str, protocol: NetworkProtocol, port: u16) -> Self {
        Self { host: host.to_ascii_lowercase(), protocol, port }
    }

    /// The item id of its prompt (PROTOCOL.md §13).
    fn item_id(&self) -> String {
        format!("network#{}#{}#{}", self.protocol.label(), self.host, self.port)
    }
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.protocol.label(), self.host, self.port)
    }
}

/// What a request is about, from the engine input that opened it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ReqKind {
    Command,
    Network(Dest),
    FileChange,
    Permissions,
    UserInput,
    DynamicTool,
    Elicitation,
    AuthRefresh,
    /// A request kind this oracle does not know (`EngineRequest` is non-exhaustive).
    Unknown,
}

impl ReqKind {
    fn of(request: &EngineRequest) -> Self {
        match request {
            EngineRequest::CommandApproval { .. } => ReqKind::Command,
            EngineRequest::FileChangeApproval { .. } => ReqKind::FileChange,
            EngineRequest::Permissions { .. } => ReqKind::Permissions,
            EngineRequest::UserInput { .. } => ReqKind::UserInput,
            EngineRequest::DynamicToolCall { .. } => ReqKind::DynamicTool,
            EngineRequest::Elicitation { .. } => ReqKind::Elicitation,
            EngineRequest::AuthRefresh { .. } => ReqKind::AuthRefresh,
            _ => ReqKind::Unknown,
        }
    }

    fn method(&self) -> Option<&'static str> {
        Some(match self {
            ReqKind::Command | ReqKind::Network(_) => "item/commandExecution/requestApproval",
            ReqKind::FileChange => "item/fileChange/requestApproval",
            ReqKind::Permissions => "item/permissions/requestApproval",
            ReqKind::UserInput => "item/tool/requestUserInput",
            ReqKind::DynamicTool => "item/tool/call",
            ReqKind::Elicitation => "mcpServer/elicitation/request",
            ReqKind::AuthRefresh => "account/chatgptAuthTokens/refresh",
            ReqKind::Unknown => return None,
        })
    }

    /// Whether its resolution is announced with `serverRequest/resolved`.
    fn announces(&self) -> bool {
        !matches!(self, ReqKind::DynamicTool | ReqKind::AuthRefresh)
    }

    /// Its status flag bit (1 `waitingOnApproval`, 2 `waitingOnUserInput`), as in
    /// [`super::scan::Status::Active`].
    fn flag(&self) -> u8 {
        match self {
            ReqKind::UserInput => 2,
            ReqKind::DynamicTool | ReqKind::AuthRefresh | ReqKind::Unknown => 0,
            _ => 1,
        }
    }

    /// Token refreshes are server-wide; everything else belongs to its thread.
    fn thread_scoped(&self) -> bool {
        !matches!(self, ReqKind::AuthRefresh)
    }
}

/// Why a request left the pending set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    /// The first answer from a connection that received it.
    Answer,
    /// Its thread's turn started, completed, failed or was interrupted.
    Transition,
    /// Its thread was unloaded or the server shut down (silent).
    Teardown,
    /// A token refresh's 10 s ran out.
    Timeout,
}

/// One server request as the model sees it.
#[derive(Debug)]
struct Req {
    thread: ThreadId,
    /// The engine's key (`None` for network prompts, which the machine owns).
    key: Option<u64>,
    kind: ReqKind,
    /// The frame as first sent (replays must be identical).
    frame: Option<Frame>,
    /// Open connections that received it (their answers count).
    recipients: BTreeSet<ConnectionId>,
    opened_at: Timestamp,
    resolved: Option<Cause>,
    /// Network prompts: the attempts waiting on it.
    attempts: Vec<u64>,
}

/// An engine key's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyState {
    /// Asked, no answer yet.
    Open,
    /// Asked, and the thread was closed since (the engine dropped it; a late answer is fine).
    Dropped,
    /// Dropped, and the thread's engine was opened again since: the new engine never asked.
    Orphaned,
    /// Answered.
    Answered,
}

#[derive(Debug)]
struct Key {
    /// The destination, for network attempts.
    network: Option<Dest>,
    state: KeyState,
}

/// A client's answer, decoded as JSON-RPC says (a `result`, or an `error` object with an
/// integer code and a message).
#[derive(Clone, Debug)]
enum Answer {
    Result(Value),
    Error(i64),
}

/// What this step's input can do to requests.
#[derive(Clone, Debug, Default)]
enum Cue {
    #[default]
    Other,
    Open {
        thread: ThreadId,
        key: u64,
        kind: ReqKind,
    },
    Attempt {
        thread: ThreadId,
        key: u64,
        dest: Dest,
    },
    Answer {
        conn: ConnectionId,
        id: i64,
        answer: Answer,
    },
    /// A terminal engine event or a `turn/start` for the thread.
    Transition(ThreadId),
    /// A `thread/archive` of the thread (a teardown, if the thread is loaded).
    Archive(ThreadId),
    Tick,
    Shutdown,
}

/// What happened during one step.
#[derive(Debug, Default)]
struct Step {
    cue: Cue,
    /// The id this step's input opened.
    opened: Option<i64>,
    /// `RequestResolved` commands: thread, key, outcome.
    told: Vec<(ThreadId, u64, RequestOutcome)>,
    /// `NetworkVerdict` commands: thread, key, allowed.
    verdicts: Vec<(ThreadId, u64, bool)>,
    /// `serverRequest/resolved` sends.
    notes: Vec<(ConnectionId, i64)>,
    /// Threads sent `CloseThread`.
    closed: Vec<ThreadId>,
    /// `thread/resume` replies, with the request ids sent to the resumer after them.
    resumes: Vec<(ConnectionId, ThreadId, Vec<i64>)>,
    /// Model flags of the threads whose requests changed, before the change.
    touched: BTreeMap<ThreadId, u8>,
}

/// Book-keeping for server-to-client requests. See the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct ServerRequests {
    now: Timestamp,
    reqs: BTreeMap<i64, Req>,
    /// Ids still pending.
    pending: BTreeSet<i64>,
    /// The id the machine's counter hands out next.
    next_id: i64,
    keys: BTreeMap<(ThreadId, u64), Key>,
    /// Engine key → the request it opened.
    by_key: BTreeMap<(ThreadId, u64), i64>,
    /// Outstanding network prompts.
    prompts: BTreeMap<(ThreadId, Dest), i64>,
    /// Session decisions on destinations: `true` allowed, `false` denied (until unload).
    session: BTreeMap<(ThreadId, Dest), bool>,
    step: Step,
}

fn violation(name: &'static str, detail: String) -> Result<(), Violation> {
    Err(Violation::new(name, detail))
}

/// Decodes a client frame as an answer the way JSON-RPC defines one: `None` when it is not
/// one (a string or fractional id, an `error` without an integer code and a message, ...).
fn decode_answer(text: &str) -> Option<Answer> {
    let v: Value = serde_json::from_str(text).ok()?;
    let obj = v.as_object()?;
    if obj.contains_key("method") || obj.get("id").and_then(Value::as_i64).is_none() {
        return None;
    }
    if let Some(result) = obj.get("result") {
        return Some(Answer::Result(result.clone()));
    }
    let error = obj.get("error")?.as_object()?;
    let code = error.get("code")?.as_i64()?;
    error.get("message")?.as_str()?;
    Some(Answer::Error(code))
}

/// How a network prompt's answer releases its attempts (PROTOCOL.md §13): whether they may
/// proceed, and the session decision it records (`Some(true)` allow, `Some(false)` deny).
fn network_answer(answer: &Answer) -> (bool, Option<bool>) {
    let Answer::Result(v) = answer else {
        return (false, None);
    };
    match serde_json::from_value::<CommandApprovalResponse>(v.clone()).map(|r| r.decision) {
        Ok(CommandDecision::Accept | CommandDecision::AcceptWithExecpolicyAmendment { .. }) => (true, None),
        Ok(CommandDecision::AcceptForSession) => (true, Some(true)),
        Ok(CommandDecision::ApplyNetworkPolicyAmendment { network_policy_amendment: a }) => {
            let allow = a.action == NetworkPolicyAction::Allow;
            (allow, Some(allow))
        }
        _ => (false, None),
    }
}

/// The outcome the engine must be told for an answered command or file-change approval,
/// when the oracle can tell (other kinds are not compared).
fn expected_outcome(kind: &ReqKind, answer: &Answer) -> Option<RequestOutcome> {
    let malformed = || RequestOutcome::Malformed { error: String::new() };
    match (kind, answer) {
        (ReqKind::Command | ReqKind::FileChange, Answer::Error(code)) => {
            Some(RequestOutcome::ClientError { code: *code, message: String::new() })
        }
        (ReqKind::Command, Answer::Result(v)) => Some(
            serde_json::from_value::<CommandApprovalResponse>(v.clone())
                .map_or_else(|_| malformed(), |r| RequestOutcome::Command(r.decision)),
        ),
        (ReqKind::FileChange, Answer::Result(v)) => Some(
            serde_json::from_value::<FileChangeApprovalResponse>(v.clone())
                .map_or_else(|_| malformed(), |r| RequestOutcome::FileChange(r.decision)),
        ),
        _ => None,
    }
}

/// Outcomes compared by kind and decision (error texts are the machine's own).
fn same_outcome(a: &RequestOutcome, b: &RequestOutcome) -> bool {
    match (a, b) {
        (RequestOutcome::ClientError { code: x, .. }, RequestOutcome::ClientError { code: y, .. }) => x == y,
        (RequestOutcome::Malformed { .. }, RequestOutcome::Malformed { .. }) => true,
        _ => a == b,
    }
}

impl ServerRequests {
    /// A new step begins with an input at `now`.
    pub(crate) fn begin_step(&mut self, now: Timestamp) {
        self.now = now;
        self.step = Step::default();
    }

    /// The model's status flag bits for a thread's pending requests.
    pub(crate) fn flags(&self, thread: ThreadId) -> u8 {
        self.pending
            .iter()
            .map(|id| &self.reqs[id])
            .filter(|r| r.thread == thread && r.kind.thread_scoped())
            .fold(0, |bits, r| bits | r.kind.flag())
    }

    /// The thread of server request `id`, if it was sent.
    pub(crate) fn thread_of(&self, id: i64) -> Option<ThreadId> {
        self.reqs.get(&id).map(|r| r.thread)
    }

    /// Records a thread's flags before one of its requests changes.
    fn touch(&mut self, thread: ThreadId) {
        if !self.step.touched.contains_key(&thread) {
            let before = self.flags(thread);
            self.step.touched.insert(thread, before);
        }
    }

    /// Requests still pending, as `#id <method> thread <t>` (for liveness reports).
    pub(crate) fn describe_pending(&self) -> Vec<String> {
        self.pending
            .iter()
            .map(|id| {
                let r = &self.reqs[id];
                format!("server request #{id} {} of thread {}", r.kind.method().unwrap_or("?"), r.thread)
            })
            .collect()
    }

    /// An engine event is about to be fed.
    pub(crate) fn on_engine_event(&mut self, thread: ThreadId, event: &EngineEvent) -> Result<(), Violation> {
        let (key, network) = match event {
            EngineEvent::Request { key, request, .. } => {
                self.step.cue = Cue::Open { thread, key: key.0, kind: ReqKind::of(request) };
                (key.0, None)
            }
            EngineEvent::NetworkAttempt { key, host, protocol, port, .. } => {
                let dest = Dest::new(host, *protocol, *port);
                self.step.cue = Cue::Attempt { thread, key: key.0, dest: dest.clone() };
                (key.0, Some(dest))
            }
            EngineEvent::TurnCompleted { .. }
            | EngineEvent::TurnAborted { .. }
            | EngineEvent::TurnFailed { .. } => {
                self.step.cue = Cue::Transition(thread);
                return Ok(());
            }
            _ => return Ok(()),
        };
        if self.keys.contains_key(&(thread, key)) {
            return violation(
                inv::DRIVER_KEYS_UNIQUE,
                format!(
                    "the engine of thread {thread} reused request key {key} (keys are unique per thread)"
                ),
            );
        }
        self.keys.insert((thread, key), Key { network, state: KeyState::Open });
        Ok(())
    }

    /// A client frame that is a reply (`{id, result}` / `{id, error}`) is about to be fed.
    pub(crate) fn on_answer(&mut self, conn: ConnectionId, id: i64, text: &str) {
        if let Some(answer) = decode_answer(text) {
            self.step.cue = Cue::Answer { conn, id, answer };
        }
    }

    /// A client request naming a thread is about to be fed (`turn/start` may abandon the
    /// thread's leftovers, as Codex does).
    pub(crate) fn on_client_request(&mut self, s: &Summary) {
        match (s.kind, s.method(), s.thread_id) {
            (Kind::Request, "turn/start", Some(t)) => self.step.cue = Cue::Transition(t),
            (Kind::Request, "thread/archive", Some(t)) => self.step.cue = Cue::Archive(t),
            _ => {}
        }
    }

    /// A `Tick` is about to be fed.
    pub(crate) fn on_tick(&mut self) {
        self.step.cue = Cue::Tick;
    }

    /// A `Shutdown` is about to be fed.
    pub(crate) fn on_shutdown(&mut self) {
        self.step.cue = Cue::Shutdown;
    }

    /// A connection closed (or its id was reopened): its answers no longer count.
    pub(crate) fn on_conn_gone(&mut self, conn: ConnectionId) {
        for id in &self.pending {
            if let Some(r) = self.reqs.get_mut(id) {
                r.recipients.remove(&conn);
            }
        }
    }

    /// Records a request opened by this step's input.
    fn open(
        &mut self,
        id: i64,
        thread_seen: Option<ThreadId>,
        method: Option<&str>,
    ) -> Result<(), Violation> {
        let (thread, key, kind) = match &self.step.cue {
            Cue::Open { thread, key, kind } => (*thread, Some(*key), kind.clone()),
            Cue::Attempt { thread, dest, .. } => (*thread, None, ReqKind::Network(dest.clone())),
            other => {
                return violation(
                    inv::SERVER_REQUEST_IDS,
                    format!("request #{id} appeared, but this step's input opens none ({other:?})"),
                )
            }
        };
        if let Some(first) = self.step.opened {
            return violation(
                inv::SERVER_REQUEST_IDS,
                format!("one engine input opened two requests, #{first} and #{id}"),
            );
        }
        if id != self.next_id {
            return violation(
                inv::SERVER_REQUEST_IDS,
                format!(
                    "request #{id} opened, but the server's one counter (from 0, one per request) is at {}",
                    self.next_id
                ),
            );
        }
        if let (Some(sent), Some(want)) = (method, kind.method()) {
            if sent != want {
                return violation(
                    inv::SERVER_REQUEST_MATCHES_ENGINE,
                    format!("request #{id} is {sent}, but the engine asked for {want}"),
                );
            }
        }
        let want_thread = kind.thread_scoped().then_some(thread);
        if method.is_some() && thread_seen != want_thread {
            return violation(
                inv::SERVER_REQUEST_MATCHES_ENGINE,
                format!(
                    "request #{id} names thread {thread_seen:?}, but the engine of thread {thread} asked"
                ),
            );
        }
        if let ReqKind::Network(dest) = &kind {
            if let Some(other) = self.prompts.get(&(thread, dest.clone())) {
                return violation(
                    inv::ONE_NETWORK_PROMPT,
                    format!("thread {thread}: prompt #{id} for {dest} while prompt #{other} for it is outstanding"),
                );
            }
            if let Some(allowed) = self.session.get(&(thread, dest.clone())) {
                return violation(
                    inv::NETWORK_SESSION_DECISION,
                    format!(
                        "thread {thread}: prompt #{id} for {dest}, which was {} for the session",
                        if *allowed { "allowed" } else { "denied" }
                    ),
                );
            }
        }
        self.next_id += 1;
        self.touch(thread);
        let attempts = match &self.step.cue {
            Cue::Attempt { key, .. } => vec![*key],
            _ => Vec::new(),
        };
        if let ReqKind::Network(dest) = &kind {
            self.prompts.insert((thread, dest.clone()), id);
        }
        if let Some(key) = key {
            self.by_key.insert((thread, key), id);
        }
        self.reqs.insert(
            id,
            Req {
                thread,
                key,
                kind,
                frame: None,
                recipients: BTreeSet::new(),
                opened_at: self.now,
                resolved: None,
                attempts,
            },
        );
        self.pending.insert(id);
        self.step.opened = Some(id);
        Ok(())
    }

    /// A request frame reached `conn`, which is initialized and (for thread requests)
    /// subscribed to `s.thread_id` (`subscribed`).
    pub(crate) fn on_request(
        &mut self,
        conn: ConnectionId,
        frame: &Frame,
        s: &Summary,
        initialized: bool,
        subscribed: Option<bool>,
    ) -> Result<(), Violation> {
        let Some(core_sm::wire::RequestId::Integer(id)) = s.id else {
            return violation(
                inv::SERVER_REQUEST_IDS,
                format!("{conn}: server request {} without an integer id", s.method()),
            );
        };
        if !initialized || subscribed == Some(false) {
            return violation(
                inv::SERVER_REQUEST_ROUTING,
                format!(
                    "{conn}: server request #{id} {} to a connection that is not initialized or not subscribed",
                    s.method()
                ),
            );
        }
        if !self.reqs.contains_key(&id) {
            self.open(id, s.thread_id, Some(s.method()))?;
            if let (Some(r), Some(item)) = (self.reqs.get(&id), s.item_id) {
                if let ReqKind::Network(dest) = &r.kind {
                    if item != super::scan::item_ref(&dest.item_id()) {
                        return violation(
                            inv::SERVER_REQUEST_MATCHES_ENGINE,
                            format!(
                                "network prompt #{id} for {dest} does not have itemId {}",
                                dest.item_id()
                            ),
                        );
                    }
                }
            }
        }
        let opened = self.step.opened == Some(id);
        let r = self.reqs.get_mut(&id).expect("known or just opened");
        if r.resolved.is_some() {
            return violation(
                inv::RESOLVED_NEVER_RESENT,
                format!("{conn} got request #{id} {}, which was already resolved: {frame}", s.method()),
            );
        }
        match &r.frame {
            None => r.frame = Some(frame.clone()),
            Some(first) if std::sync::Arc::ptr_eq(first, frame) || **first == **frame => {}
            Some(first) => {
                return violation(
                    inv::REPLAY_ON_RESUME,
                    format!(
                    "{conn}: request #{id} re-sent with a different frame:\n  first {first}\n  now   {frame}"
                ),
                )
            }
        }
        if opened {
            if !r.recipients.insert(conn) {
                return violation(
                    inv::SERVER_REQUEST_ROUTING,
                    format!("{conn} got request #{id} twice when it was sent"),
                );
            }
            return Ok(());
        }
        // Not its first send: a replay, only right after a resume reply of its thread.
        let thread = r.thread;
        let scoped = r.kind.thread_scoped();
        r.recipients.insert(conn);
        match self.step.resumes.iter_mut().rev().find(|(c, t, _)| *c == conn && *t == thread) {
            Some((_, _, got)) if scoped => {
                got.push(id);
                Ok(())
            }
            _ => violation(
                inv::REPLAY_ON_RESUME,
                format!("{conn} got pending request #{id} again, but not right after a thread/resume reply of its thread"),
            ),
        }
    }

    /// `serverRequest/resolved` reached `conn` (a subscriber of its thread).
    pub(crate) fn on_resolved(&mut self, conn: ConnectionId, s: &Summary) -> Result<(), Violation> {
        let Some(id) = s.request_id else {
            return violation(
                inv::RESOLVED_NOTIFICATION,
                format!("{conn}: serverRequest/resolved without an integer requestId"),
            );
        };
        let Some(r) = self.reqs.get(&id) else {
            return violation(
                inv::RESOLVED_NOTIFICATION,
                format!("{conn}: serverRequest/resolved for request #{id}, which was never sent"),
            );
        };
        if !r.kind.announces() {
            return violation(
                inv::RESOLVED_NOTIFICATION,
                format!(
                    "{conn}: serverRequest/resolved for #{id} {}, which is never announced",
                    r.kind.method().unwrap_or("?")
                ),
            );
        }
        if s.thread_id != Some(r.thread) {
            return violation(
                inv::RESOLVED_NOTIFICATION,
                format!(
                    "{conn}: serverRequest/resolved for #{id} names thread {:?}, the request's is {}",
                    s.thread_id, r.thread
                ),
            );
        }
        if r.resolved.is_some() {
            return violation(
                inv::RESOLVED_NOTIFICATION,
                format!("{conn}: serverRequest/resolved for #{id}, resolved in an earlier step"),
            );
        }
        if !r.recipients.contains(&conn) {
            return violation(
                inv::RESOLVED_AFTER_REQUEST,
                format!("{conn} got serverRequest/resolved for #{id} but never received the request"),
            );
        }
        if self.step.notes.contains(&(conn, id)) {
            return violation(
                inv::RESOLVED_NOTIFICATION,
                format!("{conn} got serverRequest/resolved for #{id} twice"),
            );
        }
        self.step.notes.push((conn, id));
        Ok(())
    }

    /// `conn` got a successful `thread/resume` reply for `thread`; the pending requests must
    /// follow (invariant 4).
    pub(crate) fn on_resumed(&mut self, conn: ConnectionId, thread: ThreadId) {
        self.step.resumes.push((conn, thread, Vec::new()));
    }

    /// The machine told a thread's engine something.
    pub(crate) fn on_command(&mut self, thread: ThreadId, command: &EngineCommand) -> Result<(), Violation> {
        match command {
            EngineCommand::RequestResolved { key, outcome } => {
                let state = self.keys.get_mut(&(thread, key.0)).filter(|k| k.network.is_none());
                match state {
                    None => violation(
                        inv::ENGINE_TOLD_ONCE,
                        format!(
                            "RequestResolved for key {} of thread {thread}, which the engine never asked",
                            key.0
                        ),
                    ),
                    Some(k) if k.state == KeyState::Answered => violation(
                        inv::ENGINE_TOLD_ONCE,
                        format!(
                            "a second RequestResolved for key {} of thread {thread} ({outcome:?})",
                            key.0
                        ),
                    ),
                    Some(k) if k.state == KeyState::Orphaned => violation(
                        inv::ENGINE_TOLD_ONCE,
                        format!(
                            "RequestResolved ({outcome:?}) for key {} is sent to thread {thread}, whose engine that asked was closed and a new one opened since: that engine never asked it",
                            key.0
                        ),
                    ),
                    Some(k) => {
                        k.state = KeyState::Answered;
                        self.step.told.push((thread, key.0, outcome.clone()));
                        Ok(())
                    }
                }
            }
            EngineCommand::NetworkVerdict { key, verdict } => {
                let state = self.keys.get_mut(&(thread, key.0)).filter(|k| k.network.is_some());
                match state {
                    None => violation(
                        inv::NETWORK_ONE_VERDICT,
                        format!(
                            "NetworkVerdict for key {} of thread {thread}, which was no network attempt",
                            key.0
                        ),
                    ),
                    Some(k) if k.state == KeyState::Answered => violation(
                        inv::NETWORK_ONE_VERDICT,
                        format!(
                            "a second NetworkVerdict for attempt {} of thread {thread} ({verdict:?})",
                            key.0
                        ),
                    ),
                    Some(k) => {
                        k.state = KeyState::Answered;
                        self.step.verdicts.push((thread, key.0, verdict.is_ok()));
                        Ok(())
                    }
                }
            }
            EngineCommand::CloseThread => {
                self.step.closed.push(thread);
                Ok(())
            }
            EngineCommand::OpenThread { .. } => {
                for (_, k) in self.keys.range_mut((thread, 0)..=(thread, u64::MAX)) {
                    if k.state == KeyState::Dropped {
                        k.state = KeyState::Orphaned;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
