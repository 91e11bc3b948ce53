//! The websocket transport: `--listen ws://IP:PORT`.
//!
//! One JSON-RPC message per text message, many concurrent connections, ids from 1 (PROTOCOL.md
//! §2). The listener also answers `GET /readyz` and `GET /healthz` with `200`, refuses any
//! request carrying an `Origin` header with `403` (a browser page must not drive the server),
//! and treats everything else as an upgrade attempt ([`http`]), authorized by `--ws-auth` when
//! it is set ([`auth`]). Each upgraded connection gets a
//! reader and a writer ([`connection`]); its outbound queue holds [`EGRESS_CAPACITY`] frames,
//! and a connection that lets it fill up is disconnected rather than stalling the others.
//!
//! [`EGRESS_CAPACITY`]: crate::transport::EGRESS_CAPACITY

mod auth;
mod connection;
mod http;

pub use auth::{WsAuth, WsAuthArgs, WsAuthMode, DEFAULT_MAX_CLOCK_SKEW_SECONDS};

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
pub fn banner(addr: SocketAddr, authenticated: bool) -> String {
    let note = if authenticated {
        "clients must send `Authorization: Bearer <token>` (--ws-auth)"
    } else if addr.ip().is_loopback() {
        "binds localhost only (use SSH port-forwarding for remote access)"
    } else {
        "no websocket auth; configure `--ws-auth ...` before real remote use"
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
    let local = listener.local_addr()?;
    if settings.ws_auth.is_none() && !local.ip().is_loopback() {
        tracing::warn!(%local, "starting a non-loopback websocket listener without auth");
    }
    let listening =
        Listening { config, auth: Arc::new(settings.ws_auth.clone()), ids: Arc::new(AtomicU64::new(1)) };
    let acceptor = tokio::spawn(accept_loop(listener, ingress_tx, listening, stop_rx));
    let served = run_machine(settings, ingress_rx, shutdown, Lifetime::UntilShutdown).await;
    let _ = stop_tx.send(());
    if let Err(join) = acceptor.await {
        tracing::error!(%join, "websocket acceptor failed");
    }
    served
}

/// What every accepted socket shares.
#[derive(Clone)]
struct Listening {
    config: WebSocketConfig,
    auth: Arc<Option<WsAuth>>,
    /// The next connection id (from 1).
    ids: Arc<AtomicU64>,
}

async fn accept_loop(
    listener: TcpListener,
    ingress: mpsc::Sender<TransportEvent>,
    listening: Listening,
    mut stop: oneshot::Receiver<()>,
) {
    let mut sockets = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    sockets.spawn(serve_socket(stream, peer, listening.clone(), ingress.clone()));
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
    listening: Listening,
    ingress: mpsc::Sender<TransportEvent>,
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
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let reply = http::answer(&head, listening.auth.as_ref().as_ref(), now);
    if stream.write_all(&reply.encode()).await.is_err() {
        return;
    }
    match reply {
        http::Reply::Upgrade { .. } => {
            let conn = ConnectionId(listening.ids.fetch_add(1, Ordering::Relaxed));
            tracing::info!(%conn, %peer, path = %head.path, "websocket client connected");
            let socket =
                WebSocketStream::from_partially_read(stream, head.rest, Role::Server, Some(listening.config))
                    .await;
            connection::run(conn, socket, ingress).await;
        }
        http::Reply::Status { code, .. } => {
            match code {
                403 => {
                    tracing::warn!(%peer, method = %head.method, path = %head.path, "rejecting websocket listener request with Origin header")
                }
                401 => tracing::warn!(%peer, "rejecting websocket client during upgrade: unauthorized"),
                _ => {}
            }
            let _ = stream.shutdown().await;
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
