//! Who receives what: the requester, a thread's subscribers, every initialized connection,
//! always minus each connection's notification opt-outs. Frames are serialized once, lazily,
//! and shared among recipients.

use serde::Serialize;

use crate::ids::{ConnectionId, ThreadId};
use crate::io::Output;
use crate::machine::Machine;
use crate::wire::notifications::Notification;
use crate::wire::{encode_error, encode_notification, encode_result, ErrorObject, Frame, RequestId};

impl Machine {
    fn push_send(&mut self, conn: ConnectionId, frame: Frame) {
        self.outputs.push_back(Output::Send { conn, frame });
    }

    /// A success response, to the requester only (if it is still connected).
    pub(crate) fn respond<R: Serialize>(&mut self, conn: ConnectionId, id: &RequestId, result: &R) {
        if self.connections.contains_key(&conn) {
            let frame = encode_result(id, result);
            self.push_send(conn, frame);
        }
    }

    /// An error response, to the requester only.
    pub(crate) fn respond_error(&mut self, conn: ConnectionId, id: &RequestId, error: ErrorObject) {
        tracing::debug!(%conn, %id, code = error.code, message = %error.message, "request failed");
        if self.connections.contains_key(&conn) {
            let frame = encode_error(id, &error);
            self.push_send(conn, frame);
        }
    }

    /// Sends a notification to the given connections that want it, serializing at most once.
    fn notify_each<N: Notification>(&mut self, recipients: Vec<ConnectionId>, params: &N) {
        let mut frame: Option<Frame> = None;
        for conn in recipients {
            let Some(c) = self.connections.get(&conn) else {
                continue;
            };
            if !c.wants(N::METHOD) {
                continue;
            }
            let frame = frame
                .get_or_insert_with(|| encode_notification(N::METHOD, params, self.now.millis()))
                .clone();
            self.push_send(conn, frame);
        }
    }

    /// A notification for one connection (e.g. the requester of a resume).
    pub(crate) fn notify_one<N: Notification>(&mut self, conn: ConnectionId, params: &N) {
        self.notify_each(vec![conn], params);
    }

    /// A notification for every initialized connection.
    pub(crate) fn broadcast<N: Notification>(&mut self, params: &N) {
        let recipients =
            self.connections.iter().filter(|(_, c)| c.is_initialized()).map(|(id, _)| *id).collect();
        self.notify_each(recipients, params);
    }

    /// A notification for the thread's current subscribers.
    pub(crate) fn notify_subscribers<N: Notification>(&mut self, thread_id: ThreadId, params: &N) {
        let recipients = self.subscribers(thread_id);
        self.notify_each(recipients, params);
    }

    /// The thread's current subscribers, ascending.
    pub(crate) fn subscribers(&self, thread_id: ThreadId) -> Vec<ConnectionId> {
        self.threads
            .get(&thread_id)
            .and_then(|t| t.live.as_ref())
            .map(|l| l.subscribers.iter().copied().collect())
            .unwrap_or_default()
    }
}
