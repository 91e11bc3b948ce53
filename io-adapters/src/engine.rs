//! The runtime's side of the engine boundary: where [`EngineCommand`]s go and how
//! [`EngineEvent`]s come back.
//!
//! An engine host receives the machine's commands synchronously (from the machine task) and
//! reports events on an [`EventSender`]; the machine task feeds them back as
//! [`core_sm::Input::Engine`]. Events for one thread must be sent in order.

use core_sm::{EngineCommand, EngineEvent, ThreadId};
use tokio::sync::mpsc;

/// Capacity of the channel carrying engine events to the machine task.
pub const EVENTS_CAPACITY: usize = 128;

/// Where engines report events.
pub type EventSender = mpsc::Sender<(ThreadId, EngineEvent)>;

/// Where the machine task receives engine events.
pub type EventReceiver = mpsc::Receiver<(ThreadId, EngineEvent)>;

/// Something that runs turns for threads.
pub trait EngineHost {
    /// Carries out one command from the machine. Must not block: long work runs in tasks.
    fn command(&mut self, thread_id: ThreadId, command: EngineCommand);

    /// Stops every thread's work (server exit).
    fn shutdown(&mut self);
}
