//! Running scripts: one task per thread executes its turns' steps in order and reacts to the
//! machine's commands while a turn runs (steer, interrupt, close).

use std::sync::Arc;

use core_sm::wire::TokenUsageBreakdown;
use core_sm::{EngineCommand, EngineEvent, ThreadId, TurnId};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Duration, Instant};

use super::scenario::Scenario;
use super::script::{script_for_turn, Script, Step, TurnContext};
use crate::engine::EventSender;

/// Why a running turn stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Interrupted: `TurnAborted` was reported; the thread goes on.
    Aborted,
    /// The thread was closed or the machine is gone: stop the thread's task.
    Closed,
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
                self.control(command, script)?;
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
                                Some(command) => self.control(command, script)?,
                                None => return Err(Stop::Closed),
                            },
                        }
                    }
                }
            }
        }
    }

    /// A command that arrived while a turn runs.
    fn control(&mut self, command: EngineCommand, script: &mut Script) -> Result<(), Stop> {
        let current = |turn_id: TurnId| turn_id == script.turn_id;
        match command {
            EngineCommand::Interrupt { turn_id } if current(turn_id) => Err(Stop::Aborted),
            EngineCommand::Steer { turn_id, input } if current(turn_id) => {
                script.steer(&input);
                Ok(())
            }
            EngineCommand::CloseThread => Err(Stop::Closed),
            EngineCommand::OpenThread { settings } => {
                self.cwd = settings.cwd;
                Ok(())
            }
            other => {
                tracing::warn!(thread_id = %self.thread_id, ?other, "command does not fit the running turn; ignored");
                Ok(())
            }
        }
    }

    async fn emit(&self, event: EngineEvent) -> Result<(), Stop> {
        self.events.send((self.thread_id, event)).await.map_err(|_| Stop::Closed)
    }
}
