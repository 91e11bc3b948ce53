//! Server-to-client requests: sending what engines ask (with status flags and items in Codex's
//! order), the managed-network gate, and replay of pending requests to a resuming connection.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::approvals::{Destination, NetworkRoute};
use crate::engine::{EngineCommand, EngineRequest, RequestKey, RequestOutcome};
use crate::ids::{ConnectionId, ThreadId, TurnId};
use crate::io::Output;
use crate::machine::Machine;
use crate::pending::{Pending, PendingKind};
use crate::thread::ItemSlot;
use crate::wire::server_requests::{
    AuthRefreshParams, AuthRefreshReason, CommandApprovalParams, CommandDecision, DynamicToolCallParams,
    ElicitationParams, FileChangeApprovalParams, FileChangeDecision, NetworkApprovalContext, NetworkProtocol,
    PermissionsApprovalParams, UserInputParams,
};
use crate::wire::{
    ApprovalMode, AskForApproval, CommandExecutionStatus, ItemBody, PatchApplyStatus, RequestId,
    SandboxPolicy, ToolCallStatus,
};

/// How long `account/chatgptAuthTokens/refresh` waits for an answer, as in Codex.
pub(crate) const AUTH_REFRESH_TIMEOUT_MS: u64 = 10_000;

impl Machine {
    /// Records a new request (sent to nobody yet: see [`Self::deliver`]).
    fn open_request<P: Serialize>(
        &mut self,
        thread_id: ThreadId,
        engine_key: Option<RequestKey>,
        kind: PendingKind,
        params: &P,
    ) -> i64 {
        let id = self.pending.allocate();
        let frame = self.encoder.request(&RequestId::Integer(id), kind.method(), params);
        let deadline =
            matches!(kind, PendingKind::AuthRefresh).then(|| self.now.plus_millis(AUTH_REFRESH_TIMEOUT_MS));
        let recipients = BTreeSet::new();
        self.pending.insert(Pending { id, thread_id, engine_key, kind, frame, recipients, deadline });
        id
    }

    /// Sends a recorded request to the initialized connections among `recipients`.
    fn deliver(&mut self, id: i64, recipients: Vec<ConnectionId>) {
        let Some(frame) = self.pending.get(id).map(|p| p.frame.clone()) else { return };
        for conn in recipients {
            if self.connections.get(&conn).is_some_and(|c| c.is_initialized()) {
                self.outputs.push_back(Output::Send { conn, frame: frame.clone() });
                self.pending.add_recipient(id, conn);
            }
        }
    }

    /// Opens a request, announces the status flag it raises, starts the item it concerns (so
    /// `thread/status/changed` precedes `item/started`, as in Codex), then sends it.
    #[allow(clippy::too_many_arguments)]
    fn ask<P: Serialize>(
        &mut self,
        thread_id: ThreadId,
        engine_key: Option<RequestKey>,
        kind: PendingKind,
        params: &P,
        start: Option<(ItemSlot, crate::ItemId, ItemBody)>,
        recipients: Vec<ConnectionId>,
    ) {
        let id = self.open_request(thread_id, engine_key, kind, params);
        self.sync_status(thread_id);
        if let Some((key, item_id, body)) = start {
            self.start_item(thread_id, key, item_id, body);
        }
        self.deliver(id, recipients);
    }

    pub(crate) fn tell_engine(&mut self, thread_id: ThreadId, command: EngineCommand) {
        self.outputs.push_back(Output::Engine { thread_id, command });
    }

    /// The wire id of an engine item of the active turn, and whether it still has to be started
    /// (a fresh id is minted for items the engine has not started).
    fn item_id_for(&mut self, thread_id: ThreadId, key: ItemSlot) -> Option<(crate::ItemId, bool)> {
        let active = self.threads.get(&thread_id)?.active_turn()?;
        if let Some(&(index, _)) = active.keys.get(&key) {
            return Some((active.items[index].id.clone(), false));
        }
        Some((self.ids.item_id(self.now), true))
    }

    /// Starts the item if the engine has not (used when a session grant skips the prompt).
    fn ensure_item(&mut self, thread_id: ThreadId, key: ItemSlot, body: ItemBody) {
        if let Some((id, true)) = self.item_id_for(thread_id, key) {
            self.start_item(thread_id, key, id, body);
        }
    }

    /// Whether the thread's engine has a request or network attempt outstanding under `key`.
    /// Keys are unique within a thread by contract; a second use while the first is in flight
    /// is dropped (as a reused item key is), since the machine could not tell the two apart
    /// when it answers, and must not announce the first one's item again.
    fn engine_key_in_flight(&self, thread_id: ThreadId, key: RequestKey) -> bool {
        let waiting = self
            .threads
            .get(&thread_id)
            .and_then(|t| t.live.as_ref())
            .is_some_and(|live| live.grants.network.is_waiting(key));
        let in_flight = waiting || self.pending.has_engine_key(thread_id, key);
        if in_flight {
            tracing::warn!(%thread_id, ?key, "engine reused a request key still in flight; dropped");
        }
        in_flight
    }

    pub(crate) fn on_engine_request(
        &mut self,
        thread_id: ThreadId,
        turn_id: TurnId,
        key: RequestKey,
        request: EngineRequest,
    ) {
        if self.engine_key_in_flight(thread_id, key) {
            return;
        }
        let now_ms = self.now.millis();
        let subscribers = self.subscribers(thread_id);
        let Some(live) = self.threads.get(&thread_id).and_then(|t| t.live.as_ref()) else { return };
        match request {
            EngineRequest::CommandApproval {
                item,
                approval_id,
                command,
                cwd,
                command_actions,
                reason,
                available_decisions,
                proposed_execpolicy_amendment,
            } => {
                let item = ItemSlot::Engine(item);
                let body = ItemBody::CommandExecution {
                    command: command.clone(),
                    cwd: cwd.clone(),
                    command_actions: command_actions.clone(),
                    status: CommandExecutionStatus::InProgress,
                    source: Default::default(),
                    aggregated_output: None,
                    exit_code: None,
                    duration_ms: None,
                    process_id: None,
                };
                if approval_id.is_none() && live.grants.commands.contains(&command) {
                    self.ensure_item(thread_id, item, body);
                    let outcome = RequestOutcome::Command(CommandDecision::AcceptForSession);
                    return self.tell_engine(thread_id, EngineCommand::RequestResolved { key, outcome });
                }
                let owns_item = approval_id.is_none();
                let Some((item_id, needs_start)) = self.item_id_for(thread_id, item) else { return };
                let start = needs_start.then(|| (item, item_id.clone(), body));
                let available = available_decisions.unwrap_or_else(|| {
                    let mut d = vec![CommandDecision::Accept, CommandDecision::AcceptForSession];
                    if let Some(prefix) = &proposed_execpolicy_amendment {
                        d.push(CommandDecision::AcceptWithExecpolicyAmendment {
                            execpolicy_amendment: prefix.clone(),
                        });
                    }
                    d.extend([CommandDecision::Decline, CommandDecision::Cancel]);
                    d
                });
                let params = CommandApprovalParams {
                    thread_id,
                    turn_id,
                    item_id: item_id.0,
                    approval_id,
                    started_at_ms: now_ms,
                    reason,
                    command: Some(command.clone()),
                    cwd: Some(cwd),
                    command_actions: Some(command_actions),
                    network_approval_context: None,
                    proposed_execpolicy_amendment,
                    available_decisions: available,
                };
                let kind = PendingKind::Command { item: owns_item.then_some(item), command };
                self.ask(thread_id, Some(key), kind, &params, start, subscribers);
            }
            EngineRequest::FileChangeApproval { item, changes, reason, grant_root } => {
                let item = ItemSlot::Engine(item);
                let paths: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
                let body = ItemBody::FileChange { changes, status: PatchApplyStatus::InProgress };
                if !paths.is_empty() && paths.iter().all(|p| live.grants.files.contains(p)) {
                    self.ensure_item(thread_id, item, body);
                    let outcome = RequestOutcome::FileChange(FileChangeDecision::AcceptForSession);
                    return self.tell_engine(thread_id, EngineCommand::RequestResolved { key, outcome });
                }
                let Some((item_id, needs_start)) = self.item_id_for(thread_id, item) else { return };
                let start = needs_start.then(|| (item, item_id.clone(), body));
                let params = FileChangeApprovalParams {
                    thread_id,
                    turn_id,
                    item_id: item_id.0,
                    started_at_ms: now_ms,
                    reason,
                    grant_root,
                };
                let kind = PendingKind::FileChange { item, paths };
                self.ask(thread_id, Some(key), kind, &params, start, subscribers);
            }
            EngineRequest::Permissions { permissions, reason } => {
                if live.grants.covers(&permissions) {
                    let outcome = RequestOutcome::Permissions {
                        granted: permissions,
                        scope: crate::wire::server_requests::PermissionGrantScope::Session,
                    };
                    return self.tell_engine(thread_id, EngineCommand::RequestResolved { key, outcome });
                }
                let cwd = self.threads[&thread_id].settings.cwd.clone();
                let item_id = self.ids.item_id(self.now).0;
                let params = PermissionsApprovalParams {
                    thread_id,
                    turn_id,
                    item_id,
                    cwd,
                    permissions: permissions.clone(),
                    reason,
                    started_at_ms: now_ms,
                };
                let kind = PendingKind::Permissions { requested: permissions };
                self.ask(thread_id, Some(key), kind, &params, None, subscribers);
            }
            EngineRequest::UserInput { questions, is_blocking } => {
                let item_id = self.ids.item_id(self.now).0;
                let params = UserInputParams { thread_id, turn_id, item_id, questions, is_blocking };
                self.ask(thread_id, Some(key), PendingKind::UserInput, &params, None, subscribers);
            }
            EngineRequest::DynamicToolCall { tool, namespace, arguments } => {
                let item = ItemSlot::ToolCall(key);
                let body = ItemBody::DynamicToolCall {
                    tool: tool.clone(),
                    namespace: namespace.clone(),
                    arguments: arguments.clone(),
                    status: ToolCallStatus::InProgress,
                    content_items: None,
                    success: None,
                    duration_ms: None,
                };
                let Some((call_id, _)) = self.item_id_for(thread_id, item) else { return };
                let params = DynamicToolCallParams {
                    thread_id,
                    turn_id,
                    call_id: call_id.0.clone(),
                    namespace,
                    tool,
                    arguments,
                };
                let kind = PendingKind::DynamicTool { item, started_at: self.now };
                self.ask(thread_id, Some(key), kind, &params, Some((item, call_id, body)), subscribers);
            }
            EngineRequest::Elicitation { server_name, request } => {
                let params = ElicitationParams { thread_id, turn_id: Some(turn_id), server_name, request };
                self.ask(thread_id, Some(key), PendingKind::Elicitation, &params, None, subscribers);
            }
            EngineRequest::AuthRefresh { previous_account_id } => {
                let params =
                    AuthRefreshParams { reason: AuthRefreshReason::Unauthorized, previous_account_id };
                let everyone: Vec<ConnectionId> = self.connections.keys().copied().collect();
                self.ask(thread_id, Some(key), PendingKind::AuthRefresh, &params, None, everyone);
            }
        }
    }

    pub(crate) fn on_network_attempt(
        &mut self,
        thread_id: ThreadId,
        turn_id: TurnId,
        key: RequestKey,
        host: String,
        protocol: NetworkProtocol,
        port: u16,
    ) {
        if self.engine_key_in_flight(thread_id, key) {
            return;
        }
        let dest = Destination::new(&host, protocol, port);
        let subscribers = self.subscribers(thread_id);
        let Some(state) = self.threads.get_mut(&thread_id) else { return };
        let sandboxed = matches!(
            state.settings.sandbox,
            SandboxPolicy::ReadOnly { .. } | SandboxPolicy::WorkspaceWrite { .. }
        );
        let never = state.settings.approval_policy == AskForApproval::Simple(ApprovalMode::Never);
        let Some(live) = state.live.as_mut() else { return };
        match live.grants.network.attempt(&dest, key, sandboxed && !never) {
            NetworkRoute::Allow => {
                self.tell_engine(thread_id, EngineCommand::NetworkVerdict { key, verdict: Ok(()) })
            }
            NetworkRoute::Deny(message) => {
                self.tell_engine(thread_id, EngineCommand::NetworkVerdict { key, verdict: Err(message) })
            }
            NetworkRoute::Joined => {}
            NetworkRoute::Prompt => {
                let params = CommandApprovalParams {
                    thread_id,
                    turn_id,
                    item_id: dest.item_id(),
                    approval_id: None,
                    started_at_ms: self.now.millis(),
                    reason: Some(format!("{} is not in the allowed_domains", dest.host)),
                    command: None,
                    cwd: None,
                    command_actions: None,
                    network_approval_context: Some(NetworkApprovalContext {
                        host: dest.host.clone(),
                        protocol,
                    }),
                    proposed_execpolicy_amendment: None,
                    available_decisions: vec![
                        CommandDecision::Accept,
                        CommandDecision::AcceptForSession,
                        CommandDecision::Decline,
                        CommandDecision::Cancel,
                    ],
                };
                let kind = PendingKind::Network { dest };
                self.ask(thread_id, None, kind, &params, None, subscribers);
            }
        }
    }

    /// Re-sends a thread's pending requests to a resuming connection, original ids ascending.
    pub(crate) fn replay_pending(&mut self, thread_id: ThreadId, conn: ConnectionId) {
        #[cfg(feature = "inject-bugs")]
        for (thread, frame) in self.resolved_log.clone() {
            if thread == thread_id {
                self.outputs.push_back(Output::Send { conn, frame });
            }
        }
        for id in self.pending.of_thread(thread_id) {
            let Some(frame) = self.pending.get(id).map(|p| p.frame.clone()) else { continue };
            self.outputs.push_back(Output::Send { conn, frame });
            self.pending.add_recipient(id, conn);
        }
    }
}
