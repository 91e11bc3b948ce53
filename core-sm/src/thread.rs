//! Per-thread state: metadata, settings, finished turns, and (while loaded) subscribers, the
//! active turn and the facts the status is derived from.

use std::collections::{BTreeMap, BTreeSet};

use crate::approvals::SessionGrants;
use crate::engine::{ItemKey, RequestKey, ThreadSettings};
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
    /// Archived: hidden from `thread/list`, not resumable until unarchived.
    pub(crate) archived: bool,
    /// The thread this one was forked from.
    pub(crate) forked_from: Option<ThreadId>,
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

    /// Every finished turn, oldest first.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, FinishedTurn> {
        self.turns.iter()
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

/// Who named a turn's item: the engine (its own keys, any `u64`), or the machine for items it
/// owns (user messages, counted per turn; dynamic tool calls, named by their request). Separate
/// namespaces, so no key an engine picks can land on an item the machine made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ItemSlot {
    /// An item the engine started (or an approval request started for it).
    Engine(ItemKey),
    /// The turn's n-th user message (the input, then each steer).
    UserMessage(usize),
    /// The item of a dynamic tool call.
    ToolCall(RequestKey),
}

/// The turn in flight: submitted by `turn/start`, running once the engine says so.
#[derive(Debug)]
pub(crate) struct ActiveTurn {
    pub(crate) id: TurnId,
    /// When the engine reported the turn running; `None` while only submitted.
    pub(crate) started_at: Option<Timestamp>,
    /// The `turn/start` input, until `turn/started` announces it as the first user message.
    pub(crate) input: Vec<UserInput>,
    pub(crate) client_message_id: Option<String>,
    /// Steered input accepted before the engine started the turn, announced after `turn/started`.
    pub(crate) queued_steers: Vec<(Vec<UserInput>, Option<String>)>,
    /// Items in start order.
    pub(crate) items: Vec<ThreadItem>,
    /// The JSON of each completed item (as `item/completed` sent it), by index into `items`.
    pub(crate) items_json: Vec<Option<RawJson>>,
    /// Slot → index into `items`, plus whether it completed.
    pub(crate) keys: BTreeMap<ItemSlot, (usize, bool)>,
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

    /// Starts an item in its slot.
    pub(crate) fn push_item(&mut self, key: ItemSlot, item: ThreadItem) {
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
            forked_from_id: self.forked_from,
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

#[cfg(test)]
mod tests {
    //! The views against the owned wire types they stand for, built the way the machine built
    //! them before it had views.

    use serde_json::json;

    use super::*;
    use crate::wire::notifications::{ItemCompleted, ThreadStarted, TurnCompleted};
    use crate::wire::requests::{ThreadListResponse, ThreadResponse, ThreadSessionResponse};
    use crate::wire::views::{
        ItemCompletedView, ThreadListResponseView, ThreadResponseView, ThreadSessionResponseView,
        ThreadStartedView, TurnCompletedView,
    };
    use crate::wire::{encode_notification, encode_result, FrameEncoder, SessionSource, Thread};
    use crate::{ItemId, MachineConfig};

    const CLI: &str = "0.169.0";

    fn item(n: u8, body: ItemBody, completed: bool) -> ThreadItem {
        ThreadItem {
            id: ItemId(format!("item-{n}")),
            body,
            started_at_ms: Some(1_000 + i64::from(n)),
            completed_at_ms: completed.then_some(2_000 + i64::from(n)),
        }
    }

    fn message(text: &str) -> ItemBody {
        ItemBody::AgentMessage { text: text.into(), phase: Some("final_answer".into()) }
    }

    /// A finished turn as `finish` used to build it.
    fn finished(n: u8, status: TurnStatus, items: Vec<ThreadItem>) -> Turn {
        let id = TurnId::parse(&format!("019ab698-283b-7fca-a303-fb70942b61{n:02}")).expect("uuid");
        let error = (status == TurnStatus::Failed).then(|| TurnError {
            message: "boom \"quoted\"".into(),
            codex_error_info: Some(json!({"kind": 1})),
            additional_details: None,
        });
        Turn {
            id,
            items,
            items_view: TurnItemsView::Full,
            status,
            error,
            started_at: Some(1),
            completed_at: Some(2),
            duration_ms: Some(1_000),
            root_turn_id: Some(id),
        }
    }

    /// A thread with two finished turns and a running one with completed and open items.
    fn state(encoder: &FrameEncoder) -> (ThreadState, Vec<Turn>) {
        let history = vec![
            finished(1, TurnStatus::Completed, vec![item(1, message("one\n"), true)]),
            finished(2, TurnStatus::Failed, vec![]),
        ];
        let mut turns = History::default();
        for turn in &history {
            turns.push(FinishedTurn { id: turn.id, json: encoder.raw(turn) });
        }
        let turn_id = TurnId::parse("019ab698-283b-7fca-a303-fb70942b6199").expect("uuid");
        let mut active = ActiveTurn::new(turn_id, vec![], None);
        active.started_at = Some(Timestamp(5_000));
        for (n, done) in [(3, true), (4, false), (5, true)] {
            active.push_item(
                ItemSlot::Engine(ItemKey(u64::from(n))),
                item(n, message(&format!("text {n}")), done),
            );
            if done {
                let index = active.items.len() - 1;
                active.items_json[index] = Some(encoder.raw(&active.items[index]));
            }
        }
        let mut live = LiveThread::new(Timestamp(0));
        live.active = Some(active);
        let state = ThreadState {
            id: ThreadId::parse("019ab698-1bda-7dff-9d99-d2808f614b03").expect("uuid"),
            created_at: Timestamp(1_764_000_000_123),
            updated_at: Timestamp(1_764_000_100_999),
            preview: "first".into(),
            name: Some("named".into()),
            ephemeral: false,
            originator: Some("client".into()),
            settings: ThreadSettings::defaults(&MachineConfig::new(1)),
            approvals_reviewer: ApprovalsReviewer::User,
            materialized: true,
            archived: false,
            forked_from: None,
            turns,
            live: Some(live),
        };
        (state, history)
    }

    /// `Thread` as `ThreadState::to_wire` built it before views.
    fn owned(state: &ThreadState, history: &[Turn], mut status: ThreadStatus, with_turns: bool) -> Thread {
        let active = state.active_turn();
        if active.is_some_and(|t| t.started_at.is_some()) && !matches!(status, ThreadStatus::Active { .. }) {
            status = ThreadStatus::Active { active_flags: Vec::new() };
        }
        let mut turns = Vec::new();
        if with_turns {
            turns = history.to_vec();
            turns.extend(active.filter(|t| t.started_at.is_some()).map(|t| Turn {
                items: t.items.clone(),
                items_view: TurnItemsView::Full,
                ..t.announce()
            }));
        }
        Thread {
            id: state.id,
            session_id: state.id,
            preview: state.preview.clone(),
            ephemeral: state.ephemeral,
            model_provider: state.settings.model_provider.clone(),
            model: Some(state.settings.model.clone()),
            created_at: state.created_at.secs(),
            updated_at: state.updated_at.secs(),
            cwd: state.settings.cwd.clone(),
            cli_version: CLI.to_owned(),
            source: SessionSource::Vscode,
            status,
            turns,
            path: None,
            name: state.name.clone().filter(|n| *n != state.preview),
            originator: state.originator.clone(),
            forked_from_id: state.forked_from,
            project_id: None,
            history_mode: ThreadHistoryMode::Legacy,
        }
    }

    #[test]
    fn thread_views_serialize_like_the_owned_types() {
        let encoder = FrameEncoder::default();
        let id = RequestId::Integer(7);
        let (state, history) = state(&encoder);
        for with_turns in [false, true] {
            for status in [
                ThreadStatus::Idle,
                ThreadStatus::Active { active_flags: vec![ThreadActiveFlag::WaitingOnApproval] },
            ] {
                let view = || state.view(status.clone(), with_turns, CLI);
                let thread = || owned(&state, &history, status.clone(), with_turns);
                let s = &state.settings;
                let session = ThreadSessionResponse {
                    thread: thread(),
                    model: s.model.clone(),
                    model_provider: s.model_provider.clone(),
                    cwd: s.cwd.clone(),
                    approval_policy: s.approval_policy.clone(),
                    approvals_reviewer: state.approvals_reviewer,
                    sandbox: s.sandbox.clone(),
                    reasoning_effort: s.effort.clone(),
                    service_tier: None,
                    instruction_sources: Vec::new(),
                    disabled_plugin_ids: Vec::new(),
                };
                let session_view = ThreadSessionResponseView {
                    thread: view(),
                    model: &s.model,
                    model_provider: &s.model_provider,
                    cwd: &s.cwd,
                    approval_policy: &s.approval_policy,
                    approvals_reviewer: state.approvals_reviewer,
                    sandbox: &s.sandbox,
                    reasoning_effort: s.effort.as_deref(),
                    service_tier: None,
                    instruction_sources: &[],
                    disabled_plugin_ids: &[],
                };
                assert_eq!(encoder.result(&id, &session_view), encode_result(&id, &session));
                let read = ThreadResponse { thread: thread() };
                assert_eq!(
                    encoder.result(&id, &ThreadResponseView { thread: view() }),
                    encode_result(&id, &read)
                );
                let list =
                    ThreadListResponse { data: vec![thread(), thread()], next_cursor: Some("c".into()) };
                let list_view =
                    ThreadListResponseView { data: vec![view(), view()], next_cursor: Some("c".into()) };
                assert_eq!(encoder.result(&id, &list_view), encode_result(&id, &list));
                let started = ThreadStarted { thread: thread() };
                let started_view = ThreadStartedView { thread: view() };
                assert_eq!(
                    encoder.notification("thread/started", &started_view, 9),
                    encode_notification("thread/started", &started, 9)
                );
            }
        }
    }

    #[test]
    fn turn_and_item_views_serialize_like_the_owned_types() {
        let encoder = FrameEncoder::default();
        let (state, _) = state(&encoder);
        let thread_id = state.id;
        let active = state.active_turn().expect("running turn");
        for status in [TurnStatus::Completed, TurnStatus::Interrupted, TurnStatus::Failed] {
            let error = (status == TurnStatus::Failed).then(|| TurnError {
                message: "m".into(),
                codex_error_info: None,
                additional_details: Some("d".into()),
            });
            let end = TurnEnd { status, error: error.clone(), completed_at: Timestamp(9_999) };
            // `finish` and `completion_view` as they were.
            let turn = Turn {
                id: active.id,
                items: active.items.clone(),
                items_view: TurnItemsView::Full,
                status,
                error,
                started_at: active.started_at.map(Timestamp::secs),
                completed_at: Some(end.completed_at.secs()),
                duration_ms: Some(4_999),
                root_turn_id: Some(active.id),
            };
            assert_eq!(
                encoder.raw(&active.finished_view(&end)).as_str(),
                serde_json::to_string(&turn).unwrap()
            );
            let summary = match status {
                TurnStatus::Interrupted => None,
                _ => {
                    turn.items.iter().rev().find(|i| matches!(i.body, ItemBody::AgentMessage { .. })).cloned()
                }
            };
            let items_view = if status == TurnStatus::Interrupted {
                TurnItemsView::NotLoaded
            } else {
                TurnItemsView::Summary
            };
            let completed = TurnCompleted {
                thread_id,
                turn: Turn { items: summary.into_iter().collect(), items_view, ..turn.clone() },
            };
            let completed_view = TurnCompletedView { thread_id, turn: active.completion_view(&end) };
            assert_eq!(
                encoder.notification("turn/completed", &completed_view, 3),
                encode_notification("turn/completed", &completed, 3)
            );
        }
        let item = &active.items[0];
        let json = encoder.raw(item);
        let view = ItemCompletedView { thread_id, turn_id: active.id, completed_at_ms: 4, item: &json };
        let owned = ItemCompleted { thread_id, turn_id: active.id, completed_at_ms: 4, item: item.clone() };
        assert_eq!(
            encoder.notification("item/completed", &view, 3),
            encode_notification("item/completed", &owned, 3)
        );
    }

    #[test]
    fn the_delta_view_serializes_like_each_delta_notification() {
        use crate::wire::notifications::{
            AgentMessageDelta, CommandExecutionOutputDelta, Notification, PlanDelta,
            ReasoningSummaryPartAdded, ReasoningSummaryTextDelta, ReasoningTextDelta,
        };
        use crate::wire::views::ItemDeltaView;

        let encoder = FrameEncoder::default();
        let thread_id = ThreadId::parse("019ab698-1bda-7dff-9d99-d2808f614b03").expect("uuid");
        let turn_id = TurnId::parse("019ab698-283b-7fca-a303-fb70942b6122").expect("uuid");
        let item_id = ItemId("item \"1\"".into());
        let text = "a \"delta\"\n";
        let view = |delta: Option<&'static str>, summary_index, content_index| ItemDeltaView {
            thread_id,
            turn_id,
            item_id: &item_id,
            delta,
            summary_index,
            content_index,
        };
        fn owned<N: Notification>(note: &N) -> crate::wire::Frame {
            encode_notification(N::METHOD, note, 3)
        }
        let cases = [
            (
                AgentMessageDelta::METHOD,
                view(Some(text), None, None),
                owned(&AgentMessageDelta {
                    thread_id,
                    turn_id,
                    item_id: item_id.clone(),
                    delta: text.into(),
                }),
            ),
            (
                PlanDelta::METHOD,
                view(Some(text), None, None),
                owned(&PlanDelta { thread_id, turn_id, item_id: item_id.clone(), delta: text.into() }),
            ),
            (
                ReasoningSummaryTextDelta::METHOD,
                view(Some(text), Some(2), None),
                owned(&ReasoningSummaryTextDelta {
                    thread_id,
                    turn_id,
                    item_id: item_id.clone(),
                    delta: text.into(),
                    summary_index: 2,
                }),
            ),
            (
                ReasoningSummaryPartAdded::METHOD,
                view(None, Some(0), None),
                owned(&ReasoningSummaryPartAdded {
                    thread_id,
                    turn_id,
                    item_id: item_id.clone(),
                    summary_index: 0,
                }),
            ),
            (
                ReasoningTextDelta::METHOD,
                view(Some(text), None, Some(1)),
                owned(&ReasoningTextDelta {
                    thread_id,
                    turn_id,
                    item_id: item_id.clone(),
                    delta: text.into(),
                    content_index: 1,
                }),
            ),
            (
                CommandExecutionOutputDelta::METHOD,
                view(Some(text), None, None),
                owned(&CommandExecutionOutputDelta {
                    thread_id,
                    turn_id,
                    item_id: item_id.clone(),
                    delta: text.into(),
                }),
            ),
        ];
        for (method, view, owned) in cases {
            assert_eq!(encoder.notification(method, &view, 3), owned, "{method}");
        }
    }
}
