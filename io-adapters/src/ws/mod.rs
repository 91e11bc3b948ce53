//! The websocket transport: `--listen ws://IP:PORT`.
//!
//! One JSON-RPC message per text message, many concurrent connections, ids from 1 (PROTOCOL.md
//! §2). The listener also answers `GET /readyz` and `GET /healthz` with `200`, refuses any
//! request carrying an `Origin` header with `403` (a browser page must not drive the server),
//! and treats everything else as an upgrade attempt ([`http`]). Each upgraded connection gets a
//! reader and a writer ([`connection`]); its outbound queue holds [`EGRESS_CAPACITY`] frames,
//! and a connection that lets it fill up is disconnected rather than stalling the others.
//!
//! [`EGRESS_CAPACITY`]: crate::transport::EGRESS_CAPACITY

mod connection;
mod http;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use core_sm::ConnectionId;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use crate::cli::Settings;
use crate::server::{run_machine, Lifetime};
use crate::transport::{TransportEvent, INGRESS_CAPACITY};

/// How long connections get to flush after shutdown before they are dropped.
const FLUSH_GRACE: Duration = Duration::from_secs(2);

/// Pause after a failed `accept` (out of file descriptors, say) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The lines printed to stderr once `addr` is bound, as Codex prints them: clients started
/// with port 0 read the `listening on:` line to learn the address.
pub fn banner(addr: SocketAddr) -> String {
    let note = if addr.ip().is_loopback() {
        "binds localhost only (use SSH port-forwarding for remote access)"
    } else {
        "turnstile has no websocket auth; anyone who can reach this address can drive the server"
    };
    format!(
        "turnstile app-server (WebSockets)\n  listening on: ws://{addr}\n  readyz: http://{addr}/readyz\n  healthz: http://{addr}/healthz\n  note: {note}\n"
    )
}

/// Serves websocket connections accepted on `listener` until `shutdown` completes: the
/// machine is told [`core_sm::Input::Shutdown`], every connection is sent what was queued for
/// it and a close message, and the listener stops.
pub async fn serve_ws<S>(listener: TcpListener, settings: Settings, shutdown: S) -> io::Result<()>
where
    S: Future<Output = ()>,
{
    let (ingress_tx, ingress_rx) = mpsc::channel(INGRESS_CAPACITY);
    let (stop_tx, stop_rx) = oneshot::channel();
    let config = WebSocketConfig::default()
        .max_message_size(Some(settings.max_frame_bytes))
        .max_frame_size(Some(settings.max_frame_bytes));
    let acceptor = tokio::spawn(accept_loop(listener, ingress_tx, config, stop_rx));
    let served = run_machine(settings, ingress_rx, shutdown, Lifetime::UntilShutdown).await;
    let _ = stop_tx.send(());
    if let Err(join) = acceptor.await {
        tracing::error!(%join, "websocket acceptor failed");
    }
    served
}

async fn accept_loop(
    listener: TcpListener,
    ingress: mpsc::Sender<TransportEvent>,
    config: WebSocketConfig,
    mut stop: oneshot::Receiver<()>,
) {
    let ids = Arc::new(AtomicU64::new(1));
    let mut sockets = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    sockets.spawn(serve_socket(stream, peer, ids.clone(), ingress.clone(), config));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = sockets.join_next(), if !sockets.is_empty() => {}
        }
    }
    drop(ingress);
    // Connections the machine closed are flushing; anything slower is dropped with the set.
    let _ = tokio::time::timeout(FLUSH_GRACE, async { while sockets.join_next().await.is_some() {} }).await;
}

/// Answers one accepted socket: a plain HTTP reply, or the upgrade and then the connection.
async fn serve_socket(
    mut stream: TcpStream,
    peer: SocketAddr,
    ids: Arc<AtomicU64>,
    ingress: mpsc::Sender<TransportEvent>,
    config: WebSocketConfig,
) {
    let head = match tokio::time::timeout(http::HEAD_TIMEOUT, http::read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "no usable request head");
            if let Some(reply) = error.reply() {
                let _ = stream.write_all(&reply.encode()).await;
            }
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "request head timed out");
            return;
        }
    };
    let reply = http::answer(&head);
    if stream.write_all(&reply.encode()).await.is_err() {
        return;
    }
    match reply {
        http::Reply::Upgrade { .. } => {
            let conn = ConnectionId(ids.fetch_add(1, Ordering::Relaxed));
            tracing::info!(%conn, %peer, path = %head.path, "websocket client connected");
            let socket =
                WebSocketStream::from_partially_read(stream, head.rest, Role::Server, Some(config)).await;
            connection::run(conn, socket, ingress).await;
        }
        http::Reply::Status { code, .. } => {
            if code == 403 {
                tracing::warn!(%peer, method = %head.method, path = %head.path, "rejecting websocket listener request with Origin header");
            }
            let _ = stream.shutdown().await;
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
