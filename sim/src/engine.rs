//! The fake engine: turns each [`EngineCommand`] into a script of [`EngineEvent`]s with random
//! delays. Each thread's script lives here, in order; the world's queue only holds timed
//! slots, each delivering the thread's next event, so a thread's events keep their order
//! whatever the delays while threads interleave freely. Interrupts replace the rest of a
//! script, steers add to it.

use std::collections::{BTreeMap, VecDeque};

use core_sm::wire::{
    CommandExecutionSource, CommandExecutionStatus, ItemBody, ThreadTokenUsage, TokenUsageBreakdown,
    TurnError,
};
use core_sm::{EngineCommand, EngineEvent, ItemDelta, ItemKey, ThreadId, TurnId};

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

/// One thread's engine state.
#[derive(Debug, Default)]
struct EngineThread {
    epoch: u32,
    /// Time of the last slot, so new ones come after it.
    last_at: u64,
    /// Events still to deliver, in order.
    script: VecDeque<EngineEvent>,
    /// What an interrupt cancelled (for the stale-event fault).
    cancelled: VecDeque<EngineEvent>,
    /// The turn being run, until its terminal event is delivered.
    turn: Option<TurnId>,
    /// `TurnStarted` for `turn` was delivered.
    started: bool,
    /// Interrupted already (one abort per turn).
    interrupted: bool,
    /// Next key for items added by steers.
    next_key: u64,
}

/// The engines of every open thread.
#[derive(Debug, Default)]
pub struct FakeEngine {
    threads: BTreeMap<ThreadId, EngineThread>,
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
                th.next_key = 1000;
                th.script.clear();
                th.last_at = th.last_at.max(now);
                let script = plan_turn(*turn_id, rng);
                append(th, now, script, rng, profile)
            }
            EngineCommand::Steer { turn_id, .. } => {
                let Some(th) = self.threads.get_mut(&thread) else {
                    return Vec::new();
                };
                let running = th.turn == Some(*turn_id) && !th.interrupted;
                if !running || !th.script.back().is_some_and(is_end) || rng.bool() {
                    return Vec::new();
                }
                // Answer with one more message before the end. Slots deliver the script in
                // order, so the new events only need new slots at the back.
                let end = th.script.pop_back().expect("checked");
                let key = ItemKey(th.next_key);
                th.next_key += 1;
                let extra = Vec::from(plan_item(*turn_id, key, rng));
                let slots = times(th, now, extra.len(), rng, profile);
                th.script.extend(extra);
                th.script.push_back(end);
                slots
            }
            EngineCommand::Interrupt { turn_id } => {
                let Some(th) = self.threads.get_mut(&thread) else {
                    return Vec::new();
                };
                if th.turn != Some(*turn_id)
                    || th.interrupted
                    || rng.f64() < BASE_LATE + profile.late_interrupt
                {
                    // Too late or already aborting: the turn ends on its own.
                    return Vec::new();
                }
                th.interrupted = true;
                th.epoch += 1;
                th.last_at = now;
                th.cancelled = std::mem::take(&mut th.script);
                let mut script = Vec::new();
                if !th.started && rng.bool() {
                    script.push(EngineEvent::TurnStarted { turn_id: *turn_id });
                }
                script.push(EngineEvent::TurnAborted { turn_id: *turn_id });
                append(th, now, script, rng, profile)
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
            return th.cancelled.pop_front().map_or(Due::Nothing, Due::Stale);
        }
        let Some(event) = th.script.pop_front() else {
            return Due::Nothing;
        };
        match &event {
            EngineEvent::TurnStarted { .. } => th.started = true,
            e if is_end(e) => {
                th.turn = None;
                th.started = false;
            }
            _ => {}
        }
        Due::Current(event)
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
    events: Vec<EngineEvent>,
    rng: &mut fastrand::Rng,
    profile: &FaultProfile,
) -> Vec<Slot> {
    let slots = times(th, now, events.len(), rng, profile);
    th.script.extend(events);
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

/// A whole turn: started, items (up to two overlapping), usage, retries, warnings, end.
fn plan_turn(turn_id: TurnId, rng: &mut fastrand::Rng) -> Vec<EngineEvent> {
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
    out
}
