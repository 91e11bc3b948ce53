//! Server-to-client requests (approvals, user input, dynamic tool calls): invariants 3 and 4.
//!
//! The core does not send server requests yet. This module is the one place to grow when it
//! does; the oracle already routes every hook here:
//!
//! * [`ServerRequests::on_request`]: a request frame reached a connection. Checked today: the
//!   id is an integer and the connection is initialized and subscribed to the request's thread.
//! * [`ServerRequests::on_answer`]: a client answered (`{id, result}` / `{id, error}` input).
//! * [`ServerRequests::on_resolved`]: `serverRequest/resolved` reached a connection.
//! * [`ServerRequests::on_resumed`]: a connection's `thread/resume` succeeded.
//! * [`ServerRequests::end_step`] / [`ServerRequests::quiescent`]: step and end-of-run checks.
//!
//! To fill in (see PROTOCOL.md §11.1):
//!
//! * Invariant 3: every server request is resolved exactly once (answer, turn transition,
//!   teardown); `serverRequest/resolved` follows a real answer or turn-transition cleanup,
//!   never precedes the request, and goes to the thread's current subscribers; the same id
//!   goes to every subscriber at send time; first answer wins; no request stays pending at
//!   quiescence unless its thread has no subscriber.
//! * Invariant 4: after a successful `thread/resume`, every request still pending for that
//!   thread is re-sent to the resuming connection with its original id, ascending, after the
//!   response.

use std::collections::BTreeMap;

use core_sm::{ConnectionId, ThreadId};

use super::scan::Summary;
use super::{inv, Violation};

/// One server request as observed.
#[derive(Debug)]
#[allow(dead_code)] // Read once invariants 3 and 4 are implemented.
struct Sent {
    method: String,
    thread: Option<ThreadId>,
    recipients: Vec<ConnectionId>,
}

/// Book-keeping for server-to-client requests.
#[derive(Debug, Default)]
pub(crate) struct ServerRequests {
    sent: BTreeMap<i64, Sent>,
}

impl ServerRequests {
    /// A request frame reached `conn`, which is initialized and (for thread requests)
    /// subscribed to `s.thread_id` (`subscribed`).
    pub(crate) fn on_request(
        &mut self,
        conn: ConnectionId,
        s: &Summary,
        initialized: bool,
        subscribed: Option<bool>,
    ) -> Result<(), Violation> {
        let Some(core_sm::wire::RequestId::Integer(id)) = s.id else {
            return Err(Violation::new(
                inv::SERVER_REQUEST_ROUTING,
                format!("{conn}: server request {} without an integer id", s.method()),
            ));
        };
        if !initialized || subscribed == Some(false) {
            return Err(Violation::new(
                inv::SERVER_REQUEST_ROUTING,
                format!(
                    "{conn}: server request #{id} {} to a connection that is not initialized or not subscribed",
                    s.method()
                ),
            ));
        }
        self.sent
            .entry(id)
            .or_insert_with(|| Sent {
                method: s.method().to_owned(),
                thread: s.thread_id,
                recipients: Vec::new(),
            })
            .recipients
            .push(conn);
        Ok(())
    }

    /// A client answered server request `id`.
    pub(crate) fn on_answer(&mut self, _conn: ConnectionId, _id: i64) {}

    /// `serverRequest/resolved` reached `conn`.
    pub(crate) fn on_resolved(&mut self, _conn: ConnectionId, _s: &Summary) -> Result<(), Violation> {
        Ok(())
    }

    /// `conn` resumed `thread`; pending requests must be replayed to it (invariant 4).
    pub(crate) fn on_resumed(&mut self, _conn: ConnectionId, _thread: ThreadId) {}

    /// Checks at the end of every machine step.
    pub(crate) fn end_step(&mut self) -> Result<(), Violation> {
        Ok(())
    }

    /// Checks once the run is quiescent.
    pub(crate) fn quiescent(&self) -> Result<(), Violation> {
        Ok(())
    }
}
