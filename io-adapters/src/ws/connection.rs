//! One websocket connection after the upgrade: a reader and a writer around the machine task.
//!
//! The reader admits each text message as one frame (a request that finds ingress full is
//! answered `-32001`); binary messages are dropped; pings are answered by tungstenite itself on
//! the next read. A close message, end of stream or read error (including a message over
//! `--max-frame-bytes`) ends the connection. The writer sends what the machine task queues, in
//! order, flushing whenever nothing more is ready. When the machine closes the connection the
//! writer sends what is still queued and a close message; when the machine task drops it (its
//! queue filled up) the socket is dropped at once. Either way the machine task is told
//! [`TransportEvent::Closed`] last.

use core_sm::wire::Frame;
use core_sm::ConnectionId;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::transport::{admit, Peer, TransportEvent, EGRESS_CAPACITY};

/// Serves `socket` as connection `conn` until either side ends it.
pub(crate) async fn run<S>(
    conn: ConnectionId,
    socket: WebSocketStream<S>,
    ingress: mpsc::Sender<TransportEvent>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (frames_tx, frames_rx) = mpsc::channel(EGRESS_CAPACITY);
    let (close_tx, close_rx) = oneshot::channel();
    let opened = TransportEvent::Opened { conn, peer: Peer::disconnecting(frames_tx.clone(), close_tx) };
    if ingress.send(opened).await.is_err() {
        return; // The server is shutting down.
    }
    let (sink, stream) = socket.split();
    let mut writer = tokio::spawn(write_loop(sink, frames_rx, close_rx));
    let mut reader = tokio::spawn(read_loop(conn, stream, ingress.clone(), frames_tx));
    tokio::select! {
        _ = &mut writer => reader.abort(),
        _ = &mut reader => {
            // The client is gone (or sent close); what is queued for it has nowhere to go.
            writer.abort();
        }
    }
    tracing::info!(%conn, "websocket client disconnected");
    let _ = ingress.send(TransportEvent::Closed { conn }).await;
}

async fn read_loop<S>(
    conn: ConnectionId,
    mut stream: SplitStream<WebSocketStream<S>>,
    ingress: mpsc::Sender<TransportEvent>,
    frames: mpsc::Sender<Frame>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Text(text)) => {
                if admit(conn, text.as_str().to_owned(), &ingress, &frames).await.is_err() {
                    return;
                }
            }
            Ok(Message::Binary(_)) => tracing::warn!(%conn, "dropping unsupported binary websocket message"),
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            Ok(Message::Close(_)) => return,
            Err(error) => {
                tracing::warn!(%conn, %error, "websocket receive error; closing the connection");
                return;
            }
        }
    }
}

async fn write_loop<S>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    mut frames: mpsc::Receiver<Frame>,
    mut close: oneshot::Receiver<()>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        tokio::select! {
            biased;
            frame = frames.recv() => {
                let Some(frame) = frame else { break };
                if send_ready(&mut sink, frame, &mut frames).await.is_err() {
                    return;
                }
            }
            signal = &mut close => {
                if signal.is_err() {
                    return; // Dropped by the machine task: no goodbye.
                }
                while let Ok(frame) = frames.try_recv() {
                    if sink.feed(text(&frame)).await.is_err() {
                        return;
                    }
                }
                break;
            }
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

/// Sends `first` and every frame already queued behind it, then flushes once.
async fn send_ready<S>(
    sink: &mut SplitSink<WebSocketStream<S>, Message>,
    first: Frame,
    frames: &mut mpsc::Receiver<Frame>,
) -> Result<(), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    sink.feed(text(&first)).await?;
    while let Ok(frame) = frames.try_recv() {
        sink.feed(text(&frame)).await?;
    }
    sink.flush().await
}

fn text(frame: &Frame) -> Message {
    Message::text(&**frame)
}
