//! A single-pass, validating JSON scanner that extracts only what the oracle and the fake
//! clients look at: the envelope (`id`, `method`, `result`/`error`, `emittedAtMs`) and a
//! handful of ids and statuses inside `params` / `result`.
//!
//! Parsing every frame into a `serde_json::Value` would dominate the simulator's cost, so this
//! walks the bytes once, checks the whole text is valid JSON (RFC 8259 grammar, nesting depth,
//! escapes) and keeps ids as parsed numbers, never allocating for the common case.

mod memo;
mod parser;
#[cfg(test)]
mod tests;

use core_sm::wire::RequestId;
use core_sm::{ThreadId, TurnId};

/// Why a frame is not acceptable JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanError {
    /// Byte offset of the problem.
    pub at: usize,
    /// What was wrong.
    pub what: &'static str,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

/// The shape of a JSON-RPC message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// `{id, method, ...}`.
    Request,
    /// `{method, ...}` without a usable id.
    Notification,
    /// `{id, result}`.
    Reply,
    /// `{id, error}`.
    ErrorReply,
    /// None of the above.
    #[default]
    Other,
}

/// A status object (`ThreadStatus`) as seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `notLoaded`.
    NotLoaded,
    /// `idle`.
    Idle,
    /// `systemError`.
    SystemError,
    /// `active`, with flag bits (1 = waitingOnApproval, 2 = waitingOnUserInput, 4 = unknown,
    /// 8 = repeated or out of protocol order).
    Active(u8),
    /// Any other `type`.
    Unknown,
}

impl Status {
    /// The same classification for the machine's own status.
    pub fn of(status: &core_sm::wire::ThreadStatus) -> Self {
        use core_sm::wire::{ThreadActiveFlag, ThreadStatus};
        match status {
            ThreadStatus::NotLoaded => Status::NotLoaded,
            ThreadStatus::Idle => Status::Idle,
            ThreadStatus::SystemError => Status::SystemError,
            ThreadStatus::Active { active_flags } => {
                Status::Active(active_flags.iter().fold(0, |bits, f| {
                    bits | match f {
                        ThreadActiveFlag::WaitingOnApproval => 1,
                        ThreadActiveFlag::WaitingOnUserInput => 2,
                    }
                }))
            }
        }
    }

    /// Whether this is `active`.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Active(_))
    }
}

/// `turn.status` / `Turn.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnState {
    /// `completed`.
    Completed,
    /// `interrupted`.
    Interrupted,
    /// `failed`.
    Failed,
    /// `inProgress`.
    InProgress,
    /// Anything else.
    Unknown,
}

impl TurnState {
    /// Whether the status ends a turn.
    pub fn is_terminal(self) -> bool {
        matches!(self, TurnState::Completed | TurnState::Interrupted | TurnState::Failed)
    }
}

/// An item id: the machine mints UUIDs, kept as a number; anything else is hashed.
pub type ItemRef = u128;

/// Everything the simulator reads from one frame. Owned and cheap to keep.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Message shape.
    pub kind: Kind,
    /// `id` when it is a JSON-RPC id (string or 64-bit integer).
    pub id: Option<RequestId>,
    /// `method`, interned for known names.
    pub method: Option<Method>,
    /// `emittedAtMs` when it is an integer.
    pub emitted_at_ms: Option<i64>,
    /// Whether `emittedAtMs` was present at all.
    pub emitted_at_present: bool,
    /// `error.code`, for error replies.
    pub error_code: Option<i64>,
    /// `threadId`, `thread.id` (params or result).
    pub thread_id: Option<ThreadId>,
    /// `turnId`, `turn.id` (params or result).
    pub turn_id: Option<TurnId>,
    /// `turn.status`.
    pub turn_status: Option<TurnState>,
    /// `item.id` or `itemId`.
    pub item_id: Option<ItemRef>,
    /// `item.type`, interned.
    pub item_type: Option<&'static str>,
    /// `requestId` when it is an integer (`serverRequest/resolved`).
    pub request_id: Option<i64>,
    /// `status` (object) in params, or `thread.status` in params/result.
    pub status: Option<Status>,
    /// `status` when it is a string (`thread/unsubscribe`'s result).
    pub status_word: Option<&'static str>,
    /// Thread ids listed in `result.data` (`thread/list`, `thread/loaded/list`).
    pub data_threads: Vec<ThreadId>,
    /// `params.capabilities.optOutNotificationMethods` of a request (`initialize`).
    pub opt_out: Option<Vec<Method>>,
    /// Whether a malformed (non-UUID) thread or turn id was seen where one was expected.
    pub bad_id: bool,
}

/// A method name: `&'static str` for names the simulator knows, owned otherwise.
pub type Method = std::borrow::Cow<'static, str>;

/// Method names interned without allocation.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "initialized",
    "thread/start",
    "thread/resume",
    "thread/read",
    "thread/list",
    "thread/loaded/list",
    "thread/name/set",
    "thread/unsubscribe",
    "thread/fork",
    "thread/archive",
    "thread/unarchive",
    "turn/start",
    "turn/steer",
    "turn/interrupt",
    "thread/started",
    "thread/status/changed",
    "thread/closed",
    "thread/archived",
    "thread/unarchived",
    "thread/name/updated",
    "turn/started",
    "turn/completed",
    "item/started",
    "item/completed",
    "item/agentMessage/delta",
    "item/plan/delta",
    "item/reasoning/summaryTextDelta",
    "item/reasoning/summaryPartAdded",
    "item/reasoning/textDelta",
    "item/commandExecution/outputDelta",
    "thread/tokenUsage/updated",
    "error",
    "warning",
    "serverRequest/resolved",
    "item/commandExecution/requestApproval",
    "item/fileChange/requestApproval",
    "item/permissions/requestApproval",
    "item/tool/requestUserInput",
    "item/tool/call",
    "mcpServer/elicitation/request",
    "account/chatgptAuthTokens/refresh",
];

const ITEM_TYPES: &[&str] = &[
    "userMessage",
    "agentMessage",
    "reasoning",
    "plan",
    "commandExecution",
    "fileChange",
    "mcpToolCall",
    "dynamicToolCall",
    "webSearch",
    "imageView",
    "contextCompaction",
];

fn intern(s: &str) -> Method {
    match KNOWN_METHODS.iter().find(|m| **m == s) {
        Some(m) => Method::Borrowed(m),
        None => Method::Owned(s.to_owned()),
    }
}

/// The [`ItemRef`] of an item id string (what [`Summary::item_id`] holds for it).
pub fn item_ref(id: &str) -> ItemRef {
    parser::item_ref(id)
}

pub use memo::TurnMemo;

/// Scans one frame. Errors mean the text is not valid JSON.
pub fn scan(text: &str) -> Result<Summary, ScanError> {
    parser::scan(text, None)
}

/// [`scan`], skipping `thread.turns` elements byte-identical to ones validated before and
/// remembering the rest in `memo`. The result is the same as [`scan`]'s.
pub fn scan_with(text: &str, memo: &mut TurnMemo) -> Result<Summary, ScanError> {
    parser::scan(text, Some(memo))
}

impl Summary {
    /// Forgets the field-level findings of an earlier `params`/`result` member (a later
    /// duplicate member replaces an earlier one, as serde_json does); `bad_id` stays.
    fn clear_fields(&mut self) {
        self.thread_id = None;
        self.turn_id = None;
        self.turn_status = None;
        self.item_id = None;
        self.item_type = None;
        self.request_id = None;
        self.status = None;
        self.status_word = None;
        self.data_threads.clear();
        self.opt_out = None;
    }

    /// The method name, or `""`.
    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("")
    }
}
