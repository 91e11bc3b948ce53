//! Server-to-client requests: sending what engines ask, resolving each exactly once (answer,
//! error reply, turn transition, timeout, teardown), replaying pending ones on resume.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};

use crate::approvals::{Destination, NetworkAnswer, NetworkRoute};
use crate::engine::{EngineCommand, EngineRequest, ItemKey, RequestKey, RequestOutcome};
use crate::ids::{ConnectionId, ThreadId, TurnId};
use crate::io::Output;
use crate::machine::Machine;
use crate::pending::{Pending, PendingKind};
use crate::time::Timestamp;
use crate::wire::notifications::ServerRequestResolved;
use crate::wire::server_requests::{
    AuthRefreshParams, AuthRefreshReason, AuthRefreshResponse, CommandApprovalParams,
    CommandApprovalResponse, CommandDecision, DynamicToolCallParams, DynamicToolCallResponse,
    ElicitationParams, ElicitationResponse, FileChangeApprovalParams, FileChangeApprovalResponse,
    FileChangeDecision, NetworkApprovalContext, NetworkProtocol, PermissionsApprovalParams,
    PermissionsApprovalResponse, UserInputParams, UserInputResponse,
};
use crate::wire::{
    encode_request, ApprovalMode, AskForApproval, CommandExecutionStatus, ErrorObject, ItemBody,
    PatchApplyStatus, RequestId, SandboxPolicy, ToolCallStatus,
};

/// How long `account/chatgptAuthTokens/refresh` waits for an answer, as in Codex.
const AUTH_REFRESH_TIMEOUT_MS: u64 = 10_000;
/// Item keys the machine uses for items it owns on the engine's behalf (dynamic tool calls).
const MACHINE_ITEM_KEYS: u64 = 1 << 62;

/// How a request left the table.
enum Resolution {
    Answer(Result<Value, ErrorObject>),
    TimedOut,
}

fn parse_answer<T: serde::de::DeserializeOwned>(
    answer: Result<Value, ErrorObject>,
) -> Result<T, RequestOutcome> {
    match answer {
        Ok(v) => serde_json::from_value(v).map_err(|e| RequestOutcome::Malformed { error: e.to_string() }),
        Err(e) => Err(RequestOutcome::ClientError { code: e.code, message: e.message }),
    }
}

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
        let frame = encode_request(&RequestId::Integer(id), kind.method(), params);
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
        start: Option<(ItemKey, crate::ItemId, ItemBody)>,
        recipients: Vec<ConnectionId>,
    ) {
        let id = self.open_request(thread_id, engine_key, kind, params);
        self.sync_status(thread_id);
        if let Some((key, item_id, body)) = start {
            self.start_item(thread_id, key, item_id, body);
        }
        self.deliver(id, recipients);
    }

    fn tell_engine(&mut self, thread_id: ThreadId, command: EngineCommand) {
        self.outputs.push_back(Output::Engine { thread_id, command });
    }

    /// The wire id of an engine item of the active turn, and whether it still has to be started
    /// (a fresh id is minted for items the engine has not started).
    fn item_id_for(&mut self, thread_id: ThreadId, key: ItemKey) -> Option<(crate::ItemId, bool)> {
        let active = self.threads.get(&thread_id)?.active_turn()?;
        if let Some(&(index, _)) = active.keys.get(&key) {
            return Some((active.items[index].id.clone(), false));
        }
        Some((self.ids.item_id(self.now), true))
    }

    /// Starts the item if the engine has not (used when a session grant skips the prompt).
    fn ensure_item(&mut self, thread_id: ThreadId, key: ItemKey, body: ItemBody) {
        if let Some((id, true)) = self.item_id_for(thread_id, key) {
            self.start_item(thread_id, key, id, body);
        }
    }

    pub(crate) fn on_engine_request(
        &mut self,
        thread_id: ThreadId,
        turn_id: TurnId,
        key: RequestKey,
        request: EngineRequest,
    ) {
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
                let item = ItemKey(MACHINE_ITEM_KEYS | key.0);
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

    /// A client's `result` or `error` for a server request: first answer wins; later answers,
    /// unknown ids and answers from connections that never received the request are ignored.
    pub(crate) fn handle_client_answer(
        &mut self,
        conn: ConnectionId,
        id: RequestId,
        answer: Result<Value, ErrorObject>,
    ) {
        let RequestId::Integer(n) = id else {
            tracing::warn!(%conn, %id, "answer with a string id matches no server request; ignored");
            return;
        };
        match self.pending.get(n) {
            None => {
                tracing::warn!(%conn, id = n, "answer to an unknown or already resolved request; ignored")
            }
            Some(p) if !p.recipients.contains(&conn) => {
                tracing::warn!(%conn, id = n, "answer from a connection that never received the request; ignored")
            }
            Some(_) => {
                if let Err(e) = &answer {
                    tracing::info!(%conn, id = n, code = e.code, message = %e.message, "client answered a server request with an error");
                }
                if let Some(p) = self.pending.remove(n) {
                    self.resolve(p, Resolution::Answer(answer));
                }
            }
        }
    }

    /// Resolves a request that was answered (or timed out): announce, apply item effects,
    /// re-derive the status, tell the engine.
    fn resolve(&mut self, p: Pending, how: Resolution) {
        let thread_id = p.thread_id;
        if p.kind.announces_resolution() {
            let note = ServerRequestResolved { thread_id, request_id: RequestId::Integer(p.id) };
            self.notify_subscribers(thread_id, &note);
        }
        let answer = match how {
            Resolution::Answer(a) => a,
            Resolution::TimedOut => {
                let message =
                    format!("auth refresh request timed out after {}s", AUTH_REFRESH_TIMEOUT_MS / 1000);
                let outcome = RequestOutcome::AuthFailed { message };
                return self.finish_resolution(&p, outcome);
            }
        };
        let outcome = match &p.kind {
            PendingKind::Command { item, command } => {
                let outcome = parse_answer::<CommandApprovalResponse>(answer)
                    .map_or_else(|o| o, |r| RequestOutcome::Command(r.decision));
                let verdict = Verdict::of(match &outcome {
                    RequestOutcome::Command(d) => Some(d),
                    _ => None,
                });
                // Sub-command approvals (with an approval id) never grant the whole command.
                if item.is_some() && verdict == (Verdict::Proceed { for_session: true }) {
                    self.grant_for_session(thread_id, |g| {
                        g.commands.insert(command.clone());
                    });
                }
                self.settle_approved_item(thread_id, *item, verdict);
                outcome
            }
            PendingKind::Network { dest } => {
                let network_answer = match parse_answer::<CommandApprovalResponse>(answer) {
                    Ok(r) => NetworkAnswer::from_decision(&r.decision),
                    Err(_) => NetworkAnswer::Deny,
                };
                let dest = dest.clone();
                self.sync_status(thread_id);
                return self.release_network(thread_id, &dest, network_answer, None);
            }
            PendingKind::FileChange { item, paths } => {
                let outcome = parse_answer::<FileChangeApprovalResponse>(answer)
                    .map_or_else(|o| o, |r| RequestOutcome::FileChange(r.decision));
                let verdict = Verdict::of(match &outcome {
                    RequestOutcome::FileChange(d) => Some(d),
                    _ => None,
                });
                if verdict == (Verdict::Proceed { for_session: true }) {
                    self.grant_for_session(thread_id, |g| g.files.extend(paths.iter().cloned()));
                }
                self.settle_approved_item(thread_id, Some(*item), verdict);
                outcome
            }
            PendingKind::Permissions { requested } => {
                match parse_answer::<PermissionsApprovalResponse>(answer) {
                    Ok(r) => {
                        let granted = crate::approvals::intersect(requested, &r.permissions);
                        if r.scope == crate::wire::server_requests::PermissionGrantScope::Session {
                            self.grant_for_session(thread_id, |g| g.add_permissions(&granted));
                        }
                        RequestOutcome::Permissions { granted, scope: r.scope }
                    }
                    Err(o) => o,
                }
            }
            PendingKind::UserInput => parse_answer::<UserInputResponse>(answer)
                .map_or_else(|o| o, |r| RequestOutcome::UserInput(r.answers)),
            PendingKind::DynamicTool { item, started_at } => {
                let outcome = parse_answer::<DynamicToolCallResponse>(answer).map_or_else(
                    |o| o,
                    |r| RequestOutcome::DynamicTool { content_items: r.content_items, success: r.success },
                );
                let (items, success) = match &outcome {
                    RequestOutcome::DynamicTool { content_items, success } => {
                        (content_items.clone(), *success)
                    }
                    _ => (vec![json!({"type": "inputText", "text": "dynamic tool request failed"})], false),
                };
                let duration = i64::try_from(self.now.millis_since(*started_at)).unwrap_or(i64::MAX);
                self.complete_owned_item(thread_id, *item, |body| {
                    if let ItemBody::DynamicToolCall {
                        status, content_items, success: s, duration_ms, ..
                    } = body
                    {
                        *status = if success { ToolCallStatus::Completed } else { ToolCallStatus::Failed };
                        *content_items = Some(items);
                        *s = Some(success);
                        *duration_ms = Some(duration);
                    }
                });
                outcome
            }
            PendingKind::Elicitation => parse_answer::<ElicitationResponse>(answer).map_or_else(
                |o| o,
                |r| RequestOutcome::Elicitation { action: r.action, content: r.content, meta: r.meta },
            ),
            PendingKind::AuthRefresh => match parse_answer::<AuthRefreshResponse>(answer) {
                Ok(r) => RequestOutcome::AuthTokens {
                    access_token: r.access_token,
                    account_id: r.chatgpt_account_id,
                    plan_type: r.chatgpt_plan_type,
                },
                Err(RequestOutcome::ClientError { code, message }) => RequestOutcome::AuthFailed {
                    message: format!("auth refresh request failed: code={code} message={message}"),
                },
                Err(RequestOutcome::Malformed { error }) => {
                    RequestOutcome::AuthFailed { message: format!("auth refresh request failed: {error}") }
                }
                Err(other) => other,
            },
        };
        self.sync_status(thread_id);
        self.finish_resolution(&p, outcome);
    }

    /// Tells the engine how its request ended; a `cancel` also interrupts the turn.
    fn finish_resolution(&mut self, p: &Pending, outcome: RequestOutcome) {
        let cancel = matches!(
            outcome,
            RequestOutcome::Command(CommandDecision::Cancel)
                | RequestOutcome::FileChange(FileChangeDecision::Cancel)
        );
        if let Some(key) = p.engine_key {
            self.tell_engine(p.thread_id, EngineCommand::RequestResolved { key, outcome });
        }
        if cancel {
            self.interrupt_for_cancel(p.thread_id);
        }
    }

    /// A `cancel` decision interrupts the turn (once), as Codex does.
    fn interrupt_for_cancel(&mut self, thread_id: ThreadId) {
        let Some(active) =
            self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()).and_then(|l| l.active.as_mut())
        else {
            return;
        };
        if !active.interrupt_sent {
            active.interrupt_sent = true;
            let turn_id = active.id;
            self.tell_engine(thread_id, EngineCommand::Interrupt { turn_id });
        }
    }

    /// Records a decision that lasts for the thread's session.
    fn grant_for_session(
        &mut self,
        thread_id: ThreadId,
        grant: impl FnOnce(&mut crate::approvals::SessionGrants),
    ) {
        if let Some(live) = self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()) {
            grant(&mut live.grants);
        }
    }

    /// Applies an approval's verdict to the command or file-change item it owns: `declined` for
    /// a refusal, `failed` for an error reply; an accepted item is the engine's to complete.
    fn settle_approved_item(&mut self, thread_id: ThreadId, item: Option<ItemKey>, verdict: Verdict) {
        let (Some(item), false) = (item, matches!(verdict, Verdict::Proceed { .. })) else { return };
        let declined = verdict == Verdict::Declined;
        self.complete_owned_item(thread_id, item, |body| match body {
            ItemBody::CommandExecution { status, .. } => {
                *status =
                    if declined { CommandExecutionStatus::Declined } else { CommandExecutionStatus::Failed }
            }
            ItemBody::FileChange { status, .. } => {
                *status = if declined { PatchApplyStatus::Declined } else { PatchApplyStatus::Failed }
            }
            _ => {}
        });
    }

    /// Completes an item the request decided (declined, failed, tool output) if still open.
    fn complete_owned_item(&mut self, thread_id: ThreadId, key: ItemKey, edit: impl FnOnce(&mut ItemBody)) {
        let Some(active) = self.threads.get(&thread_id).and_then(|t| t.active_turn()) else { return };
        let Some(&(index, false)) = active.keys.get(&key) else { return };
        let mut body = active.items[index].body.clone();
        edit(&mut body);
        self.complete_item(thread_id, key, body);
    }

    /// Answers every attempt waiting on a destination's prompt.
    fn release_network(
        &mut self,
        thread_id: ThreadId,
        dest: &Destination,
        answer: NetworkAnswer,
        message: Option<String>,
    ) {
        let Some(live) = self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()) else { return };
        let (keys, verdict) = live.grants.network.answer(dest, answer);
        let verdict = match (verdict, message) {
            (Err(_), Some(m)) => Err(m),
            (v, _) => v,
        };
        for key in keys {
            self.tell_engine(thread_id, EngineCommand::NetworkVerdict { key, verdict: verdict.clone() });
        }
    }

    /// Takes every thread-scoped request of a thread out of the table (turn transitions).
    pub(crate) fn take_thread_requests(&mut self, thread_id: ThreadId) -> Vec<Pending> {
        self.pending.of_thread(thread_id).into_iter().filter_map(|id| self.pending.remove(id)).collect()
    }

    /// Finishes requests abandoned by a turn transition: `serverRequest/resolved` where Codex
    /// sends it, and the engine told no decision was made.
    pub(crate) fn abandon(&mut self, abandoned: Vec<Pending>) {
        for p in abandoned {
            if p.kind.announces_resolution() {
                let note =
                    ServerRequestResolved { thread_id: p.thread_id, request_id: RequestId::Integer(p.id) };
                self.notify_subscribers(p.thread_id, &note);
            }
            if let PendingKind::Network { dest } = &p.kind {
                let message =
                    format!("Network access to \"{}\" was not approved before the turn ended.", dest.url());
                self.release_network(p.thread_id, dest, NetworkAnswer::Deny, Some(message));
            }
            if let Some(key) = p.engine_key {
                self.tell_engine(
                    p.thread_id,
                    EngineCommand::RequestResolved { key, outcome: RequestOutcome::Abandoned },
                );
            }
        }
    }

    /// Drops a thread's requests silently (unload, shutdown), as Codex does.
    pub(crate) fn drop_thread_requests(&mut self, thread_id: ThreadId) {
        let dropped = self.take_thread_requests(thread_id);
        if !dropped.is_empty() {
            tracing::debug!(%thread_id, count = dropped.len(), "pending requests dropped with their thread");
        }
    }

    /// Re-sends a thread's pending requests to a resuming connection, original ids ascending.
    pub(crate) fn replay_pending(&mut self, thread_id: ThreadId, conn: ConnectionId) {
        for id in self.pending.of_thread(thread_id) {
            let Some(frame) = self.pending.get(id).map(|p| p.frame.clone()) else { continue };
            self.outputs.push_back(Output::Send { conn, frame });
            self.pending.add_recipient(id, conn);
        }
    }

    /// Fails token refreshes whose 10 s are up.
    pub(crate) fn expire_requests(&mut self, now: Timestamp) {
        for id in self.pending.expired(now) {
            if let Some(p) = self.pending.remove(id) {
                self.resolve(p, Resolution::TimedOut);
            }
        }
    }
}

/// What an approval's answer means for the item it approves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Go ahead (the engine runs and completes the item); maybe remember it for the session.
    Proceed { for_session: bool },
    /// Refused: the item is `declined`.
    Declined,
    /// No usable answer (error reply, malformed result): the item is `failed`.
    Failed,
}

/// A command or file-change decision.
trait ApprovalDecision {
    fn refuses(&self) -> bool;
    fn for_session(&self) -> bool;
}

impl ApprovalDecision for CommandDecision {
    fn refuses(&self) -> bool {
        match self {
            CommandDecision::Decline | CommandDecision::Cancel => true,
            CommandDecision::ApplyNetworkPolicyAmendment { network_policy_amendment: a } => {
                a.action == crate::wire::server_requests::NetworkPolicyAction::Deny
            }
            _ => false,
        }
    }

    fn for_session(&self) -> bool {
        *self == CommandDecision::AcceptForSession
    }
}

impl ApprovalDecision for FileChangeDecision {
    fn refuses(&self) -> bool {
        matches!(self, FileChangeDecision::Decline | FileChangeDecision::Cancel)
    }

    fn for_session(&self) -> bool {
        *self == FileChangeDecision::AcceptForSession
    }
}

impl Verdict {
    fn of(decision: Option<&impl ApprovalDecision>) -> Self {
        match decision {
            None => Verdict::Failed,
            Some(d) if d.refuses() => Verdict::Declined,
            Some(d) => Verdict::Proceed { for_session: d.for_session() },
        }
    }
}
