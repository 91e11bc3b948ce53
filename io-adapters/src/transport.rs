//! What every transport shares: the events a transport sends the machine task, how the machine
//! task writes to a connection, and admission of inbound frames under backpressure.
//!
//! Queues are bounded ([`INGRESS_CAPACITY`], [`EGRESS_CAPACITY`]), as in Codex. When ingress is
//! full a request is answered at once with `-32001 Server overloaded; retry later.`, while
//! notifications and responses wait for space. When a connection's outbound queue is full, a
//! stdio writer makes the machine task wait, and a websocket connection is disconnected instead,
//! so one slow peer never stalls the others.

use core_sm::wire::{codes, encode_error, ErrorObject, Frame, Incoming};
use core_sm::ConnectionId;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

/// Capacity of the ingress channel between transports and the machine task.
pub const INGRESS_CAPACITY: usize = 128;

/// Capacity of the channel between the machine task and one connection's writer.
pub const EGRESS_CAPACITY: usize = 128;

/// The message of the reply to a request that arrives while ingress is full.
pub const OVERLOADED_MESSAGE: &str = "Server overloaded; retry later.";

/// What a transport tells the machine task.
#[derive(Debug)]
pub enum TransportEvent {
    /// A connection is ready; frames for it go to `peer`.
    Opened {
        /// The connection.
        conn: ConnectionId,
        /// Its outbound side.
        peer: Peer,
    },
    /// One text frame arrived on a connection.
    Frame {
        /// The connection.
        conn: ConnectionId,
        /// The text.
        text: String,
    },
    /// The connection ended (end of input, close, read error).
    Closed {
        /// The connection.
        conn: ConnectionId,
    },
}

/// The machine task's handle on one connection's writer.
#[derive(Debug)]
pub struct Peer {
    pub(crate) writer: mpsc::Sender<Frame>,
    /// `None`: a full queue makes the machine task wait (stdio). `Some`: a full queue
    /// disconnects the connection (websocket); sending `()` closes it after what is queued,
    /// dropping the sender closes it at once.
    pub(crate) close: Option<oneshot::Sender<()>>,
}

impl Peer {
    /// A peer the machine task waits for when its queue is full.
    pub fn waiting(writer: mpsc::Sender<Frame>) -> Self {
        Self { writer, close: None }
    }

    /// A peer that is disconnected when its queue is full; `close` ends its connection.
    pub fn disconnecting(writer: mpsc::Sender<Frame>, close: oneshot::Sender<()>) -> Self {
        Self { writer, close: Some(close) }
    }
}

/// Why [`admit`] could not deliver a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngressClosed;

/// Delivers one frame from `conn` to the machine task. If the channel is full and the frame is
/// a request, answers it with `-32001` through the connection's `writer` instead (dropping the
/// reply if the writer is full too); anything else waits for space.
pub async fn admit(
    conn: ConnectionId,
    text: String,
    ingress: &mpsc::Sender<TransportEvent>,
    writer: &mpsc::Sender<Frame>,
) -> Result<(), IngressClosed> {
    match ingress.try_send(TransportEvent::Frame { conn, text }) {
        Ok(()) => Ok(()),
        Err(TrySendError::Closed(_)) => Err(IngressClosed),
        Err(TrySendError::Full(event)) => {
            if let TransportEvent::Frame { text, .. } = &event {
                if let Ok(Incoming::Request { id, method, .. }) = Incoming::decode(text) {
                    let error = ErrorObject {
                        code: codes::OVERLOADED,
                        message: OVERLOADED_MESSAGE.to_owned(),
                        data: None,
                    };
                    tracing::warn!(%conn, %id, %method, "ingress full; request rejected as overloaded");
                    if writer.try_send(encode_error(&id, &error)).is_err() {
                        tracing::warn!(%conn, %id, "writer full; overload reply dropped");
                    }
                    return Ok(());
                }
            }
            ingress.send(event).await.map_err(|_| IngressClosed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: ConnectionId = ConnectionId(4);

    fn text_of(event: TransportEvent) -> String {
        match event {
            TransportEvent::Frame { conn, text } if conn == CONN => text,
            other => panic!("expected a frame on {CONN}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn overloaded_requests_get_an_immediate_error() {
        let (ingress, mut ingress_rx) = mpsc::channel(1);
        let (writer, mut writer_rx) = mpsc::channel(4);
        admit(CONN, "first".into(), &ingress, &writer).await.unwrap();
        admit(CONN, r#"{"id":7,"method":"thread/list","params":{}}"#.into(), &ingress, &writer)
            .await
            .unwrap();
        assert_eq!(
            &*writer_rx.try_recv().unwrap(),
            r#"{"id":7,"error":{"code":-32001,"message":"Server overloaded; retry later."}}"#
        );
        // A notification waits for space instead.
        let pending = tokio::spawn({
            let ingress = ingress.clone();
            let writer = writer.clone();
            async move { admit(CONN, r#"{"method":"initialized"}"#.into(), &ingress, &writer).await }
        });
        tokio::task::yield_now().await;
        assert!(!pending.is_finished());
        assert_eq!(text_of(ingress_rx.recv().await.unwrap()), "first");
        pending.await.unwrap().unwrap();
        assert_eq!(text_of(ingress_rx.recv().await.unwrap()), r#"{"method":"initialized"}"#);
        assert!(writer_rx.try_recv().is_err());
        drop(ingress_rx);
        assert_eq!(admit(CONN, "x".into(), &ingress, &writer).await, Err(IngressClosed));
    }

    #[tokio::test]
    async fn a_full_writer_drops_the_overload_reply_without_blocking() {
        let (ingress, _ingress_rx) = mpsc::channel(1);
        let (writer, mut writer_rx) = mpsc::channel(1);
        writer.try_send(Frame::from("queued")).unwrap();
        admit(CONN, "first".into(), &ingress, &writer).await.unwrap();
        admit(CONN, r#"{"id":"a","method":"thread/list","params":{}}"#.into(), &ingress, &writer)
            .await
            .unwrap();
        assert_eq!(&*writer_rx.try_recv().unwrap(), "queued");
        assert!(writer_rx.try_recv().is_err());
    }
}
