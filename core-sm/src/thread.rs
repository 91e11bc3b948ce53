//! Per-thread state: metadata, settings, finished turns, and (while loaded) subscribers, the
//! active turn and the facts the status is derived from.

use std::collections::{BTreeMap, BTreeSet};

use crate::approvals::SessionGrants;
use crate::engine::{ItemKey, ThreadSettings};
use crate::ids::{ConnectionId, ThreadId, TurnId};
use crate::time::Timestamp;
use crate::wire::views::{FinishedTurn, ItemsView, RawJson, ThreadView, TurnView, TurnsView};
use crate::wire::{
    input_text, ApprovalsReviewer, ItemBody, RequestId, SessionSource, ThreadActiveFlag, ThreadHistoryMode,
    ThreadItem, ThreadStatus, ThreadTokenUsage, Turn, TurnError, TurnItemsView, TurnStatus, UserInput,
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
    pub(crate) turns: History,
    /// Present while the thread is loaded.
    pub(crate) live: Option<LiveThread>,
}

/// A thread's finished turns, oldest first. A finished turn never changes and is only ever
/// sent, so each is kept as its wire JSON (built once, when it finishes or is loaded) and
/// written verbatim by every resume and read.
#[derive(Debug, Default)]
pub(crate) struct History {
    turns: Vec<FinishedTurn>,
}

impl History {
    pub(crate) fn push(&mut self, turn: FinishedTurn) {
        self.turns.push(turn);
    }

    /// The most recent finished turn.
    pub(crate) fn last(&self) -> Option<&FinishedTurn> {
        self.turns.last()
    }

    /// The whole history, plus the running turn's snapshot, as `Thread.turns`.
    fn view<'a>(&'a self, active: Option<TurnView<'a>>) -> TurnsView<'a> {
        TurnsView { finished: &self.turns, active }
    }
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
    /// The JSON of each completed item (as `item/completed` sent it), by index into `items`.
    pub(crate) items_json: Vec<Option<RawJson>>,
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
            items_json: Vec::new(),
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

    /// Starts an item under the engine's key.
    pub(crate) fn push_item(&mut self, key: ItemKey, item: ThreadItem) {
        self.keys.insert(key, (self.items.len(), false));
        self.items.push(item);
        self.items_json.push(None);
    }

    fn items_view(&self) -> ItemsView<'_> {
        ItemsView { items: &self.items, json: &self.items_json }
    }

    /// The turn with everything so far, for resume and read snapshots.
    pub(crate) fn snapshot(&self) -> TurnView<'_> {
        TurnView {
            id: self.id,
            items: self.items_view(),
            items_view: TurnItemsView::Full,
            status: TurnStatus::InProgress,
            error: None,
            started_at: self.started_at.map(Timestamp::secs),
            completed_at: None,
            duration_ms: None,
            root_turn_id: Some(self.id),
        }
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
    pub(crate) fn view<'a>(
        &'a self,
        mut status: ThreadStatus,
        with_turns: bool,
        cli_version: &'a str,
    ) -> ThreadView<'a> {
        let active = self.active_turn();
        if active.is_some_and(|t| t.started_at.is_some()) && !matches!(status, ThreadStatus::Active { .. }) {
            status = ThreadStatus::Active { active_flags: Vec::new() };
        }
        let turns = if with_turns {
            self.turns.view(active.filter(|t| t.started_at.is_some()).map(ActiveTurn::snapshot))
        } else {
            TurnsView::default()
        };
        ThreadView {
            id: self.id,
            session_id: self.id,
            preview: &self.preview,
            ephemeral: self.ephemeral,
            model_provider: &self.settings.model_provider,
            model: Some(&self.settings.model),
            created_at: self.created_at.secs(),
            updated_at: self.updated_at.secs(),
            cwd: &self.settings.cwd,
            cli_version,
            source: SessionSource::Vscode,
            status,
            turns,
            path: None,
            name: self.name.as_deref().filter(|n| *n != self.preview),
            originator: self.originator.as_deref(),
            forked_from_id: None,
            project_id: None,
            history_mode: ThreadHistoryMode::Legacy,
        }
    }
}

/// How a turn ended.
#[derive(Debug)]
pub(crate) struct TurnEnd {
    pub(crate) status: TurnStatus,
    pub(crate) error: Option<TurnError>,
    pub(crate) completed_at: Timestamp,
}

impl ActiveTurn {
    /// Wall time from the engine's start to `end`.
    pub(crate) fn duration_ms(&self, end: &TurnEnd) -> Option<i64> {
        self.started_at.map(|s| i64::try_from(end.completed_at.millis_since(s)).unwrap_or(i64::MAX))
    }

    /// The finished turn with `items` as the given view shows them.
    fn ended<'a>(
        &'a self,
        end: &'a TurnEnd,
        items: ItemsView<'a>,
        items_view: TurnItemsView,
    ) -> TurnView<'a> {
        TurnView {
            id: self.id,
            items,
            items_view,
            status: end.status,
            error: end.error.as_ref(),
            started_at: self.started_at.map(Timestamp::secs),
            completed_at: Some(end.completed_at.secs()),
            duration_ms: self.duration_ms(end),
            root_turn_id: Some(self.id),
        }
    }

    /// The finished turn with every item, as resume and read show it.
    pub(crate) fn finished_view<'a>(&'a self, end: &'a TurnEnd) -> TurnView<'a> {
        self.ended(end, self.items_view(), TurnItemsView::Full)
    }

    /// The `turn/completed` view of the finished turn: a summary (the last agent message) for
    /// completed and failed turns, nothing for interrupted ones, as Codex 0.169.0 sends it.
    pub(crate) fn completion_view<'a>(&'a self, end: &'a TurnEnd) -> TurnView<'a> {
        if end.status == TurnStatus::Interrupted {
            return self.ended(end, ItemsView::default(), TurnItemsView::NotLoaded);
        }
        let last_message = self.items.iter().rposition(|i| matches!(i.body, ItemBody::AgentMessage { .. }));
        let summary = last_message.map_or_else(ItemsView::default, |i| ItemsView {
            items: &self.items[i..=i],
            json: self.items_json.get(i..=i).unwrap_or_default(),
        });
        self.ended(end, summary, TurnItemsView::Summary)
    }
}
