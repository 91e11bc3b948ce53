//! The runtime: a reader task, a writer task, the rollout store and the engine around one
//! machine task that owns the [`Machine`].
//!
//! The machine task feeds `ConnectionOpened` at start, then every frame, engine event,
//! storage answer and timer tick, each stamped by the [`Clock`]. After every input it drains
//! the machine's outputs and routes them: frames to the writer, engine commands to the engine
//! host, appends and loads to the store. At end of input it feeds `ConnectionClosed`, drains,
//! flushes the output and returns without waiting for running turns. When the shutdown future
//! given to [`serve_until`] completes (the binary passes SIGTERM/SIGINT), it feeds
//! `Shutdown` instead, routes what the machine says, flushes the output and returns.

use std::future::Future;
use std::io;
use std::path::Path;
use std::time::Duration;

use core_sm::wire::Frame;
use core_sm::{ConnectionId, Input, Machine, Output, StorageResult, Timestamp};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::mpsc;

use crate::cli::{EngineKind, Settings};
use crate::clock::Clock;
use crate::engine::{EngineHost, EventReceiver, EVENTS_CAPACITY};
use crate::scripted::ScriptedEngine;
use crate::stdio::{read_loop, write_loop, LineReader, EGRESS_CAPACITY, INGRESS_CAPACITY};
use crate::store::{RolloutStore, StoreHandle};

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
    let (events_tx, events_rx) = mpsc::channel(EVENTS_CAPACITY);
    let (storage_tx, storage_rx) = mpsc::unbounded_channel();

    let store = StoreHandle::spawn(RolloutStore::new(Path::new(&settings.machine.home)), storage_tx)?;
    let engine: Box<dyn EngineHost + Send> = match settings.engine {
        EngineKind::Scripted => Box::new(ScriptedEngine::new(settings.scenario, events_tx)),
    };
    let writer = tokio::spawn(write_loop(output, writer_rx));
    let lines = LineReader::new(BufReader::with_capacity(READ_BUFFER, input), settings.max_frame_bytes);
    let reader = tokio::spawn(read_loop(lines, ingress_tx, writer_tx.clone()));

    let mut task = MachineTask {
        machine: Machine::new(settings.machine),
        clock: settings.clock,
        writer: writer_tx,
        engine,
        store,
        open: true,
    };
    task.run(ingress_rx, events_rx, storage_rx, shutdown).await;

    reader.abort();
    let MachineTask { writer: writer_tx, mut engine, store, .. } = task;
    engine.shutdown();
    drop(writer_tx);
    store.close();
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

/// The task owning the machine.
struct MachineTask {
    machine: Machine,
    clock: Clock,
    writer: mpsc::Sender<Frame>,
    engine: Box<dyn EngineHost + Send>,
    store: StoreHandle,
    /// The stdio connection is still usable.
    open: bool,
}

impl MachineTask {
    async fn run(
        &mut self,
        mut ingress: mpsc::Receiver<String>,
        mut events: EventReceiver,
        mut storage: mpsc::UnboundedReceiver<StorageResult>,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        self.feed(Input::ConnectionOpened { conn: STDIO_CONNECTION }).await;
        // A deadline already ticked for without effect is not re-armed (no busy loop).
        let mut ticked: Option<Timestamp> = None;
        while self.open {
            let deadline = self.machine.poll_timeout().filter(|d| Some(*d) != ticked);
            let delay = deadline.map(|d| self.clock.until(d));
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!("shutting down");
                    self.feed(Input::Shutdown).await;
                    // The machine closed every connection; nothing more will be served.
                    self.open = false;
                }
                Some(result) = storage.recv() => self.feed(Input::Storage(result)).await,
                Some((thread_id, event)) = events.recv() => {
                    self.feed(Input::Engine { thread_id, event }).await
                }
                frame = ingress.recv() => match frame {
                    Some(text) => self.feed(Input::Frame { conn: STDIO_CONNECTION, text }).await,
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
        if self.machine.connections().contains(&STDIO_CONNECTION) {
            self.feed(Input::ConnectionClosed { conn: STDIO_CONNECTION }).await;
        }
    }

    async fn feed(&mut self, input: Input) {
        let now = self.clock.stamp_input();
        self.handle_at(now, input).await;
    }

    async fn handle_at(&mut self, now: Timestamp, input: Input) {
        self.machine.handle(now, input);
        while let Some(output) = self.machine.poll_output() {
            self.route(output).await;
        }
    }

    async fn route(&mut self, output: Output) {
        match output {
            Output::Send { conn, frame } if conn == STDIO_CONNECTION && self.open => {
                if self.writer.send(frame).await.is_err() {
                    tracing::warn!("output writer is gone; closing the connection");
                    self.open = false;
                }
            }
            Output::Send { conn, .. } => {
                tracing::debug!(%conn, "frame for a closed connection dropped")
            }
            Output::Close { conn } => {
                if conn == STDIO_CONNECTION {
                    self.open = false;
                }
            }
            Output::Engine { thread_id, command } => self.engine.command(thread_id, command),
            Output::Persist { thread_id, record } => self.store.persist(thread_id, record),
            Output::Load { thread_id } => self.store.load(thread_id),
            other => tracing::warn!(?other, "output not handled by this runtime"),
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
