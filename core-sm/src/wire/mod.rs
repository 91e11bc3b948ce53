//! Wire types: the JSON-RPC envelope and the typed params, results and notifications.
//!
//! Field names, casing and optionality follow the Codex 0.169.0 JSON Schema
//! (`shared/protocol/codex-0.169.0/`); the `tests` crate validates every frame against it.

mod client_methods;
mod envelope;
pub(crate) mod fast_request;
mod item;
mod json;
pub mod methods;
mod model;
pub mod notifications;
pub mod requests;
pub mod server_requests;
pub(crate) mod views;

pub(crate) use envelope::FrameEncoder;
pub use envelope::{
    codes, encode_error, encode_notification, encode_request, encode_result, DecodeError, ErrorObject, Frame,
    Incoming, RequestId,
};
pub use item::{
    CommandAction, CommandExecutionSource, CommandExecutionStatus, FileUpdateChange, ItemBody,
    PatchApplyStatus, PatchChangeKind, ThreadItem, ToolCallStatus,
};
pub use model::{
    input_text, input_text_chars, ApprovalMode, ApprovalsReviewer, AskForApproval, NetworkAccess,
    SandboxMode, SandboxPolicy, SessionSource, Thread, ThreadActiveFlag, ThreadHistoryMode, ThreadStatus,
    ThreadTokenUsage, TokenUsageBreakdown, Turn, TurnError, TurnItemsView, TurnStatus, UserInput,
};
