//! The boundary between the machine and whatever runs turns (a model plus tools).
//!
//! The machine tells an engine what clients asked for ([`EngineCommand`], delivered as
//! [`Output::Engine`](crate::Output::Engine)) and learns what happened ([`EngineEvent`], fed as
//! [`Input::Engine`](crate::Input::Engine)). Engines never see JSON-RPC, request ids or
//! connections. Events for one thread must arrive in the order the engine produced them;
//! events for different threads may interleave freely.
//!
//! Engines name their items with [`ItemKey`]s of their choosing (unique within a turn); the
//! machine mints the wire item ids. User-message items are the machine's own: it announces the
//! turn input when the engine reports the turn started, and steered input when it is accepted.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ids::TurnId;
use crate::wire::server_requests::{
    CommandDecision, ElicitationAction, FileChangeDecision, NetworkProtocol, PermissionGrantScope,
    PermissionProfile, UserInputAnswer, UserInputQuestion,
};
use crate::wire::{CommandAction, FileUpdateChange, ItemBody, ThreadTokenUsage, TurnError, UserInput};

/// An engine's name for one of its items, unique within a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey(pub u64);

/// An engine's name for one of its server requests or network attempts, unique within a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey(pub u64);

/// Something the engine needs a client to decide or supply before it can go on.
///
/// The machine turns each into a JSON-RPC request to the thread's subscribers, tracks it until
/// it is resolved exactly once, and reports the outcome with [`EngineCommand::RequestResolved`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EngineRequest {
    /// Approve a command (`item/commandExecution/requestApproval`). Without `approval_id` the
    /// machine starts the command item (if the engine has not) before asking, as Codex does;
    /// with one, it is a sub-command approval inside an existing item.
    CommandApproval {
        /// The command item.
        item: ItemKey,
        /// Sub-command callback id, if several approvals share the item.
        approval_id: Option<String>,
        /// Display command.
        command: String,
        /// Working directory.
        cwd: String,
        /// Parsed actions.
        command_actions: Vec<CommandAction>,
        /// Why approval is needed.
        reason: Option<String>,
        /// Choices to offer; `None` offers the default list.
        available_decisions: Option<Vec<CommandDecision>>,
        /// Suggested exec-policy prefix.
        proposed_execpolicy_amendment: Option<Vec<String>>,
    },
    /// Approve a patch (`item/fileChange/requestApproval`); the machine starts the fileChange
    /// item from `changes` if the engine has not.
    FileChangeApproval {
        /// The fileChange item.
        item: ItemKey,
        /// The changes.
        changes: Vec<FileUpdateChange>,
        /// Why approval is needed.
        reason: Option<String>,
        /// Session-wide write access requested under this root.
        grant_root: Option<String>,
    },
    /// Grant more permissions mid-turn (`item/permissions/requestApproval`).
    Permissions {
        /// What is asked for.
        permissions: PermissionProfile,
        /// Why.
        reason: Option<String>,
    },
    /// Ask the user questions (`item/tool/requestUserInput`).
    UserInput {
        /// The questions.
        questions: Vec<UserInputQuestion>,
        /// Whether the turn blocks on the answer.
        is_blocking: bool,
    },
    /// Call a client-implemented dynamic tool (`item/tool/call`); the machine owns the
    /// `dynamicToolCall` item and completes it with the client's output.
    DynamicToolCall {
        /// Tool name.
        tool: String,
        /// Namespace of namespaced tools.
        namespace: Option<String>,
        /// Arguments.
        arguments: Value,
    },
    /// An MCP server's elicitation (`mcpServer/elicitation/request`): `mode` and its fields.
    Elicitation {
        /// The MCP server.
        server_name: String,
        /// `{"mode": "form", "message": ..., "requestedSchema": ...}` and the like.
        request: serde_json::Map<String, Value>,
    },
    /// Refresh externally managed ChatGPT tokens (`account/chatgptAuthTokens/refresh`), asked of
    /// every initialized connection; fails after 10 s without an answer.
    AuthRefresh {
        /// The account previously in use.
        previous_account_id: Option<String>,
    },
}

/// How a server request ended, as the engine learns it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RequestOutcome {
    /// The client's command decision (or an automatic accept under a session grant).
    Command(CommandDecision),
    /// The client's file-change decision (or an automatic accept under a session grant).
    FileChange(FileChangeDecision),
    /// Permissions granted: the client's grant intersected with the request.
    Permissions {
        /// Granted subset.
        granted: PermissionProfile,
        /// How long it lasts.
        scope: PermissionGrantScope,
    },
    /// Answers by question id.
    UserInput(BTreeMap<String, UserInputAnswer>),
    /// The dynamic tool's output.
    DynamicTool {
        /// Output items.
        content_items: Vec<Value>,
        /// Whether it succeeded.
        success: bool,
    },
    /// The elicitation's result.
    Elicitation {
        /// What the user did.
        action: ElicitationAction,
        /// Form data or proof.
        content: Option<Value>,
        /// Extension metadata.
        meta: Option<Value>,
    },
    /// Fresh tokens.
    AuthTokens {
        /// Access token.
        access_token: String,
        /// Account id.
        account_id: String,
        /// Plan type.
        plan_type: Option<String>,
    },
    /// The client answered with a JSON-RPC error; approvals count it as a denial, user input as
    /// no answers, elicitation as decline, permissions as nothing granted.
    ClientError {
        /// The client's code.
        code: i64,
        /// The client's message.
        message: String,
    },
    /// The client's `result` did not parse; handled like a denial / empty answer.
    Malformed {
        /// Why it did not parse.
        error: String,
    },
    /// The refresh failed (client error or the 10 s timeout), with Codex's message.
    AuthFailed {
        /// `auth refresh request failed: code=<c> message=<m>` or the timeout text.
        message: String,
    },
    /// The turn started, completed or was interrupted while the request waited (Codex's
    /// `turnTransition`); no decision was made.
    Abandoned,
}

/// Settings a thread runs with; sent when the thread opens and updated by `turn/start`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ThreadSettings {
    /// Model name.
    pub model: String,
    /// Model provider id.
    pub model_provider: String,
    /// Working directory.
    pub cwd: String,
    /// Approval policy, as sent by the client (`on-request` by default).
    pub approval_policy: crate::wire::AskForApproval,
    /// Effective sandbox.
    pub sandbox: crate::wire::SandboxPolicy,
    /// Reasoning effort, if set.
    pub effort: Option<String>,
    /// Base instructions, if set.
    pub base_instructions: Option<String>,
    /// Developer instructions, if set.
    pub developer_instructions: Option<String>,
    /// Client-implemented tools declared at `thread/start` (raw `DynamicToolSpec`s).
    pub dynamic_tools: Vec<Value>,
}

/// Sticky setting overrides from `thread/start`, a cold `thread/resume` or `turn/start`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SettingsOverrides {
    pub(crate) model: Option<String>,
    pub(crate) cwd: Option<String>,
    pub(crate) approval_policy: Option<crate::wire::AskForApproval>,
    pub(crate) sandbox: Option<crate::wire::SandboxPolicy>,
    pub(crate) effort: Option<String>,
}

impl ThreadSettings {
    /// The server's defaults: its model, provider and cwd, `on-request` approvals, its sandbox.
    pub(crate) fn defaults(config: &crate::MachineConfig) -> Self {
        Self {
            model: config.model.clone(),
            model_provider: config.model_provider.clone(),
            cwd: config.cwd.clone(),
            approval_policy: crate::wire::AskForApproval::Simple(crate::wire::ApprovalMode::OnRequest),
            sandbox: crate::wire::SandboxPolicy::from_mode(config.sandbox),
            effort: None,
            base_instructions: None,
            developer_instructions: None,
            dynamic_tools: Vec::new(),
        }
    }

    /// Applies the overrides that are set; the others keep their current values.
    pub(crate) fn apply(&mut self, o: SettingsOverrides) {
        if let Some(model) = o.model {
            self.model = model;
        }
        if let Some(cwd) = o.cwd {
            self.cwd = cwd;
        }
        if let Some(policy) = o.approval_policy {
            self.approval_policy = policy;
        }
        if let Some(sandbox) = o.sandbox {
            self.sandbox = sandbox;
        }
        if let Some(effort) = o.effort {
            self.effort = Some(effort);
        }
    }
}

/// What the machine tells a thread's engine.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EngineCommand {
    /// A thread was created or loaded; run its turns with these settings.
    OpenThread {
        /// Initial settings.
        settings: ThreadSettings,
    },
    /// Start a turn. Report [`EngineEvent::TurnStarted`] when it really begins.
    StartTurn {
        /// The id the client was already given.
        turn_id: TurnId,
        /// The user's input.
        input: Vec<UserInput>,
        /// Settings for this turn (sticky overrides already applied).
        settings: ThreadSettings,
    },
    /// Add input to the running turn.
    Steer {
        /// The running turn.
        turn_id: TurnId,
        /// The additional input.
        input: Vec<UserInput>,
    },
    /// Abort the turn; report [`EngineEvent::TurnAborted`] once it has stopped.
    Interrupt {
        /// The turn to abort.
        turn_id: TurnId,
    },
    /// A server request the engine made has been resolved (exactly once).
    RequestResolved {
        /// The engine's key for the request.
        key: RequestKey,
        /// How it ended.
        outcome: RequestOutcome,
    },
    /// The verdict on a network attempt (see [`EngineEvent::NetworkAttempt`]).
    NetworkVerdict {
        /// The engine's key for the attempt.
        key: RequestKey,
        /// `Ok` to proceed; `Err` with the message the tool call should fail with.
        verdict: Result<(), String>,
    },
    /// The thread was unloaded or the server is shutting down; drop its state.
    CloseThread,
}

/// Incremental content of a streaming item.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ItemDelta {
    /// Text of an `agentMessage`.
    AgentMessage(String),
    /// Text of a `plan`.
    Plan(String),
    /// Text of reasoning summary part `index`.
    ReasoningSummary {
        /// Summary part.
        index: i64,
        /// Text.
        text: String,
    },
    /// A new reasoning summary part begins at `index`.
    ReasoningSummaryPartAdded {
        /// Summary part.
        index: i64,
    },
    /// Raw reasoning text of content part `index`.
    ReasoningText {
        /// Content part.
        index: i64,
        /// Text.
        text: String,
    },
    /// Output of a `commandExecution`.
    CommandOutput(String),
}

/// What an engine reports about a thread.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EngineEvent {
    /// The turn is really running now (`turn/started` is sent only after this).
    TurnStarted {
        /// The turn.
        turn_id: TurnId,
    },
    /// An item began.
    ItemStarted {
        /// The turn.
        turn_id: TurnId,
        /// The engine's key for the item.
        key: ItemKey,
        /// Its initial content.
        body: ItemBody,
    },
    /// Streaming content for a started item.
    ItemDelta {
        /// The turn.
        turn_id: TurnId,
        /// The item.
        key: ItemKey,
        /// The content.
        delta: ItemDelta,
    },
    /// An item reached its final state (authoritative content).
    ItemCompleted {
        /// The turn.
        turn_id: TurnId,
        /// The item (if never started, the machine announces the start first).
        key: ItemKey,
        /// Final content.
        body: ItemBody,
    },
    /// Token counts after a model response.
    TokenUsage {
        /// The turn.
        turn_id: TurnId,
        /// Cumulative and last usage.
        usage: ThreadTokenUsage,
    },
    /// The engine needs a client's decision or input (see [`EngineRequest`]).
    Request {
        /// The turn (ignored for [`EngineRequest::AuthRefresh`], which is not turn-bound).
        turn_id: TurnId,
        /// The engine's key, echoed in [`EngineCommand::RequestResolved`].
        key: RequestKey,
        /// What is asked.
        request: EngineRequest,
    },
    /// A tool call wants to reach a destination the managed network policy does not allow.
    /// The machine keeps one prompt per (host, protocol, port), answers at once from session
    /// grants, and reports [`EngineCommand::NetworkVerdict`] for every attempt.
    NetworkAttempt {
        /// The turn.
        turn_id: TurnId,
        /// The engine's key for this attempt.
        key: RequestKey,
        /// Host (compared case-insensitively).
        host: String,
        /// Protocol.
        protocol: NetworkProtocol,
        /// Port.
        port: u16,
    },
    /// A transient error the engine is retrying (`error` with `willRetry: true`).
    Retrying {
        /// The turn.
        turn_id: TurnId,
        /// What went wrong.
        error: TurnError,
    },
    /// A warning for the thread's subscribers.
    Warning {
        /// Text.
        message: String,
    },
    /// The turn finished normally.
    TurnCompleted {
        /// The turn.
        turn_id: TurnId,
    },
    /// The turn stopped after an interrupt.
    TurnAborted {
        /// The turn.
        turn_id: TurnId,
    },
    /// The turn ended with an error.
    TurnFailed {
        /// The turn.
        turn_id: TurnId,
        /// The error (also sent as an `error` notification).
        error: TurnError,
    },
}

impl EngineEvent {
    /// The turn the event belongs to, if any.
    pub fn turn_id(&self) -> Option<TurnId> {
        match self {
            EngineEvent::TurnStarted { turn_id }
            | EngineEvent::ItemStarted { turn_id, .. }
            | EngineEvent::ItemDelta { turn_id, .. }
            | EngineEvent::ItemCompleted { turn_id, .. }
            | EngineEvent::TokenUsage { turn_id, .. }
            | EngineEvent::Retrying { turn_id, .. }
            | EngineEvent::TurnCompleted { turn_id }
            | EngineEvent::TurnAborted { turn_id }
            | EngineEvent::TurnFailed { turn_id, .. }
            | EngineEvent::NetworkAttempt { turn_id, .. } => Some(*turn_id),
            EngineEvent::Request { turn_id, request, .. } => {
                (!matches!(request, EngineRequest::AuthRefresh { .. })).then_some(*turn_id)
            }
            EngineEvent::Warning { .. } => None,
        }
    }
}
