//! Server-to-client requests: their params, the answers clients send, and decision types.

/// Every server-to-client request method turnstile sends.
pub const METHODS: &[&str] = &[
    "item/commandExecution/requestApproval",
    "item/fileChange/requestApproval",
    "item/tool/requestUserInput",
    "mcpServer/elicitation/request",
    "item/permissions/requestApproval",
    "item/tool/call",
    "account/chatgptAuthTokens/refresh",
];

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::item::CommandAction;
use crate::ids::{ThreadId, TurnId};

/// `item/commandExecution/requestApproval` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandApprovalParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The turn.
    pub turn_id: TurnId,
    /// The command item's id, or `network#<proto>#<host>#<port>` for network prompts.
    pub item_id: String,
    /// Distinguishes several approvals within one command item (sub-commands); else null.
    pub approval_id: Option<String>,
    /// Unix ms.
    pub started_at_ms: i64,
    /// Why approval is needed.
    pub reason: Option<String>,
    /// Display command; absent for network-only prompts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Working directory; absent for network-only prompts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Parsed actions; absent for network-only prompts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_actions: Option<Vec<CommandAction>>,
    /// The managed-network destination, for network prompts only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_approval_context: Option<NetworkApprovalContext>,
    /// argv prefix suggested for `acceptWithExecpolicyAmendment`.
    pub proposed_execpolicy_amendment: Option<Vec<String>>,
    /// Ordered choices to offer.
    pub available_decisions: Vec<CommandDecision>,
}

/// Protocol of a managed-network attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NetworkProtocol {
    /// Plain HTTP.
    Http,
    /// HTTPS (CONNECT).
    Https,
    /// SOCKS5 TCP.
    Socks5Tcp,
    /// SOCKS5 UDP.
    Socks5Udp,
}

impl NetworkProtocol {
    /// The label used in network item ids and policy messages.
    pub fn label(self) -> &'static str {
        match self {
            NetworkProtocol::Http => "http",
            NetworkProtocol::Https => "https",
            NetworkProtocol::Socks5Tcp => "socks5-tcp",
            NetworkProtocol::Socks5Udp => "socks5-udp",
        }
    }
}

/// `networkApprovalContext`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkApprovalContext {
    /// Destination host.
    pub host: String,
    /// Protocol.
    pub protocol: NetworkProtocol,
}

/// A network policy rule proposed or applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPolicyAmendment {
    /// Host.
    pub host: String,
    /// `allow` or `deny`.
    pub action: NetworkPolicyAction,
}

/// What a network rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkPolicyAction {
    /// Allow the host.
    Allow,
    /// Deny the host.
    Deny,
}

/// A client's decision on a command (`CommandExecutionApprovalDecision`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CommandDecision {
    /// Run once.
    Accept,
    /// Run, and run identical commands without asking for the rest of the session.
    AcceptForSession,
    /// Run and persist an exec-policy allow prefix.
    AcceptWithExecpolicyAmendment {
        /// The argv prefix.
        execpolicy_amendment: Vec<String>,
    },
    /// Persist a network rule (`deny` declines the command).
    ApplyNetworkPolicyAmendment {
        /// The rule.
        network_policy_amendment: NetworkPolicyAmendment,
    },
    /// Do not run; the turn continues.
    Decline,
    /// Do not run; the turn is interrupted.
    Cancel,
}

/// `{decision}` answer to a command approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandApprovalResponse {
    /// The decision.
    pub decision: CommandDecision,
}

/// `item/fileChange/requestApproval` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChangeApprovalParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The turn.
    pub turn_id: TurnId,
    /// The fileChange item's id.
    pub item_id: String,
    /// Unix ms.
    pub started_at_ms: i64,
    /// Why approval is needed.
    pub reason: Option<String>,
    /// Session-wide write access requested under this root.
    pub grant_root: Option<String>,
}

/// A client's decision on a file change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FileChangeDecision {
    /// Apply.
    Accept,
    /// Apply, and apply later changes to the same files without asking.
    AcceptForSession,
    /// Do not apply; the turn continues.
    Decline,
    /// Do not apply; the turn is interrupted.
    Cancel,
}

/// `{decision}` answer to a file-change approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileChangeApprovalResponse {
    /// The decision.
    pub decision: FileChangeDecision,
}

/// Filesystem and network permissions, as requested or granted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionProfile {
    /// Filesystem access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_system: Option<FileSystemPermissions>,
    /// Network access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkPermissions>,
}

/// `fileSystem` of a [`PermissionProfile`] (the legacy `read`/`write` path lists).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSystemPermissions {
    /// Readable paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Vec<String>>,
    /// Writable paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<Vec<String>>,
}

/// `network` of a [`PermissionProfile`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPermissions {
    /// Network enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// `item/permissions/requestApproval` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionsApprovalParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The turn.
    pub turn_id: TurnId,
    /// The tool call asking.
    pub item_id: String,
    /// Working directory.
    pub cwd: String,
    /// What is asked for.
    pub permissions: PermissionProfile,
    /// Why.
    pub reason: Option<String>,
    /// Unix ms.
    pub started_at_ms: i64,
}

/// How long a permission grant lasts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PermissionGrantScope {
    /// This turn only.
    #[default]
    Turn,
    /// The rest of the session.
    Session,
}

/// Answer to a permissions request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionsApprovalResponse {
    /// What the client grants (intersected with the request by the server).
    pub permissions: PermissionProfile,
    /// Grant scope.
    #[serde(default)]
    pub scope: PermissionGrantScope,
}

/// One question of `item/tool/requestUserInput`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInputQuestion {
    /// Question id (answers are keyed by it).
    pub id: String,
    /// Short header.
    pub header: String,
    /// The question.
    pub question: String,
    /// Offer a free-form "other" answer.
    #[serde(default)]
    pub is_other: bool,
    /// Mask the answer.
    #[serde(default)]
    pub is_secret: bool,
    /// `[{label, description}]`, or null for free text.
    #[serde(default)]
    pub options: Option<Vec<UserInputOption>>,
}

/// An option of a [`UserInputQuestion`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInputOption {
    /// Label.
    pub label: String,
    /// Description.
    pub description: String,
}

/// `item/tool/requestUserInput` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInputParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The turn.
    pub turn_id: TurnId,
    /// The tool call asking.
    pub item_id: String,
    /// The questions.
    pub questions: Vec<UserInputQuestion>,
    /// Whether the turn blocks on the answer.
    pub is_blocking: bool,
}

/// Answers to one question.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInputAnswer {
    /// The answers (several for multi-select, free text for "other").
    pub answers: Vec<String>,
}

/// Answer to `item/tool/requestUserInput`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInputResponse {
    /// Answers by question id.
    pub answers: BTreeMap<String, UserInputAnswer>,
}

/// `item/tool/call` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The turn.
    pub turn_id: TurnId,
    /// The dynamicToolCall item's id.
    pub call_id: String,
    /// Namespace of namespaced tools.
    pub namespace: Option<String>,
    /// Tool name.
    pub tool: String,
    /// Model-supplied arguments.
    pub arguments: Value,
}

/// Answer to `item/tool/call`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallResponse {
    /// Output items (`inputText`, `inputImage`, `inputAudio`).
    pub content_items: Vec<Value>,
    /// Whether the call succeeded.
    pub success: bool,
}

/// `mcpServer/elicitation/request` params: common fields plus one mode-specific shape
/// (`form`, `url`, `openai/form`, ...), passed through as the engine gave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationParams {
    /// The thread.
    pub thread_id: ThreadId,
    /// The turn, when one is active.
    pub turn_id: Option<TurnId>,
    /// The MCP server asking.
    pub server_name: String,
    /// `mode` and its fields.
    #[serde(flatten)]
    pub request: serde_json::Map<String, Value>,
}

/// What the user did with an elicitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitationAction {
    /// Accepted (with content).
    Accept,
    /// Declined.
    Decline,
    /// Cancelled.
    Cancel,
}

/// Answer to `mcpServer/elicitation/request`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElicitationResponse {
    /// What the user did.
    pub action: ElicitationAction,
    /// Form data or proof, for `accept`.
    #[serde(default)]
    pub content: Option<Value>,
    /// Extension metadata.
    #[serde(default, rename = "_meta")]
    pub meta: Option<Value>,
}

/// `account/chatgptAuthTokens/refresh` params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthRefreshParams {
    /// Why a refresh is needed.
    pub reason: AuthRefreshReason,
    /// The account previously in use.
    pub previous_account_id: Option<String>,
}

/// Why tokens must be refreshed (`ChatgptAuthTokensRefreshReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthRefreshReason {
    /// The upstream answered 401.
    Unauthorized,
}

/// Answer to `account/chatgptAuthTokens/refresh`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthRefreshResponse {
    /// New access token.
    pub access_token: String,
    /// Account id.
    pub chatgpt_account_id: String,
    /// Plan type.
    #[serde(default)]
    pub chatgpt_plan_type: Option<String>,
}
