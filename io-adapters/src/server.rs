//! The runtime: the rollout store and the engine around one machine task that owns the
//! [`Machine`], fed by one or more transports.
//!
//! Transports send [`TransportEvent`]s: a connection opened (with its [`Peer`]), a frame, a
//! connection closed. The machine task feeds each to the machine, together with engine events,
//! storage answers and timer ticks, each stamped by the [`Clock`]. After every input it drains
//! the machine's outputs and routes them: frames to the connection's writer, engine commands to
//! the engine host, appends and loads to the store. A connection whose writer is gone, or (for a
//! disconnecting peer) whose queue is full, is dropped and the machine told it closed.
//!
//! [`serve_until`] serves one stdio connection and returns once it ends (end of input, or the
//! machine closing it), without waiting for running turns. [`crate::ws::serve_ws`] serves
//! websocket connections until its shutdown future completes. On shutdown the machine is told
//! [`Input::Shutdown`], its outputs are routed (it closes every thread and connection), and
//! what was queued is flushed.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::path::Path;
use std::time::Duration;

use core_sm::wire::Frame;
use core_sm::{ConnectionId, Input, Machine, Output, StorageResult, Timestamp};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::cli::{EngineKind, Settings};
use crate::clock::Clock;
use crate::engine::{EngineHost, EventReceiver, EVENTS_CAPACITY};
use crate::scripted::ScriptedEngine;
use crate::stdio::{read_loop, write_loop, LineReader};
use crate::store::{RolloutStore, StoreHandle};
use crate::transport::{Peer, TransportEvent, EGRESS_CAPACITY, INGRESS_CAPACITY};

/// The stdio connection's id.
pub const STDIO_CONNECTION: ConnectionId = ConnectionId(0);

/// Read buffer size for the input stream.
const READ_BUFFER: usize = 64 * 1024;

/// Serves one connection on `input`/`output` until end of input (or until the machine closes
/// the connection, or the output fails).
pub async fn serve<R, W>(input: R, output: W, settings: Settings) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve_until(input, output, settings, std::future::pending()).await
}

/// Like [`serve`], and also stops when `shutdown` completes: the machine is told
/// [`Input::Shutdown`], its outputs are routed (it closes every thread and connection), the
/// output is flushed, and the result is `Ok`.
pub async fn serve_until<R, W, S>(input: R, output: W, settings: Settings, shutdown: S) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
    S: Future<Output = ()>,
{
    let (ingress_tx, ingress_rx) = mpsc::channel(INGRESS_CAPACITY);
    let (writer_tx, writer_rx) = mpsc::channel(EGRESS_CAPACITY);
    let writer = tokio::spawn(write_loop(output, writer_rx));
    let opened = TransportEvent::Opened { conn: STDIO_CONNECTION, peer: Peer::waiting(writer_tx.clone()) };
    // The channel is new and empty, so this cannot fail for lack of room.
    if ingress_tx.try_send(opened).is_err() {
        return Err(io::Error::other("ingress channel unusable at start"));
    }
    let lines = LineReader::new(BufReader::with_capacity(READ_BUFFER, input), settings.max_frame_bytes);
    let reader = tokio::spawn(read_loop(STDIO_CONNECTION, lines, ingress_tx, writer_tx));

    let served = run_machine(settings, ingress_rx, shutdown, Lifetime::UntilLastConnection).await;
    reader.abort();
    served?;
    match writer.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => {
            // The client closed its end; there is nobody left to serve.
            tracing::warn!(%error, "output closed");
            Ok(())
        }
        Err(join) => Err(io::Error::other(join)),
    }
}

/// When the machine task stops on its own (it always stops on shutdown or when every
/// transport is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetime {
    /// Once a connection was served and none is left (stdio: the process exits).
    UntilLastConnection,
    /// Only on shutdown (a listener accepts new connections meanwhile).
    UntilShutdown,
}

/// Runs the machine task, with the store and the engine, over `ingress` until `shutdown`
/// completes, every sender of `ingress` is gone, or `lifetime` says so. Dropping the task
/// drops every [`Peer`], which ends their writers.
pub(crate) async fn run_machine(
    settings: Settings,
    ingress: mpsc::Receiver<TransportEvent>,
    shutdown: impl Future<Output = ()>,
    lifetime: Lifetime,
) -> io::Result<()> {
    let (events_tx, events_rx) = mpsc::channel(EVENTS_CAPACITY);
    let (storage_tx, storage_rx) = mpsc::unbounded_channel();
    let store = StoreHandle::spawn(RolloutStore::new(Path::new(&settings.machine.home)), storage_tx)?;
    let engine: Box<dyn EngineHost + Send> = match settings.engine {
        EngineKind::Scripted => Box::new(ScriptedEngine::new(settings.scenario, events_tx)),
    };
    let mut task = MachineTask::new(Machine::new(settings.machine), settings.clock, engine, store, lifetime);
    task.run(ingress, events_rx, storage_rx, shutdown).await;
    let MachineTask { mut engine, store, .. } = task;
    engine.shutdown();
    store.close();
    Ok(())
}

/// The task owning the machine.
struct MachineTask {
    machine: Machine,
    clock: Clock,
    /// Open connections' writers.
    peers: BTreeMap<ConnectionId, Peer>,
    /// Connections dropped while routing, still to be reported to the machine.
    lost: Vec<ConnectionId>,
    /// Some connection was opened (for [`Lifetime::UntilLastConnection`]).
    served: bool,
    lifetime: Lifetime,
    engine: Box<dyn EngineHost + Send>,
    store: StoreHandle,
}

impl MachineTask {
    fn new(
        machine: Machine,
        clock: Clock,
        engine: Box<dyn EngineHost + Send>,
        store: StoreHandle,
        lifetime: Lifetime,
    ) -> Self {
        Self {
            machine,
            clock,
            peers: BTreeMap::new(),
            lost: Vec::new(),
            served: false,
            lifetime,
            engine,
            store,
        }
    }

    fn finished(&self) -> bool {
        self.lifetime == Lifetime::UntilLastConnection && self.served && self.peers.is_empty()
    }

    async fn run(
        &mut self,
        mut ingress: mpsc::Receiver<TransportEvent>,
        mut events: EventReceiver,
        mut storage: mpsc::UnboundedReceiver<StorageResult>,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        // A deadline already ticked for without effect is not re-armed (no busy loop).
        let mut ticked: Option<Timestamp> = None;
        while !self.finished() {
            let deadline = self.machine.poll_timeout().filter(|d| Some(*d) != ticked);
            let delay = deadline.map(|d| self.clock.until(d));
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!("shutting down");
                    self.feed(Input::Shutdown).await;
                    // The machine closed every connection; nothing more will be served.
                    return;
                }
                Some(result) = storage.recv() => self.feed(Input::Storage(result)).await,
                Some((thread_id, event)) = events.recv() => {
                    self.feed(Input::Engine { thread_id, event }).await
                }
                event = ingress.recv() => match event {
                    Some(event) => self.on_transport(event).await,
                    None => break,
                },
                () = sleep_for(delay) => {
                    if let Some(deadline) = deadline {
                        ticked = Some(deadline);
                        let now = self.clock.stamp_tick(deadline);
                        self.handle_at(now, Input::Tick).await;
                    }
                }
            }
        }
        // Every transport is gone: whatever is still open is closed.
        for conn in self.machine.connections() {
            self.peers.remove(&conn);
            self.feed(Input::ConnectionClosed { conn }).await;
        }
    }

    async fn on_transport(&mut self, event: TransportEvent) {
        match event {
            TransportEvent::Opened { conn, peer } => {
                if self.peers.contains_key(&conn) {
                    tracing::error!(%conn, "a transport reused an open connection id; ignored");
                    return;
                }
                self.peers.insert(conn, peer);
                self.served = true;
                self.feed(Input::ConnectionOpened { conn }).await;
            }
            TransportEvent::Frame { conn, text } => {
                if self.peers.contains_key(&conn) {
                    self.feed(Input::Frame { conn, text }).await;
                } else {
                    tracing::debug!(%conn, "frame from a dropped connection ignored");
                }
            }
            TransportEvent::Closed { conn } => {
                if self.peers.remove(&conn).is_some() {
                    self.feed(Input::ConnectionClosed { conn }).await;
                }
            }
        }
    }

    async fn feed(&mut self, input: Input) {
        let now = self.clock.stamp_input();
        self.handle_at(now, input).await;
    }

    /// Feeds `input`, routes every output, then reports connections dropped while routing
    /// (each report may produce more outputs, routed the same way).
    async fn handle_at(&mut self, now: Timestamp, input: Input) {
        let mut next = Some(input);
        while let Some(input) = next.take() {
            self.machine.handle(now, input);
            while let Some(output) = self.machine.poll_output() {
                self.route(output).await;
            }
            next = self.lost.pop().map(|conn| Input::ConnectionClosed { conn });
        }
    }

    async fn route(&mut self, output: Output) {
        match output {
            Output::Send { conn, frame } => self.send(conn, frame).await,
            Output::Close { conn } => {
                if let Some(Peer { close: Some(close), .. }) = self.peers.remove(&conn) {
                    // After what is queued; the connection may be gone already.
                    let _ = close.send(());
                }
            }
            Output::Engine { thread_id, command } => self.engine.command(thread_id, command),
            Output::Persist { thread_id, record } => self.store.persist(thread_id, record),
            Output::Load { thread_id } => self.store.load(thread_id),
            other => tracing::warn!(?other, "output not handled by this runtime"),
        }
    }

    /// Queues `frame` for `conn`: waiting for room (stdio) or dropping the connection when
    /// its queue is full (websocket: a slow reader never stalls the others).
    async fn send(&mut self, conn: ConnectionId, frame: Frame) {
        let Some(peer) = self.peers.get(&conn) else {
            tracing::debug!(%conn, "frame for a closed connection dropped");
            return;
        };
        let delivered = match peer.close {
            None => peer.writer.send(frame).await.is_ok(),
            Some(_) => match peer.writer.try_send(frame) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    tracing::warn!(%conn, "disconnecting slow connection after outbound queue filled");
                    false
                }
                Err(TrySendError::Closed(_)) => false,
            },
        };
        if !delivered {
            tracing::debug!(%conn, "connection dropped: its writer is gone or full");
            // Dropping the peer drops its close sender: the connection ends at once.
            self.peers.remove(&conn);
            self.lost.push(conn);
        }
    }
}

async fn sleep_for(delay: Option<Duration>) {
    match delay {
        Some(delay) => tokio::time::sleep(delay).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
