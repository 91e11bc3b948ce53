//! Running scripts: one task per thread executes its turns' steps in order and reacts to the
//! machine's commands while a turn runs (steer, interrupt, close, and the answers to the
//! turn's requests).
//!
//! A request step sends its [`EngineEvent::Request`] with a key unique within the thread and
//! then waits for the matching [`EngineCommand::RequestResolved`]; a network step reports all
//! its attempts before waiting for every [`EngineCommand::NetworkVerdict`]. While waiting, an
//! `Interrupt` still aborts the turn, `Steer` still queues a message and `CloseThread` still
//! ends the task. Answers nobody waits for (late, duplicate, foreign) are logged and ignored.

use std::collections::BTreeMap;
use std::sync::Arc;

use core_sm::wire::TokenUsageBreakdown;
use core_sm::{EngineCommand, EngineEvent, EngineRequest, RequestKey, RequestOutcome, ThreadId, TurnId};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Duration, Instant};

use super::scenario::Scenario;
use super::script::{script_for_turn, Attempt, Flow, Script, Step, Then, TurnContext};
use crate::engine::EventSender;

/// Why a running turn stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Interrupted: `TurnAborted` is reported; the thread goes on.
    Aborted,
    /// A request was abandoned because the machine ended the turn: nothing more is reported;
    /// the thread goes on.
    Abandoned,
    /// The thread was closed or the machine is gone: stop the thread's task.
    Closed,
}

/// The machine's answer to one of the engine's requests or network attempts.
#[derive(Debug)]
enum Answer {
    Resolved { key: RequestKey, outcome: RequestOutcome },
    Verdict { key: RequestKey, verdict: Result<(), String> },
}

/// One thread's engine: its turns run here, one at a time.
pub(crate) struct ThreadRunner {
    thread_id: ThreadId,
    scenario: Arc<Scenario>,
    events: EventSender,
    commands: mpsc::UnboundedReceiver<EngineCommand>,
    cwd: String,
    turns_started: u64,
    total: TokenUsageBreakdown,
    /// The next request key; keys are unique within the thread.
    next_request: u64,
}

impl ThreadRunner {
    pub(crate) fn new(
        thread_id: ThreadId,
        scenario: Arc<Scenario>,
        events: EventSender,
        commands: mpsc::UnboundedReceiver<EngineCommand>,
    ) -> Self {
        Self {
            thread_id,
            scenario,
            events,
            commands,
            cwd: String::new(),
            turns_started: 0,
            total: TokenUsageBreakdown::default(),
            next_request: 0,
        }
    }

    /// Handles commands until the thread is closed.
    pub(crate) async fn run(mut self) {
        while let Some(command) = self.commands.recv().await {
            match command {
                EngineCommand::OpenThread { settings } => self.cwd = settings.cwd,
                EngineCommand::StartTurn { turn_id, input, settings } => {
                    self.cwd = settings.cwd;
                    let ctx = TurnContext {
                        turn_id,
                        turn_index: self.turns_started,
                        input: &input,
                        cwd: &self.cwd,
                    };
                    let script = script_for_turn(&ctx, &self.scenario);
                    self.turns_started += 1;
                    if self.run_turn(script).await == Err(Stop::Closed) {
                        return;
                    }
                }
                EngineCommand::CloseThread => return,
                EngineCommand::RequestResolved { key, outcome } => {
                    // Typically `Abandoned` after an interrupt: the turn is already over.
                    tracing::debug!(thread_id = %self.thread_id, ?key, ?outcome, "resolution with no running turn; ignored")
                }
                other => {
                    tracing::debug!(thread_id = %self.thread_id, ?other, "no running turn; command ignored")
                }
            }
        }
    }

    async fn run_turn(&mut self, mut script: Script) -> Result<(), Stop> {
        match self.run_steps(&mut script).await {
            Err(Stop::Aborted) => {
                let turn_id = script.turn_id;
                self.emit(EngineEvent::TurnAborted { turn_id }).await
            }
            Err(Stop::Abandoned) => {
                tracing::debug!(thread_id = %self.thread_id, turn_id = %script.turn_id, "request abandoned; turn stopped");
                Ok(())
            }
            Err(Stop::Closed) => Err(Stop::Closed),
            Ok(()) => {
                for event in script.finish(&mut self.total) {
                    self.emit(event).await?;
                }
                Ok(())
            }
        }
    }

    async fn run_steps(&mut self, script: &mut Script) -> Result<(), Stop> {
        let mut next = 0;
        loop {
            while let Ok(command) = self.commands.try_recv() {
                if let Some(answer) = self.control(command, script)? {
                    self.unexpected(&answer);
                }
            }
            let Some(step) = script.steps.get(next).cloned() else {
                return Ok(());
            };
            next += 1;
            match step {
                Step::Emit(event) => self.emit(event).await?,
                Step::Wait(ms) => {
                    let deadline = Instant::now() + Duration::from_millis(ms);
                    loop {
                        tokio::select! {
                            () = sleep_until(deadline) => break,
                            command = self.commands.recv() => match command {
                                Some(command) => {
                                    if let Some(answer) = self.control(command, script)? {
                                        self.unexpected(&answer);
                                    }
                                }
                                None => return Err(Stop::Closed),
                            },
                        }
                    }
                }
                Step::Ask { request, then } => self.ask(script, request, &then).await?,
                Step::Network(attempts) => self.network(script, &attempts).await?,
            }
        }
    }

    /// Sends a request, waits for its outcome and carries out the script's reaction.
    async fn ask(&mut self, script: &mut Script, request: EngineRequest, then: &Then) -> Result<(), Stop> {
        let key = self.request_key();
        let turn_id = script.turn_id;
        self.emit(EngineEvent::Request { turn_id, key, request }).await?;
        let outcome = loop {
            match self.next_answer(script).await? {
                Answer::Resolved { key: k, outcome } if k == key => break outcome,
                other => self.unexpected(&other),
            }
        };
        let reaction = script.react(then, &outcome);
        for event in reaction.events {
            self.emit(event).await?;
        }
        match reaction.flow {
            Flow::Continue => Ok(()),
            Flow::Stop => Err(Stop::Abandoned),
            // The machine sends `Interrupt` right after a `cancel`; `next_answer` turns it
            // into `Stop::Aborted`.
            Flow::AwaitInterrupt => loop {
                let answer = self.next_answer(script).await?;
                self.unexpected(&answer);
            },
        }
    }

    /// Reports every attempt, then waits for all their verdicts and reports them.
    async fn network(&mut self, script: &mut Script, attempts: &[Attempt]) -> Result<(), Stop> {
        let turn_id = script.turn_id;
        let keys: Vec<RequestKey> = attempts.iter().map(|_| self.request_key()).collect();
        for (key, attempt) in keys.iter().zip(attempts) {
            let event = EngineEvent::NetworkAttempt {
                turn_id,
                key: *key,
                host: attempt.host.clone(),
                protocol: attempt.protocol,
                port: attempt.port,
            };
            self.emit(event).await?;
        }
        let mut verdicts: BTreeMap<RequestKey, Result<(), String>> = BTreeMap::new();
        while verdicts.len() < keys.len() {
            match self.next_answer(script).await? {
                Answer::Verdict { key, verdict } if keys.contains(&key) && !verdicts.contains_key(&key) => {
                    verdicts.insert(key, verdict);
                }
                other => self.unexpected(&other),
            }
        }
        let verdicts: Vec<Result<(), String>> = keys.iter().filter_map(|key| verdicts.remove(key)).collect();
        for event in script.network_report(attempts, &verdicts) {
            self.emit(event).await?;
        }
        Ok(())
    }

    /// Waits for the next answer, handling the other commands that arrive meanwhile.
    async fn next_answer(&mut self, script: &mut Script) -> Result<Answer, Stop> {
        loop {
            let Some(command) = self.commands.recv().await else {
                return Err(Stop::Closed);
            };
            if let Some(answer) = self.control(command, script)? {
                return Ok(answer);
            }
        }
    }

    /// A command that arrived while a turn runs; answers are handed back to the caller.
    fn control(&mut self, command: EngineCommand, script: &mut Script) -> Result<Option<Answer>, Stop> {
        let current = |turn_id: TurnId| turn_id == script.turn_id;
        match command {
            EngineCommand::Interrupt { turn_id } if current(turn_id) => Err(Stop::Aborted),
            EngineCommand::Steer { turn_id, input } if current(turn_id) => {
                script.steer(&input);
                Ok(None)
            }
            EngineCommand::CloseThread => Err(Stop::Closed),
            EngineCommand::OpenThread { settings } => {
                self.cwd = settings.cwd;
                Ok(None)
            }
            EngineCommand::RequestResolved { key, outcome } => Ok(Some(Answer::Resolved { key, outcome })),
            EngineCommand::NetworkVerdict { key, verdict } => Ok(Some(Answer::Verdict { key, verdict })),
            other => {
                tracing::warn!(thread_id = %self.thread_id, ?other, "command does not fit the running turn; ignored");
                Ok(None)
            }
        }
    }

    /// An answer nobody waits for: late, duplicate, or for another request.
    fn unexpected(&self, answer: &Answer) {
        tracing::warn!(thread_id = %self.thread_id, ?answer, "answer matches no waiting request; ignored");
    }

    fn request_key(&mut self) -> RequestKey {
        let key = RequestKey(self.next_request);
        self.next_request += 1;
        key
    }

    async fn emit(&self, event: EngineEvent) -> Result<(), Stop> {
        self.events.send((self.thread_id, event)).await.map_err(|_| Stop::Closed)
    }
}
