//! The simulated world: one machine, the fake clients, engine and storage, a virtual clock
//! and the event queue, all driven by PRNG streams derived from one seed. Every input goes through
//! `Sim::feed`, which shows it to the oracle, hands it to the machine, routes and checks
//! every output, and mixes everything into the trace.

use std::collections::{BTreeMap, BTreeSet};

use core_sm::{
    ConnectionId, EngineCommand, EngineEvent, Input, Machine, MachineConfig, Output, StorageResult, ThreadId,
    Timestamp,
};

use crate::actions::{self, Action, ClientOp, Reply};
use crate::clients::Client;
use crate::engine::{Due, FakeEngine};
use crate::faults::FaultProfile;
use crate::oracle::{Oracle, OracleOptions, Violation};
use crate::report::{Coverage, Failure};
use crate::storage::Storage;
use crate::trace::Trace;
use core_sm::history::RolloutRecord;

/// Virtual time at the start of every run (Unix ms): late 2025, like the core's tests.
pub const EPOCH_MS: u64 = 1_764_000_000_000;

/// Machine steps allowed for the liveness phase to drain.
const LIVENESS_STEP_BOUND: u64 = 200_000;

/// Driver iterations of calm behaviour before the final drain.
const CALM_ACTIONS: usize = 60;

/// How far the drain looks ahead for machine deadlines (a token refresh times out in 10 s).
const AUTH_REFRESH_WAIT_MS: u64 = 15_000;

/// How a run is set up beyond its seed.
#[derive(Clone, Debug, Default)]
pub struct SimOptions {
    /// Record one trace line per event (for printing a failing seed's trace).
    pub record_trace: bool,
    /// Oracle settings.
    pub oracle: OracleOptions,
    /// Keep every input fed to the machine (see [`Sim::recorded_inputs`]), e.g. to measure
    /// the bare machine's speed on the same workload.
    pub record_inputs: bool,
    /// A deliberately broken machine behaviour (only with the `inject-bugs` feature).
    #[cfg(feature = "inject-bugs")]
    pub bug: Option<core_sm::InjectedBug>,
}

/// What a successful run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// `Machine::handle` calls.
    pub steps: u64,
    /// Hash of the whole trace (equal for equal seeds).
    pub trace_hash: u64,
    /// Virtual milliseconds simulated.
    pub virtual_ms: u64,
    /// Bytes of frames the machine sent.
    pub frame_bytes: u64,
    /// What the run exercised.
    pub coverage: Coverage,
}

/// Something scheduled for a later virtual time.
#[derive(Debug)]
enum Event {
    /// The thread's next engine event (the engine keeps the script).
    Engine {
        generation: u64,
        thread: ThreadId,
        epoch: u32,
    },
    Storage {
        generation: u64,
        result: StorageResult,
        first: bool,
    },
    /// A client answers a server request it received (liveness phase: clients answer
    /// everything, after a moment's thought).
    Answer {
        generation: u64,
        client: usize,
        conn: ConnectionId,
        id: i64,
    },
}

/// The run's random streams, all derived from the seed. Separate streams keep one concern's
/// draws from shifting another's: removing an action (proptest shrinking) changes the engine's
/// scripts only if the action itself started a turn.
struct Rngs {
    /// The fault profile, the random driver's actions, think times.
    driver: fastrand::Rng,
    /// Engine scripts and delays.
    engine: fastrand::Rng,
    /// Storage answers and the previous run's threads.
    storage: fastrand::Rng,
    /// Made-up ids in client requests, which stored threads clients remember.
    clients: fastrand::Rng,
    /// Per-event fault decisions (duplicates, stale events).
    faults: fastrand::Rng,
}

impl Rngs {
    fn new(seed: u64) -> Self {
        let stream = |k: u64| {
            fastrand::Rng::with_seed(crate::report::splitmix(seed ^ k.wrapping_mul(0xA076_1D64_78BD_642F)))
        };
        Self {
            driver: fastrand::Rng::with_seed(seed),
            engine: stream(1),
            storage: stream(2),
            clients: stream(3),
            faults: stream(4),
        }
    }
}

/// One simulation run. See the [module docs](self).
pub struct Sim {
    seed: u64,
    /// The profile drawn for the seed.
    profile: FaultProfile,
    /// The profile in force (faults off in the liveness phase).
    active: FaultProfile,
    opts: SimOptions,
    rng: Rngs,
    /// Driven by explicit actions ([`Sim::run_actions`]): no random think time or id choice.
    scripted: bool,
    machine: Machine,
    /// Bumped by every server restart; events of older generations are dropped.
    generation: u64,
    now: u64,
    oracle: Oracle,
    clients: Vec<Client>,
    engine: FakeEngine,
    storage: Storage,
    queue: BTreeMap<(u64, u64), Event>,
    seq: u64,
    next_conn: u64,
    closed_conns: Vec<ConnectionId>,
    next_request: i64,
    trace: Trace,
    steps: u64,
    frame_bytes: u64,
    coverage: Coverage,
    phase: &'static str,
    /// Inputs fed so far, with the machine generation they went to (if recording).
    inputs: Vec<(u64, Timestamp, Input)>,
    /// Server request ids seen on the wire since the last restart, with the step that first
    /// sent each (later sends are replays).
    request_ids: BTreeMap<i64, u64>,
}

/// A seed for the machine's own id generator, different per restart.
fn machine_seed(seed: u64, generation: u64) -> u64 {
    let mut z = seed ^ generation.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Sim {
    /// A world for `seed`: draws the fault profile, seeds storage with a previous run's
    /// threads, creates the clients. Nothing has happened yet.
    pub fn new(seed: u64, opts: SimOptions) -> Self {
        let mut rng = Rngs::new(seed);
        let profile = FaultProfile::draw(&mut rng.driver);
        let mut storage = Storage::default();
        let stored = storage.seed_previous_run(&mut rng.storage, Timestamp(EPOCH_MS), profile.stored_threads);
        let clients = (0..profile.clients)
            .map(|i| {
                let remembered = stored.iter().copied().filter(|_| rng.clients.bool()).collect();
                Client::new(i, remembered)
            })
            .collect();
        let machine = Machine::new(Self::config(seed, 0, &profile, &opts));
        Self {
            seed,
            active: profile.clone(),
            profile,
            oracle: Oracle::new(opts.oracle),
            trace: Trace::new(opts.record_trace),
            opts,
            rng,
            scripted: false,
            machine,
            generation: 0,
            now: EPOCH_MS,
            clients,
            engine: FakeEngine::default(),
            storage,
            queue: BTreeMap::new(),
            seq: 0,
            next_conn: 1,
            closed_conns: Vec::new(),
            next_request: 1,
            steps: 0,
            frame_bytes: 0,
            coverage: Coverage::default(),
            phase: "faults",
            inputs: Vec::new(),
            request_ids: BTreeMap::new(),
        }
    }

    fn config(seed: u64, generation: u64, profile: &FaultProfile, opts: &SimOptions) -> MachineConfig {
        let mut config = MachineConfig::new(machine_seed(seed, generation));
        config.thread_unload_delay_ms = profile.unload_delay_ms;
        #[cfg(feature = "inject-bugs")]
        {
            config.injected_bug = opts.bug;
        }
        let _ = opts; // Only read with `inject-bugs`.
        config
    }

    /// Every input fed so far as (machine generation, time, input), if
    /// [`SimOptions::record_inputs`]. Generation `g` ran on [`Sim::machine_config`]`(g)`.
    pub fn recorded_inputs(&self) -> &[(u64, Timestamp, Input)] {
        &self.inputs
    }

    /// The configuration of the machine of generation `generation` (0 until the first
    /// restart).
    pub fn machine_config(&self, generation: u64) -> MachineConfig {
        Self::config(self.seed, generation, &self.profile, &self.opts)
    }

    /// The fault profile drawn for this seed.
    pub fn profile(&self) -> &FaultProfile {
        &self.profile
    }

    /// The recorded trace lines (empty unless [`SimOptions::record_trace`]).
    pub fn trace_lines(&self) -> &[String] {
        self.trace.lines()
    }

    /// Runs the seed: the fault phase drawn from the PRNG, then the liveness phase.
    pub fn run(&mut self) -> Result<RunStats, Box<Failure>> {
        for _ in 0..self.active.fault_steps {
            let action = actions::draw(&mut self.rng.driver, &self.active, &self.clients, self.queue.len());
            self.apply(&action)?;
        }
        self.liveness(CALM_ACTIONS)
    }

    /// Applies the given actions (the fault phase of a proptest case), then the liveness
    /// phase without random calm actions, so the actions alone decide what happens and
    /// shrinking them is meaningful.
    pub fn run_actions(&mut self, actions: &[Action]) -> Result<RunStats, Box<Failure>> {
        self.scripted = true;
        for action in actions {
            self.apply(action)?;
        }
        self.liveness(0)
    }

    /// Applies one action.
    pub fn apply(&mut self, action: &Action) -> Result<(), Box<Failure>> {
        match action {
            Action::Restart => self.restart()?,
            Action::Deliver { n } => {
                for _ in 0..*n {
                    if !self.deliver_next()? {
                        break;
                    }
                }
            }
            Action::Advance { ms } => self.advance_to(self.now + u64::from(*ms))?,
            Action::Client { client, op } => {
                let think = if self.scripted { 1 } else { self.rng.driver.u64(0..20) };
                self.advance_to(self.now + think)?;
                let i = usize::from(*client) % self.clients.len();
                self.client_op(i, op)?;
            }
        }
        Ok(())
    }

    fn client_op(&mut self, i: usize, op: &ClientOp) -> Result<(), Box<Failure>> {
        match op {
            ClientOp::Connect { reuse } => {
                if self.clients[i].conn.is_some() {
                    return Ok(());
                }
                let conn = match (reuse, self.closed_conns.is_empty()) {
                    (true, false) => {
                        self.coverage.reused_conn_ids += 1;
                        let i = if self.scripted {
                            self.closed_conns.len() - 1
                        } else {
                            self.rng.driver.usize(..self.closed_conns.len())
                        };
                        self.closed_conns.remove(i)
                    }
                    _ => {
                        self.next_conn += 1;
                        ConnectionId(self.next_conn - 1)
                    }
                };
                self.clients[i].conn = Some(conn);
                self.feed(Input::ConnectionOpened { conn })
            }
            ClientOp::Disconnect => {
                let Some(conn) = self.clients[i].conn else {
                    return Ok(());
                };
                self.clients[i].disconnected();
                self.remember_closed(conn);
                self.feed(Input::ConnectionClosed { conn })
            }
            ClientOp::Answer { pick, reply } => self.answer(i, *pick, *reply),
            ClientOp::ResumeAll => {
                let Some(conn) = self.clients[i].conn else {
                    return Ok(());
                };
                let next = &mut self.next_request;
                let frames = self.clients[i].resume_all(|| {
                    *next += 1;
                    *next - 1
                });
                for text in frames {
                    self.feed(Input::Frame { conn, text })?;
                }
                Ok(())
            }
            _ => {
                let Some(conn) = self.clients[i].conn else {
                    return Ok(());
                };
                let id = self.next_request;
                self.next_request += 1;
                match self.clients[i].frame(op, id, &mut self.rng.clients, self.now) {
                    Some(text) => self.feed(Input::Frame { conn, text }),
                    None => Ok(()),
                }
            }
        }
    }

    /// Client `i` answers a server request as `reply` says (see [`Reply`]).
    fn answer(&mut self, i: usize, pick: u8, reply: Reply) -> Result<(), Box<Failure>> {
        let Some(conn) = self.clients[i].conn else {
            return Ok(());
        };
        let id = match reply {
            Reply::Late => self.clients[i].pick_settled(pick),
            Reply::Foreign => {
                let held: Vec<i64> = self
                    .clients
                    .iter()
                    .filter(|c| c.index != i)
                    .flat_map(|c| c.server_requests.keys().copied())
                    .filter(|id| !self.clients[i].server_requests.contains_key(id))
                    .collect();
                (!held.is_empty()).then(|| held[usize::from(pick) % held.len()])
            }
            // Past every id sent so far: possibly one the server will use later.
            Reply::Unknown => {
                Some(self.request_ids.keys().next_back().map_or(0, |m| m + 1) + i64::from(pick % 3))
            }
            _ => self.clients[i].pick_server_request(pick),
        };
        let Some(id) = id else {
            return Ok(());
        };
        if !matches!(reply, Reply::Accept | Reply::AcceptForSession | Reply::Decline | Reply::Cancel) {
            self.coverage.stray_answers += 1;
        }
        for text in self.clients[i].answer(id, reply, pick) {
            self.coverage.answers += 1;
            self.feed(Input::Frame { conn, text })?;
        }
        Ok(())
    }

    /// In the liveness phase a client answers what it receives: mostly yes, sometimes no,
    /// now and then a cancel, an error or garbage; all of them let the turn go on.
    fn calm_reply(&mut self) -> Reply {
        match self.rng.clients.u8(..100) {
            0..=44 => Reply::Accept,
            45..=69 => Reply::AcceptForSession,
            70..=89 => Reply::Decline,
            90..=93 => Reply::Cancel,
            94..=96 => Reply::Error,
            _ => Reply::Malformed,
        }
    }

    /// Schedules client `i`'s answer to request `id` received on `conn`.
    fn schedule_answer(&mut self, i: usize, conn: ConnectionId, id: i64) {
        let at = self.now + self.rng.clients.u64(1..60);
        self.schedule(at, Event::Answer { generation: self.generation, client: i, conn, id });
    }

    fn remember_closed(&mut self, conn: ConnectionId) {
        if self.closed_conns.len() >= 8 {
            self.closed_conns.remove(0);
        }
        self.closed_conns.push(conn);
    }

    /// The server restarts: a fresh machine over the same storage, every connection gone,
    /// everything in flight lost. Half the time it is a graceful restart: the old machine is
    /// shut down first (pending requests dropped silently, threads closed, connections closed),
    /// with the oracle watching.
    fn restart(&mut self) -> Result<(), Box<Failure>> {
        if self.rng.faults.bool() {
            self.feed(Input::Shutdown)?;
        }
        self.generation += 1;
        self.coverage.restarts += 1;
        self.trace.mix(0xEE00 + self.generation);
        self.trace.line(|| format!("{:>8} restart #{}", self.now - EPOCH_MS, self.generation));
        for i in 0..self.clients.len() {
            if let Some(conn) = self.clients[i].conn {
                self.clients[i].disconnected();
                self.remember_closed(conn);
            }
        }
        self.engine.clear();
        self.storage.drop_pending();
        self.queue.clear();
        self.request_ids.clear();
        self.machine = Machine::new(self.machine_config(self.generation));
        self.oracle.restart();
        Ok(())
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// Delivers the earliest scheduled event; `false` if there is none.
    fn deliver_next(&mut self) -> Result<bool, Box<Failure>> {
        let Some(((at, _), event)) = self.queue.pop_first() else {
            return Ok(false);
        };
        self.advance_to(at)?;
        match event {
            Event::Engine { generation, thread, epoch } if generation == self.generation => {
                match self.engine.due(thread, epoch) {
                    Due::Current(event) => {
                        // Requests are never duplicated: their keys are unique by contract.
                        let duplicate = self.rng.faults.f64() < self.active.engine_duplicate;
                        if duplicate && !crate::engine::is_request(&event) {
                            let again = event.clone();
                            self.feed(Input::Engine { thread_id: thread, event })?;
                            self.feed(Input::Engine { thread_id: thread, event: again })?;
                        } else {
                            self.feed(Input::Engine { thread_id: thread, event })?;
                        }
                    }
                    // Cancelled by an interrupt; sometimes it was already in flight.
                    Due::Stale(event) if self.rng.faults.f64() < self.active.stale_engine => {
                        self.feed(Input::Engine { thread_id: thread, event })?;
                    }
                    _ => {}
                }
            }
            Event::Engine { .. } => {}
            Event::Answer { generation, client, conn, id } => {
                let c = &self.clients[client];
                if generation == self.generation
                    && c.conn == Some(conn)
                    && c.server_requests.contains_key(&id)
                {
                    let reply = self.calm_reply();
                    let pick = self.rng.clients.u8(..);
                    for text in self.clients[client].answer(id, reply, pick) {
                        self.coverage.answers += 1;
                        self.feed(Input::Frame { conn, text })?;
                    }
                }
            }
            Event::Storage { generation, result, first } => {
                if generation == self.generation {
                    if first {
                        self.storage.answered(crate::storage::thread_of(&result));
                    }
                    self.feed(Input::Storage(result))?;
                }
            }
        }
        Ok(true)
    }

    /// Moves the clock to `t`, feeding `Tick` at every idle-unload deadline on the way.
    fn advance_to(&mut self, t: u64) -> Result<(), Box<Failure>> {
        while let Some(deadline) = self.machine.poll_timeout() {
            if deadline.0 > t {
                break;
            }
            self.now = self.now.max(deadline.0);
            self.feed(Input::Tick)?;
            if self.machine.poll_timeout() == Some(deadline) {
                return Err(self.failure(Violation::new(
                    "liveness-deadline-cleared-by-tick",
                    format!("poll_timeout still returns {deadline} after Tick at that time"),
                )));
            }
        }
        self.now = self.now.max(t);
        Ok(())
    }

    /// Feeds one input to the machine with the oracle watching, and carries out the outputs.
    fn feed(&mut self, input: Input) -> Result<(), Box<Failure>> {
        let now = Timestamp(self.now);
        if let Err(v) = self.oracle.observe_input(now, &input) {
            return Err(self.failure(v));
        }
        self.trace.input(self.now, &input, self.oracle.last_input_summary());
        match &input {
            Input::Engine { event, .. } => match event {
                EngineEvent::TurnCompleted { .. } => self.coverage.turns_completed += 1,
                EngineEvent::TurnAborted { .. } => self.coverage.turns_interrupted += 1,
                EngineEvent::TurnFailed { .. } => self.coverage.turns_failed += 1,
                EngineEvent::Request { .. } => self.coverage.engine_requests += 1,
                EngineEvent::NetworkAttempt { .. } => self.coverage.network_attempts += 1,
                _ => {}
            },
            Input::Storage(r) => match r {
                StorageResult::Loaded { .. } => self.coverage.loads_loaded += 1,
                StorageResult::NotFound { .. } => self.coverage.loads_not_found += 1,
                _ => self.coverage.loads_failed += 1,
            },
            _ => {}
        }
        if self.opts.record_inputs {
            self.inputs.push((self.generation, now, input.clone()));
        }
        self.machine.handle(now, input);
        self.steps += 1;
        while let Some(out) = self.machine.poll_output() {
            let checked = self.oracle.observe_output(&out);
            if let Output::Send { frame, .. } = &out {
                self.frame_bytes += frame.len() as u64;
            }
            self.trace.output(self.now, &out, self.oracle.last_summary());
            if let Err(v) = checked {
                return Err(self.failure(v));
            }
            self.route(out);
        }
        if let Err(v) = self.oracle.end_step(&self.machine) {
            return Err(self.failure(v));
        }
        Ok(())
    }

    fn route(&mut self, out: Output) {
        match out {
            Output::Send { conn, .. } => {
                let mut request = None;
                if let Some(s) = self.oracle.last_summary() {
                    match s.kind {
                        crate::oracle::scan::Kind::ErrorReply => self.coverage.error_replies += 1,
                        crate::oracle::scan::Kind::Reply if s.status.is_some_and(|st| st.is_active()) => {
                            self.coverage.resumed_mid_turn += 1
                        }
                        crate::oracle::scan::Kind::Request => {
                            if let Some(core_sm::wire::RequestId::Integer(id)) = s.id {
                                request = Some(id);
                                let step = self.steps;
                                let first = *self.request_ids.entry(id).or_insert(step);
                                if first == step {
                                    self.coverage.server_requests_sent += 1;
                                } else {
                                    self.coverage.requests_replayed += 1;
                                }
                            }
                        }
                        crate::oracle::scan::Kind::Notification if s.method() == "serverRequest/resolved" => {
                            self.coverage.resolved_notifications += 1
                        }
                        _ => {}
                    }
                }
                let i = self.clients.iter().position(|c| c.conn == Some(conn));
                if let (Some(i), Some(s)) = (i, self.oracle.last_summary()) {
                    self.clients[i].learn(s);
                    // Faults over, clients answer whatever they receive.
                    if let (Some(id), false) = (request, self.phase == "faults") {
                        self.schedule_answer(i, conn, id);
                    }
                }
            }
            Output::Close { conn } => {
                if let Some(c) = self.clients.iter_mut().find(|c| c.conn == Some(conn)) {
                    c.disconnected();
                    self.remember_closed(conn);
                }
            }
            Output::Engine { thread_id, command } => {
                match &command {
                    EngineCommand::Steer { .. } => self.coverage.steers += 1,
                    EngineCommand::Interrupt { .. } => self.coverage.interrupts += 1,
                    EngineCommand::CloseThread => self.coverage.unloads += 1,
                    EngineCommand::RequestResolved {
                        outcome: core_sm::RequestOutcome::Abandoned, ..
                    } => self.coverage.requests_abandoned += 1,
                    EngineCommand::RequestResolved { .. } => self.coverage.requests_resolved += 1,
                    EngineCommand::NetworkVerdict { verdict, .. } => {
                        if verdict.is_ok() {
                            self.coverage.network_allowed += 1
                        } else {
                            self.coverage.network_denied += 1
                        }
                    }
                    _ => {}
                }
                let planned =
                    self.engine.command(thread_id, &command, self.now, &mut self.rng.engine, &self.active);
                for p in planned {
                    let event =
                        Event::Engine { generation: self.generation, thread: thread_id, epoch: p.epoch };
                    self.schedule(p.at, event);
                }
            }
            Output::Persist { thread_id, record } => {
                match &record {
                    RolloutRecord::SessionMeta(meta) if meta.forked_from_id.is_some() => {
                        self.coverage.forks += 1
                    }
                    RolloutRecord::ThreadArchived => self.coverage.archives += 1,
                    RolloutRecord::ThreadUnarchived => self.coverage.unarchives += 1,
                    _ => {}
                }
                self.storage.append(thread_id, record)
            }
            Output::Load { thread_id } => {
                let answers = self.storage.load(thread_id, &mut self.rng.storage, &self.active);
                for (i, (delay, result)) in answers.into_iter().enumerate() {
                    let event = Event::Storage { generation: self.generation, result, first: i == 0 };
                    self.schedule(self.now + delay, event);
                }
            }
            _ => {}
        }
    }

    /// Faults stop; every client reconnects, initializes and resumes, behaves for a while,
    /// answering every server request it receives; orphaned threads are resumed by a client;
    /// then everything in flight drains (token refreshes nobody answers time out) and the run
    /// must be quiescent.
    fn liveness(&mut self, calm_actions: usize) -> Result<RunStats, Box<Failure>> {
        self.phase = "liveness";
        self.active = self.profile.calm();
        for i in 0..self.clients.len() {
            let client = u8::try_from(i).unwrap_or(0);
            if self.clients[i].conn.is_none() {
                self.apply(&Action::Client { client, op: ClientOp::Connect { reuse: false } })?;
            }
            if !self.clients[i].initialized {
                let op = ClientOp::Initialize { opt_out: 0, experimental: false };
                self.apply(&Action::Client { client, op })?;
            }
            self.apply(&Action::Client { client, op: ClientOp::ResumeAll })?;
            // What it still holds from before, it answers now.
            let held: Vec<i64> = self.clients[i].server_requests.keys().copied().collect();
            if let Some(conn) = self.clients[i].conn {
                for id in held {
                    self.schedule_answer(i, conn, id);
                }
            }
        }
        for _ in 0..calm_actions {
            let action = actions::draw(&mut self.rng.driver, &self.active, &self.clients, self.queue.len());
            self.apply(&action)?;
        }
        self.phase = "drain";
        self.adopt_orphans()?;
        let bound = self.steps + LIVENESS_STEP_BOUND;
        loop {
            if self.steps > bound {
                return Err(self.liveness_failure("the event queue did not drain"));
            }
            if self.deliver_next()? {
                continue;
            }
            // Nothing scheduled: a token refresh nobody answers still waits for its timeout.
            match self.machine.poll_timeout() {
                Some(deadline) if deadline.0 <= self.now + AUTH_REFRESH_WAIT_MS => {
                    self.advance_to(deadline.0)?
                }
                _ => break,
            }
        }
        // Let idle threads unload too, then check nothing is left.
        self.advance_to(self.now + 2 * self.active.unload_delay_ms + 1)?;
        if let Err(v) = self.oracle.check_quiescent(&self.machine) {
            return Err(self.failure(v));
        }
        if let Some((thread, turn)) = self.engine.busy().first() {
            return Err(
                self.liveness_failure(&format!("the engine still runs turn {turn} of thread {thread}"))
            );
        }
        if let Some(thread) = self.storage.pending().first() {
            return Err(self.liveness_failure(&format!("load of thread {thread} never answered")));
        }
        // Shutting down closes every connection and thread, with the oracle watching.
        self.feed(Input::Shutdown)?;
        let (open, loaded) = (self.machine.connections(), self.machine.loaded_threads());
        if !open.is_empty() || !loaded.is_empty() {
            return Err(self.failure(Violation::new(
                "liveness-shutdown",
                format!("after Shutdown, connections {open:?} and threads {loaded:?} remain"),
            )));
        }
        Ok(RunStats {
            steps: self.steps,
            trace_hash: self.trace.hash(),
            virtual_ms: self.now - EPOCH_MS,
            frame_bytes: self.frame_bytes,
            coverage: Coverage { archived_mid_turn: self.oracle.archived_mid_turn(), ..self.coverage },
        })
    }

    /// Before the final drain, a client resumes every thread that has pending requests or a
    /// turn in the engine but no subscriber (its client unsubscribed or never came back), as
    /// a user opening the app would: the replays reach it and it answers them.
    fn adopt_orphans(&mut self) -> Result<(), Box<Failure>> {
        let mut threads: BTreeSet<core_sm::ThreadId> =
            self.machine.pending_requests().into_iter().map(|(_, t)| t).collect();
        threads.extend(self.engine.busy().into_iter().map(|(t, _)| t));
        let Some(i) = self.clients.iter().position(|c| c.conn.is_some() && c.initialized) else {
            return Ok(());
        };
        let conn = self.clients[i].conn.expect("connected");
        // Subscriptions as the frames show them (what the clients can know).
        let subscribed: BTreeSet<core_sm::ThreadId> =
            self.oracle.subscriptions().into_values().flatten().collect();
        for t in threads {
            let loaded = self.machine.thread_status(t) != core_sm::wire::ThreadStatus::NotLoaded;
            if loaded && !subscribed.contains(&t) {
                let id = self.next_request;
                self.next_request += 1;
                self.clients[i].outstanding.insert(id, ("thread/resume", Some(t)));
                let text = format!(r#"{{"id":{id},"method":"thread/resume","params":{{"threadId":"{t}"}}}}"#);
                self.feed(Input::Frame { conn, text })?;
            }
        }
        Ok(())
    }

    fn liveness_failure(&self, what: &str) -> Box<Failure> {
        let mut detail = what.to_owned();
        let pending = self.oracle.pending();
        if !pending.is_empty() {
            detail.push_str(&format!("; unanswered: {}", pending.join(", ")));
        }
        let requests = self.oracle.pending_server_requests();
        if !requests.is_empty() {
            detail.push_str(&format!("; pending: {}", requests.join(", ")));
        }
        self.failure(Violation::new("liveness", detail))
    }

    fn failure(&self, v: Violation) -> Box<Failure> {
        Box::new(Failure {
            seed: self.seed,
            invariant: v.invariant.to_owned(),
            detail: v.detail,
            phase: self.phase,
            step: self.steps,
            virtual_ms: self.now - EPOCH_MS,
            profile: self.profile.to_string(),
            trace_tail: self.trace.lines().iter().rev().take(60).rev().cloned().collect(),
        })
    }
}
