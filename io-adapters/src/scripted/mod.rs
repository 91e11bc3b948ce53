//! The scripted engine: deterministic turns driven by directives in the user's text or by a
//! scenario file. No network, no randomness; the same input always yields the same events.
//!
//! * [`action`]: the vocabulary (directive lines and scenario steps).
//! * [`scenario`]: scenario files.
//! * [`script`]: the pure function from a turn's input to its events ([`script_for_turn`]).
//! * `runner`: one task per thread executing scripts; [`ScriptedEngine`] routes commands to it.
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
mod tests {
    use super::*;
    use core_sm::wire::UserInput;
    use core_sm::{EngineEvent, MachineConfig, ThreadSettings, TurnId};
    use std::time::Duration;

    fn ids() -> (ThreadId, TurnId) {
        (
            ThreadId::parse("0190a5b2-0000-7000-8000-000000000001").unwrap(),
            TurnId::parse("0190a5b2-0000-7000-8000-000000000002").unwrap(),
        )
    }

    fn settings() -> ThreadSettings {
        // ThreadSettings is non-exhaustive; take the one a real machine sends.
        let mut machine = core_sm::Machine::new(MachineConfig::new(1));
        let now = core_sm::Timestamp(1_764_000_000_000);
        let conn = core_sm::ConnectionId(0);
        machine.handle(now, core_sm::Input::ConnectionOpened { conn });
        for text in [
            r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"t","version":"1"}}}"#,
            r#"{"id":2,"method":"thread/start","params":{"cwd":"/w"}}"#,
        ] {
            machine.handle(now, core_sm::Input::Frame { conn, text: text.into() });
        }
        while let Some(out) = machine.poll_output() {
            if let core_sm::Output::Engine { command: EngineCommand::OpenThread { settings }, .. } = out {
                return settings;
            }
        }
        panic!("no OpenThread");
    }

    fn start(turn_id: TurnId, text: &str) -> EngineCommand {
        EngineCommand::StartTurn {
            turn_id,
            input: vec![UserInput::Text { text: text.into(), text_elements: Vec::new() }],
            settings: settings(),
        }
    }

    async fn collect_until_end(rx: &mut mpsc::Receiver<(ThreadId, EngineEvent)>) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        loop {
            let (_, event) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("engine went quiet")
                .expect("channel open");
            let end = matches!(
                event,
                EngineEvent::TurnCompleted { .. }
                    | EngineEvent::TurnAborted { .. }
                    | EngineEvent::TurnFailed { .. }
            );
            events.push(event);
            if end {
                return events;
            }
        }
    }

    #[tokio::test]
    async fn runs_a_turn_start_to_end() {
        let (tx, mut rx) = mpsc::channel(128);
        let mut engine = ScriptedEngine::new(Scenario::default(), tx);
        let (thread, turn) = ids();
        engine.command(thread, EngineCommand::OpenThread { settings: settings() });
        engine.command(thread, start(turn, "hi"));
        let events = collect_until_end(&mut rx).await;
        assert!(matches!(events[0], EngineEvent::TurnStarted { .. }));
        assert!(matches!(events[events.len() - 2], EngineEvent::TokenUsage { .. }));
        assert!(matches!(events.last(), Some(EngineEvent::TurnCompleted { .. })));
        assert_eq!(engine.thread_count(), 1);
    }

    #[tokio::test]
    async fn interrupt_cancels_a_sleeping_turn() {
        let (tx, mut rx) = mpsc::channel(128);
        let mut engine = ScriptedEngine::new(Scenario::default(), tx);
        let (thread, turn) = ids();
        engine.command(thread, start(turn, "/sleep 60000\n/message never"));
        let (_, first) = rx.recv().await.unwrap();
        assert_eq!(first, EngineEvent::TurnStarted { turn_id: turn });
        engine.command(thread, EngineCommand::Interrupt { turn_id: turn });
        let rest = collect_until_end(&mut rx).await;
        assert_eq!(rest, vec![EngineEvent::TurnAborted { turn_id: turn }]);
    }

    #[tokio::test]
    async fn steer_adds_a_message_after_the_remaining_steps() {
        let (tx, mut rx) = mpsc::channel(128);
        let mut engine = ScriptedEngine::new(Scenario::default(), tx);
        let (thread, turn) = ids();
        engine.command(thread, start(turn, "/sleep 50\n/warn w"));
        let _ = rx.recv().await.unwrap();
        engine.command(
            thread,
            EngineCommand::Steer {
                turn_id: turn,
                input: vec![UserInput::Text { text: "more".into(), text_elements: Vec::new() }],
            },
        );
        let events = collect_until_end(&mut rx).await;
        assert!(matches!(&events[0], EngineEvent::Warning { message } if message == "w"));
        let texts: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::ItemCompleted {
                    body: core_sm::wire::ItemBody::AgentMessage { text, .. },
                    ..
                } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, vec!["You steered: more"]);
        assert!(matches!(events.last(), Some(EngineEvent::TurnCompleted { .. })));
    }

    #[tokio::test]
    async fn close_thread_drops_its_task() {
        let (tx, mut rx) = mpsc::channel(128);
        let mut engine = ScriptedEngine::new(Scenario::default(), tx);
        let (thread, turn) = ids();
        engine.command(thread, start(turn, "/sleep 60000"));
        let _ = rx.recv().await.unwrap();
        engine.command(thread, EngineCommand::CloseThread);
        assert_eq!(engine.thread_count(), 0);
        let quiet = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await;
        assert!(quiet.is_err(), "closed thread still reported {quiet:?}");
    }
}
