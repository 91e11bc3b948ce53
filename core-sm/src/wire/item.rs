//! `ThreadItem`: the units a turn is made of.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::UserInput;
use crate::ids::ItemId;

/// One item of a turn, as `item/started`, `item/completed` and `Turn.items` carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItem {
    /// Minted by the machine.
    pub id: ItemId,
    /// The variant and its fields, tagged by `type`.
    #[serde(flatten)]
    pub body: ItemBody,
    /// Unix ms when the item started.
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// Unix ms when the item completed.
    #[serde(default)]
    pub completed_at_ms: Option<i64>,
}

/// The content of a [`ThreadItem`], without its id and timestamps. Engines report these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ItemBody {
    /// The user's input.
    #[serde(rename_all = "camelCase")]
    UserMessage {
        /// What the user sent.
        content: Vec<UserInput>,
        /// Client-chosen id, if any.
        #[serde(default)]
        client_id: Option<String>,
    },
    /// A message from the agent; streamed with `item/agentMessage/delta`.
    AgentMessage {
        /// The full text (empty at `item/started`).
        text: String,
        /// `commentary`, `partial_answer` or `final_answer`.
        #[serde(default)]
        phase: Option<String>,
    },
    /// Reasoning summary and raw content.
    Reasoning {
        /// Summary parts.
        #[serde(default)]
        summary: Vec<String>,
        /// Raw reasoning parts.
        #[serde(default)]
        content: Vec<String>,
    },
    /// A proposed plan (plan mode); streamed with `item/plan/delta`.
    Plan {
        /// The plan text.
        text: String,
    },
    /// A shell command.
    #[serde(rename_all = "camelCase")]
    CommandExecution {
        /// Display string.
        command: String,
        /// Working directory.
        cwd: String,
        /// Parsed actions.
        #[serde(default)]
        command_actions: Vec<CommandAction>,
        /// Status.
        status: CommandExecutionStatus,
        /// Who ran it.
        #[serde(default)]
        source: CommandExecutionSource,
        /// Output so far (null when empty).
        #[serde(default)]
        aggregated_output: Option<String>,
        /// Exit code once finished.
        #[serde(default)]
        exit_code: Option<i32>,
        /// Duration once finished.
        #[serde(default)]
        duration_ms: Option<i64>,
        /// Process id of a unified-exec session.
        #[serde(default)]
        process_id: Option<String>,
    },
    /// A patch applied to files.
    FileChange {
        /// The changes, sorted by path.
        changes: Vec<FileUpdateChange>,
        /// Status.
        status: PatchApplyStatus,
    },
    /// A call to an MCP tool.
    #[serde(rename_all = "camelCase")]
    McpToolCall {
        /// Server name.
        server: String,
        /// Tool name.
        tool: String,
        /// Arguments.
        arguments: Value,
        /// Status: `inProgress`, `completed`, `failed`.
        status: ToolCallStatus,
        /// Result once completed.
        #[serde(default)]
        result: Option<Value>,
        /// Error once failed.
        #[serde(default)]
        error: Option<Value>,
        /// Duration once finished.
        #[serde(default)]
        duration_ms: Option<i64>,
    },
    /// A call to a client-implemented dynamic tool.
    #[serde(rename_all = "camelCase")]
    DynamicToolCall {
        /// Tool name.
        tool: String,
        /// Namespace, for namespaced tools.
        #[serde(default)]
        namespace: Option<String>,
        /// Arguments.
        arguments: Value,
        /// Status: `inProgress`, `completed`, `failed`.
        status: ToolCallStatus,
        /// The client's output, on completion.
        #[serde(default)]
        content_items: Option<Vec<Value>>,
        /// The client's verdict, on completion.
        #[serde(default)]
        success: Option<bool>,
        /// Duration once finished.
        #[serde(default)]
        duration_ms: Option<i64>,
    },
    /// A web search.
    WebSearch {
        /// The query (`""` at start).
        query: String,
        /// The action taken.
        #[serde(default)]
        action: Option<Value>,
    },
    /// An image the agent looked at.
    ImageView {
        /// Path.
        path: String,
    },
    /// A context compaction.
    ContextCompaction {},
}

/// `commandExecution.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionStatus {
    /// Running or awaiting approval.
    InProgress,
    /// Ran to completion.
    Completed,
    /// Failed to run or exited abnormally.
    Failed,
    /// Not run: the user declined.
    Declined,
}

/// `fileChange.status` (`PatchApplyStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PatchApplyStatus {
    /// Being applied or awaiting approval.
    InProgress,
    /// Applied.
    Completed,
    /// Failed to apply.
    Failed,
    /// Not applied: the user declined.
    Declined,
}

/// Status of MCP and dynamic tool calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ToolCallStatus {
    /// Running.
    InProgress,
    /// Succeeded.
    Completed,
    /// Failed.
    Failed,
}

/// `commandExecution.source`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionSource {
    /// The agent ran it.
    #[default]
    Agent,
    /// `thread/shellCommand`.
    UserShell,
    /// Start of a unified-exec session.
    UnifiedExecStartup,
    /// Interaction with a unified-exec session.
    UnifiedExecInteraction,
}

/// One parsed action of a command (`CommandAction`), tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum CommandAction {
    /// Reads a file.
    Read {
        /// The command.
        command: String,
        /// File name.
        name: String,
        /// Path.
        path: String,
    },
    /// Lists files.
    ListFiles {
        /// The command.
        command: String,
        /// Path.
        #[serde(default)]
        path: Option<String>,
    },
    /// Searches.
    Search {
        /// The command.
        command: String,
        /// Path.
        #[serde(default)]
        path: Option<String>,
        /// Query.
        #[serde(default)]
        query: Option<String>,
    },
    /// Anything else.
    Unknown {
        /// The command.
        command: String,
    },
}

/// One file of a patch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileUpdateChange {
    /// Path.
    pub path: String,
    /// Add, delete or update (with optional move).
    pub kind: PatchChangeKind,
    /// Unified diff, or the whole content for add/delete.
    pub diff: String,
}

/// `PatchChangeKind`, tagged by `type`; `move_path` keeps its snake_case name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PatchChangeKind {
    /// New file.
    Add,
    /// Removed file.
    Delete,
    /// Changed (and maybe moved) file.
    Update {
        /// Destination of a move.
        #[serde(default)]
        move_path: Option<String>,
    },
}

impl ItemBody {
    /// The `type` tag, for logs and traces.
    pub fn kind(&self) -> &'static str {
        match self {
            ItemBody::UserMessage { .. } => "userMessage",
            ItemBody::AgentMessage { .. } => "agentMessage",
            ItemBody::Reasoning { .. } => "reasoning",
            ItemBody::Plan { .. } => "plan",
            ItemBody::CommandExecution { .. } => "commandExecution",
            ItemBody::FileChange { .. } => "fileChange",
            ItemBody::McpToolCall { .. } => "mcpToolCall",
            ItemBody::DynamicToolCall { .. } => "dynamicToolCall",
            ItemBody::WebSearch { .. } => "webSearch",
            ItemBody::ImageView { .. } => "imageView",
            ItemBody::ContextCompaction {} => "contextCompaction",
        }
    }

    /// Gives items still in progress a terminal state when their turn ends without them
    /// (interrupt, failure). Codex leaves such items without `item/completed`; turnstile
    /// completes them so no client is left with a spinner.
    pub fn settle_abandoned(&mut self) {
        match self {
            ItemBody::CommandExecution { status, .. } if *status == CommandExecutionStatus::InProgress => {
                *status = CommandExecutionStatus::Failed
            }
            ItemBody::FileChange { status, .. } if *status == PatchApplyStatus::InProgress => {
                *status = PatchApplyStatus::Failed
            }
            ItemBody::McpToolCall { status, .. } if *status == ToolCallStatus::InProgress => {
                *status = ToolCallStatus::Failed
            }
            ItemBody::DynamicToolCall { status, success, .. } if *status == ToolCallStatus::InProgress => {
                *status = ToolCallStatus::Failed;
                *success = Some(false);
            }
            _ => {}
        }
    }
}
