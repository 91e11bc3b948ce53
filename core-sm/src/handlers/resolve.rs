//! Resolving server requests: client answers (first one wins), timeouts, and what each
//! outcome does to items, grants, status and the engine.

use serde_json::{json, Value};

use crate::approvals::{Destination, NetworkAnswer};
use crate::engine::{EngineCommand, RequestOutcome};
use crate::ids::{ConnectionId, ThreadId};
use crate::machine::Machine;
use crate::pending::{Pending, PendingKind};
use crate::thread::ItemSlot;
use crate::time::Timestamp;
use crate::wire::notifications::ServerRequestResolved;
use crate::wire::server_requests::{
    AuthRefreshResponse, CommandApprovalResponse, CommandDecision, DynamicToolCallResponse,
    ElicitationResponse, FileChangeApprovalResponse, FileChangeDecision, PermissionsApprovalResponse,
    UserInputResponse,
};
use crate::wire::{
    CommandExecutionStatus, ErrorObject, ItemBody, PatchApplyStatus, RequestId, ToolCallStatus,
};

use super::requests::AUTH_REFRESH_TIMEOUT_MS;

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
                    #[cfg(feature = "inject-bugs")]
                    if self.config.injected_bug == Some(crate::InjectedBug::ReplayResolvedRequests) {
                        self.resolved_log.push((p.thread_id, p.frame.clone()));
                    }
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
    fn settle_approved_item(&mut self, thread_id: ThreadId, item: Option<ItemSlot>, verdict: Verdict) {
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
    fn complete_owned_item(&mut self, thread_id: ThreadId, key: ItemSlot, edit: impl FnOnce(&mut ItemBody)) {
        let Some(active) = self.threads.get(&thread_id).and_then(|t| t.active_turn()) else { return };
        let Some(&(index, false)) = active.keys.get(&key) else { return };
        let mut body = active.items[index].body.clone();
        edit(&mut body);
        self.complete_item(thread_id, key, Some(body));
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
        // All of them, token refreshes included: the engine that asked is closed with the thread.
        let ids = self.pending.made_by_thread(thread_id);
        let dropped: Vec<Pending> = ids.into_iter().filter_map(|id| self.pending.remove(id)).collect();
        if !dropped.is_empty() {
            tracing::debug!(%thread_id, count = dropped.len(), "pending requests dropped with their thread");
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
