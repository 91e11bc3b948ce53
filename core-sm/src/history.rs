//! Rollout records: what the machine asks storage to append for each non-ephemeral thread, and
//! how a stored thread is rebuilt from them.
//!
//! Records are serializable (`{"type": ..., "payload": ...}`) so an adapter can write them as
//! JSONL and read them back; the machine never touches storage itself.

use serde::{Deserialize, Serialize};

use crate::ids::{ThreadId, TurnId};
use crate::wire::{ThreadItem, Turn, TurnError, TurnItemsView, TurnStatus};

/// One line of a thread's rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RolloutRecord {
    /// Always the first record: what the thread is.
    SessionMeta(SessionMeta),
    /// A turn began (the engine started it).
    TurnStarted {
        /// The turn.
        turn_id: TurnId,
        /// Unix seconds.
        started_at: i64,
    },
    /// An item reached its final state.
    ItemCompleted {
        /// The turn.
        turn_id: TurnId,
        /// The item.
        item: ThreadItem,
    },
    /// A turn ended.
    TurnEnded {
        /// The turn.
        turn_id: TurnId,
        /// Terminal status.
        status: TurnStatus,
        /// Error, for failed turns.
        error: Option<TurnError>,
        /// Unix seconds.
        completed_at: i64,
        /// Duration.
        duration_ms: Option<i64>,
    },
    /// The thread was renamed.
    ThreadNameUpdated {
        /// The new name.
        name: String,
    },
    /// A finished turn copied from the source of a fork (the fork's history, as of the fork).
    TurnCopied {
        /// The turn, with every item.
        turn: Turn,
    },
    /// The thread was archived: hidden from `thread/list`, not resumable until unarchived.
    ThreadArchived,
    /// The thread was unarchived.
    ThreadUnarchived,
}

/// The first record of a rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The thread.
    pub id: ThreadId,
    /// Unix ms of creation.
    pub created_at_ms: u64,
    /// Working directory.
    pub cwd: String,
    /// Model.
    pub model: String,
    /// Model provider.
    pub model_provider: String,
    /// `clientInfo.name` of the creator.
    pub originator: Option<String>,
    /// Name at the time the rollout began.
    pub name: Option<String>,
    /// First user message.
    pub preview: String,
    /// The thread this one was forked from.
    #[serde(default)]
    pub forked_from_id: Option<ThreadId>,
}

/// A thread as rebuilt from its rollout.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredThread {
    /// The first record.
    pub meta: SessionMeta,
    /// Current name.
    pub name: Option<String>,
    /// Turns, oldest first, with every item. A turn with no end record is `interrupted`.
    pub turns: Vec<Turn>,
    /// Unix ms of the last record that carried a time.
    pub updated_at_ms: u64,
    /// Whether the last archive record is not undone by an unarchive.
    pub archived: bool,
}

/// Why a rollout could not be rebuilt.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RebuildError {
    /// The first record is not `session_meta`.
    #[error("rollout does not start with session_meta")]
    MissingMeta,
}

/// Rebuilds a thread from its records. Records for unknown turns are skipped, items are upserted
/// by id, and a turn left open (the server stopped mid-turn) is reported `interrupted`.
pub fn rebuild(records: &[RolloutRecord]) -> Result<StoredThread, RebuildError> {
    let Some(RolloutRecord::SessionMeta(meta)) = records.first() else {
        return Err(RebuildError::MissingMeta);
    };
    let mut stored = StoredThread {
        meta: meta.clone(),
        name: meta.name.clone(),
        turns: Vec::new(),
        updated_at_ms: meta.created_at_ms,
        archived: false,
    };
    for record in &records[1..] {
        match record {
            RolloutRecord::SessionMeta(_) => {}
            RolloutRecord::TurnStarted { turn_id, started_at } => {
                stored.updated_at_ms = stored.updated_at_ms.max(secs_to_ms(*started_at));
                stored.turns.push(Turn {
                    id: *turn_id,
                    items: Vec::new(),
                    items_view: TurnItemsView::Full,
                    status: TurnStatus::Interrupted,
                    error: None,
                    started_at: Some(*started_at),
                    completed_at: None,
                    duration_ms: None,
                    root_turn_id: Some(*turn_id),
                });
            }
            RolloutRecord::ItemCompleted { turn_id, item } => {
                let Some(turn) = stored.turns.iter_mut().rev().find(|t| t.id == *turn_id) else {
                    continue;
                };
                match turn.items.iter_mut().find(|i| i.id == item.id) {
                    Some(existing) => *existing = item.clone(),
                    None => turn.items.push(item.clone()),
                }
            }
            RolloutRecord::TurnEnded { turn_id, status, error, completed_at, duration_ms } => {
                stored.updated_at_ms = stored.updated_at_ms.max(secs_to_ms(*completed_at));
                if let Some(turn) = stored.turns.iter_mut().rev().find(|t| t.id == *turn_id) {
                    turn.status = *status;
                    turn.error = error.clone();
                    turn.completed_at = Some(*completed_at);
                    turn.duration_ms = *duration_ms;
                }
            }
            RolloutRecord::ThreadNameUpdated { name } => stored.name = Some(name.clone()),
            RolloutRecord::TurnCopied { turn } => stored.turns.push(turn.clone()),
            RolloutRecord::ThreadArchived => stored.archived = true,
            RolloutRecord::ThreadUnarchived => stored.archived = false,
        }
    }
    Ok(stored)
}

fn secs_to_ms(secs: i64) -> u64 {
    u64::try_from(secs).unwrap_or(0).saturating_mul(1000)
}
