//! Outstanding server-to-client requests, from send to resolution.
//!
//! One table for the whole server: integer ids from one counter starting at 0, each request
//! with its thread, turn and item, the connections it was sent to, and its serialized frame so a
//! replay after `thread/resume` is byte-identical. A request leaves the table exactly once.

use std::collections::{BTreeMap, BTreeSet};

use crate::approvals::Destination;
use crate::engine::RequestKey;
use crate::ids::{ConnectionId, ThreadId};
use crate::thread::ItemSlot;
use crate::time::Timestamp;
use crate::wire::server_requests::PermissionProfile;
use crate::wire::{Frame, ThreadActiveFlag};

/// One outstanding request.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) id: i64,
    pub(crate) thread_id: ThreadId,
    /// The engine's key; `None` for network prompts, which the machine owns.
    pub(crate) engine_key: Option<RequestKey>,
    pub(crate) kind: PendingKind,
    /// The request as sent, replayed verbatim.
    pub(crate) frame: Frame,
    /// Connections that received it (the only ones whose answers count).
    pub(crate) recipients: BTreeSet<ConnectionId>,
    /// When it fails unanswered (auth refresh only).
    pub(crate) deadline: Option<Timestamp>,
}

/// What a request is about, with what its resolution needs.
#[derive(Debug)]
pub(crate) enum PendingKind {
    /// A command approval; `item` is set when the request owns the item's fate (no approval id).
    Command { item: Option<ItemSlot>, command: String },
    /// A managed-network prompt for one destination.
    Network { dest: Destination },
    /// A patch approval.
    FileChange { item: ItemSlot, paths: Vec<String> },
    /// More permissions.
    Permissions { requested: PermissionProfile },
    /// Questions for the user.
    UserInput,
    /// A dynamic tool call; the machine completes the item.
    DynamicTool { item: ItemSlot, started_at: Timestamp },
    /// An MCP elicitation.
    Elicitation,
    /// A ChatGPT token refresh (not thread-scoped).
    AuthRefresh,
}

impl PendingKind {
    /// The JSON-RPC method.
    pub(crate) fn method(&self) -> &'static str {
        match self {
            PendingKind::Command { .. } | PendingKind::Network { .. } => {
                "item/commandExecution/requestApproval"
            }
            PendingKind::FileChange { .. } => "item/fileChange/requestApproval",
            PendingKind::Permissions { .. } => "item/permissions/requestApproval",
            PendingKind::UserInput => "item/tool/requestUserInput",
            PendingKind::DynamicTool { .. } => "item/tool/call",
            PendingKind::Elicitation => "mcpServer/elicitation/request",
            PendingKind::AuthRefresh => "account/chatgptAuthTokens/refresh",
        }
    }

    /// Whether resolution is announced with `serverRequest/resolved` (not for tool calls and
    /// token refreshes, as in Codex).
    pub(crate) fn announces_resolution(&self) -> bool {
        !matches!(self, PendingKind::DynamicTool { .. } | PendingKind::AuthRefresh)
    }

    /// The status flag this request raises while pending.
    pub(crate) fn flag(&self) -> Option<ThreadActiveFlag> {
        match self {
            PendingKind::UserInput => Some(ThreadActiveFlag::WaitingOnUserInput),
            PendingKind::DynamicTool { .. } | PendingKind::AuthRefresh => None,
            _ => Some(ThreadActiveFlag::WaitingOnApproval),
        }
    }

    /// Whether the request belongs to its thread (replayed on resume, abandoned on turn
    /// transitions). Token refreshes are server-wide.
    pub(crate) fn thread_scoped(&self) -> bool {
        !matches!(self, PendingKind::AuthRefresh)
    }
}

/// The table.
#[derive(Debug, Default)]
pub(crate) struct PendingTable {
    next_id: i64,
    requests: BTreeMap<i64, Pending>,
}

impl PendingTable {
    /// The next id from the server-wide counter.
    pub(crate) fn allocate(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(crate) fn insert(&mut self, pending: Pending) {
        self.requests.insert(pending.id, pending);
    }

    pub(crate) fn get(&self, id: i64) -> Option<&Pending> {
        self.requests.get(&id)
    }

    pub(crate) fn remove(&mut self, id: i64) -> Option<Pending> {
        self.requests.remove(&id)
    }

    /// Whether one of the thread's outstanding requests was made under the engine's `key`.
    pub(crate) fn has_engine_key(&self, thread_id: ThreadId, key: RequestKey) -> bool {
        self.requests.values().any(|p| p.thread_id == thread_id && p.engine_key == Some(key))
    }

    /// Every thread-scoped request, ids ascending.
    pub(crate) fn thread_scoped(&self) -> impl Iterator<Item = &Pending> {
        self.requests.values().filter(|p| p.kind.thread_scoped())
    }

    /// Ids of a thread's thread-scoped requests, ascending.
    pub(crate) fn of_thread(&self, thread_id: ThreadId) -> Vec<i64> {
        self.thread_scoped().filter(|p| p.thread_id == thread_id).map(|p| p.id).collect()
    }

    /// Ids of every request a thread's engine made, token refreshes included, ascending.
    pub(crate) fn made_by_thread(&self, thread_id: ThreadId) -> Vec<i64> {
        self.requests.values().filter(|p| p.thread_id == thread_id).map(|p| p.id).collect()
    }

    /// The flags a thread's pending requests raise, in protocol order, without duplicates.
    pub(crate) fn flags(&self, thread_id: ThreadId) -> Vec<ThreadActiveFlag> {
        let (mut approval, mut user_input) = (false, false);
        for p in self.thread_scoped().filter(|p| p.thread_id == thread_id) {
            match p.kind.flag() {
                Some(ThreadActiveFlag::WaitingOnApproval) => approval = true,
                Some(ThreadActiveFlag::WaitingOnUserInput) => user_input = true,
                None => {}
            }
        }
        // Protocol order; no allocation for the usual case of no flags.
        let flags = [
            approval.then_some(ThreadActiveFlag::WaitingOnApproval),
            user_input.then_some(ThreadActiveFlag::WaitingOnUserInput),
        ];
        flags.into_iter().flatten().collect()
    }

    /// Adds a recipient (on replay).
    pub(crate) fn add_recipient(&mut self, id: i64, conn: ConnectionId) {
        if let Some(p) = self.requests.get_mut(&id) {
            p.recipients.insert(conn);
        }
    }

    /// Forgets a closed connection as a recipient, so a later connection reusing its id cannot
    /// answer requests it never received.
    pub(crate) fn forget_connection(&mut self, conn: ConnectionId) {
        for p in self.requests.values_mut() {
            p.recipients.remove(&conn);
        }
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        self.requests.values().filter_map(|p| p.deadline).min()
    }

    /// Ids whose deadline has passed.
    pub(crate) fn expired(&self, now: Timestamp) -> Vec<i64> {
        self.requests.values().filter(|p| p.deadline.is_some_and(|d| d <= now)).map(|p| p.id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ItemKey;

    #[test]
    fn every_kind_sends_a_listed_method() {
        let kinds = [
            PendingKind::Command { item: None, command: String::new() },
            PendingKind::FileChange { item: ItemSlot::Engine(ItemKey(0)), paths: vec![] },
            PendingKind::Permissions { requested: PermissionProfile::default() },
            PendingKind::UserInput,
            PendingKind::DynamicTool { item: ItemSlot::Engine(ItemKey(0)), started_at: Timestamp(0) },
            PendingKind::Elicitation,
            PendingKind::AuthRefresh,
        ];
        for kind in kinds {
            assert!(crate::wire::server_requests::METHODS.contains(&kind.method()), "{}", kind.method());
        }
    }
}
