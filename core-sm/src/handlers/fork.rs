//! `thread/fork`: a new thread with a copy of another's history (PROTOCOL.md §7.3).
//!
//! The source must have a rollout (materialized, not ephemeral, not archived), else `no rollout
//! found for thread id <id>`; a source the machine does not hold is loaded first. With
//! `lastTurnId` the copy stops after that turn (`turn not found: <id>` if it has none; the
//! running turn cannot be named). Without it, a running turn is copied as if it had been
//! interrupted, its unfinished items settled as an abort settles them. The fork inherits the
//! source's name, preview and settings (overrides applied), records where it came from
//! (`forkedFromId`), and its requester is subscribed. Registration is silent; the order is:
//! response, restored `thread/tokenUsage/updated` to the requester (when turns are included
//! and usage is known), then `thread/started` to everyone.

use crate::engine::{EngineCommand, SettingsOverrides};
use crate::history::{RolloutRecord, SessionMeta};
use crate::ids::{ConnectionId, ThreadId};
use crate::io::Output;
use crate::machine::Machine;
use crate::routing::Audience;
use crate::thread::{LiveThread, ThreadState, TurnEnd};
use crate::wire::notifications::{Notification, ThreadTokenUsageUpdated};
use crate::wire::requests::ThreadForkParams;
use crate::wire::views::{FinishedTurn, ThreadStartedView};
use crate::wire::{codes, ErrorObject, RequestId, SandboxPolicy, ThreadStatus, Turn, TurnStatus};

use super::parse_thread_id;
use super::threads::Parked;

impl Machine {
    pub(crate) fn handle_thread_fork(&mut self, conn: ConnectionId, id: RequestId, p: ThreadForkParams) {
        let source = match parse_thread_id(&p.thread_id, "thread") {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        self.on_thread(source, Parked::Fork { conn, id, params: p });
    }

    /// Forks a thread the machine holds.
    pub(crate) fn fork_known(
        &mut self,
        conn: ConnectionId,
        id: RequestId,
        source: ThreadId,
        p: ThreadForkParams,
    ) {
        if !self.connections.contains_key(&conn) {
            return;
        }
        let turns = match self.turns_to_copy(source, p.last_turn_id.as_deref()) {
            Ok(turns) => turns,
            Err(error) => return self.respond_error(conn, &id, error),
        };
        let Some(src) = self.threads.get(&source) else {
            return;
        };
        let now = self.now;
        let mut settings = src.settings.clone();
        settings.apply(SettingsOverrides {
            model: p.model,
            cwd: p.cwd,
            approval_policy: p.approval_policy,
            sandbox: p.sandbox.map(SandboxPolicy::from_mode),
            effort: None,
        });
        if let Some(provider) = p.model_provider {
            settings.model_provider = provider;
        }
        if p.base_instructions.is_some() {
            settings.base_instructions = p.base_instructions;
        }
        if p.developer_instructions.is_some() {
            settings.developer_instructions = p.developer_instructions;
        }
        let token_usage = src.live.as_ref().and_then(|l| l.token_usage);
        let thread_id = self.ids.thread_id(now);
        let mut live = LiveThread::new(now);
        live.subscribers.insert(conn);
        live.token_usage = token_usage;
        let mut state = ThreadState {
            id: thread_id,
            created_at: now,
            updated_at: now,
            preview: src.preview.clone(),
            name: src.name.clone(),
            ephemeral: p.ephemeral.unwrap_or(false),
            originator: self
                .connections
                .get(&conn)
                .and_then(|c| c.session.as_ref())
                .map(|s| s.client_name.clone()),
            settings: settings.clone(),
            approvals_reviewer: p.approvals_reviewer.unwrap_or(src.approvals_reviewer),
            // The copied history is written at once, as Codex writes the fork's rollout.
            materialized: true,
            archived: false,
            forked_from: Some(source),
            turns: Default::default(),
            live: Some(live),
        };
        let last_turn = turns.last().map(|t| t.id);
        let ephemeral = state.ephemeral;
        let mut copied = Vec::new();
        for turn in turns {
            // The rollout gets structured turns; finished turns' JSON is reused as it is.
            if !ephemeral {
                match serde_json::from_str::<Turn>(turn.json.as_str()) {
                    Ok(parsed) => copied.push(parsed),
                    Err(e) => {
                        tracing::error!(%source, turn = %turn.id, error = %e, "a copied turn could not be recorded")
                    }
                }
            }
            state.turns.push(turn);
        }
        let meta = SessionMeta {
            id: thread_id,
            created_at_ms: now.0,
            cwd: settings.cwd.clone(),
            model: settings.model.clone(),
            model_provider: settings.model_provider.clone(),
            originator: state.originator.clone(),
            name: state.name.clone(),
            preview: state.preview.clone(),
            forked_from_id: Some(source),
        };
        self.threads.insert(thread_id, state);
        self.persist(thread_id, RolloutRecord::SessionMeta(meta));
        for turn in copied {
            self.persist(thread_id, RolloutRecord::TurnCopied { turn });
        }
        self.outputs.push_back(Output::Engine { thread_id, command: EngineCommand::OpenThread { settings } });

        let state = &self.threads[&thread_id];
        let frame = self.encoder.result(&id, &self.session_response(state, !p.exclude_turns));
        self.send_response(conn, frame);
        if let (false, Some(token_usage), Some(turn_id)) = (p.exclude_turns, token_usage, last_turn) {
            self.notify_one(conn, &ThreadTokenUsageUpdated { thread_id, turn_id, token_usage });
        }
        let state = &self.threads[&thread_id];
        let started =
            ThreadStartedView { thread: state.view(ThreadStatus::Idle, false, &self.config.server_version) };
        if let Some(frame) = self.encode_notification(Audience::Everyone, &started) {
            self.send_notification(Audience::Everyone, ThreadStartedView::METHOD, frame);
        }
    }

    /// The source's turns a fork starts with: every finished turn up to `last_turn_id`, or all
    /// of them plus the running turn as if interrupted.
    fn turns_to_copy(
        &self,
        source: ThreadId,
        last_turn_id: Option<&str>,
    ) -> Result<Vec<FinishedTurn>, ErrorObject> {
        let no_rollout = || ErrorObject::invalid_request(format!("no rollout found for thread id {source}"));
        let state = self.threads.get(&source).ok_or_else(no_rollout)?;
        if state.ephemeral || !state.materialized || state.archived {
            return Err(no_rollout());
        }
        let running = state.active_turn().filter(|t| t.started_at.is_some());
        let Some(last) = last_turn_id else {
            let mut turns: Vec<FinishedTurn> = state.turns.iter().cloned().collect();
            if let Some(active) = running {
                let end = TurnEnd { status: TurnStatus::Interrupted, error: None, completed_at: self.now };
                let json = self.encoder.raw(&active.finished_view(&end));
                let mut turn: Turn = serde_json::from_str(json.as_str()).map_err(|e| ErrorObject {
                    code: codes::INTERNAL_ERROR,
                    message: format!("failed to copy history: {e}"),
                    data: None,
                })?;
                for item in &mut turn.items {
                    item.body.settle_abandoned();
                }
                turns.push(FinishedTurn { id: turn.id, json: self.encoder.raw(&turn) });
            }
            return Ok(turns);
        };
        if running.is_some_and(|t| t.id.to_string() == last) {
            return Err(ErrorObject::invalid_request(format!(
                "turn {last} is in progress and cannot be forked"
            )));
        }
        let Some(end) = state.turns.iter().position(|t| t.id.to_string() == last) else {
            return Err(ErrorObject::invalid_request(format!("turn not found: {last}")));
        };
        Ok(state.turns.iter().take(end + 1).cloned().collect())
    }
}
