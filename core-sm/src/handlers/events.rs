//! Engine events: turning what an engine reports into protocol notifications, in the order
//! the protocol requires, for the thread's current subscribers.

use crate::engine::{EngineEvent, ItemDelta, ItemKey};
use crate::history::RolloutRecord;
use crate::ids::{ThreadId, TurnId};
use crate::machine::Machine;
use crate::routing::Audience;
use crate::thread::{ActiveTurn, ItemSlot, TurnEnd};
use crate::wire::notifications::{
    AgentMessageDelta, CommandExecutionOutputDelta, Error, Notification, PlanDelta,
    ReasoningSummaryPartAdded, ReasoningSummaryTextDelta, ReasoningTextDelta, ThreadTokenUsageUpdated,
    TurnStarted, Warning,
};
use crate::wire::requests::EmptyResponse as EmptyBody;
use crate::wire::views::{
    FinishedTurn, ItemCompletedView, ItemDeltaView, ItemStartedView, TurnCompletedView,
};
use crate::wire::{ItemBody, ThreadItem, TurnError, TurnStatus, UserInput};

impl Machine {
    pub(crate) fn handle_engine_event(&mut self, thread_id: ThreadId, event: EngineEvent) {
        let Some(live) = self.threads.get(&thread_id).and_then(|t| t.live.as_ref()) else {
            tracing::warn!(%thread_id, ?event, "engine event for a thread that is not loaded; dropped");
            return;
        };
        if let EngineEvent::Warning { message } = event {
            return self.notify_subscribers(thread_id, &Warning { thread_id: Some(thread_id), message });
        }
        let Some(turn) = event.turn_id() else {
            // Not turn-bound: a server-wide request such as a token refresh.
            if let EngineEvent::Request { turn_id, key, request } = event {
                self.on_engine_request(thread_id, turn_id, key, request);
            }
            return;
        };
        let active = live.active.as_ref();
        let running = active.is_some_and(|t| t.started_at.is_some());
        if active.is_none_or(|t| t.id != turn) {
            tracing::warn!(%thread_id, ?event, "engine event for a turn that is not active; dropped");
            return self.refuse_request(thread_id, event);
        }
        let is_start = matches!(event, EngineEvent::TurnStarted { .. });
        let is_end = matches!(
            event,
            EngineEvent::TurnCompleted { .. }
                | EngineEvent::TurnAborted { .. }
                | EngineEvent::TurnFailed { .. }
        );
        if is_start == running && !is_end {
            tracing::warn!(%thread_id, ?event, running, "engine event out of turn order; dropped");
            return self.refuse_request(thread_id, event);
        }
        match event {
            EngineEvent::TurnStarted { turn_id } => self.on_turn_started(thread_id, turn_id),
            EngineEvent::ItemStarted { turn_id, key, body } => {
                self.on_item_started(thread_id, turn_id, key, body)
            }
            EngineEvent::ItemDelta { turn_id, key, delta } => {
                self.on_item_delta(thread_id, turn_id, key, delta)
            }
            EngineEvent::ItemCompleted { turn_id, key, body } => {
                self.on_item_completed(thread_id, turn_id, key, body)
            }
            EngineEvent::TokenUsage { turn_id, usage } => {
                if let Some(live) = self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()) {
                    live.token_usage = Some(usage);
                }
                self.notify_subscribers(
                    thread_id,
                    &ThreadTokenUsageUpdated { thread_id, turn_id, token_usage: usage },
                );
            }
            EngineEvent::Retrying { turn_id, error } => {
                self.notify_subscribers(thread_id, &Error { thread_id, turn_id, will_retry: true, error });
            }
            EngineEvent::TurnCompleted { .. } => self.end_turn(thread_id, TurnStatus::Completed, None),
            EngineEvent::TurnAborted { .. } => self.end_turn(thread_id, TurnStatus::Interrupted, None),
            EngineEvent::TurnFailed { turn_id, error } => {
                let notice = Error { thread_id, turn_id, will_retry: false, error: error.clone() };
                self.notify_subscribers(thread_id, &notice);
                self.end_turn(thread_id, TurnStatus::Failed, Some(error));
            }
            EngineEvent::Request { turn_id, key, request } => {
                self.on_engine_request(thread_id, turn_id, key, request)
            }
            EngineEvent::NetworkAttempt { turn_id, key, host, protocol, port } => {
                self.on_network_attempt(thread_id, turn_id, key, host, protocol, port)
            }
            EngineEvent::Warning { .. } => unreachable!("handled above"),
        }
    }

    /// A request or network attempt the machine cannot accept (its turn is not running) is
    /// answered at once, so an engine waiting on it does not hang.
    fn refuse_request(&mut self, thread_id: ThreadId, event: EngineEvent) {
        match event {
            EngineEvent::Request { key, .. } => {
                let outcome = crate::engine::RequestOutcome::Abandoned;
                self.tell_engine(thread_id, crate::engine::EngineCommand::RequestResolved { key, outcome });
            }
            EngineEvent::NetworkAttempt { key, host, port, .. } => {
                let verdict =
                    Err(format!("Network access to {host}:{port} was refused: its turn is not running."));
                self.tell_engine(thread_id, crate::engine::EngineCommand::NetworkVerdict { key, verdict });
            }
            _ => {}
        }
    }

    fn active(&self, thread_id: ThreadId) -> Option<&ActiveTurn> {
        self.threads.get(&thread_id)?.active_turn()
    }

    fn active_mut(&mut self, thread_id: ThreadId) -> Option<&mut ActiveTurn> {
        self.threads.get_mut(&thread_id)?.live.as_mut()?.active.as_mut()
    }

    /// Status `active` first, then `turn/started`, then the turn's user message(s).
    fn on_turn_started(&mut self, thread_id: ThreadId, turn_id: TurnId) {
        let now = self.now;
        let Some(live) = self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()) else {
            return;
        };
        live.system_error = false;
        let Some(active) = live.active.as_mut() else {
            return;
        };
        active.started_at = Some(now);
        let turn = active.announce();
        let input = std::mem::take(&mut active.input);
        let client_id = active.client_message_id.clone();
        let steers = std::mem::take(&mut active.queued_steers);
        self.sync_status(thread_id);
        self.persist(thread_id, RolloutRecord::TurnStarted { turn_id, started_at: now.secs() });
        self.notify_subscribers(thread_id, &TurnStarted { thread_id, turn });
        self.announce_user_message(thread_id, input, client_id);
        for (input, client_id) in steers {
            self.announce_user_message(thread_id, input, client_id);
        }
    }

    /// A user message is the machine's own item: started and completed back to back.
    pub(crate) fn announce_user_message(
        &mut self,
        thread_id: ThreadId,
        input: Vec<UserInput>,
        client_id: Option<String>,
    ) {
        let id = self.ids.item_id(self.now);
        let body = ItemBody::UserMessage { content: input, client_id };
        let Some(key) = self.active_mut(thread_id).map(|a| ItemSlot::UserMessage(a.items.len())) else {
            return;
        };
        self.start_item(thread_id, key, id, body);
        self.complete_item(thread_id, key, None);
    }

    fn on_item_started(&mut self, thread_id: ThreadId, _turn_id: TurnId, key: ItemKey, body: ItemBody) {
        let key = ItemSlot::Engine(key);
        if self.active_mut(thread_id).is_some_and(|a| a.keys.contains_key(&key)) {
            tracing::warn!(%thread_id, ?key, "engine started an item key twice; dropped");
            return;
        }
        let id = self.ids.item_id(self.now);
        self.start_item(thread_id, key, id, body);
    }

    pub(crate) fn start_item(
        &mut self,
        thread_id: ThreadId,
        key: ItemSlot,
        id: crate::ItemId,
        body: ItemBody,
    ) {
        let now = self.now;
        let Some(active) = self.active_mut(thread_id) else {
            return;
        };
        let item = ThreadItem { id, body, started_at_ms: Some(now.millis()), completed_at_ms: None };
        active.push_item(key, item);
        let turn_id = active.id;
        let Some(item) = self.active(thread_id).and_then(|a| a.items.last()) else {
            return;
        };
        let audience = Audience::Subscribers(thread_id);
        let note = ItemStartedView { thread_id, turn_id, started_at_ms: now.millis(), item };
        if let Some(frame) = self.encode_notification(audience, &note) {
            self.send_notification(audience, ItemStartedView::METHOD, frame);
        }
    }

    fn on_item_delta(&mut self, thread_id: ThreadId, turn_id: TurnId, key: ItemKey, delta: ItemDelta) {
        let key = ItemSlot::Engine(key);
        let Some(active) = self.active_mut(thread_id) else {
            return;
        };
        let Some(&(index, false)) = active.keys.get(&key) else {
            tracing::warn!(%thread_id, ?key, "delta for an item that is not open; dropped");
            return;
        };
        let item = &mut active.items[index];
        if !apply_delta(&mut item.body, &delta) {
            tracing::warn!(%thread_id, ?key, kind = item.body.kind(), "delta does not fit the item; dropped");
            return;
        }
        let Some(item_id) = self.active(thread_id).map(|a| &a.items[index].id) else {
            return;
        };
        let view = ItemDeltaView {
            thread_id,
            turn_id,
            item_id,
            delta: None,
            summary_index: None,
            content_index: None,
        };
        let (method, view) = match &delta {
            ItemDelta::AgentMessage(text) => {
                (AgentMessageDelta::METHOD, ItemDeltaView { delta: Some(text), ..view })
            }
            ItemDelta::Plan(text) => (PlanDelta::METHOD, ItemDeltaView { delta: Some(text), ..view }),
            ItemDelta::ReasoningSummary { index, text } => (
                ReasoningSummaryTextDelta::METHOD,
                ItemDeltaView { delta: Some(text), summary_index: Some(*index), ..view },
            ),
            ItemDelta::ReasoningSummaryPartAdded { index } => {
                (ReasoningSummaryPartAdded::METHOD, ItemDeltaView { summary_index: Some(*index), ..view })
            }
            ItemDelta::ReasoningText { index, text } => (
                ReasoningTextDelta::METHOD,
                ItemDeltaView { delta: Some(text), content_index: Some(*index), ..view },
            ),
            ItemDelta::CommandOutput(text) => {
                (CommandExecutionOutputDelta::METHOD, ItemDeltaView { delta: Some(text), ..view })
            }
        };
        let audience = Audience::Subscribers(thread_id);
        if let Some(frame) = self.encode_notification_as(audience, method, &view) {
            self.send_notification(audience, method, frame);
        }
    }

    fn on_item_completed(&mut self, thread_id: ThreadId, _turn_id: TurnId, key: ItemKey, body: ItemBody) {
        let key = ItemSlot::Engine(key);
        let Some(active) = self.active_mut(thread_id) else {
            return;
        };
        match active.keys.get(&key) {
            Some((_, true)) => {
                tracing::warn!(%thread_id, ?key, "engine completed an item twice; dropped");
                return;
            }
            Some((_, false)) => {}
            None => {
                // Completed without a start: announce the start first so every client sees a pair.
                let id = self.ids.item_id(self.now);
                self.start_item(thread_id, key, id, body);
                return self.complete_item(thread_id, key, None);
            }
        }
        self.complete_item(thread_id, key, Some(body));
    }

    /// Completes an open item with its final body (`None`: the body it already has): persisted,
    /// then announced with `item/completed`. Its JSON is kept for snapshots and the history.
    pub(crate) fn complete_item(&mut self, thread_id: ThreadId, key: ItemSlot, body: Option<ItemBody>) {
        let now = self.now;
        let thread = self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut());
        let Some(active) = thread.and_then(|l| l.active.as_mut()) else {
            return;
        };
        let Some(entry) = active.keys.get_mut(&key) else {
            return;
        };
        entry.1 = true;
        let index = entry.0;
        let item = &mut active.items[index];
        if let Some(body) = body {
            item.body = body;
        }
        item.completed_at_ms = Some(now.millis());
        active.items_json[index] = Some(self.encoder.raw(&active.items[index]));
        let turn_id = active.id;
        if self.persists(thread_id) {
            let item = self.active(thread_id).map(|a| a.items[index].clone());
            if let Some(item) = item {
                self.persist(thread_id, RolloutRecord::ItemCompleted { turn_id, item });
            }
        }
        let Some(item) = self.active(thread_id).and_then(|a| a.items_json[index].as_ref()) else {
            return;
        };
        let audience = Audience::Subscribers(thread_id);
        let note = ItemCompletedView { thread_id, turn_id, completed_at_ms: now.millis(), item };
        if let Some(frame) = self.encode_notification(audience, &note) {
            self.send_notification(audience, ItemCompletedView::METHOD, frame);
        }
    }

    /// Ends the active turn: settle open items, answer interrupters, derive the status
    /// (`idle` or `systemError`), then `turn/completed`.
    fn end_turn(&mut self, thread_id: ThreadId, status: TurnStatus, error: Option<TurnError>) {
        let open = self.active_mut(thread_id).map(|a| a.open_items()).unwrap_or_default();
        for index in open {
            let Some(active) = self.active_mut(thread_id) else {
                return;
            };
            let Some((&key, _)) = active.keys.iter().find(|(_, (i, _))| *i == index) else {
                continue;
            };
            active.items[index].body.settle_abandoned();
            self.complete_item(thread_id, key, None);
        }
        let now = self.now;
        let Some(live) = self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()) else {
            return;
        };
        let Some(mut active) = live.active.take() else {
            return;
        };
        live.idle_since = now;
        if status == TurnStatus::Failed {
            live.system_error = true;
        }
        let end = TurnEnd { status, error, completed_at: now };
        let record = RolloutRecord::TurnEnded {
            turn_id: active.id,
            status,
            error: end.error.clone(),
            completed_at: now.secs(),
            duration_ms: active.duration_ms(&end),
        };
        let finished = FinishedTurn { id: active.id, json: self.encoder.raw(&active.finished_view(&end)) };
        if let Some(state) = self.threads.get_mut(&thread_id) {
            state.updated_at = now;
            state.turns.push(finished);
        }
        for (conn, id) in std::mem::take(&mut active.interrupters) {
            self.respond(conn, &id, &EmptyBody {});
        }
        // Requests still waiting are abandoned with the turn. Elicitations are resolved before
        // `turn/completed`; the rest after it (Codex: response, idle, turn/completed, resolved).
        let (elicitations, others): (Vec<_>, Vec<_>) = self
            .take_thread_requests(thread_id)
            .into_iter()
            .partition(|p| matches!(p.kind, crate::pending::PendingKind::Elicitation));
        self.abandon(elicitations);
        self.sync_status(thread_id);
        self.persist(thread_id, record);
        let audience = Audience::Subscribers(thread_id);
        let note = TurnCompletedView { thread_id, turn: active.completion_view(&end) };
        if let Some(frame) = self.encode_notification(audience, &note) {
            self.send_notification(audience, TurnCompletedView::METHOD, frame);
        }
        self.abandon(others);
    }
}

/// Folds a delta into the stored item so snapshots show the content so far.
fn apply_delta(body: &mut ItemBody, delta: &ItemDelta) -> bool {
    fn part(parts: &mut Vec<String>, index: i64) -> Option<&mut String> {
        let index = usize::try_from(index).ok().filter(|i| *i < 4096)?;
        if parts.len() <= index {
            parts.resize(index + 1, String::new());
        }
        parts.get_mut(index)
    }
    match (body, delta) {
        (ItemBody::AgentMessage { text, .. }, ItemDelta::AgentMessage(d))
        | (ItemBody::Plan { text }, ItemDelta::Plan(d)) => {
            text.push_str(d);
            true
        }
        (ItemBody::Reasoning { summary, .. }, ItemDelta::ReasoningSummary { index, text }) => {
            part(summary, *index).map(|p| p.push_str(text)).is_some()
        }
        (ItemBody::Reasoning { summary, .. }, ItemDelta::ReasoningSummaryPartAdded { index }) => {
            part(summary, *index).is_some()
        }
        (ItemBody::Reasoning { content, .. }, ItemDelta::ReasoningText { index, text }) => {
            part(content, *index).map(|p| p.push_str(text)).is_some()
        }
        (ItemBody::CommandExecution { aggregated_output, .. }, ItemDelta::CommandOutput(d)) => {
            aggregated_output.get_or_insert_with(String::new).push_str(d);
            true
        }
        _ => false,
    }
}
