//! What one connection has observed: its handshake, pending requests, subscriptions, and per
//! thread the last status it saw and the turn it is watching.

use std::collections::{BTreeMap, BTreeSet};

use core_sm::wire::RequestId;
use core_sm::{ThreadId, TurnId};

use super::scan::{ItemRef, Method, Status};

/// A request the connection sent that still awaits its reply.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// The method, as sent.
    pub(crate) method: Method,
    /// `params.threadId`, if any.
    pub(crate) thread: Option<ThreadId>,
    /// `initialize`'s opt-outs, applied when it succeeds.
    pub(crate) opt_out: Option<Vec<Method>>,
}

/// One open connection as the oracle models it.
#[derive(Debug, Default)]
pub(crate) struct ConnModel {
    /// `initialize` succeeded.
    pub(crate) initialized: bool,
    /// Opt-outs in force (set when `initialize` succeeds).
    pub(crate) opt_out: BTreeSet<Method>,
    /// Requests awaiting replies, by id, oldest first (clients may reuse a pending id).
    pub(crate) pending: BTreeMap<RequestId, Vec<Pending>>,
    /// Threads this connection is subscribed to.
    pub(crate) subs: BTreeSet<ThreadId>,
    /// Per-thread observations.
    pub(crate) threads: BTreeMap<ThreadId, ConnThread>,
}

/// One connection's view of one thread.
#[derive(Debug, Default)]
pub(crate) struct ConnThread {
    /// Last status seen (status notifications, start/resume responses, `thread/started`).
    pub(crate) status: Option<Status>,
    /// Last status carried by a `thread/status/changed` (for the dedup check).
    pub(crate) last_changed: Option<Status>,
    /// The turn whose events this connection is receiving.
    pub(crate) open: Option<OpenTurn>,
    /// A non-active status arrived while `open` was set: only `turn/completed` may follow.
    pub(crate) closing: bool,
    /// Turns this connection saw complete.
    pub(crate) completed: BTreeSet<TurnId>,
}

/// A turn a connection is watching.
#[derive(Debug)]
pub(crate) struct OpenTurn {
    pub(crate) id: TurnId,
    /// The connection saw `turn/started` (otherwise it joined mid-turn).
    pub(crate) saw_start: bool,
    /// Items seen: `false` started, `true` completed.
    pub(crate) items: BTreeMap<ItemRef, bool>,
}

impl ConnModel {
    /// Whether notifications with `method` reach this connection.
    pub(crate) fn wants(&self, method: &str) -> bool {
        !self.opt_out.contains(method)
    }

    /// Forgets turn tracking for a thread whose events this connection stopped receiving.
    pub(crate) fn leave(&mut self, thread: ThreadId) {
        self.subs.remove(&thread);
        if let Some(t) = self.threads.get_mut(&thread) {
            t.open = None;
            t.closing = false;
        }
    }

    /// Adds one outstanding request.
    pub(crate) fn add_pending(&mut self, id: RequestId, p: Pending) {
        self.pending.entry(id).or_default().push(p);
    }

    /// Takes one outstanding request with this id: the latest if `latest` (a reply in the
    /// same step as the request); else, when storage just answered for `loaded`, the oldest
    /// request on that thread (requests parked on a load are answered with it, whatever their
    /// order); else the oldest. Ids are only ambiguous when a client reuses one while it is
    /// pending.
    pub(crate) fn take_pending(
        &mut self,
        id: &RequestId,
        latest: bool,
        loaded: Option<ThreadId>,
    ) -> Option<Pending> {
        let list = self.pending.get_mut(id)?;
        let parked = loaded.and_then(|t| list.iter().position(|p| p.thread == Some(t)));
        let p = match (latest, parked) {
            (true, _) => list.pop(),
            (false, Some(i)) => Some(list.remove(i)),
            (false, None) => Some(list.remove(0)),
        };
        if list.is_empty() {
            self.pending.remove(id);
        }
        p
    }
}
