//! Params of the server notifications turnstile sends, with their method names.

use serde::{Deserialize, Serialize};

use super::item::ThreadItem;
use super::model::{Thread, ThreadStatus, ThreadTokenUsage, Turn, TurnError};
use super::RequestId;
use crate::ids::{ItemId, ThreadId, TurnId};

/// A notification payload that knows its method name.
pub trait Notification: Serialize {
    /// The JSON-RPC method.
    const METHOD: &'static str;
}

macro_rules! notifications {
    ($($(#[$doc:meta])* $name:ident = $method:literal { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? })*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
            #[serde(rename_all = "camelCase")]
            pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }
            impl Notification for $name { const METHOD: &'static str = $method; }
        )*
        /// Every notification method turnstile sends, in declaration order.
        pub const METHODS: &[&str] = &[$($method),*];
    };
}

notifications! {
    /// A thread was created (broadcast).
        ThreadStarted = "thread/started" { /** The thread, turns empty. */ thread: Thread }
        /// A loaded thread's derived status changed (broadcast).
        ThreadStatusChanged = "thread/status/changed" {
            /** The thread. */ thread_id: ThreadId,
            /** The new status. */ status: ThreadStatus,
        }
        /// A thread was unloaded (broadcast).
        ThreadClosed = "thread/closed" { /** The thread. */ thread_id: ThreadId }
        /// A thread was archived (broadcast).
        ThreadArchived = "thread/archived" { /** The thread. */ thread_id: ThreadId }
        /// A thread was unarchived (broadcast).
        ThreadUnarchived = "thread/unarchived" { /** The thread. */ thread_id: ThreadId }
        /// A thread was renamed (broadcast).
        ThreadNameUpdated = "thread/name/updated" {
            /** The thread. */ thread_id: ThreadId,
            /** The new name. */ thread_name: Option<String>,
        }
        /// The engine began a turn.
        TurnStarted = "turn/started" { /** The thread. */ thread_id: ThreadId, /** The turn. */ turn: Turn }
        /// A turn ended.
        TurnCompleted = "turn/completed" { /** The thread. */ thread_id: ThreadId, /** The turn. */ turn: Turn }
        /// An item began.
        ItemStarted = "item/started" {
            /** The thread. */ thread_id: ThreadId,
            /** The turn. */ turn_id: TurnId,
            /** Unix ms. */ started_at_ms: i64,
            /** The item. */ item: ThreadItem,
        }
        /// An item reached its final state.
        ItemCompleted = "item/completed" {
            /** The thread. */ thread_id: ThreadId,
            /** The turn. */ turn_id: TurnId,
            /** Unix ms. */ completed_at_ms: i64,
            /** The item. */ item: ThreadItem,
        }
        /// Streamed agent message text.
        AgentMessageDelta = "item/agentMessage/delta" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** The item. */ item_id: ItemId, /** Text. */ delta: String,
        }
        /// Streamed plan text.
        PlanDelta = "item/plan/delta" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** The item. */ item_id: ItemId, /** Text. */ delta: String,
        }
        /// Streamed reasoning summary text.
        ReasoningSummaryTextDelta = "item/reasoning/summaryTextDelta" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** The item. */ item_id: ItemId, /** Text. */ delta: String,
            /** Summary part. */ summary_index: i64,
        }
        /// A reasoning summary part began.
        ReasoningSummaryPartAdded = "item/reasoning/summaryPartAdded" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** The item. */ item_id: ItemId, /** Summary part. */ summary_index: i64,
        }
        /// Streamed raw reasoning text.
        ReasoningTextDelta = "item/reasoning/textDelta" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** The item. */ item_id: ItemId, /** Text. */ delta: String,
            /** Content part. */ content_index: i64,
        }
        /// Streamed command output.
        CommandExecutionOutputDelta = "item/commandExecution/outputDelta" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** The item. */ item_id: ItemId, /** Text. */ delta: String,
        }
        /// Token usage after a model response.
        ThreadTokenUsageUpdated = "thread/tokenUsage/updated" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** Usage. */ token_usage: ThreadTokenUsage,
        }
        /// A turn error; `willRetry: false` errors fail the turn.
        Error = "error" {
            /** The thread. */ thread_id: ThreadId, /** The turn. */ turn_id: TurnId,
            /** Whether the engine retries. */ will_retry: bool, /** The error. */ error: TurnError,
        }
        /// A warning.
        Warning = "warning" { /** The thread. */ thread_id: Option<ThreadId>, /** Text. */ message: String }

        /// A server request was resolved (answered, or abandoned by a turn transition).
        ServerRequestResolved = "serverRequest/resolved" {
            /** The thread. */ thread_id: ThreadId,
            /** The request. */ request_id: RequestId,
        }
}
