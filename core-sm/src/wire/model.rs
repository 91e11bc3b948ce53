//! Threads, turns, statuses and the other shared data types of the v2 protocol.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::item::ThreadItem;
use crate::ids::{ThreadId, TurnId};

/// A thread's runtime status, derived from the machine's facts (never stored twice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadStatus {
    /// Not held in memory.
    NotLoaded,
    /// Loaded, no turn running, nothing pending.
    Idle,
    /// Loaded; the last turn ended in an error. Cleared by the next turn start.
    SystemError,
    /// A turn is running or a server request is pending.
    #[serde(rename_all = "camelCase")]
    Active {
        /// Ordered `waitingOnApproval`, then `waitingOnUserInput`.
        active_flags: Vec<ThreadActiveFlag>,
    },
}

/// Why an active thread is waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ThreadActiveFlag {
    /// An approval-type server request is pending.
    WaitingOnApproval,
    /// A user-input server request is pending.
    WaitingOnUserInput,
}

/// Where a thread came from (`SessionSource`). App-server threads are `vscode`, as Codex reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionSource {
    /// Codex CLI.
    Cli,
    /// An IDE / app-server client; what Codex's app-server reports for threads it creates.
    Vscode,
    /// `codex exec`.
    Exec,
    /// App server.
    AppServer,
    /// Unknown.
    Unknown,
}

/// How a thread's history is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ThreadHistoryMode {
    /// Whole turns in one rollout.
    Legacy,
    /// Paginated item history.
    Paginated,
}

/// The `Thread` object returned by start/resume/read/list and carried in `thread/started`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    /// UUIDv7.
    pub id: ThreadId,
    /// Equal to `id` for top-level threads.
    pub session_id: ThreadId,
    /// First user message text, `""` until there is one.
    pub preview: String,
    /// In memory only, never written.
    pub ephemeral: bool,
    /// Model provider id.
    pub model_provider: String,
    /// Model, when known.
    pub model: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Working directory.
    pub cwd: String,
    /// Server version that created it.
    pub cli_version: String,
    /// Creator.
    pub source: SessionSource,
    /// Runtime status.
    pub status: ThreadStatus,
    /// Populated only by resume, fork and read with `includeTurns`.
    pub turns: Vec<Turn>,
    /// Rollout path; `null` for ephemeral threads.
    pub path: Option<String>,
    /// User-facing title set by `thread/name/set`.
    pub name: Option<String>,
    /// `clientInfo.name` of the creating connection.
    pub originator: Option<String>,
    /// Set on forks.
    pub forked_from_id: Option<ThreadId>,
    /// Required but nullable.
    pub project_id: Option<String>,
    /// Storage layout.
    pub history_mode: ThreadHistoryMode,
}

/// Terminal and running states of a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TurnStatus {
    /// Ended normally.
    Completed,
    /// Interrupted (client interrupt, cancel decision, or stale after restart).
    Interrupted,
    /// Ended with an error.
    Failed,
    /// Still running.
    InProgress,
}

/// How much of a turn's items a payload carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TurnItemsView {
    /// Items intentionally empty.
    NotLoaded,
    /// First user message and last agent message.
    Summary,
    /// Every item.
    Full,
}

/// A turn: one user request and everything the agent did for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    /// UUIDv7.
    pub id: TurnId,
    /// Items, per `itemsView`.
    pub items: Vec<ThreadItem>,
    /// What `items` holds.
    pub items_view: TurnItemsView,
    /// Status.
    pub status: TurnStatus,
    /// Set when `status` is `failed`.
    pub error: Option<TurnError>,
    /// Unix seconds, once the engine started the turn.
    pub started_at: Option<i64>,
    /// Unix seconds, once ended.
    pub completed_at: Option<i64>,
    /// Wall time from start to end.
    pub duration_ms: Option<i64>,
    /// The turn's own id for top-level turns.
    pub root_turn_id: Option<TurnId>,
}

/// An error attached to a failed turn and carried by `error` notifications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnError {
    /// Human-readable message.
    pub message: String,
    /// Machine-readable classification (`CodexErrorInfo`), passed through as given.
    #[serde(default)]
    pub codex_error_info: Option<Value>,
    /// Extra detail.
    #[serde(default)]
    pub additional_details: Option<String>,
}

/// Token counts of one kind of usage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsageBreakdown {
    /// Total tokens.
    pub total_tokens: i64,
    /// Input tokens.
    pub input_tokens: i64,
    /// Cached input tokens.
    pub cached_input_tokens: i64,
    /// Cache-write input tokens.
    #[serde(default)]
    pub cache_write_input_tokens: i64,
    /// Output tokens.
    pub output_tokens: i64,
    /// Reasoning output tokens.
    pub reasoning_output_tokens: i64,
}

/// `thread/tokenUsage/updated`'s `tokenUsage`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTokenUsage {
    /// Cumulative for the thread.
    pub total: TokenUsageBreakdown,
    /// The last model response.
    pub last: TokenUsageBreakdown,
    /// Context window of the model, when known.
    pub model_context_window: Option<i64>,
}

/// Approval policy (`AskForApproval`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AskForApproval {
    /// `untrusted`, `on-request` or `never`.
    Simple(ApprovalMode),
    /// `{"granular": {...}}`, passed through.
    Granular {
        /// The granular flags.
        granular: Value,
    },
}

/// The string forms of [`AskForApproval`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApprovalMode {
    /// Ask for anything not trusted.
    #[serde(rename = "untrusted")]
    Untrusted,
    /// The model asks when it needs to.
    #[serde(rename = "on-request")]
    OnRequest,
    /// Never ask.
    #[serde(rename = "never")]
    Never,
}

/// Who reviews approval requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalsReviewer {
    /// The client's user.
    User,
    /// The automatic reviewer.
    AutoReview,
    /// Legacy alias of `auto_review`.
    GuardianSubagent,
}

/// Requested sandbox (`SandboxMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Read only.
    ReadOnly,
    /// Write inside the workspace.
    WorkspaceWrite,
    /// No sandbox.
    DangerFullAccess,
}

/// Effective sandbox (`SandboxPolicy`), tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SandboxPolicy {
    /// No sandbox.
    DangerFullAccess,
    /// Read only.
    #[serde(rename_all = "camelCase")]
    ReadOnly {
        /// Network allowed.
        #[serde(default)]
        network_access: bool,
    },
    /// Sandboxed externally.
    #[serde(rename_all = "camelCase")]
    ExternalSandbox {
        /// Network access (`restricted` when the client omits it).
        #[serde(default)]
        network_access: NetworkAccess,
    },
    /// Write inside the workspace.
    #[serde(rename_all = "camelCase")]
    WorkspaceWrite {
        /// Extra writable roots.
        #[serde(default)]
        writable_roots: Vec<String>,
        /// Network allowed.
        #[serde(default)]
        network_access: bool,
        /// Exclude `$TMPDIR`.
        #[serde(default)]
        exclude_tmpdir_env_var: bool,
        /// Exclude `/tmp`.
        #[serde(default)]
        exclude_slash_tmp: bool,
    },
}

/// Network access of an external sandbox (`NetworkAccess`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkAccess {
    /// No network.
    #[default]
    Restricted,
    /// Network allowed.
    Enabled,
}

impl SandboxPolicy {
    /// The policy a [`SandboxMode`] stands for.
    pub fn from_mode(mode: SandboxMode) -> Self {
        match mode {
            SandboxMode::ReadOnly => SandboxPolicy::ReadOnly { network_access: false },
            SandboxMode::WorkspaceWrite => SandboxPolicy::WorkspaceWrite {
                writable_roots: Vec::new(),
                network_access: false,
                exclude_tmpdir_env_var: false,
                exclude_slash_tmp: false,
            },
            SandboxMode::DangerFullAccess => SandboxPolicy::DangerFullAccess,
        }
    }
}

/// One element of a turn's input (`UserInput`), tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UserInput {
    /// Text; `text_elements` keeps its snake_case name on the wire.
    Text {
        /// The text.
        text: String,
        /// UI spans inside `text`, passed through.
        #[serde(default)]
        text_elements: Vec<Value>,
    },
    /// An image by URL or uploaded file id.
    #[serde(rename_all = "camelCase")]
    Image {
        /// Image URL (or data URL).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// Uploaded file id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// Detail level.
        #[serde(default)]
        detail: Option<String>,
    },
    /// An image on the server's disk.
    LocalImage {
        /// Path.
        path: String,
        /// Detail level.
        #[serde(default)]
        detail: Option<String>,
    },
    /// Audio by URL or uploaded file id.
    #[serde(rename_all = "camelCase")]
    Audio {
        /// Audio URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// Uploaded file id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
    },
    /// Audio on the server's disk.
    LocalAudio {
        /// Path.
        path: String,
    },
    /// A skill reference.
    Skill {
        /// Skill name.
        name: String,
        /// Skill path.
        path: String,
    },
    /// A mention.
    Mention {
        /// Display name.
        name: String,
        /// Target path.
        path: String,
    },
}

impl UserInput {
    /// The text of a text element, `None` for other kinds.
    pub fn text(&self) -> Option<&str> {
        match self {
            UserInput::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Joined text of an input list, as used for previews and size limits.
pub fn input_text(input: &[UserInput]) -> String {
    input.iter().filter_map(UserInput::text).collect::<Vec<_>>().join("\n")
}

/// Number of characters of text in an input list (the 1,048,576-char limit counts these).
pub fn input_text_chars(input: &[UserInput]) -> usize {
    input.iter().filter_map(UserInput::text).map(|t| t.chars().count()).sum()
}
