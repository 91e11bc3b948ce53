//! Who receives what: the requester, a thread's subscribers, every initialized connection,
//! always minus each connection's notification opt-outs. Frames are serialized once, only if
//! someone receives them, and shared among recipients.
//!
//! Sending is split in two for frames built from borrowed machine state (a thread's history,
//! an item): encode with `&self` ([`Machine::encode_notification`]), then send with `&mut self`
//! ([`Machine::send_notification`]). Owned payloads use the one-step helpers.

use std::collections::{btree_map, btree_set, BTreeMap};

use serde::Serialize;

use crate::connection::Connection;
use crate::ids::{ConnectionId, ThreadId};
use crate::io::Output;
use crate::machine::Machine;
use crate::thread::ThreadState;
use crate::wire::notifications::Notification;
use crate::wire::{ErrorObject, Frame, RequestId};

/// The recipients of a notification.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Audience {
    /// One connection, if open (e.g. the requester of a resume).
    One(ConnectionId),
    /// A thread's current subscribers.
    Subscribers(ThreadId),
    /// Every initialized connection.
    Everyone,
}

/// The open connections of an [`Audience`], ascending, before opt-outs.
enum Recipients<'a> {
    One(Option<(&'a ConnectionId, &'a Connection)>),
    Subscribers(btree_set::Iter<'a, ConnectionId>, &'a BTreeMap<ConnectionId, Connection>),
    Everyone(btree_map::Iter<'a, ConnectionId, Connection>),
}

impl<'a> Recipients<'a> {
    fn of(
        audience: Audience,
        threads: &'a BTreeMap<ThreadId, ThreadState>,
        connections: &'a BTreeMap<ConnectionId, Connection>,
    ) -> Self {
        match audience {
            Audience::One(conn) => Recipients::One(connections.get_key_value(&conn)),
            Audience::Subscribers(thread_id) => {
                let subscribers =
                    threads.get(&thread_id).and_then(|t| t.live.as_ref()).map(|l| &l.subscribers);
                let none = Recipients::One(None);
                subscribers.map_or(none, |s| Recipients::Subscribers(s.iter(), connections))
            }
            Audience::Everyone => Recipients::Everyone(connections.iter()),
        }
    }
}

impl<'a> Iterator for Recipients<'a> {
    type Item = (ConnectionId, &'a Connection);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Recipients::One(one) => one.take().map(|(id, c)| (*id, c)),
            Recipients::Subscribers(subscribers, connections) => {
                subscribers.find_map(|id| connections.get_key_value(id)).map(|(id, c)| (*id, c))
            }
            Recipients::Everyone(all) => all.find(|(_, c)| c.is_initialized()).map(|(id, c)| (*id, c)),
        }
    }
}

impl Machine {
    fn recipients(&self, audience: Audience) -> Recipients<'_> {
        Recipients::of(audience, &self.threads, &self.connections)
    }

    /// A success response, to the requester only (if it is still connected).
    pub(crate) fn respond<R: Serialize>(&mut self, conn: ConnectionId, id: &RequestId, result: &R) {
        if self.connections.contains_key(&conn) {
            let frame = self.encoder.result(id, result);
            self.send_response(conn, frame);
        }
    }

    /// Sends an encoded response to the requester, if it is still connected.
    pub(crate) fn send_response(&mut self, conn: ConnectionId, frame: Frame) {
        if self.connections.contains_key(&conn) {
            self.outputs.push_back(Output::Send { conn, frame });
        }
    }

    /// An error response, to the requester only.
    pub(crate) fn respond_error(&mut self, conn: ConnectionId, id: &RequestId, error: ErrorObject) {
        tracing::debug!(%conn, %id, code = error.code, message = %error.message, "request failed");
        if self.connections.contains_key(&conn) {
            let frame = self.encoder.error(id, &error);
            self.send_response(conn, frame);
        }
    }

    /// A notification for one connection (e.g. the requester of a resume).
    pub(crate) fn notify_one<N: Notification>(&mut self, conn: ConnectionId, params: &N) {
        self.notify(Audience::One(conn), params);
    }

    /// A notification for every initialized connection.
    pub(crate) fn broadcast<N: Notification>(&mut self, params: &N) {
        self.notify(Audience::Everyone, params);
    }

    /// A notification for the thread's current subscribers.
    pub(crate) fn notify_subscribers<N: Notification>(&mut self, thread_id: ThreadId, params: &N) {
        self.notify(Audience::Subscribers(thread_id), params);
    }

    fn notify<N: Notification>(&mut self, audience: Audience, params: &N) {
        if let Some(frame) = self.encode_notification(audience, params) {
            self.send_notification(audience, N::METHOD, frame);
        }
    }

    /// The notification's frame, or `None` if nobody in the audience receives it.
    pub(crate) fn encode_notification<N: Notification>(
        &self,
        audience: Audience,
        params: &N,
    ) -> Option<Frame> {
        self.encode_notification_as(audience, N::METHOD, params)
    }

    /// [`Self::encode_notification`] for params that serve several methods.
    pub(crate) fn encode_notification_as<P: Serialize>(
        &self,
        audience: Audience,
        method: &str,
        params: &P,
    ) -> Option<Frame> {
        let wanted = self.recipients(audience).any(|(_, c)| c.wants(method));
        wanted.then(|| self.encoder.notification(method, params, self.now.millis()))
    }

    /// Sends an encoded notification to the audience, minus opt-outs of `method`.
    pub(crate) fn send_notification(&mut self, audience: Audience, method: &str, frame: Frame) {
        for (conn, c) in Recipients::of(audience, &self.threads, &self.connections) {
            if c.wants(method) {
                self.outputs.push_back(Output::Send { conn, frame: frame.clone() });
            }
        }
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
