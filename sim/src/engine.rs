//! The fake engine: turns each [`EngineCommand`] into a script of [`EngineEvent`]s with random
//! delays. Each thread's script lives here, in order; the world's queue only holds timed
//! slots, each delivering the thread's next event, so a thread's events keep their order
//! whatever the delays while threads interleave freely. Interrupts replace the rest of a
//! script, steers add to it.
//!
//! Turns sometimes make server requests ([`EngineEvent::Request`] of every
//! [`EngineRequest`] kind) and network attempts ([`EngineEvent::NetworkAttempt`], from a
//! small destination pool so duplicates and concurrent same-destination attempts happen).
//! Like a real engine, a turn then waits: the script pauses until every request it waits on
//! is resolved ([`EngineCommand::RequestResolved`] / [`EngineCommand::NetworkVerdict`]), and
//! the outcome decides what follows (an accepted command runs and completes its item, a
//! declined one does not, a `cancel` waits for the machine's `Interrupt`). Slots that come
//! due while paused are owed and handed out again on resumption. Requests never hang the
//! engine: a turn that ends while they wait has them resolved `Abandoned` by the machine.

use std::collections::{BTreeMap, VecDeque};

use core_sm::wire::server_requests::{
    CommandDecision, FileChangeDecision, FileSystemPermissions, NetworkPermissions, NetworkPolicyAction,
    NetworkProtocol, PermissionProfile, UserInputOption, UserInputQuestion,
};
use core_sm::wire::{
    CommandExecutionSource, CommandExecutionStatus, FileUpdateChange, ItemBody, PatchApplyStatus,
    PatchChangeKind, ThreadTokenUsage, TokenUsageBreakdown, TurnError,
};
use core_sm::{
    EngineCommand, EngineEvent, EngineRequest, ItemDelta, ItemKey, RequestKey, RequestOutcome, ThreadId,
    TurnId,
};
use serde_json::json;

use crate::faults::FaultProfile;

/// A slot for the world to schedule: at virtual time `at` (ms), deliver the thread's next
/// event of script generation `epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Delivery time.
    pub at: u64,
    /// The script generation (an interrupt or close bumps it, cancelling the rest).
    pub epoch: u32,
}

/// What a slot delivers when it comes due.
#[derive(Debug)]
pub enum Due {
    /// The next event of the current script.
    Current(EngineEvent),
    /// An event of a cancelled script: deliver it only to simulate one already in flight.
    Stale(EngineEvent),
    /// Nothing (the thread is closed or the cancelled script is used up).
    Nothing,
}

/// What the engine does once a request it made is resolved.
#[derive(Clone, Debug)]
enum Then {
    /// Run the command if allowed. `owns`: no approval id, so the machine settles refusals;
    /// with an approval id the item is the engine's to complete whatever the decision.
    Command { item: ItemKey, owns: bool, command: String },
    /// Apply the patch if allowed (the machine settles refusals).
    Patch { item: ItemKey, changes: Vec<FileUpdateChange> },
    /// Just go on.
    Continue,
}

/// A request or network attempt the engine waits on.
#[derive(Clone, Debug)]
struct Wait {
    /// The turn that made it.
    turn: TurnId,
    /// The turn cannot go on without it (blocking tool calls, approvals).
    holds: bool,
    then: Then,
}

/// One scripted event; a request carries what the engine waits for, and `pause` stops the
/// script after it until every held request of the turn is resolved.
#[derive(Clone, Debug)]
struct Step {
    event: EngineEvent,
    wait: Option<(RequestKey, Wait)>,
    pause: bool,
}

impl Step {
    fn plain(event: EngineEvent) -> Self {
        Self { event, wait: None, pause: false }
    }
}

/// One thread's engine state.
#[derive(Debug, Default)]
struct EngineThread {
    epoch: u32,
    /// Time of the last slot, so new ones come after it.
    last_at: u64,
    /// Events still to deliver, in order.
    script: VecDeque<Step>,
    /// What an interrupt cancelled (for the stale-event fault).
    cancelled: VecDeque<Step>,
    /// The turn being run, until its terminal event is delivered.
    turn: Option<TurnId>,
    /// `TurnStarted` for `turn` was delivered.
    started: bool,
    /// Interrupted already (one abort per turn).
    interrupted: bool,
    /// An `Interrupt` for the turn arrived (even one that came too late to abort it).
    interrupt_seen: bool,
    /// A `cancel` decision came back: the machine's `Interrupt` must follow.
    expect_interrupt: bool,
    /// Next key for items added by steers.
    next_key: u64,
    /// Requests and attempts made and not resolved yet.
    awaiting: BTreeMap<RequestKey, Wait>,
    /// The script waits for held requests.
    paused: bool,
    /// Slots of the current epoch that came due while paused, handed out again on resume.
    owed: usize,
}

impl EngineThread {
    /// Whether the current turn still waits on a held request.
    fn holding(&self) -> bool {
        self.awaiting.values().any(|w| w.holds && Some(w.turn) == self.turn)
    }
}

/// The engines of every open thread.
#[derive(Debug, Default)]
pub struct FakeEngine {
    threads: BTreeMap<ThreadId, EngineThread>,
    /// Request keys are unique across the run (the contract asks per thread).
    next_request: u64,
}

/// Whether an event is a request the engine will wait on (never duplicated by the transport
/// fault: request keys are unique by contract).
pub fn is_request(event: &EngineEvent) -> bool {
    matches!(event, EngineEvent::Request { .. } | EngineEvent::NetworkAttempt { .. })
}

/// Chance, without any fault, that a turn starts late or an interrupt comes too late.
const BASE_LATE: f64 = 0.03;

fn is_end(event: &EngineEvent) -> bool {
    matches!(
        event,
        EngineEvent::TurnCompleted { .. } | EngineEvent::TurnAborted { .. } | EngineEvent::TurnFailed { .. }
    )
}

impl FakeEngine {
    /// Reacts to a command; returns the slots to schedule.
    pub fn command(
        &mut self,
        thread: ThreadId,
        command: &EngineCommand,
        now: u64,
        rng: &mut fastrand::Rng,
        profile: &FaultProfile,
    ) -> Vec<Slot> {
        match command {
            EngineCommand::OpenThread { .. } => {
                let epoch = self.threads.get(&thread).map_or(0, |t| t.epoch + 1);
                self.threads.insert(thread, EngineThread { epoch, last_at: now, ..EngineThread::default() });
                Vec::new()
            }
            EngineCommand::StartTurn { turn_id, .. } => {
                let th = self.threads.entry(thread).or_default();
                th.epoch += 1;
                th.turn = Some(*turn_id);
                th.started = false;
                th.interrupted = false;
                th.interrupt_seen = false;
                th.expect_interrupt = false;
                th.paused = false;
                th.owed = 0;
                th.awaiting.clear();
                th.next_key = 1000;
                th.script.clear();
                th.last_at = th.last_at.max(now);
                let script = plan_turn(*turn_id, rng, &mut self.next_request);
                append(th, now, script, rng, profile)
            }
            EngineCommand::Steer { turn_id, .. } => {
                let Some(th) = self.threads.get_mut(&thread) else {
                    return Vec::new();
                };
                let running = th.turn == Some(*turn_id) && !th.interrupted;
                if !running || !th.script.back().is_some_and(|s| is_end(&s.event)) || rng.bool() {
                    return Vec::new();
                }
                // Answer with one more message before the end. Slots deliver the script in
                // order, so the new events only need new slots at the back.
                let end = th.script.pop_back().expect("checked");
                let key = ItemKey(th.next_key);
                th.next_key += 1;
                let extra = plan_item(*turn_id, key, rng);
                let slots = times(th, now, extra.len(), rng, profile);
                th.script.extend(extra.into_iter().map(Step::plain));
                th.script.push_back(end);
                slots
            }
            EngineCommand::Interrupt { turn_id } => {
                let Some(th) = self.threads.get_mut(&thread) else {
                    return Vec::new();
                };
                if th.turn != Some(*turn_id) || th.interrupted {
                    return Vec::new();
                }
                th.interrupt_seen = true;
                // A turn stopped by a `cancel` always honours the interrupt that follows.
                if !th.expect_interrupt && rng.f64() < BASE_LATE + profile.late_interrupt {
                    // Too late: the turn ends on its own.
                    return Vec::new();
                }
                abort(th, *turn_id, now, rng, profile)
            }
            EngineCommand::RequestResolved { key, outcome } => {
                let Some(th) = self.threads.get_mut(&thread) else {
                    return Vec::new();
                };
                resolved(th, *key, Some(outcome), now, rng, profile)
            }
            EngineCommand::NetworkVerdict { key, .. } => {
                let Some(th) = self.threads.get_mut(&thread) else {
                    return Vec::new();
                };
                resolved(th, *key, None, now, rng, profile)
            }
            EngineCommand::CloseThread => {
                self.threads.remove(&thread);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// A slot of `thread` came due: the event it delivers, updating the engine's view of the
    /// turn when it is current.
    pub fn due(&mut self, thread: ThreadId, epoch: u32) -> Due {
        let Some(th) = self.threads.get_mut(&thread) else {
            return Due::Nothing;
        };
        if th.epoch != epoch {
            return th.cancelled.pop_front().map_or(Due::Nothing, |s| Due::Stale(s.event));
        }
        if th.paused {
            // Waiting on a request: this slot is handed out again when the turn goes on.
            th.owed += 1;
            return Due::Nothing;
        }
        let Some(step) = th.script.pop_front() else {
            return Due::Nothing;
        };
        match &step.event {
            EngineEvent::TurnStarted { .. } => th.started = true,
            e if is_end(e) => {
                th.turn = None;
                th.started = false;
            }
            _ => {}
        }
        if let Some((key, wait)) = step.wait {
            th.awaiting.insert(key, wait);
        }
        if step.pause && th.holding() {
            th.paused = true;
        }
        Due::Current(step.event)
    }

    /// Turns the engine is still running, for the liveness report.
    pub fn busy(&self) -> Vec<(ThreadId, TurnId)> {
        self.threads.iter().filter_map(|(t, th)| th.turn.map(|turn| (*t, turn))).collect()
    }

    /// Forgets every thread (the server restarted).
    pub fn clear(&mut self) {
        self.threads.clear();
    }
}

/// Aborts the running turn: the rest of the script is cancelled, `TurnAborted` follows.
fn abort(
    th: &mut EngineThread,
    turn_id: TurnId,
    now: u64,
    rng: &mut fastrand::Rng,
    profile: &FaultProfile,
) -> Vec<Slot> {
    th.interrupted = true;
    th.expect_interrupt = false;
    th.paused = false;
    th.owed = 0;
    th.awaiting.clear();
    th.epoch += 1;
    th.last_at = now;
    th.cancelled = std::mem::take(&mut th.script);
    let mut script = Vec::new();
    if !th.started && rng.bool() {
        script.push(EngineEvent::TurnStarted { turn_id });
    }
    script.push(EngineEvent::TurnAborted { turn_id });
    append(th, now, script.into_iter().map(Step::plain).collect(), rng, profile)
}

/// Whether a decision lets the command or patch go ahead.
fn proceeds(outcome: Option<&RequestOutcome>) -> Option<bool> {
    match outcome? {
        RequestOutcome::Command(d) => Some(match d {
            CommandDecision::Decline | CommandDecision::Cancel => false,
            CommandDecision::ApplyNetworkPolicyAmendment { network_policy_amendment: a } => {
                a.action == NetworkPolicyAction::Allow
            }
            _ => true,
        }),
        RequestOutcome::FileChange(d) => {
            Some(!matches!(d, FileChangeDecision::Decline | FileChangeDecision::Cancel))
        }
        RequestOutcome::Abandoned => None,
        _ => Some(false),
    }
}

fn is_cancel(outcome: Option<&RequestOutcome>) -> bool {
    matches!(
        outcome,
        Some(
            RequestOutcome::Command(CommandDecision::Cancel)
                | RequestOutcome::FileChange(FileChangeDecision::Cancel)
        )
    )
}

/// A request or attempt of the thread was resolved (`outcome` is `None` for network
/// verdicts): what follows goes to the front of the script, and a paused turn goes on once
/// nothing it holds on is left.
fn resolved(
    th: &mut EngineThread,
    key: RequestKey,
    outcome: Option<&RequestOutcome>,
    now: u64,
    rng: &mut fastrand::Rng,
    profile: &FaultProfile,
) -> Vec<Slot> {
    // Unknown keys: a request of an aborted or earlier turn, or an event delivered stale.
    let Some(wait) = th.awaiting.remove(&key) else {
        return Vec::new();
    };
    let Some(turn_id) = th.turn.filter(|t| *t == wait.turn && !th.interrupted) else {
        return Vec::new();
    };
    if is_cancel(outcome) {
        if th.interrupt_seen {
            // The machine interrupts only once; it already did, and the engine let it pass.
            return abort(th, turn_id, now, rng, profile);
        }
        th.expect_interrupt = true;
        return Vec::new();
    }
    let next: Vec<EngineEvent> = match (wait.then, proceeds(outcome)) {
        // Sub-command approvals of one item: the last one to come back settles it.
        (Then::Command { item, owns: false, .. }, _)
            if th.awaiting.values().any(|w| matches!(w.then, Then::Command { item: i, .. } if i == item)) =>
        {
            Vec::new()
        }
        (Then::Command { item, owns, command }, Some(go)) => {
            let done = |status, exit_code: Option<i32>, output: Option<String>| ItemBody::CommandExecution {
                command: command.clone(),
                cwd: "/repo".into(),
                command_actions: Vec::new(),
                status,
                source: CommandExecutionSource::Agent,
                aggregated_output: output,
                exit_code,
                duration_ms: exit_code.map(|_| 7),
                process_id: None,
            };
            match (go, owns) {
                (true, _) => vec![
                    EngineEvent::ItemDelta {
                        turn_id,
                        key: item,
                        delta: ItemDelta::CommandOutput("ok\n".into()),
                    },
                    EngineEvent::ItemCompleted {
                        turn_id,
                        key: item,
                        body: done(CommandExecutionStatus::Completed, Some(0), Some("ok\n".into())),
                    },
                ],
                // A sub-command approval: the item is the engine's to settle.
                (false, false) => vec![EngineEvent::ItemCompleted {
                    turn_id,
                    key: item,
                    body: done(CommandExecutionStatus::Declined, None, None),
                }],
                (false, true) => Vec::new(),
            }
        }
        (Then::Patch { item, changes }, Some(true)) => vec![EngineEvent::ItemCompleted {
            turn_id,
            key: item,
            body: ItemBody::FileChange { changes, status: PatchApplyStatus::Completed },
        }],
        _ => Vec::new(),
    };
    // Every script event has one slot coming: the new ones need theirs, and a resumed turn
    // gets back the slots that came due while it waited.
    let mut n = next.len();
    for event in next.into_iter().rev() {
        th.script.push_front(Step::plain(event));
    }
    if th.paused && !th.expect_interrupt && !th.holding() {
        th.paused = false;
        n += std::mem::take(&mut th.owed);
    }
    times(th, now, n, rng, profile)
}

/// `n` slot times after the thread's last one.
fn times(
    th: &mut EngineThread,
    now: u64,
    n: usize,
    rng: &mut fastrand::Rng,
    profile: &FaultProfile,
) -> Vec<Slot> {
    let mut at = th.last_at.max(now);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let delay = if rng.f64() < profile.long_engine_delay {
            rng.u64(1000..8000)
        } else if i == 0 && rng.f64() < BASE_LATE + profile.late_turn_start {
            rng.u64(200..3000)
        } else {
            rng.u64(0..25)
        };
        at += delay;
        out.push(Slot { at, epoch: th.epoch });
    }
    th.last_at = at;
    out
}

/// Appends events to the thread's script and returns one slot per event.
fn append(
    th: &mut EngineThread,
    now: u64,
    steps: Vec<Step>,
    rng: &mut fastrand::Rng,
    profile: &FaultProfile,
) -> Vec<Slot> {
    let slots = times(th, now, steps.len(), rng, profile);
    th.script.extend(steps);
    slots
}

fn usage(rng: &mut fastrand::Rng) -> ThreadTokenUsage {
    let n = rng.i64(1..5000);
    let b = TokenUsageBreakdown {
        total_tokens: n,
        input_tokens: n / 2,
        output_tokens: n - n / 2,
        ..TokenUsageBreakdown::default()
    };
    ThreadTokenUsage { total: b, last: b, model_context_window: Some(200_000) }
}

fn error(message: &str) -> TurnError {
    TurnError { message: message.into(), codex_error_info: None, additional_details: None }
}

/// One item's events: start, deltas, completion (some dropped to exercise the machine's
/// handling of unannounced and abandoned items).
fn plan_item(turn_id: TurnId, key: ItemKey, rng: &mut fastrand::Rng) -> VecDeque<EngineEvent> {
    let deltas = rng.usize(0..5);
    let pieces: Vec<String> = (0..deltas).map(|i| format!("w{i} ")).collect();
    let text: String = pieces.concat();
    let (start, delta, done): (ItemBody, fn(String) -> ItemDelta, ItemBody) = match rng.u8(..10) {
        0..=5 => (
            ItemBody::AgentMessage { text: String::new(), phase: None },
            ItemDelta::AgentMessage,
            ItemBody::AgentMessage { text: text.clone(), phase: Some("final_answer".into()) },
        ),
        6..=7 => (
            ItemBody::Reasoning { summary: Vec::new(), content: Vec::new() },
            |text| ItemDelta::ReasoningSummary { index: 0, text },
            ItemBody::Reasoning { summary: vec![text.clone()], content: Vec::new() },
        ),
        _ => {
            let ok = rng.u8(..4) != 0;
            let command = |status, exit_code, output: Option<String>| ItemBody::CommandExecution {
                command: "ls -la".into(),
                cwd: "/tmp".into(),
                command_actions: Vec::new(),
                status,
                source: CommandExecutionSource::Agent,
                aggregated_output: output,
                exit_code,
                duration_ms: exit_code.map(|_| 12),
                process_id: None,
            };
            (
                command(CommandExecutionStatus::InProgress, None, None),
                ItemDelta::CommandOutput,
                command(
                    if ok { CommandExecutionStatus::Completed } else { CommandExecutionStatus::Failed },
                    Some(if ok { 0 } else { 1 }),
                    Some(text.clone()),
                ),
            )
        }
    };
    let mut events = VecDeque::new();
    let announce = rng.u8(..20) != 0;
    if announce {
        events.push_back(EngineEvent::ItemStarted { turn_id, key, body: start });
        if matches!(done, ItemBody::Reasoning { .. }) {
            events.push_back(EngineEvent::ItemDelta {
                turn_id,
                key,
                delta: ItemDelta::ReasoningSummaryPartAdded { index: 0 },
            });
        }
        for p in pieces {
            events.push_back(EngineEvent::ItemDelta { turn_id, key, delta: delta(p) });
        }
    }
    // Occasionally abandoned: the turn's end must settle it.
    if !announce || rng.u8(..20) != 0 {
        events.push_back(EngineEvent::ItemCompleted { turn_id, key, body: done });
    }
    events
}

/// Commands the engine asks about: few, so `acceptForSession` grants get reused.
const COMMANDS: [&str; 4] = ["cargo test", "ls -la", "rm -rf build", "curl https://example.com"];
/// Files patches touch: few, for the same reason.
const PATHS: [&str; 3] = ["src/lib.rs", "README.md", "Cargo.toml"];
/// Network destinations: few, with a host differing only in case, so prompts get shared.
const DESTINATIONS: [(&str, NetworkProtocol, u16); 5] = [
    ("api.example.com", NetworkProtocol::Https, 443),
    ("API.Example.com", NetworkProtocol::Https, 443),
    ("api.example.com", NetworkProtocol::Http, 80),
    ("pypi.org", NetworkProtocol::Https, 443),
    ("github.com", NetworkProtocol::Socks5Tcp, 22),
];

fn key(next: &mut u64) -> RequestKey {
    *next += 1;
    RequestKey(*next)
}

fn command_body(command: &str) -> ItemBody {
    ItemBody::CommandExecution {
        command: command.into(),
        cwd: "/repo".into(),
        command_actions: Vec::new(),
        status: CommandExecutionStatus::InProgress,
        source: CommandExecutionSource::Agent,
        aggregated_output: None,
        exit_code: None,
        duration_ms: None,
        process_id: None,
    }
}

/// One tool call that needs a client: a request (sometimes after the engine started the
/// item itself), or a burst of network attempts made in parallel. `item` is the item key the
/// call may use.
fn plan_request(turn_id: TurnId, item: ItemKey, rng: &mut fastrand::Rng, next: &mut u64) -> Vec<Step> {
    let mut steps = Vec::new();
    let ask = |request: EngineRequest, k: RequestKey, holds: bool, then: Then| Step {
        event: EngineEvent::Request { turn_id, key: k, request },
        wait: Some((k, Wait { turn: turn_id, holds, then })),
        pause: holds,
    };
    match rng.u8(..100) {
        0..=29 => {
            let command = COMMANDS[rng.usize(..COMMANDS.len())];
            if rng.u8(..3) == 0 {
                steps.push(Step::plain(EngineEvent::ItemStarted {
                    turn_id,
                    key: item,
                    body: command_body(command),
                }));
            }
            // Sub-command approvals (with approval ids) come one or two at a time for one item.
            let subs = match rng.u8(..12) {
                0 => 2,
                1 | 2 => 1,
                _ => 0,
            };
            for i in 0..subs.max(1) {
                let k = key(next);
                let approval_id = (subs > 0).then(|| format!("sub-{}", k.0));
                let request = EngineRequest::CommandApproval {
                    item,
                    approval_id,
                    command: command.into(),
                    cwd: "/repo".into(),
                    command_actions: Vec::new(),
                    reason: Some("needs approval".into()),
                    available_decisions: None,
                    proposed_execpolicy_amendment: (rng.u8(..3) == 0)
                        .then(|| vec!["cargo".into(), "test".into()]),
                };
                let then = Then::Command { item, owns: subs == 0, command: command.into() };
                let mut step = ask(request, k, true, then);
                step.pause = i + 1 == subs.max(1);
                steps.push(step);
            }
        }
        30..=44 => {
            let changes: Vec<FileUpdateChange> = (0..rng.usize(1..=2))
                .map(|_| FileUpdateChange {
                    path: PATHS[rng.usize(..PATHS.len())].into(),
                    kind: PatchChangeKind::Update { move_path: None },
                    diff: "@@ -1 +1 @@\n-a\n+b\n".into(),
                })
                .collect();
            if rng.u8(..3) == 0 {
                let body =
                    ItemBody::FileChange { changes: changes.clone(), status: PatchApplyStatus::InProgress };
                steps.push(Step::plain(EngineEvent::ItemStarted { turn_id, key: item, body }));
            }
            let k = key(next);
            let request = EngineRequest::FileChangeApproval {
                item,
                changes: changes.clone(),
                reason: None,
                grant_root: rng.bool().then(|| "/repo".into()),
            };
            steps.push(ask(request, k, true, Then::Patch { item, changes }));
        }
        45..=54 => {
            let permissions = PermissionProfile {
                file_system: Some(FileSystemPermissions {
                    read: None,
                    write: Some(vec![PATHS[rng.usize(..PATHS.len())].into()]),
                }),
                network: rng.bool().then_some(NetworkPermissions { enabled: Some(true) }),
            };
            let request = EngineRequest::Permissions { permissions, reason: Some("install deps".into()) };
            steps.push(ask(request, key(next), true, Then::Continue));
        }
        55..=64 => {
            let is_blocking = rng.bool();
            let questions = vec![UserInputQuestion {
                id: "q1".into(),
                header: "Env".into(),
                question: "Which environment?".into(),
                is_other: rng.bool(),
                is_secret: false,
                options: Some(vec![UserInputOption {
                    label: "dev".into(),
                    description: "development".into(),
                }]),
            }];
            let request = EngineRequest::UserInput { questions, is_blocking };
            steps.push(ask(request, key(next), is_blocking, Then::Continue));
        }
        65..=74 => {
            let request = EngineRequest::DynamicToolCall {
                tool: "lookup".into(),
                namespace: rng.bool().then(|| "sim".into()),
                arguments: json!({"q": rng.u8(..10)}),
            };
            steps.push(ask(request, key(next), true, Then::Continue));
        }
        75..=82 => {
            let mut request = serde_json::Map::new();
            request.insert("mode".into(), json!("form"));
            request.insert("message".into(), json!("Log in?"));
            request.insert("requestedSchema".into(), json!({"type": "object", "properties": {}}));
            let request = EngineRequest::Elicitation { server_name: "github".into(), request };
            steps.push(ask(request, key(next), true, Then::Continue));
        }
        83..=85 => {
            let request = EngineRequest::AuthRefresh { previous_account_id: Some("acct-1".into()) };
            steps.push(ask(request, key(next), true, Then::Continue));
        }
        _ => {
            // Parallel tool calls reaching the network: the turn waits for every verdict.
            let n = rng.usize(1..=3);
            for i in 0..n {
                let (host, protocol, port) = DESTINATIONS[rng.usize(..DESTINATIONS.len())];
                let k = key(next);
                steps.push(Step {
                    event: EngineEvent::NetworkAttempt { turn_id, key: k, host: host.into(), protocol, port },
                    wait: Some((k, Wait { turn: turn_id, holds: true, then: Then::Continue })),
                    pause: i + 1 == n,
                });
            }
        }
    }
    steps
}

/// A whole turn: started, items (up to two overlapping), sometimes tool calls that need a
/// client, usage, retries, warnings, end.
fn plan_turn(turn_id: TurnId, rng: &mut fastrand::Rng, next_request: &mut u64) -> Vec<Step> {
    let mut out = vec![EngineEvent::TurnStarted { turn_id }];
    let mut items: VecDeque<VecDeque<EngineEvent>> =
        (0..rng.u64(0..5)).map(|k| plan_item(turn_id, ItemKey(k), rng)).collect();
    while !items.is_empty() {
        let pick = if items.len() > 1 && rng.u8(..3) == 0 { 1 } else { 0 };
        match items[pick].pop_front() {
            Some(e) => out.push(e),
            None => {
                items.remove(pick);
                match rng.u8(..10) {
                    0..=3 => out.push(EngineEvent::TokenUsage { turn_id, usage: usage(rng) }),
                    4 => out.push(EngineEvent::Retrying {
                        turn_id,
                        error: error("stream disconnected; retrying"),
                    }),
                    5 => out.push(EngineEvent::Warning { message: "simulated warning".into() }),
                    _ => {}
                }
            }
        }
    }
    out.push(if rng.u8(..8) == 0 {
        EngineEvent::TurnFailed { turn_id, error: error("simulated model failure") }
    } else {
        EngineEvent::TurnCompleted { turn_id }
    });
    let mut steps: Vec<Step> = out.into_iter().map(Step::plain).collect();
    // Tool calls needing a client, anywhere between the start and the end.
    let calls = match rng.u8(..10) {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    };
    for c in 0..calls {
        let at = rng.usize(1..steps.len());
        let mut call = plan_request(turn_id, ItemKey(500 + 2 * c), rng, next_request);
        if rng.u8(..4) == 0 {
            // Two tool calls in parallel: the turn waits for both.
            let mut first = plan_request(turn_id, ItemKey(501 + 2 * c), rng, next_request);
            for step in &mut first {
                step.pause = false;
            }
            first.append(&mut call);
            call = first;
        }
        steps.splice(at..at, call);
    }
    steps
}
