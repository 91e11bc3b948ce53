//! The scripted engine: deterministic turns driven by directives in the user's text or by a
//! scenario file. No network, no randomness; the same input always yields the same events.
//!
//! * [`action`]: the vocabulary (directive lines and scenario steps).
//! * [`scenario`]: scenario files.
//! * [`script`]: the pure function from a turn's input to its events ([`script_for_turn`]).
//! * `runner`: one task per thread executing scripts; [`ScriptedEngine`] routes commands to it,
//!   including the machine's answers to the thread's requests (`RequestResolved`,
//!   `NetworkVerdict`), which the running script waits for.
//!
//! The reference for users is `docs/scripted-engine.md`.

pub mod action;
mod runner;
pub mod scenario;
pub mod script;

use std::collections::BTreeMap;
use std::sync::Arc;

use core_sm::{EngineCommand, ThreadId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use action::Action;
pub use scenario::Scenario;
pub use script::{script_for_turn, Script, Step, TurnContext};

use crate::engine::{EngineHost, EventSender};
use runner::ThreadRunner;

struct ThreadTask {
    commands: mpsc::UnboundedSender<EngineCommand>,
    task: JoinHandle<()>,
}

/// The scripted engine host: one task per open thread. Must be used inside a tokio runtime.
pub struct ScriptedEngine {
    scenario: Arc<Scenario>,
    events: EventSender,
    threads: BTreeMap<ThreadId, ThreadTask>,
}

impl ScriptedEngine {
    /// An engine running `scenario` and reporting on `events`.
    pub fn new(scenario: Scenario, events: EventSender) -> Self {
        Self { scenario: Arc::new(scenario), events, threads: BTreeMap::new() }
    }

    /// Number of threads with a running task.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    fn spawn(&self, thread_id: ThreadId) -> ThreadTask {
        let (commands, rx) = mpsc::unbounded_channel();
        let runner = ThreadRunner::new(thread_id, self.scenario.clone(), self.events.clone(), rx);
        ThreadTask { commands, task: tokio::spawn(runner.run()) }
    }
}

impl EngineHost for ScriptedEngine {
    fn command(&mut self, thread_id: ThreadId, command: EngineCommand) {
        if matches!(command, EngineCommand::CloseThread) {
            if let Some(thread) = self.threads.remove(&thread_id) {
                thread.task.abort();
            }
            return;
        }
        let alive = self.threads.get(&thread_id).is_some_and(|t| !t.commands.is_closed());
        if !alive {
            let thread = self.spawn(thread_id);
            self.threads.insert(thread_id, thread);
        }
        if let Some(thread) = self.threads.get(&thread_id) {
            if thread.commands.send(command).is_err() {
                tracing::warn!(%thread_id, "scripted thread task is gone; command dropped");
            }
        }
    }

    fn shutdown(&mut self) {
        for thread in std::mem::take(&mut self.threads).into_values() {
            thread.task.abort();
        }
    }
}

impl Drop for ScriptedEngine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
