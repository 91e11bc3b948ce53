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

use serde_json::Value;

use crate::ids::TurnId;
use crate::wire::{ItemBody, ThreadTokenUsage, TurnError, UserInput};

/// An engine's name for one of its items, unique within a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey(pub u64);

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
            | EngineEvent::TurnFailed { turn_id, .. } => Some(*turn_id),
            EngineEvent::Warning { .. } => None,
        }
    }
}
