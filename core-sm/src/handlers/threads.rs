//! Thread requests: start, resume, read, list, loaded/list, name/set, unsubscribe (fork and
//! archive have modules of their own).

use crate::engine::{EngineCommand, SettingsOverrides, ThreadSettings};
use crate::ids::{ConnectionId, ThreadId};
use crate::io::Output;
use crate::machine::Machine;
use crate::routing::Audience;
use crate::thread::{LiveThread, ThreadState};
use crate::wire::notifications::{Notification, ThreadNameUpdated, ThreadTokenUsageUpdated};
use crate::wire::requests::{
    CwdFilter, EmptyResponse, SortDirection, ThreadForkParams, ThreadIdParams, ThreadListParams,
    ThreadLoadedListParams, ThreadLoadedListResponse, ThreadReadParams, ThreadResumeParams,
    ThreadSetNameParams, ThreadSortKey, ThreadStartParams, ThreadUnsubscribeResponse, UnsubscribeStatus,
};
use crate::wire::views::{
    ThreadListResponseView, ThreadResponseView, ThreadSessionResponseView, ThreadStartedView,
};
use crate::wire::{ApprovalsReviewer, ErrorObject, RequestId, SandboxPolicy, ThreadStatus};

use super::parse_thread_id;

/// A request on a thread, waiting (if the machine does not hold the thread) for storage to
/// answer an [`Output::Load`].
#[derive(Debug)]
pub(crate) enum Parked {
    Resume { conn: ConnectionId, id: RequestId, params: ThreadResumeParams },
    Read { conn: ConnectionId, id: RequestId, include_turns: bool },
    Fork { conn: ConnectionId, id: RequestId, params: ThreadForkParams },
    Archive { conn: ConnectionId, id: RequestId },
    Unarchive { conn: ConnectionId, id: RequestId },
}

impl Parked {
    /// The connection waiting for the answer.
    pub(crate) fn conn(&self) -> ConnectionId {
        match self {
            Parked::Resume { conn, .. }
            | Parked::Read { conn, .. }
            | Parked::Fork { conn, .. }
            | Parked::Archive { conn, .. }
            | Parked::Unarchive { conn, .. } => *conn,
        }
    }
}

const DEFAULT_PAGE: u32 = 25;
const MAX_PAGE: u32 = 100;

impl Machine {
    pub(crate) fn handle_thread_start(&mut self, conn: ConnectionId, id: RequestId, p: ThreadStartParams) {
        if p.sandbox.is_some() && p.permissions.is_some() {
            let error = ErrorObject::invalid_request("`permissions` cannot be combined with `sandbox`");
            return self.respond_error(conn, &id, error);
        }
        if let Err(message) = crate::dynamic_tools::validate(p.dynamic_tools.as_deref().unwrap_or_default()) {
            return self.respond_error(conn, &id, ErrorObject::invalid_request(message));
        }
        let mut settings = ThreadSettings::defaults(&self.config);
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
        settings.base_instructions = p.base_instructions;
        settings.developer_instructions = p.developer_instructions;
        settings.dynamic_tools = p.dynamic_tools.unwrap_or_default();
        let now = self.now;
        let thread_id = self.ids.thread_id(now);
        let originator =
            self.connections.get(&conn).and_then(|c| c.session.as_ref()).map(|s| s.client_name.clone());
        let mut live = LiveThread::new(now);
        live.subscribers.insert(conn);
        let state = ThreadState {
            id: thread_id,
            created_at: now,
            updated_at: now,
            preview: String::new(),
            name: None,
            ephemeral: p.ephemeral.unwrap_or(false),
            originator,
            settings: settings.clone(),
            approvals_reviewer: p.approvals_reviewer.unwrap_or(ApprovalsReviewer::User),
            materialized: false,
            archived: false,
            forked_from: None,
            turns: Default::default(),
            live: Some(live),
        };
        self.threads.insert(thread_id, state);
        let state = &self.threads[&thread_id];
        let frame = self.encoder.result(&id, &self.session_response(state, false));
        self.send_response(conn, frame);
        let state = &self.threads[&thread_id];
        let started =
            ThreadStartedView { thread: state.view(ThreadStatus::Idle, false, &self.config.server_version) };
        if let Some(frame) = self.encode_notification(Audience::Everyone, &started) {
            self.send_notification(Audience::Everyone, ThreadStartedView::METHOD, frame);
        }
        self.outputs.push_back(Output::Engine { thread_id, command: EngineCommand::OpenThread { settings } });
    }

    pub(crate) fn session_response<'a>(
        &'a self,
        state: &'a ThreadState,
        with_turns: bool,
    ) -> ThreadSessionResponseView<'a> {
        let s = &state.settings;
        ThreadSessionResponseView {
            thread: self.thread_wire(state, with_turns),
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
        }
    }

    /// Runs a request on `thread_id` now if the machine holds the thread, else once storage
    /// has answered for it.
    pub(crate) fn on_thread(&mut self, thread_id: ThreadId, request: Parked) {
        if self.threads.contains_key(&thread_id) {
            self.run_parked(thread_id, request);
        } else {
            self.park(thread_id, request);
        }
    }

    /// Runs a request on a thread the machine holds.
    pub(crate) fn run_parked(&mut self, thread_id: ThreadId, request: Parked) {
        match request {
            Parked::Resume { conn, id, params } => self.resume_known(conn, id, thread_id, params),
            Parked::Read { conn, id, include_turns } => self.read_known(conn, id, thread_id, include_turns),
            Parked::Fork { conn, id, params } => self.fork_known(conn, id, thread_id, params),
            Parked::Archive { conn, id } => self.archive_known(conn, id, thread_id),
            Parked::Unarchive { conn, id } => self.unarchive_known(conn, id, thread_id),
        }
    }

    /// Parks a request until storage answers for `thread_id`, asking for the load once.
    fn park(&mut self, thread_id: ThreadId, parked: Parked) {
        let waiting = self.awaiting_load.entry(thread_id).or_default();
        waiting.push(parked);
        if waiting.len() == 1 {
            self.outputs.push_back(Output::Load { thread_id });
        }
    }

    pub(crate) fn handle_thread_resume(&mut self, conn: ConnectionId, id: RequestId, p: ThreadResumeParams) {
        let thread_id = match parse_thread_id(&p.thread_id, "session") {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        self.on_thread(thread_id, Parked::Resume { conn, id, params: p });
    }

    /// Resumes a thread the machine holds: a cold resume loads it (announcing `idle` before the
    /// response); a warm one (a rejoin) ignores overrides. Either way the requester subscribes.
    pub(crate) fn resume_known(
        &mut self,
        conn: ConnectionId,
        id: RequestId,
        thread_id: ThreadId,
        p: ThreadResumeParams,
    ) {
        let now = self.now;
        let Some(state) = self.threads.get_mut(&thread_id) else {
            return;
        };
        if state.archived {
            let error = ErrorObject::invalid_request(format!(
                "session {thread_id} is archived. Run `codex unarchive {thread_id}` to unarchive it first."
            ));
            return self.respond_error(conn, &id, error);
        }
        let cold = state.live.is_none();
        if cold {
            state.settings.apply(SettingsOverrides {
                model: p.model,
                cwd: p.cwd,
                approval_policy: p.approval_policy,
                sandbox: p.sandbox.map(SandboxPolicy::from_mode),
                effort: None,
            });
            let mut live = LiveThread::new(now);
            live.announced = ThreadStatus::NotLoaded;
            state.live = Some(live);
            let settings = state.settings.clone();
            self.sync_status(thread_id);
            self.outputs
                .push_back(Output::Engine { thread_id, command: EngineCommand::OpenThread { settings } });
        } else {
            tracing::debug!(%thread_id, %conn, "rejoining a loaded thread; overrides ignored");
        }
        let Some(state) = self.threads.get_mut(&thread_id) else {
            return;
        };
        if let Some(live) = state.live.as_mut() {
            if self.connections.contains_key(&conn) {
                live.subscribers.insert(conn);
            }
        }
        let state = &self.threads[&thread_id];
        let restored = state
            .live
            .as_ref()
            .and_then(|l| l.token_usage)
            .zip(state.active_turn().map(|t| t.id).or_else(|| state.turns.last().map(|t| t.id)));
        if self.connections.contains_key(&conn) {
            let frame = self.encoder.result(&id, &self.session_response(state, !p.exclude_turns));
            self.send_response(conn, frame);
        }
        if let (false, Some((token_usage, turn_id))) = (p.exclude_turns, restored) {
            self.notify_one(conn, &ThreadTokenUsageUpdated { thread_id, turn_id, token_usage });
        }
        if self.connections.contains_key(&conn) {
            self.replay_pending(thread_id, conn);
        }
    }

    pub(crate) fn handle_thread_read(&mut self, conn: ConnectionId, id: RequestId, p: ThreadReadParams) {
        let thread_id = match parse_thread_id(&p.thread_id, "thread") {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        self.on_thread(thread_id, Parked::Read { conn, id, include_turns: p.include_turns });
    }

    pub(crate) fn read_known(
        &mut self,
        conn: ConnectionId,
        id: RequestId,
        thread_id: ThreadId,
        include_turns: bool,
    ) {
        let Some(state) = self.threads.get(&thread_id) else {
            return;
        };
        if include_turns && state.ephemeral {
            let error = ErrorObject::invalid_request("ephemeral threads do not support includeTurns");
            return self.respond_error(conn, &id, error);
        }
        if include_turns && !state.materialized {
            let error = ErrorObject::invalid_request(format!(
                "thread {thread_id} is not materialized yet; includeTurns is unavailable before first user message"
            ));
            return self.respond_error(conn, &id, error);
        }
        if self.connections.contains_key(&conn) {
            let frame = self
                .encoder
                .result(&id, &ThreadResponseView { thread: self.thread_wire(state, include_turns) });
            self.send_response(conn, frame);
        }
    }

    pub(crate) fn handle_thread_list(&mut self, conn: ConnectionId, id: RequestId, p: ThreadListParams) {
        let limit = p.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
        let key = p.sort_key.unwrap_or_default();
        let sort_value = |t: &ThreadState| match key {
            ThreadSortKey::CreatedAt | ThreadSortKey::SectionPosition => t.created_at.0,
            ThreadSortKey::UpdatedAt | ThreadSortKey::RecencyAt => t.updated_at.0,
        };
        let cursor = match p.cursor.as_deref().map(parse_list_cursor) {
            None => None,
            Some(Some(c)) => Some(c),
            Some(None) => {
                let error =
                    ErrorObject::invalid_request(format!("invalid cursor: {}", p.cursor.unwrap_or_default()));
                return self.respond_error(conn, &id, error);
            }
        };
        let providers = match &p.model_providers {
            None => Some(vec![self.config.model_provider.clone()]),
            Some(list) if list.is_empty() => None,
            Some(list) => Some(list.clone()),
        };
        let cwds: Option<Vec<String>> = p.cwd.map(|c| match c {
            CwdFilter::One(one) => vec![one],
            CwdFilter::Many(many) => many,
        });
        let interactive =
            p.source_kinds.as_ref().is_none_or(|k| k.is_empty() || k.iter().any(|k| k == "vscode"));
        let excluded = p.excluded_thread_ids.unwrap_or_default();
        let mut candidates: Vec<&ThreadState> = self
            .threads
            .values()
            .filter(|t| {
                !t.ephemeral && t.materialized && interactive && t.archived == p.archived.unwrap_or(false)
            })
            .filter(|t| providers.as_ref().is_none_or(|ps| ps.contains(&t.settings.model_provider)))
            .filter(|t| cwds.as_ref().is_none_or(|cs| cs.contains(&t.settings.cwd)))
            .filter(|t| p.search_term.as_ref().is_none_or(|s| t.title().contains(s.as_str())))
            .filter(|t| !excluded.iter().any(|e| *e == t.id.to_string()))
            .collect();
        candidates.sort_by_key(|t| (sort_value(t), t.id));
        if p.sort_direction.unwrap_or_default() == SortDirection::Desc {
            candidates.reverse();
        }
        let desc = p.sort_direction.unwrap_or_default() == SortDirection::Desc;
        let start = cursor.map_or(0, |c| {
            candidates
                .iter()
                .position(|t| {
                    let k = (sort_value(t), t.id);
                    if desc {
                        k < c
                    } else {
                        k > c
                    }
                })
                .unwrap_or(candidates.len())
        });
        let page: Vec<&ThreadState> = candidates[start..].iter().take(limit).copied().collect();
        let next_cursor = (start + page.len() < candidates.len())
            .then(|| page.last().map(|t| format!("{}:{}", sort_value(t), t.id)))
            .flatten();
        let data = page.iter().map(|t| self.thread_wire(t, false)).collect();
        let frame = self.encoder.result(&id, &ThreadListResponseView { data, next_cursor });
        self.send_response(conn, frame);
    }

    pub(crate) fn handle_thread_loaded_list(
        &mut self,
        conn: ConnectionId,
        id: RequestId,
        p: ThreadLoadedListParams,
    ) {
        let after = match p.cursor.as_deref().map(ThreadId::parse) {
            None => None,
            Some(Ok(t)) => Some(t),
            Some(Err(_)) => {
                let error =
                    ErrorObject::invalid_request(format!("invalid cursor: {}", p.cursor.unwrap_or_default()));
                return self.respond_error(conn, &id, error);
            }
        };
        let loaded: Vec<ThreadId> =
            self.loaded_threads().into_iter().filter(|t| after.is_none_or(|a| *t > a)).collect();
        let limit = p.limit.map_or(loaded.len(), |l| l.max(1) as usize);
        let data: Vec<ThreadId> = loaded.iter().take(limit).copied().collect();
        let next_cursor = (data.len() < loaded.len()).then(|| data.last().map(ToString::to_string)).flatten();
        self.respond(conn, &id, &ThreadLoadedListResponse { data, next_cursor });
    }

    pub(crate) fn handle_thread_name_set(
        &mut self,
        conn: ConnectionId,
        id: RequestId,
        p: ThreadSetNameParams,
    ) {
        let thread_id = match parse_thread_id(&p.thread_id, "thread") {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        let name = p.name.trim().to_owned();
        if name.is_empty() {
            return self.respond_error(
                conn,
                &id,
                ErrorObject::invalid_request("thread name must not be empty"),
            );
        }
        let now = self.now;
        let Some(state) = self.threads.get_mut(&thread_id) else {
            return self.respond_error(
                conn,
                &id,
                ErrorObject::invalid_request(format!("thread not found: {thread_id}")),
            );
        };
        state.name = Some(name.clone());
        state.updated_at = now;
        self.persist(thread_id, crate::history::RolloutRecord::ThreadNameUpdated { name: name.clone() });
        self.respond(conn, &id, &EmptyResponse {});
        self.broadcast(&ThreadNameUpdated { thread_id, thread_name: Some(name) });
    }

    pub(crate) fn handle_thread_unsubscribe(&mut self, conn: ConnectionId, id: RequestId, p: ThreadIdParams) {
        let thread_id = match parse_thread_id(&p.thread_id, "thread") {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        let now = self.now;
        let status = match self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()) {
            None => UnsubscribeStatus::NotLoaded,
            Some(live) => {
                if !live.subscribers.remove(&conn) {
                    UnsubscribeStatus::NotSubscribed
                } else {
                    if live.subscribers.is_empty() {
                        live.idle_since = now;
                    }
                    UnsubscribeStatus::Unsubscribed
                }
            }
        };
        self.respond(conn, &id, &ThreadUnsubscribeResponse { status });
    }
}

/// Parses a `thread/list` cursor: `<sort value>:<thread id>`.
fn parse_list_cursor(cursor: &str) -> Option<(u64, ThreadId)> {
    let (value, id) = cursor.split_once(':')?;
    Some((value.parse().ok()?, ThreadId::parse(id).ok()?))
}
