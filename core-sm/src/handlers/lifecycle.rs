//! Thread lifecycle outside requests: storage answers, idle unload, disconnects, persistence.

use crate::engine::EngineCommand;
use crate::history::{rebuild, RolloutRecord};
use crate::ids::{ConnectionId, ThreadId};
use crate::io::{Output, StorageResult};
use crate::machine::Machine;
use crate::thread::{History, ThreadState};
use crate::time::Timestamp;
use crate::wire::notifications::{ThreadClosed, ThreadStatusChanged};
use crate::wire::views::FinishedTurn;
use crate::wire::{codes, ApprovalsReviewer, ErrorObject, ThreadStatus};

use super::threads::Parked;

/// The error for a request on a thread storage could not produce: `no <kind>rollout found for
/// thread id <id>` when there is none, an internal error `error <doing> thread: …` when loading
/// failed.
fn not_stored(thread_id: ThreadId, kind: &str, doing: &str, failure: &Option<String>) -> ErrorObject {
    match failure {
        None => ErrorObject::invalid_request(format!("no {kind}rollout found for thread id {thread_id}")),
        Some(m) => ErrorObject {
            code: codes::INTERNAL_ERROR,
            message: format!("error {doing} thread: {m}"),
            data: None,
        },
    }
}

impl Machine {
    /// Appends a record to the thread's rollout, if it has one (non-ephemeral, materialized).
    pub(crate) fn persist(&mut self, thread_id: ThreadId, record: RolloutRecord) {
        if self.persists(thread_id) {
            self.outputs.push_back(Output::Persist { thread_id, record });
        }
    }

    /// Whether the thread has a rollout to append to (so a record is worth building).
    pub(crate) fn persists(&self, thread_id: ThreadId) -> bool {
        self.threads.get(&thread_id).is_some_and(|t| !t.ephemeral && t.materialized)
    }

    pub(crate) fn handle_storage(&mut self, result: StorageResult) {
        let (thread_id, outcome) = match result {
            StorageResult::Loaded { thread_id, records } => (thread_id, Ok(records)),
            StorageResult::NotFound { thread_id } => (thread_id, Err(None)),
            StorageResult::Failed { thread_id, message } => (thread_id, Err(Some(message))),
        };
        let Some(parked) = self.awaiting_load.remove(&thread_id) else {
            tracing::warn!(%thread_id, "storage answered a load nobody asked for; ignored");
            return;
        };
        let outcome = outcome.and_then(|records| match rebuild(&records) {
            Ok(stored) if stored.meta.id == thread_id => Ok(stored),
            Ok(_) => Err(Some("rollout belongs to another thread".to_owned())),
            Err(e) => Err(Some(e.to_string())),
        });
        match outcome {
            Ok(stored) if !self.threads.contains_key(&thread_id) => {
                let mut settings = crate::engine::ThreadSettings::defaults(&self.config);
                settings.model = stored.meta.model.clone();
                settings.model_provider = stored.meta.model_provider.clone();
                settings.cwd = stored.meta.cwd.clone();
                let state = ThreadState {
                    id: thread_id,
                    created_at: Timestamp(stored.meta.created_at_ms),
                    updated_at: Timestamp(stored.updated_at_ms),
                    preview: stored.meta.preview.clone(),
                    name: stored.name.clone(),
                    ephemeral: false,
                    originator: stored.meta.originator.clone(),
                    settings,
                    approvals_reviewer: ApprovalsReviewer::User,
                    materialized: true,
                    archived: stored.archived,
                    forked_from: stored.meta.forked_from_id,
                    turns: self.history_of(&stored.turns),
                    live: None,
                };
                self.threads.insert(thread_id, state);
            }
            Ok(_) => {}
            Err(failure) => {
                if let Some(message) = &failure {
                    tracing::warn!(%thread_id, %message, "loading a stored thread failed");
                }
                for p in parked {
                    let (conn, id, error) = match p {
                        Parked::Resume { conn, id, .. } => {
                            let error = match &failure {
                                None => ErrorObject::invalid_request(format!(
                                    "no rollout found for thread id {thread_id}"
                                )),
                                Some(m) => ErrorObject {
                                    code: codes::INTERNAL_ERROR,
                                    message: format!("error resuming thread: {m}"),
                                    data: None,
                                },
                            };
                            (conn, id, error)
                        }
                        Parked::Read { conn, id, .. } => (
                            conn,
                            id,
                            ErrorObject::invalid_request(format!("thread not loaded: {thread_id}")),
                        ),
                        Parked::Fork { conn, id, .. } => {
                            (conn, id, not_stored(thread_id, "", "forking", &failure))
                        }
                        Parked::Archive { conn, id } => {
                            (conn, id, not_stored(thread_id, "", "archiving", &failure))
                        }
                        Parked::Unarchive { conn, id } => {
                            (conn, id, not_stored(thread_id, "archived ", "unarchiving", &failure))
                        }
                    };
                    self.respond_error(conn, &id, error);
                }
                return;
            }
        }
        for p in parked {
            self.run_parked(thread_id, p);
        }
    }

    /// A stored thread's turns as the machine keeps them (their wire JSON).
    fn history_of(&self, turns: &[crate::wire::Turn]) -> History {
        let mut history = History::default();
        for turn in turns {
            history.push(FinishedTurn { id: turn.id, json: self.encoder.raw(turn) });
        }
        history
    }

    /// Unloads every thread whose idle deadline has passed: `notLoaded`, then `thread/closed`.
    pub(crate) fn handle_timeout(&mut self) {
        let delay = self.config.thread_unload_delay_ms;
        let now = self.now;
        let due: Vec<ThreadId> = self
            .threads
            .values()
            .filter(|t| t.live.as_ref().and_then(|l| l.unload_deadline(delay)).is_some_and(|d| d <= now))
            .map(|t| t.id)
            .collect();
        self.expire_requests(now);
        for thread_id in due {
            self.drop_thread_requests(thread_id);
            if let Some(t) = self.threads.get_mut(&thread_id) {
                t.live = None;
            }
            self.outputs.push_back(Output::Engine { thread_id, command: EngineCommand::CloseThread });
            self.broadcast(&ThreadStatusChanged { thread_id, status: ThreadStatus::NotLoaded });
            self.broadcast(&ThreadClosed { thread_id });
        }
    }

    /// Forgets a closed connection: it leaves every subscriber set; its threads keep running.
    pub(crate) fn detach_connection(&mut self, conn: ConnectionId) {
        #[cfg(feature = "inject-bugs")]
        if self.config.injected_bug == Some(crate::InjectedBug::LeakSubscriptionOnClose) {
            return;
        }
        let now = self.now;
        // Everything addressed to the connection goes with it: a later connection may reuse the
        // id and must not receive replies or requests meant for this one.
        self.pending.forget_connection(conn);
        for parked in self.awaiting_load.values_mut() {
            parked.retain(|p| p.conn() != conn);
        }
        for live in self.threads.values_mut().filter_map(|t| t.live.as_mut()) {
            if live.subscribers.remove(&conn) && live.subscribers.is_empty() {
                live.idle_since = now;
            }
            if let Some(active) = live.active.as_mut() {
                active.interrupters.retain(|(c, _)| *c != conn);
            }
        }
    }
}
