//! The invariant oracle: watches every [`Input`](core_sm::Input) fed to a [`Machine`] and every [`Output`] it
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
//!
//! The checks are split by concern: `input` (what each input tells the oracle and the scope
//! of the step), `replies` (replies to client requests and what they change), `routing` (who
//! notifications reach: broadcasts, thread events, fan-out groups), `turns` (what each
//! connection sees of a turn), `status` (end-of-step agreement with the machine's statuses
//! and subscribers), `server_requests`, and `conn` (what one connection has observed).

mod conn;
mod input;
pub mod inv;
mod replies;
mod routing;
pub mod scan;
mod server_requests;
mod status;
mod turns;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use core_sm::wire::RequestId;
use core_sm::{ConnectionId, EngineCommand, Machine, Output, ThreadId, Timestamp, TurnId};

use conn::ConnModel;
use routing::Group;
use scan::{Kind, Status, Summary, TurnState};
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
    /// Which threads this step's input may close while a turn runs (`thread/archive`,
    /// shutdown); anywhere else, closing a thread mid-turn loses the turn.
    may_close: MayClose,
    /// Turns ended by archiving their thread, over the whole run (coverage).
    archived_mid_turn: u64,
    /// The thread storage answered for in this step (its parked requests are answered now).
    loaded: Option<ThreadId>,
    requests: ServerRequests,
}

/// Threads an input may close in the middle of a turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum MayClose {
    /// None: only idle threads are unloaded.
    #[default]
    Idle,
    /// The thread a `thread/archive` names.
    Thread(ThreadId),
    /// Every thread (shutdown).
    All,
}

impl Default for Oracle {
    fn default() -> Self {
        Self::new(OracleOptions::default())
    }
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
            may_close: MayClose::Idle,
            archived_mid_turn: 0,
            loaded: None,
            requests: ServerRequests::default(),
        }
    }

    /// The machine was replaced by a fresh one (a server restart): forget connections and
    /// thread state, keep what must hold across restarts (completed turns stay completed).
    pub fn restart(&mut self) {
        let completed = std::mem::take(&mut self.completed);
        let archived_mid_turn = self.archived_mid_turn;
        *self = Self::new(self.opts);
        self.completed = completed;
        self.archived_mid_turn = archived_mid_turn;
    }

    /// Turns ended by archiving their thread so far.
    pub fn archived_mid_turn(&self) -> u64 {
        self.archived_mid_turn
    }

    /// Summary of the frame last passed to [`observe_output`](Self::observe_output).
    pub fn last_summary(&self) -> Option<&Summary> {
        self.last.as_ref().map(|(_, s)| s)
    }

    /// Summary of the last input frame (`None` if it was not valid JSON).
    pub fn last_input_summary(&self) -> Option<&Summary> {
        self.input.as_ref()
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
                    // Only archiving or shutdown may end a running turn this way (silently:
                    // nobody is subscribed any more).
                    let running = self.submitted.iter().find(|(_, t)| *t == thread_id).map(|(turn, _)| *turn);
                    if let Some(turn) = running {
                        if !matches!(self.may_close, MayClose::All)
                            && self.may_close != MayClose::Thread(*thread_id)
                        {
                            return Err(Violation::new(
                                inv::TURN_NEVER_COMPLETED,
                                format!("thread {thread_id} was closed while turn {turn} was running"),
                            ));
                        }
                        self.submitted.retain(|_, t| t != thread_id);
                        self.archived_mid_turn += u64::from(self.may_close != MayClose::All);
                    }
                    // A reply earlier in the step may have shown the thread loaded; the
                    // `notLoaded` that follows is only visible to connections that listen.
                    if !self.conns.values().any(|c| c.initialized && c.wants("thread/status/changed")) {
                        self.watch(*thread_id).emitted = None;
                    }
                    // Unloaded or archived: every subscription to the thread ends.
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

/// `ThreadStatus::is_active` for the machine's type.
trait IsActive {
    fn is_active(&self) -> bool;
}

impl IsActive for core_sm::wire::ThreadStatus {
    fn is_active(&self) -> bool {
        matches!(self, core_sm::wire::ThreadStatus::Active { .. })
    }
}
