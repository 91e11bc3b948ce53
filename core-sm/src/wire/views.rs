//! Borrowing twins of the wire types the machine sends most often.
//!
//! Each view serializes byte for byte like its owned counterpart (`thread.rs`'s tests compare
//! the two), but borrows the machine's state instead of cloning histories, items and settings
//! into a value that is serialized once and dropped. Field order is the wire order: keep it in
//! step with the owned type. Views that hold [`RawJson`] (finished turns, completed items) must
//! be written by the machine's own JSON writer, as every frame is.

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::item::ThreadItem;
pub(crate) use super::json::RawJson;
use super::model::{
    ApprovalsReviewer, AskForApproval, SandboxPolicy, SessionSource, ThreadHistoryMode, ThreadStatus,
    TurnError, TurnItemsView, TurnStatus,
};
use super::notifications::Notification;
use crate::ids::{ItemId, ThreadId, TurnId};

/// Serializes like [`Thread`](super::Thread).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThreadView<'a> {
    pub(crate) id: ThreadId,
    pub(crate) session_id: ThreadId,
    pub(crate) preview: &'a str,
    pub(crate) ephemeral: bool,
    pub(crate) model_provider: &'a str,
    pub(crate) model: Option<&'a str>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) cwd: &'a str,
    pub(crate) cli_version: &'a str,
    pub(crate) source: SessionSource,
    pub(crate) status: ThreadStatus,
    pub(crate) turns: TurnsView<'a>,
    pub(crate) path: Option<&'a str>,
    pub(crate) name: Option<&'a str>,
    pub(crate) originator: Option<&'a str>,
    pub(crate) forked_from_id: Option<ThreadId>,
    pub(crate) project_id: Option<&'a str>,
    pub(crate) history_mode: ThreadHistoryMode,
}

/// A finished turn, kept as its wire JSON. Serializes like [`Turn`](super::Turn).
#[derive(Clone, Debug)]
pub(crate) struct FinishedTurn {
    pub(crate) id: TurnId,
    /// The turn with every item, as `Thread.turns` carries it.
    pub(crate) json: RawJson,
}

impl Serialize for FinishedTurn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

/// Serializes like `Thread.turns`: the finished turns, then the running turn's snapshot.
#[derive(Default)]
pub(crate) struct TurnsView<'a> {
    /// Oldest first.
    pub(crate) finished: &'a [FinishedTurn],
    /// The running turn.
    pub(crate) active: Option<TurnView<'a>>,
}

impl Serialize for TurnsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = self.finished.len() + usize::from(self.active.is_some());
        let mut seq = serializer.serialize_seq(Some(len))?;
        for turn in self.finished {
            seq.serialize_element(turn)?;
        }
        if let Some(active) = &self.active {
            seq.serialize_element(active)?;
        }
        seq.end()
    }
}

/// Serializes like `Turn.items`: each item from its JSON once it has completed (an item never
/// changes after `item/completed`), as it is now otherwise.
#[derive(Clone, Copy, Default)]
pub(crate) struct ItemsView<'a> {
    pub(crate) items: &'a [ThreadItem],
    /// The JSON of completed items, by index into `items`; missing entries count as `None`.
    pub(crate) json: &'a [Option<RawJson>],
}

impl Serialize for ItemsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.items.len()))?;
        for (i, item) in self.items.iter().enumerate() {
            match self.json.get(i) {
                Some(Some(json)) => seq.serialize_element(json)?,
                _ => seq.serialize_element(item)?,
            }
        }
        seq.end()
    }
}

/// Serializes like [`Turn`](super::Turn).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TurnView<'a> {
    pub(crate) id: TurnId,
    pub(crate) items: ItemsView<'a>,
    pub(crate) items_view: TurnItemsView,
    pub(crate) status: TurnStatus,
    pub(crate) error: Option<&'a TurnError>,
    pub(crate) started_at: Option<i64>,
    pub(crate) completed_at: Option<i64>,
    pub(crate) duration_ms: Option<i64>,
    pub(crate) root_turn_id: Option<TurnId>,
}

/// Serializes like [`ThreadSessionResponse`](super::requests::ThreadSessionResponse).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThreadSessionResponseView<'a> {
    pub(crate) thread: ThreadView<'a>,
    pub(crate) model: &'a str,
    pub(crate) model_provider: &'a str,
    pub(crate) cwd: &'a str,
    pub(crate) approval_policy: &'a AskForApproval,
    pub(crate) approvals_reviewer: ApprovalsReviewer,
    pub(crate) sandbox: &'a SandboxPolicy,
    pub(crate) reasoning_effort: Option<&'a str>,
    pub(crate) service_tier: Option<&'a str>,
    pub(crate) instruction_sources: &'a [String],
    pub(crate) disabled_plugin_ids: &'a [String],
}

/// Serializes like [`ThreadResponse`](super::requests::ThreadResponse).
#[derive(Serialize)]
pub(crate) struct ThreadResponseView<'a> {
    pub(crate) thread: ThreadView<'a>,
}

/// Serializes like [`ThreadListResponse`](super::requests::ThreadListResponse).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThreadListResponseView<'a> {
    pub(crate) data: Vec<ThreadView<'a>>,
    pub(crate) next_cursor: Option<String>,
}

/// Serializes like [`ThreadStarted`](super::notifications::ThreadStarted).
#[derive(Serialize)]
pub(crate) struct ThreadStartedView<'a> {
    pub(crate) thread: ThreadView<'a>,
}

impl Notification for ThreadStartedView<'_> {
    const METHOD: &'static str = super::notifications::ThreadStarted::METHOD;
}

/// Serializes like [`TurnCompleted`](super::notifications::TurnCompleted).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TurnCompletedView<'a> {
    pub(crate) thread_id: ThreadId,
    pub(crate) turn: TurnView<'a>,
}

impl Notification for TurnCompletedView<'_> {
    const METHOD: &'static str = super::notifications::TurnCompleted::METHOD;
}

/// Serializes like [`ItemStarted`](super::notifications::ItemStarted).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemStartedView<'a> {
    pub(crate) thread_id: ThreadId,
    pub(crate) turn_id: TurnId,
    pub(crate) started_at_ms: i64,
    pub(crate) item: &'a ThreadItem,
}

impl Notification for ItemStartedView<'_> {
    const METHOD: &'static str = super::notifications::ItemStarted::METHOD;
}

/// Serializes like the six item delta notifications
/// ([`AgentMessageDelta`](super::notifications::AgentMessageDelta) and the rest: the method tells
/// which), borrowing the item id and the text. Each has the fields it has and no others.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemDeltaView<'a> {
    pub(crate) thread_id: ThreadId,
    pub(crate) turn_id: TurnId,
    pub(crate) item_id: &'a ItemId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) summary_index: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content_index: Option<i64>,
}

/// Serializes like [`ItemCompleted`](super::notifications::ItemCompleted), with the item's JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemCompletedView<'a> {
    pub(crate) thread_id: ThreadId,
    pub(crate) turn_id: TurnId,
    pub(crate) completed_at_ms: i64,
    pub(crate) item: &'a RawJson,
}

impl Notification for ItemCompletedView<'_> {
    const METHOD: &'static str = super::notifications::ItemCompleted::METHOD;
}
