//! The machine's one input enum and one output enum.

use crate::engine::{EngineCommand, EngineEvent};
use crate::history::RolloutRecord;
use crate::ids::{ConnectionId, ThreadId};
use crate::wire::Frame;

/// Everything that can happen to the machine. Fed with [`Machine::handle`](crate::Machine::handle).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Input {
    /// A transport accepted a connection. Ids are the adapter's and must not be reused while open.
    ConnectionOpened {
        /// The new connection.
        conn: ConnectionId,
    },
    /// One text frame (a JSONL line or a websocket text message) arrived on a connection.
    Frame {
        /// Where it came from.
        conn: ConnectionId,
        /// The raw text; parsing and validation are the machine's job.
        text: String,
    },
    /// The connection is gone (EOF, close, error). Its subscriptions end; threads keep running.
    ConnectionClosed {
        /// The connection.
        conn: ConnectionId,
    },
    /// An engine reported something about a thread.
    Engine {
        /// The thread.
        thread_id: ThreadId,
        /// What happened.
        event: EngineEvent,
    },
    /// The answer to an [`Output::Load`].
    Storage(StorageResult),
    /// Time passed; deadlines from [`Machine::poll_timeout`](crate::Machine::poll_timeout) are due.
    Tick,
    /// The server is stopping: close every connection and every thread's engine.
    Shutdown,
}

/// The outcome of loading a stored thread.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StorageResult {
    /// The thread's records, in the order they were persisted.
    Loaded {
        /// The thread.
        thread_id: ThreadId,
        /// Its rollout.
        records: Vec<RolloutRecord>,
    },
    /// Nothing is stored under that id.
    NotFound {
        /// The thread.
        thread_id: ThreadId,
    },
    /// Storage failed.
    Failed {
        /// The thread.
        thread_id: ThreadId,
        /// Why.
        message: String,
    },
}

/// Everything the machine asks of the world. Drained with [`Machine::poll_output`](crate::Machine::poll_output).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Output {
    /// Write one frame to a connection. Frames are shared among recipients.
    Send {
        /// The recipient.
        conn: ConnectionId,
        /// Serialized JSON-RPC message.
        frame: Frame,
    },
    /// Close the connection (after flushing what was sent before).
    Close {
        /// The connection.
        conn: ConnectionId,
    },
    /// A command for a thread's engine.
    Engine {
        /// The thread.
        thread_id: ThreadId,
        /// The command.
        command: EngineCommand,
    },
    /// Append a record to a (non-ephemeral) thread's rollout.
    Persist {
        /// The thread.
        thread_id: ThreadId,
        /// The record.
        record: RolloutRecord,
    },
    /// Load a stored thread; answer with [`Input::Storage`].
    Load {
        /// The thread.
        thread_id: ThreadId,
    },
}
