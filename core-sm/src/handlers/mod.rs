//! Request handlers and event handlers, one module per concern.

mod archive;
mod events;
mod fork;
mod handshake;
mod lifecycle;
mod requests;
mod resolve;
pub(crate) mod threads;
mod turns;

use crate::ids::ThreadId;
use crate::machine::Machine;
use crate::wire::notifications::ThreadStatusChanged;
use crate::wire::ErrorObject;

/// Parses a thread id the way Codex reports a bad one (`invalid thread id: <uuid error>`).
pub(crate) fn parse_thread_id(raw: &str, what: &str) -> Result<ThreadId, ErrorObject> {
    ThreadId::parse(raw).map_err(|e| ErrorObject::invalid_request(format!("invalid {what} id: {e}")))
}

impl Machine {
    /// Broadcasts `thread/status/changed` if the derived status differs from the one last
    /// announced. Every state change that can move the status calls this at the point where
    /// the protocol wants the notification.
    pub(crate) fn sync_status(&mut self, thread_id: ThreadId) {
        let flags = self.pending.flags(thread_id);
        let Some(live) = self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()) else {
            return;
        };
        let status = live.status(flags);
        if status != live.announced {
            live.announced = status.clone();
            self.broadcast(&ThreadStatusChanged { thread_id, status });
        }
    }
}
