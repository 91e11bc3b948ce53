//! Per-thread state: metadata, settings, finished turns, and (while loaded) subscribers, the
//! active turn and the facts the status is derived from.

use std::collections::{BTreeMap, BTreeSet};

use crate::approvals::SessionGrants;
use crate::engine::{ItemKey, ThreadSettings};
use crate::ids::{ConnectionId, ThreadId, TurnId};
use crate::time::Timestamp;
use crate::wire::{
    input_text, ApprovalsReviewer, ItemBody, RequestId, SessionSource, Thread, ThreadActiveFlag,
    ThreadHistoryMode, ThreadItem, ThreadStatus, ThreadTokenUsage, Turn, TurnError, TurnItemsView,
    TurnStatus, UserInput,
};

/// Everything the machine knows about one thread, loaded or not.
#[derive(Debug)]
pub(crate) struct ThreadState {
    pub(crate) id: ThreadId,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) preview: String,
    pub(crate) name: Option<String>,
    pub(crate) ephemeral: bool,
    pub(crate) originator: Option<String>,
    pub(crate) settings: ThreadSettings,
    pub(crate) approvals_reviewer: ApprovalsReviewer,
    /// Whether the rollout has been started (on the first turn, as Codex materializes lazily).
    pub(crate) materialized: bool,
    /// Finished turns, with every item.
    pub(crate) turns: Vec<Turn>,
    /// Present while the thread is loaded.
    pub(crate) live: Option<LiveThread>,
}

/// Runtime state of a loaded thread.
#[derive(Debug)]
pub(crate) struct LiveThread {
    pub(crate) subscribers: BTreeSet<ConnectionId>,
    pub(crate) active: Option<ActiveTurn>,
    /// The last turn failed; cleared when the next one starts.
    pub(crate) system_error: bool,
    /// The status last announced, so `thread/status/changed` is sent only on change.
    pub(crate) announced: ThreadStatus,
    /// Since when the thread has had no subscribers and no running turn (unload timer).
    pub(crate) idle_since: Timestamp,
    pub(crate) token_usage: Option<ThreadTokenUsage>,
    /// Decisions that last for the session (dropped when the thread unloads).
    pub(crate) grants: SessionGrants,
}

/// The turn in flight: submitted by `turn/start`, running once the engine says so.
#[derive(Debug)]
pub(crate) struct ActiveTurn {
    pub(crate) id: TurnId,
    /// When the engine reported the turn running; `None` while only submitted.
    pub(crate) started_at: Option<Timestamp>,
    pub(crate) input: Vec<UserInput>,
    pub(crate) client_message_id: Option<String>,
    /// Steered input accepted before the engine started the turn, announced after `turn/started`.
    pub(crate) queued_steers: Vec<(Vec<UserInput>, Option<String>)>,
    /// Items in start order.
    pub(crate) items: Vec<ThreadItem>,
    /// Engine key → index into `items`, plus whether it completed.
    pub(crate) keys: BTreeMap<ItemKey, (usize, bool)>,
    /// `turn/interrupt` requests answered when the abort is observed.
    pub(crate) interrupters: Vec<(ConnectionId, RequestId)>,
    /// Whether the engine has been told to interrupt (by a client or a `cancel` decision).
    pub(crate) interrupt_sent: bool,
}

impl ActiveTurn {
    pub(crate) fn new(id: TurnId, input: Vec<UserInput>, client_message_id: Option<String>) -> Self {
        Self {
            id,
            started_at: None,
            input,
            client_message_id,
            queued_steers: Vec::new(),
            items: Vec::new(),
            keys: BTreeMap::new(),
            interrupters: Vec::new(),
            interrupt_sent: false,
        }
    }

    /// The turn as `turn/start`'s response and `turn/started` show it.
    pub(crate) fn announce(&self) -> Turn {
        Turn {
            id: self.id,
            items: Vec::new(),
            items_view: TurnItemsView::NotLoaded,
            status: TurnStatus::InProgress,
            error: None,
            started_at: self.started_at.map(Timestamp::secs),
            completed_at: None,
            duration_ms: None,
            root_turn_id: Some(self.id),
        }
    }

    /// The turn with everything so far, for resume and read snapshots.
    pub(crate) fn snapshot(&self) -> Turn {
        Turn { items: self.items.clone(), items_view: TurnItemsView::Full, ..self.announce() }
    }

    /// Indices of items started but not completed, in start order.
    pub(crate) fn open_items(&self) -> Vec<usize> {
        let mut open: Vec<usize> = self.keys.values().filter(|(_, done)| !done).map(|(i, _)| *i).collect();
        open.sort_unstable();
        open
    }
}

impl LiveThread {
    pub(crate) fn new(now: Timestamp) -> Self {
        Self {
            subscribers: BTreeSet::new(),
            active: None,
            system_error: false,
            announced: ThreadStatus::Idle,
            idle_since: now,
            token_usage: None,
            grants: SessionGrants::default(),
        }
    }

    /// Whether the engine is running a turn.
    pub(crate) fn running(&self) -> bool {
        self.active.as_ref().is_some_and(|t| t.started_at.is_some())
    }

    /// The status derived from the facts: running, pending requests, last error.
    pub(crate) fn status(&self, flags: Vec<ThreadActiveFlag>) -> ThreadStatus {
        if self.running() || !flags.is_empty() {
            ThreadStatus::Active { active_flags: flags }
        } else if self.system_error {
            ThreadStatus::SystemError
        } else {
            ThreadStatus::Idle
        }
    }

    /// When the idle-unload timer fires, if it is running.
    pub(crate) fn unload_deadline(&self, delay_ms: u64) -> Option<Timestamp> {
        (self.subscribers.is_empty() && self.active.is_none()).then(|| self.idle_since.plus_millis(delay_ms))
    }
}

impl ThreadState {
    /// Derived status given the flags of the thread's pending requests.
    pub(crate) fn status(&self, flags: Vec<ThreadActiveFlag>) -> ThreadStatus {
        self.live.as_ref().map_or(ThreadStatus::NotLoaded, |l| l.status(flags))
    }

    pub(crate) fn active_turn(&self) -> Option<&ActiveTurn> {
        self.live.as_ref().and_then(|l| l.active.as_ref())
    }

    /// Title used by `thread/list`'s search: the name, else the preview.
    pub(crate) fn title(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.preview)
    }

    /// Records the first user message as the preview.
    pub(crate) fn note_input(&mut self, input: &[UserInput]) {
        if self.preview.is_empty() {
            self.preview = input_text(input);
        }
    }

    /// The wire `Thread` with the given derived status; `with_turns` adds finished turns and
    /// the active turn's snapshot.
    pub(crate) fn to_wire(&self, mut status: ThreadStatus, with_turns: bool, cli_version: &str) -> Thread {
        let active = self.active_turn();
        if active.is_some_and(|t| t.started_at.is_some()) && !matches!(status, ThreadStatus::Active { .. }) {
            status = ThreadStatus::Active { active_flags: Vec::new() };
        }
        let turns = if with_turns {
            let mut turns = self.turns.clone();
            turns.extend(active.filter(|t| t.started_at.is_some()).map(ActiveTurn::snapshot));
            turns
        } else {
            Vec::new()
        };
        Thread {
            id: self.id,
            session_id: self.id,
            preview: self.preview.clone(),
            ephemeral: self.ephemeral,
            model_provider: self.settings.model_provider.clone(),
            model: Some(self.settings.model.clone()),
            created_at: self.created_at.secs(),
            updated_at: self.updated_at.secs(),
            cwd: self.settings.cwd.clone(),
            cli_version: cli_version.to_owned(),
            source: SessionSource::Vscode,
            status,
            turns,
            path: None,
            name: self.name.clone().filter(|n| *n != self.preview),
            originator: self.originator.clone(),
            forked_from_id: None,
            project_id: None,
            history_mode: ThreadHistoryMode::Legacy,
        }
    }
}

/// The `turn/completed` view of a finished turn: a summary (the last agent message) for
/// completed and failed turns, nothing for interrupted ones, as Codex 0.169.0 sends it.
pub(crate) fn completion_view(turn: &Turn) -> Turn {
    let items = match turn.status {
        TurnStatus::Interrupted => None,
        _ => turn.items.iter().rev().find(|i| matches!(i.body, ItemBody::AgentMessage { .. })).cloned(),
    };
    let items_view = if turn.status == TurnStatus::Interrupted {
        TurnItemsView::NotLoaded
    } else {
        TurnItemsView::Summary
    };
    Turn { items: items.into_iter().collect(), items_view, ..turn.clone() }
}

/// Builds the finished turn from the active one.
pub(crate) fn finish(
    active: ActiveTurn,
    status: TurnStatus,
    error: Option<TurnError>,
    now: Timestamp,
) -> Turn {
    let duration = active.started_at.map(|s| i64::try_from(now.millis_since(s)).unwrap_or(i64::MAX));
    Turn {
        id: active.id,
        items: active.items,
        items_view: TurnItemsView::Full,
        status,
        error,
        started_at: active.started_at.map(Timestamp::secs),
        completed_at: Some(now.secs()),
        duration_ms: duration,
        root_turn_id: Some(active.id),
    }
}
