//! The invariant oracle: watches every [`Input`] fed to a [`Machine`] and every [`Output`] it
//! produces, and reports the first protocol invariant the machine breaks.
//!
//! It knows nothing about who generates the inputs (the simulator, a fuzzer, a test), so any
//! driver can use it:
//!
//! ```no_run
//! # use core_sm::{Input, Machine, MachineConfig, Timestamp};
//! # let mut machine = Machine::new(MachineConfig::new(1));
//! # let (now, input) = (Timestamp(0), Input::Tick);
//! let mut oracle = sim::oracle::Oracle::new(sim::oracle::OracleOptions::default());
//! oracle.observe_input(now, &input)?;
//! machine.handle(now, input);
//! while let Some(out) = machine.poll_output() {
//!     oracle.observe_output(&out)?;
//! }
//! oracle.end_step(&machine)?;
//! # Ok::<(), sim::oracle::Violation>(())
//! ```
//!
//! Besides the frames it may read the machine's public accessors (`thread_status`,
//! `loaded_threads`, `thread_subscribers`, `pending_requests`). Every violation carries an
//! invariant name from [`inv`]; the leading number is the invariant's number in the
//! simulator's specification. Server requests (invariants 3, 4 and 7) live in
//! `server_requests`.

mod conn;
pub mod inv;
pub mod scan;
mod server_requests;
mod turns;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use core_sm::wire::RequestId;
use core_sm::{
    ConnectionId, EngineCommand, EngineEvent, Input, Machine, Output, ThreadId, Timestamp, TurnId,
};

use conn::{ConnModel, Pending};
use scan::{Kind, Method, Status, Summary, TurnState};
use server_requests::ServerRequests;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// One of the names in [`inv`].
    pub invariant: &'static str,
    /// What was observed.
    pub detail: String,
}

impl Violation {
    /// A violation of `invariant`.
    pub fn new(invariant: &'static str, detail: impl Into<String>) -> Self {
        Self { invariant, detail: detail.into() }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant {} violated: {}", self.invariant, self.detail)
    }
}

impl std::error::Error for Violation {}

/// Oracle settings.
#[derive(Clone, Copy, Debug)]
pub struct OracleOptions {
    /// Compare the subscriber sets implied by the frames with `Machine::thread_subscribers`
    /// after each step. Off, subscription bugs must show up in the frames themselves.
    pub cross_check_subscribers: bool,
}

impl Default for OracleOptions {
    fn default() -> Self {
        Self { cross_check_subscribers: true }
    }
}

/// Which threads an input can affect: the end-of-step accessor checks look at those (and at
/// every thread a frame announced a status for). A silent change elsewhere is still caught,
/// at the next step whose scope covers the thread.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// An engine event, a storage answer, or a request naming a thread.
    One(ThreadId),
    /// A closing connection's subscriptions.
    Many(Vec<ThreadId>),
    /// Nothing beyond what the outputs announce (lists, initialize, `thread/start`, opening).
    Reads,
    /// Anything else (ticks unload threads).
    All,
}

impl Scope {
    fn covers(&self, t: ThreadId) -> bool {
        match self {
            Scope::One(one) => *one == t,
            Scope::Many(many) => many.contains(&t),
            Scope::Reads => false,
            Scope::All => true,
        }
    }
}

/// Who a grouped notification must reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Broadcast,
    Subscribers(ThreadId),
}

/// Consecutive sends of one frame (a fan-out), checked for completeness when it ends.
#[derive(Debug)]
struct Group {
    frame: core_sm::wire::Frame,
    method: Method,
    class: Class,
    recipients: Vec<ConnectionId>,
}

/// The oracle's view of a thread's status, for the agreement checks.
#[derive(Debug)]
struct ThreadWatch {
    /// The machine's status after the previous step.
    machine: Status,
    /// The last status a frame announced during this step.
    emitted: Option<Status>,
    /// Registered silently this step (`thread/start`: no status notification).
    silent: bool,
}

/// The invariant oracle. See the [module docs](self).
#[derive(Debug)]
pub struct Oracle {
    opts: OracleOptions,
    now: Timestamp,
    conns: BTreeMap<ConnectionId, ConnModel>,
    threads: BTreeMap<ThreadId, ThreadWatch>,
    /// Turns completed, with the frame that completed them (a fan-out shares one frame).
    completed: BTreeMap<TurnId, core_sm::wire::Frame>,
    group: Option<Group>,
    /// The last frame scanned and its summary (fan-outs scan once).
    last: Option<(core_sm::wire::Frame, Summary)>,
    /// Summary of the last input frame.
    input: Option<Summary>,
    /// Turns already validated in earlier frames (histories repeat them).
    turn_memo: scan::TurnMemo,
    /// Which threads this step's input can affect (bounds the accessor checks).
    scope: Scope,
    /// Connection-threads in the `closing` state.
    closing: usize,
    /// The request this step's input carried, until its first reply.
    fresh: Option<(ConnectionId, RequestId)>,
    /// Turns `turn/start` handed out that have not ended yet (no `turn/completed` seen, no
    /// terminal engine event fed).
    submitted: BTreeMap<TurnId, ThreadId>,
    /// The turn event this step's engine input reports: started, or ended with a status.
    engine_turn: Option<(TurnId, Option<TurnState>)>,
    requests: ServerRequests,
}

impl Default for Oracle {
    fn default() -> Self {
        Self::new(OracleOptions::default())
    }
}

fn is_broadcast(method: &str) -> bool {
    matches!(method, "thread/started" | "thread/status/changed" | "thread/closed" | "thread/name/updated")
}

fn is_thread_event(method: &str) -> bool {
    method.starts_with("turn/")
        || method.starts_with("item/")
        || matches!(method, "thread/tokenUsage/updated" | "error" | "warning" | "serverRequest/resolved")
}

/// Thread events that always go to every subscriber (token usage and warnings can be
/// targeted at one connection, e.g. the usage restored after a resume).
fn is_fan_out(method: &str) -> bool {
    method.starts_with("turn/") || method.starts_with("item/") || method == "error"
}

impl Oracle {
    /// An oracle that has seen nothing yet (a fresh machine).
    pub fn new(opts: OracleOptions) -> Self {
        Self {
            opts,
            now: Timestamp(0),
            conns: BTreeMap::new(),
            threads: BTreeMap::new(),
            completed: BTreeMap::new(),
            group: None,
            last: None,
            input: None,
            turn_memo: scan::TurnMemo::default(),
            scope: Scope::All,
            closing: 0,
            fresh: None,
            submitted: BTreeMap::new(),
            engine_turn: None,
            requests: ServerRequests::default(),
        }
    }

    /// The machine was replaced by a fresh one (a server restart): forget connections and
    /// thread state, keep what must hold across restarts (completed turns stay completed).
    pub fn restart(&mut self) {
        let completed = std::mem::take(&mut self.completed);
        *self = Self::new(self.opts);
        self.completed = completed;
    }

    /// Summary of the frame last passed to [`observe_output`](Self::observe_output).
    pub fn last_summary(&self) -> Option<&Summary> {
        self.last.as_ref().map(|(_, s)| s)
    }

    /// Summary of the last input frame (`None` if it was not valid JSON).
    pub fn last_input_summary(&self) -> Option<&Summary> {
        self.input.as_ref()
    }

    /// Observes an input before it is fed to the machine.
    pub fn observe_input(&mut self, now: Timestamp, input: &Input) -> Result<(), Violation> {
        self.now = self.now.max(now);
        self.scope = Scope::All;
        self.fresh = None;
        self.engine_turn = None;
        self.requests.begin_step(self.now);
        match input {
            Input::ConnectionOpened { conn } => {
                // Reopening an open id resets it in the machine too.
                self.scope = Scope::Many(self.subs_of(*conn));
                self.drop_conn(*conn);
                self.conns.insert(*conn, ConnModel::default());
            }
            Input::Frame { conn, text } => {
                self.input = scan::scan(text).ok();
                let Some(c) = self.conns.get_mut(conn) else {
                    return Ok(());
                };
                let Some(s) = &self.input else {
                    self.scope = Scope::Reads;
                    return Ok(());
                };
                self.scope = match (s.kind, s.method(), s.thread_id) {
                    (Kind::Request, _, Some(t)) => Scope::One(t),
                    _ => Scope::Reads,
                };
                match (s.kind, &s.id) {
                    (Kind::Request, Some(id)) => {
                        self.requests.on_client_request(s);
                        self.fresh = Some((*conn, id.clone()));
                        c.add_pending(
                            id.clone(),
                            Pending {
                                method: s.method.clone().unwrap_or_default(),
                                thread: s.thread_id,
                                opt_out: s.opt_out.clone(),
                            },
                        )
                    }
                    (Kind::Reply | Kind::ErrorReply, Some(RequestId::Integer(id))) => {
                        // An answer resolves a server request: its thread's status may change.
                        if let Some(t) = self.requests.thread_of(*id) {
                            self.scope = Scope::One(t);
                        }
                        self.requests.on_answer(*conn, *id, text)
                    }
                    _ => {}
                }
            }
            Input::ConnectionClosed { conn } => {
                self.scope = Scope::Many(self.subs_of(*conn));
                self.drop_conn(*conn);
            }
            Input::Storage(result) => {
                if let Some(t) = storage_thread(result) {
                    self.scope = Scope::One(t);
                }
            }
            Input::Engine { thread_id, event } => {
                self.scope = Scope::One(*thread_id);
                self.requests.on_engine_event(*thread_id, event)?;
                let end = match event {
                    EngineEvent::TurnCompleted { turn_id } => Some((*turn_id, TurnState::Completed)),
                    EngineEvent::TurnAborted { turn_id } => Some((*turn_id, TurnState::Interrupted)),
                    EngineEvent::TurnFailed { turn_id, .. } => Some((*turn_id, TurnState::Failed)),
                    _ => None,
                };
                if let Some((turn, state)) = end {
                    self.submitted.remove(&turn);
                    self.engine_turn = Some((turn, Some(state)));
                }
                if let EngineEvent::TurnStarted { turn_id } = event {
                    self.engine_turn = Some((*turn_id, None));
                }
            }
            Input::Tick => self.requests.on_tick(),
            Input::Shutdown => self.requests.on_shutdown(),
            _ => {}
        }
        Ok(())
    }

    fn subs_of(&self, conn: ConnectionId) -> Vec<ThreadId> {
        self.conns.get(&conn).map(|c| c.subs.iter().copied().collect()).unwrap_or_default()
    }

    fn drop_conn(&mut self, conn: ConnectionId) {
        if let Some(c) = self.conns.remove(&conn) {
            self.closing -= c.threads.values().filter(|t| t.closing).count();
            self.requests.on_conn_gone(conn);
        }
    }

    /// Observes one drained output, in order.
    pub fn observe_output(&mut self, out: &Output) -> Result<(), Violation> {
        match out {
            Output::Send { conn, frame } => return self.observe_send(*conn, frame),
            Output::Close { conn } => {
                self.flush_group()?;
                self.drop_conn(*conn);
            }
            Output::Engine { thread_id, command } => {
                self.flush_group()?;
                self.watch(*thread_id);
                self.requests.on_command(*thread_id, command)?;
                if matches!(command, EngineCommand::CloseThread) {
                    // Unloaded: every subscription to the thread ends.
                    for c in self.conns.values_mut() {
                        if c.threads.get(thread_id).is_some_and(|t| t.closing) {
                            self.closing -= 1;
                        }
                        c.leave(*thread_id);
                    }
                }
            }
            _ => self.flush_group()?,
        }
        Ok(())
    }

    fn watch(&mut self, thread: ThreadId) -> &mut ThreadWatch {
        self.threads.entry(thread).or_insert(ThreadWatch {
            machine: Status::NotLoaded,
            emitted: None,
            silent: false,
        })
    }

    fn observe_send(&mut self, conn: ConnectionId, frame: &core_sm::wire::Frame) -> Result<(), Violation> {
        if self.group.as_ref().is_some_and(|g| !std::sync::Arc::ptr_eq(&g.frame, frame)) {
            self.flush_group()?;
        }
        let summary = match self.last.take() {
            Some((f, s)) if std::sync::Arc::ptr_eq(&f, frame) => s,
            _ => scan::scan_with(frame, &mut self.turn_memo)
                .map_err(|e| Violation::new(inv::FRAME_JSON, format!("to {conn}: {e}: {frame}")))?,
        };
        let result = self.check_send(conn, frame, &summary);
        self.last = Some((frame.clone(), summary));
        result
    }

    fn check_send(
        &mut self,
        conn: ConnectionId,
        frame: &core_sm::wire::Frame,
        s: &Summary,
    ) -> Result<(), Violation> {
        if !self.conns.contains_key(&conn) {
            return Err(Violation::new(inv::FRAME_TO_CLOSED, format!("{conn} is not open but got {frame}")));
        }
        match s.kind {
            Kind::Reply | Kind::ErrorReply => self.on_reply(conn, frame, s),
            Kind::Notification => self.on_notification(conn, frame, s),
            Kind::Request => {
                let c = &self.conns[&conn];
                let subscribed = s.thread_id.map(|t| c.subs.contains(&t));
                let initialized = c.initialized;
                self.requests.on_request(conn, frame, s, initialized, subscribed)
            }
            Kind::Other => {
                Err(Violation::new(inv::FRAME_SHAPE, format!("to {conn}: not a JSON-RPC message: {frame}")))
            }
        }
    }

    fn on_reply(
        &mut self,
        conn: ConnectionId,
        frame: &core_sm::wire::Frame,
        s: &Summary,
    ) -> Result<(), Violation> {
        self.flush_group()?;
        let id = s.id.clone().expect("replies have ids");
        if s.kind == Kind::ErrorReply && s.error_code.is_none() {
            return Err(Violation::new(
                inv::FRAME_SHAPE,
                format!("to {conn}: error without an integer code: {frame}"),
            ));
        }
        let latest = self.fresh.as_ref() == Some(&(conn, id.clone()));
        if latest {
            self.fresh = None;
        }
        let c = self.conns.get_mut(&conn).expect("checked open");
        let Some(p) = c.take_pending(&id, latest) else {
            return Err(Violation::new(
                inv::RESPONSE_TO_REQUESTER,
                format!("{conn} got a reply to request {id} it has not sent (or already got): {frame}"),
            ));
        };
        if s.kind == Kind::ErrorReply {
            return Ok(());
        }
        match &*p.method {
            "initialize" => {
                c.initialized = true;
                c.opt_out = p.opt_out.unwrap_or_default().into_iter().collect();
            }
            "thread/start" | "thread/resume" => {
                let Some(t) = s.thread_id.or(p.thread) else {
                    return Err(Violation::new(
                        inv::FRAME_SHAPE,
                        format!("to {conn}: {} result without thread.id: {frame}", p.method),
                    ));
                };
                c.subs.insert(t);
                c.threads.entry(t).or_default().status = s.status;
                let resumed = p.method == "thread/resume";
                let w = self.watch(t);
                w.emitted = s.status.or(w.emitted);
                w.silent |= !resumed;
                if resumed {
                    self.requests.on_resumed(conn, t);
                }
            }
            "turn/start" => {
                if let (Some(turn), Some(t)) = (s.turn_id, p.thread) {
                    let other = self.submitted.iter().find(|(id, th)| **th == t && **id != turn);
                    if let Some((other, _)) = other {
                        return Err(Violation::new(
                            inv::TURN_ORDER,
                            format!("{conn}: turn/start on thread {t} returned turn {turn} while turn {other} has not ended: {frame}"),
                        ));
                    }
                    self.submitted.insert(turn, t);
                }
            }
            "thread/unsubscribe" => {
                if let Some(t) = p.thread {
                    let was = c.subs.contains(&t);
                    if was != (s.status_word == Some("unsubscribed")) {
                        return Err(Violation::new(
                            inv::UNSUBSCRIBE_STATUS,
                            format!(
                                "{conn} was {}subscribed to {t} but got {frame}",
                                if was { "" } else { "not " }
                            ),
                        ));
                    }
                    if c.threads.get(&t).is_some_and(|t| t.closing) {
                        self.closing -= 1;
                    }
                    c.leave(t);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_notification(
        &mut self,
        conn: ConnectionId,
        frame: &core_sm::wire::Frame,
        s: &Summary,
    ) -> Result<(), Violation> {
        let method = s.method();
        match s.emitted_at_ms {
            Some(ms) if ms == self.now.millis() => {}
            Some(ms) => {
                return Err(Violation::new(
                    inv::EMITTED_AT,
                    format!(
                        "to {conn}: emittedAtMs {ms} but the machine's time is {}: {frame}",
                        self.now.millis()
                    ),
                ))
            }
            None => {
                return Err(Violation::new(
                    inv::EMITTED_AT,
                    format!("to {conn}: notification without an integer emittedAtMs: {frame}"),
                ))
            }
        }
        let c = &self.conns[&conn];
        if !c.initialized {
            return Err(Violation::new(
                inv::BEFORE_INITIALIZE,
                format!("{conn} is not initialized but got {frame}"),
            ));
        }
        if !c.wants(method) {
            return Err(Violation::new(
                inv::OPT_OUT,
                format!("{conn} opted out of {method} but got {frame}"),
            ));
        }
        if is_broadcast(method) {
            self.add_to_group(conn, frame, s, Class::Broadcast);
            let Some(t) = s.thread_id else {
                return Err(Violation::new(
                    inv::FRAME_SHAPE,
                    format!("to {conn}: {method} without a thread id: {frame}"),
                ));
            };
            match method {
                "thread/status/changed" => self.on_status_changed(conn, t, frame, s)?,
                "thread/started" => {
                    let c = self.conns.get_mut(&conn).expect("checked open");
                    c.threads.entry(t).or_default().status = s.status;
                }
                _ => {}
            }
            return Ok(());
        }
        if !is_thread_event(method) {
            return Ok(());
        }
        let Some(t) = s.thread_id else {
            return Err(Violation::new(
                inv::FRAME_SHAPE,
                format!("to {conn}: {method} without threadId: {frame}"),
            ));
        };
        if !self.conns[&conn].subs.contains(&t) {
            return Err(Violation::new(
                inv::THREAD_EVENT_TO_SUBSCRIBER,
                format!("{conn} is not subscribed to thread {t} but got {frame}"),
            ));
        }
        if method == "serverRequest/resolved" {
            return self.requests.on_resolved(conn, s);
        }
        if is_fan_out(method) {
            self.add_to_group(conn, frame, s, Class::Subscribers(t));
        }
        self.on_turn_event(conn, t, frame, s)
    }

    fn add_to_group(&mut self, conn: ConnectionId, frame: &core_sm::wire::Frame, s: &Summary, class: Class) {
        match &mut self.group {
            Some(g) => g.recipients.push(conn),
            None => {
                self.group = Some(Group {
                    frame: frame.clone(),
                    method: s.method.clone().unwrap_or_default(),
                    class,
                    recipients: vec![conn],
                })
            }
        }
    }

    /// Checks that a finished fan-out reached everyone it had to.
    fn flush_group(&mut self) -> Result<(), Violation> {
        let Some(g) = self.group.take() else {
            return Ok(());
        };
        let expected: Vec<ConnectionId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.initialized && c.wants(&g.method))
            .filter(|(_, c)| match g.class {
                Class::Broadcast => true,
                Class::Subscribers(t) => c.subs.contains(&t),
            })
            .map(|(id, _)| *id)
            .collect();
        let mut got = g.recipients;
        got.sort_unstable();
        got.dedup();
        if got != expected {
            let missing: Vec<String> =
                expected.iter().filter(|c| !got.contains(c)).map(ToString::to_string).collect();
            let (name, whom) = match g.class {
                Class::Broadcast => (inv::BROADCAST_TO_ALL, "initialized connections"),
                Class::Subscribers(_) => (inv::THREAD_EVENT_TO_ALL, "subscribers"),
            };
            return Err(Violation::new(
                name,
                format!("{} did not reach {whom} {}: {}", g.method, missing.join(", "), g.frame),
            ));
        }
        Ok(())
    }

    /// Checks after the outputs of one input are drained. `machine` is the machine that
    /// produced them.
    pub fn end_step(&mut self, machine: &Machine) -> Result<(), Violation> {
        self.flush_group()?;
        if self.closing > 0 {
            for (conn, c) in &self.conns {
                if let Some((t, _)) = c.threads.iter().find(|(_, t)| t.closing) {
                    return Err(Violation::new(
                        inv::IDLE_ONLY_BEFORE_COMPLETED,
                        format!("{conn}: thread {t} went non-active mid-turn without turn/completed in the same step"),
                    ));
                }
            }
        }
        let touched = self.requests.end_step(machine, &self.conns)?;
        self.check_status_flags(&touched)?;
        let scope = std::mem::replace(&mut self.scope, Scope::All);
        if scope == Scope::All {
            for t in machine.loaded_threads() {
                self.watch(t);
            }
        }
        let listener = self.conns.values().any(|c| c.initialized && c.wants("thread/status/changed"));
        let cross_check = self.opts.cross_check_subscribers;
        for (t, w) in &mut self.threads {
            if !scope.covers(*t) && w.emitted.is_none() && !w.silent {
                continue;
            }
            if cross_check {
                check_subscribers(&self.conns, machine, *t)?;
            }
            let now = Status::of(&machine.thread_status(*t));
            if let Some(e) = w.emitted {
                if e != now {
                    return Err(Violation::new(
                        inv::STATUS_AGREES,
                        format!("thread {t}: announced {e:?} but the machine says {now:?}"),
                    ));
                }
            } else if now != w.machine && !w.silent && listener {
                return Err(Violation::new(
                    inv::STATUS_ANNOUNCED,
                    format!("thread {t}: status went {:?} -> {now:?} with no notification", w.machine),
                ));
            }
            w.machine = now;
            w.emitted = None;
            w.silent = false;
        }
        Ok(())
    }

    /// The flags of every status announced this step agree with the pending requests of the
    /// thread (as the request model knows them, not the machine), and a change of those flags
    /// is announced. `touched` holds the flags before this step of threads whose requests
    /// changed.
    fn check_status_flags(&self, touched: &BTreeMap<ThreadId, u8>) -> Result<(), Violation> {
        for (t, w) in &self.threads {
            let Some(status) = w.emitted else {
                continue;
            };
            let want = self.requests.flags(*t);
            let got = match status {
                Status::Active(bits) => bits,
                _ => 0,
            };
            if got != want {
                return Err(Violation::new(
                    inv::STATUS_FLAGS,
                    format!(
                        "thread {t}: announced {status:?}, but its pending requests call for flags {want:#b} (1 waitingOnApproval, 2 waitingOnUserInput)"
                    ),
                ));
            }
        }
        let listener = self.conns.values().any(|c| c.initialized && c.wants("thread/status/changed"));
        for (t, before) in touched {
            let after = self.requests.flags(*t);
            let announced = self.threads.get(t).is_some_and(|w| w.emitted.is_some());
            if after != *before && !announced && listener {
                return Err(Violation::new(
                    inv::STATUS_FLAGS,
                    format!("thread {t}: pending requests changed its flags {before:#b} -> {after:#b}, but no status was announced"),
                ));
            }
        }
        Ok(())
    }

    /// Checks once nothing is in flight any more (no engine work, no storage answers due).
    pub fn check_quiescent(&self, machine: &Machine) -> Result<(), Violation> {
        if let Some(p) = self.pending().first() {
            return Err(Violation::new(inv::UNANSWERED, format!("no reply to {p}")));
        }
        if let Some((turn, t)) = self.submitted.iter().next() {
            return Err(Violation::new(
                inv::TURN_NEVER_COMPLETED,
                format!("turn {turn} of thread {t}, accepted by turn/start, never ended"),
            ));
        }
        for t in machine.loaded_threads() {
            if machine.thread_status(t).is_active() {
                return Err(Violation::new(inv::ACTIVE_AT_QUIESCENCE, format!("thread {t} is still active")));
            }
        }
        for (conn, c) in &self.conns {
            for (t, ct) in &c.threads {
                let watched = c.subs.contains(t) && c.wants("turn/completed");
                if let (Some(o), true) = (&ct.open, watched) {
                    return Err(Violation::new(
                        inv::TURN_NEVER_COMPLETED,
                        format!("{conn} saw turn {} of thread {t} but never its turn/completed", o.id),
                    ));
                }
            }
        }
        self.requests.quiescent(machine)
    }

    /// Requests still awaiting replies, as `conn#N request <id> <method>`.
    pub fn pending(&self) -> Vec<String> {
        self.conns
            .iter()
            .flat_map(|(conn, c)| {
                c.pending.iter().flat_map(move |(id, list)| {
                    list.iter().map(move |p| format!("{conn} request {id} {}", p.method))
                })
            })
            .collect()
    }

    /// Server requests still pending, as `server request #<id> <method> of thread <t>`.
    pub fn pending_server_requests(&self) -> Vec<String> {
        self.requests.describe_pending()
    }

    /// Open connections the oracle knows, with their subscriptions.
    pub fn subscriptions(&self) -> BTreeMap<ConnectionId, BTreeSet<ThreadId>> {
        self.conns.iter().map(|(id, c)| (*id, c.subs.clone())).collect()
    }
}

/// Compares the machine's subscribers of `t` with the ones the frames imply.
fn check_subscribers(
    conns: &BTreeMap<ConnectionId, ConnModel>,
    machine: &Machine,
    t: ThreadId,
) -> Result<(), Violation> {
    let ours = || conns.iter().filter(|(_, c)| c.subs.contains(&t)).map(|(id, _)| *id);
    let theirs = machine.thread_subscribers(t);
    if theirs.iter().copied().eq(ours()) {
        return Ok(());
    }
    let ours: Vec<ConnectionId> = ours().collect();
    Err(Violation::new(
        inv::SUBSCRIBERS_AGREE,
        format!("thread {t}: machine has subscribers {theirs:?}, the frames imply {ours:?}"),
    ))
}

fn storage_thread(result: &core_sm::StorageResult) -> Option<ThreadId> {
    match result {
        core_sm::StorageResult::Loaded { thread_id, .. }
        | core_sm::StorageResult::NotFound { thread_id }
        | core_sm::StorageResult::Failed { thread_id, .. } => Some(*thread_id),
        _ => None,
    }
}

/// `ThreadStatus::is_active` for the machine's type.
trait IsActive {
    fn is_active(&self) -> bool;
}

impl IsActive for core_sm::wire::ThreadStatus {
    fn is_active(&self) -> bool {
        matches!(self, core_sm::wire::ThreadStatus::Active { .. })
    }
}
