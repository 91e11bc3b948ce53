//! `thread/archive` and `thread/unarchive` (PROTOCOL.md §7.4).
//!
//! Archiving needs a rollout (`no rollout found for thread id <id>` for an unknown, ephemeral,
//! unmaterialized or already archived thread). A loaded thread is torn down first: its pending
//! server requests are dropped without `serverRequest/resolved`, every subscription ends, the
//! engine is closed and `thread/status/changed {notLoaded}` goes to everyone. A running turn
//! ends as interrupted in the history (its interrupters are answered) but no `turn/completed`
//! is sent: nobody is subscribed any more. Then the response `{}`, then `thread/archived` to
//! everyone; there is no `thread/closed`. An archived thread is hidden from `thread/list` unless
//! `archived: true`, and `thread/resume` refuses it.
//!
//! Unarchiving needs an archived thread (`no archived rollout found for thread id <id>`); the
//! response carries the thread (`notLoaded`), then `thread/unarchived` goes to everyone.

use crate::engine::EngineCommand;
use crate::history::RolloutRecord;
use crate::ids::{ConnectionId, ThreadId};
use crate::io::Output;
use crate::machine::Machine;
use crate::thread::TurnEnd;
use crate::wire::notifications::{ThreadArchived, ThreadStatusChanged, ThreadUnarchived};
use crate::wire::requests::{EmptyResponse, ThreadIdParams};
use crate::wire::views::{FinishedTurn, ThreadResponseView};
use crate::wire::{ErrorObject, RequestId, ThreadStatus, TurnStatus};

use super::parse_thread_id;
use super::threads::Parked;

impl Machine {
    pub(crate) fn handle_thread_archive(&mut self, conn: ConnectionId, id: RequestId, p: ThreadIdParams) {
        let thread_id = match parse_thread_id(&p.thread_id, "session") {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        self.on_thread(thread_id, Parked::Archive { conn, id });
    }

    pub(crate) fn handle_thread_unarchive(&mut self, conn: ConnectionId, id: RequestId, p: ThreadIdParams) {
        let thread_id = match parse_thread_id(&p.thread_id, "session") {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        self.on_thread(thread_id, Parked::Unarchive { conn, id });
    }

    /// Archives a thread the machine holds.
    pub(crate) fn archive_known(&mut self, conn: ConnectionId, id: RequestId, thread_id: ThreadId) {
        let Some(state) = self.threads.get(&thread_id) else {
            return;
        };
        if state.ephemeral || !state.materialized || state.archived {
            let error = ErrorObject::invalid_request(format!("no rollout found for thread id {thread_id}"));
            return self.respond_error(conn, &id, error);
        }
        if state.live.is_some() {
            self.tear_down(thread_id);
        }
        let now = self.now;
        if let Some(state) = self.threads.get_mut(&thread_id) {
            state.archived = true;
            state.updated_at = now;
        }
        self.persist(thread_id, RolloutRecord::ThreadArchived);
        self.respond(conn, &id, &EmptyResponse {});
        self.broadcast(&ThreadArchived { thread_id });
    }

    /// Unarchives a thread the machine holds.
    pub(crate) fn unarchive_known(&mut self, conn: ConnectionId, id: RequestId, thread_id: ThreadId) {
        let now = self.now;
        let Some(state) = self.threads.get_mut(&thread_id).filter(|t| t.archived) else {
            let error =
                ErrorObject::invalid_request(format!("no archived rollout found for thread id {thread_id}"));
            return self.respond_error(conn, &id, error);
        };
        state.archived = false;
        state.updated_at = now;
        self.persist(thread_id, RolloutRecord::ThreadUnarchived);
        if self.connections.contains_key(&conn) {
            let state = &self.threads[&thread_id];
            let status = state.status(self.pending.flags(thread_id));
            let view = ThreadResponseView { thread: state.view(status, false, &self.config.server_version) };
            let frame = self.encoder.result(&id, &view);
            self.send_response(conn, frame);
        }
        self.broadcast(&ThreadUnarchived { thread_id });
    }

    /// Shuts a loaded thread down for archiving: requests dropped silently, a running turn
    /// ended as interrupted without `turn/completed`, subscriptions ended, engine closed,
    /// `notLoaded` announced.
    fn tear_down(&mut self, thread_id: ThreadId) {
        self.drop_thread_requests(thread_id);
        let now = self.now;
        let Some(state) = self.threads.get_mut(&thread_id) else {
            return;
        };
        let Some(live) = state.live.take() else {
            return;
        };
        let mut ended = None;
        let mut interrupters = Vec::new();
        if let Some(mut active) = live.active {
            interrupters = std::mem::take(&mut active.interrupters);
            #[cfg(feature = "inject-bugs")]
            if self.config.injected_bug == Some(crate::InjectedBug::ArchiveForgetsUnstartedInterrupters)
                && active.started_at.is_none()
            {
                interrupters.clear();
            }
            // A turn the engine never started leaves nothing in the history.
            if active.started_at.is_some() {
                for index in active.open_items() {
                    active.items[index].body.settle_abandoned();
                }
                let end = TurnEnd { status: TurnStatus::Interrupted, error: None, completed_at: now };
                ended = Some(RolloutRecord::TurnEnded {
                    turn_id: active.id,
                    status: end.status,
                    error: None,
                    completed_at: now.secs(),
                    duration_ms: active.duration_ms(&end),
                });
                let json = self.encoder.raw(&active.finished_view(&end));
                state.turns.push(FinishedTurn { id: active.id, json });
            }
        }
        if let Some(record) = ended {
            self.persist(thread_id, record);
        }
        for (conn, id) in interrupters {
            self.respond(conn, &id, &EmptyResponse {});
        }
        self.outputs.push_back(Output::Engine { thread_id, command: EngineCommand::CloseThread });
        self.broadcast(&ThreadStatusChanged { thread_id, status: ThreadStatus::NotLoaded });
    }
}
