//! Params and results of the client requests turnstile implements.
//!
//! Params structs ignore unknown fields (as Codex's do) and type the fields turnstile reads, so
//! a wrongly typed field is reported with serde's message, as Codex reports it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{
    ApprovalsReviewer, AskForApproval, SandboxMode, SandboxPolicy, Thread, ThreadStatus, Turn, UserInput,
};
use crate::ids::{ThreadId, TurnId};

/// `initialize` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    /// Who the client is.
    pub client_info: ClientInfo,
    /// What it opts into.
    #[serde(default)]
    pub capabilities: Option<InitializeCapabilities>,
}

/// `initialize.clientInfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// Must be a valid HTTP header value.
    pub name: String,
    /// Display title.
    #[serde(default)]
    pub title: Option<String>,
    /// Client version.
    pub version: String,
}

/// `initialize.capabilities`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCapabilities {
    /// Unlocks experimental methods and fields.
    #[serde(default)]
    pub experimental_api: bool,
    /// Exact notification methods never to send to this connection.
    #[serde(default)]
    pub opt_out_notification_methods: Option<Vec<String>>,
}

/// `initialize` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResponse {
    /// `<originator>/<version> (<os>; <arch>) <terminal> (<client name>; <client version>)`.
    pub user_agent: String,
    /// The server's home directory.
    pub codex_home: String,
    /// e.g. `unix`.
    pub platform_family: String,
    /// e.g. `linux`.
    pub platform_os: String,
}

/// `thread/start` params (fields turnstile reads; others are accepted and ignored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStartParams {
    /// Model.
    #[serde(default)]
    pub model: Option<String>,
    /// Model provider.
    #[serde(default)]
    pub model_provider: Option<String>,
    /// Working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Approval policy.
    #[serde(default)]
    pub approval_policy: Option<AskForApproval>,
    /// Reviewer.
    #[serde(default)]
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    /// Sandbox mode.
    #[serde(default)]
    pub sandbox: Option<SandboxMode>,
    /// Named permission profile (experimental; exclusive with `sandbox`).
    #[serde(default)]
    pub permissions: Option<String>,
    /// Base instructions.
    #[serde(default)]
    pub base_instructions: Option<String>,
    /// Developer instructions.
    #[serde(default)]
    pub developer_instructions: Option<String>,
    /// In memory only.
    #[serde(default)]
    pub ephemeral: Option<bool>,
    /// Client-implemented tools (experimental), handed to the engine.
    #[serde(default)]
    pub dynamic_tools: Option<Vec<Value>>,
    /// Free-form config overrides.
    #[serde(default)]
    pub config: Option<serde_json::Map<String, Value>>,
    /// Service tier.
    #[serde(default)]
    pub service_tier: Option<String>,
    /// Personality.
    #[serde(default)]
    pub personality: Option<String>,
}

/// Result shared by `thread/start` and `thread/resume`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSessionResponse {
    /// The thread.
    pub thread: Thread,
    /// Model.
    pub model: String,
    /// Model provider.
    pub model_provider: String,
    /// Working directory.
    pub cwd: String,
    /// Approval policy.
    pub approval_policy: AskForApproval,
    /// Reviewer.
    pub approvals_reviewer: ApprovalsReviewer,
    /// Effective sandbox.
    pub sandbox: SandboxPolicy,
    /// Reasoning effort.
    pub reasoning_effort: Option<String>,
    /// Service tier.
    pub service_tier: Option<String>,
    /// Instruction files in effect.
    pub instruction_sources: Vec<String>,
    /// Disabled plugins.
    pub disabled_plugin_ids: Vec<String>,
}

/// `thread/resume` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResumeParams {
    /// The thread.
    pub thread_id: String,
    /// Omit turns from the response.
    #[serde(default)]
    pub exclude_turns: bool,
    /// Model override (ignored for loaded threads, as Codex does).
    #[serde(default)]
    pub model: Option<String>,
    /// Working directory override.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Approval policy override.
    #[serde(default)]
    pub approval_policy: Option<AskForApproval>,
    /// Sandbox override.
    #[serde(default)]
    pub sandbox: Option<SandboxMode>,
}

/// `thread/fork` params (fields turnstile reads; others are accepted and ignored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadForkParams {
    /// The source thread.
    pub thread_id: String,
    /// Keep turns up to and including this one (it must not be in progress).
    #[serde(default)]
    pub last_turn_id: Option<String>,
    /// Keep the fork in memory only.
    #[serde(default)]
    pub ephemeral: Option<bool>,
    /// Omit turns from the response.
    #[serde(default)]
    pub exclude_turns: bool,
    /// Model override.
    #[serde(default)]
    pub model: Option<String>,
    /// Model provider override.
    #[serde(default)]
    pub model_provider: Option<String>,
    /// Working directory override.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Approval policy override.
    #[serde(default)]
    pub approval_policy: Option<AskForApproval>,
    /// Reviewer override.
    #[serde(default)]
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    /// Sandbox override.
    #[serde(default)]
    pub sandbox: Option<SandboxMode>,
    /// Base instructions override.
    #[serde(default)]
    pub base_instructions: Option<String>,
    /// Developer instructions override.
    #[serde(default)]
    pub developer_instructions: Option<String>,
}

/// Params naming only a thread (`thread/unsubscribe`, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadIdParams {
    /// The thread.
    pub thread_id: String,
}

/// `thread/read` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadReadParams {
    /// The thread.
    pub thread_id: String,
    /// Rebuild turns.
    #[serde(default)]
    pub include_turns: bool,
}

/// `{thread}` results (`thread/read`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadResponse {
    /// The thread.
    pub thread: Thread,
}

/// `thread/list` sort key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadSortKey {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Last update.
    UpdatedAt,
    /// Recency (treated as last update).
    RecencyAt,
    /// Section position (treated as creation time).
    SectionPosition,
}

/// `thread/list` sort direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

/// `thread/list` cwd filter: one path or several.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CwdFilter {
    /// One path.
    One(String),
    /// Any of these.
    Many(Vec<String>),
}

/// `thread/list` params.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadListParams {
    /// Archived threads only.
    #[serde(default)]
    pub archived: Option<bool>,
    /// Opaque cursor from `nextCursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Working directory filter.
    #[serde(default)]
    pub cwd: Option<CwdFilter>,
    /// Ids to leave out.
    #[serde(default)]
    pub excluded_thread_ids: Option<Vec<String>>,
    /// Page size (default 25, clamped to 1..=100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Providers; omitted means the server's, `[]` means all.
    #[serde(default)]
    pub model_providers: Option<Vec<String>>,
    /// Case-sensitive substring of the title.
    #[serde(default)]
    pub search_term: Option<String>,
    /// Sort direction.
    #[serde(default)]
    pub sort_direction: Option<SortDirection>,
    /// Sort key.
    #[serde(default)]
    pub sort_key: Option<ThreadSortKey>,
    /// Source kinds; omitted or empty means interactive (`cli`, `vscode`).
    #[serde(default)]
    pub source_kinds: Option<Vec<String>>,
}

/// `thread/list` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadListResponse {
    /// The page.
    pub data: Vec<Thread>,
    /// Cursor for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// `thread/loaded/list` params.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadLoadedListParams {
    /// The last id of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size (default: everything; at least 1).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `thread/loaded/list` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadLoadedListResponse {
    /// Loaded thread ids, ascending.
    pub data: Vec<ThreadId>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// `thread/name/set` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSetNameParams {
    /// The thread.
    pub thread_id: String,
    /// The new name (trimmed; must not be blank).
    pub name: String,
}

/// `thread/unsubscribe` result status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnsubscribeStatus {
    /// The thread is not loaded.
    NotLoaded,
    /// The connection was not subscribed.
    NotSubscribed,
    /// Unsubscribed.
    Unsubscribed,
}

/// `thread/unsubscribe` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadUnsubscribeResponse {
    /// What happened.
    pub status: UnsubscribeStatus,
}

/// `turn/start` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnStartParams {
    /// The (loaded) thread.
    pub thread_id: String,
    /// The user's input.
    pub input: Vec<UserInput>,
    /// Sticky working directory override.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Sticky approval policy override.
    #[serde(default)]
    pub approval_policy: Option<AskForApproval>,
    /// Sticky sandbox override.
    #[serde(default)]
    pub sandbox_policy: Option<SandboxPolicy>,
    /// Named permission profile (experimental; exclusive with `sandboxPolicy`).
    #[serde(default)]
    pub permissions: Option<String>,
    /// Sticky model override.
    #[serde(default)]
    pub model: Option<String>,
    /// Sticky reasoning effort override.
    #[serde(default)]
    pub effort: Option<String>,
    /// Client's id for the user message.
    #[serde(default)]
    pub client_user_message_id: Option<String>,
}

/// `turn/start` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnStartResponse {
    /// The turn (in progress, items not loaded).
    pub turn: Turn,
}

/// `turn/steer` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnSteerParams {
    /// The thread.
    pub thread_id: String,
    /// Must equal the active turn.
    pub expected_turn_id: String,
    /// The input to add.
    pub input: Vec<UserInput>,
    /// Client's id for the user message.
    #[serde(default)]
    pub client_user_message_id: Option<String>,
}

/// `turn/steer` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnSteerResponse {
    /// The active turn.
    pub turn_id: TurnId,
}

/// `turn/interrupt` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnInterruptParams {
    /// The thread.
    pub thread_id: String,
    /// Must equal the active turn.
    pub turn_id: String,
}

/// An empty result, `{}` on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmptyResponse {}

/// Status of a thread as a standalone value (for tests and introspection).
pub type Status = ThreadStatus;
