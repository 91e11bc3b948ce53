//! Params of the server notifications turnstile sends, with their method names.

use serde::Serialize;

use super::item::ThreadItem;
use super::model::{Thread, ThreadStatus, ThreadTokenUsage, Turn, TurnError};
use crate::ids::{ItemId, ThreadId, TurnId};

/// A notification payload that knows its method name.
pub trait Notification: Serialize {
    /// The JSON-RPC method.
    const METHOD: &'static str;
}

macro_rules! notification {
    ($(#[$doc:meta])* $name:ident = $method:literal { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }
        impl Notification for $name { const METHOD: &'static str = $method; }
    };
}

notification!(
    /// A thread was created (broadcast).
    ThreadStarted = "thread/started" { /** The thread, turns empty. */ thread: Thread }
);
notification!(
    /// A loaded thread's derived status changed (broadcast).
    ThreadStatusChanged = "thread/status/changed" {
        /** The thread. */ thread_id: ThreadId,
        /** The new status. */ status: ThreadStatus,
    }
);
notification!(
    /// A thread was unloaded (broadcast).
    ThreadClosed = "thread/closed" { /** The thread. */ thread_id: ThreadId }
);
notification!(
    /// A thread was renamed (broadcast).
    ThreadNameUpdated = "thread/name/updated" {
        /** The thread. */ thread_id: ThreadId,
        /** The new name. */ thread_name: Option<String>,
    }
);
notification!(
    /// The engine began a turn.
    TurnStarted = "turn/started" { /** The thread. */ thread_id: ThreadId, /** The turn. */ turn: Turn }
);
notification!(
    /// A turn ended.
    TurnCompleted = "turn/completed" { /** The thread. */ thread_id: ThreadId, /** The turn. */ turn: Turn }
);
notification!(
    /// An item began.
    ItemStarted = "item/started" {
        /** The thread. */ thread_id: ThreadId,
        /** The turn. */ turn_id: TurnId,
        /** Unix ms. */ started_at_ms: i64,
        /** The item. */ item: ThreadItem,
    }
);
notification!(
    /// An item reached its final state.
    ItemCompleted = "item/completed" {
        /** The thread. */ thread_id: ThreadId,
        /** The turn. */ turn_id: TurnId,
        /** Unix ms. */ completed_at_ms: i64,
        /** The item. */ item: ThreadItem,
    }
);
notification!(
    /// Streamed agent message text.
    AgentMessageDelta = "item/agentMessage/delta" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** The item. */ item_id: ItemId, /** Text. */ delta: String,
    }
);
notification!(
    /// Streamed plan text.
    PlanDelta = "item/plan/delta" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** The item. */ item_id: ItemId, /** Text. */ delta: String,
    }
);
notification!(
    /// Streamed reasoning summary text.
    ReasoningSummaryTextDelta = "item/reasoning/summaryTextDelta" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** The item. */ item_id: ItemId, /** Text. */ delta: String,
        /** Summary part. */ summary_index: i64,
    }
);
notification!(
    /// A reasoning summary part began.
    ReasoningSummaryPartAdded = "item/reasoning/summaryPartAdded" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** The item. */ item_id: ItemId, /** Summary part. */ summary_index: i64,
    }
);
notification!(
    /// Streamed raw reasoning text.
    ReasoningTextDelta = "item/reasoning/textDelta" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** The item. */ item_id: ItemId, /** Text. */ delta: String,
        /** Content part. */ content_index: i64,
    }
);
notification!(
    /// Streamed command output.
    CommandExecutionOutputDelta = "item/commandExecution/outputDelta" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** The item. */ item_id: ItemId, /** Text. */ delta: String,
    }
);
notification!(
    /// Token usage after a model response.
    ThreadTokenUsageUpdated = "thread/tokenUsage/updated" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** Usage. */ token_usage: ThreadTokenUsage,
    }
);
notification!(
    /// A turn error; `willRetry: false` errors fail the turn.
    Error = "error" {
        /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
        /** Whether the engine retries. */ will_retry: bool, /** The error. */ error: TurnError,
    }
);
notification!(
    /// A warning.
    Warning = "warning" { /** The thread. */ thread_id: Option<ThreadId>, /** Text. */ message: String }
);
