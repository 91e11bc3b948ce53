//! The websocket listener over real loopback sockets, with the real machine, engine and store.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::test_support::{settings, temp_home};

type Socket = WebSocketStream<TcpStream>;

/// A server on an ephemeral loopback port, stopped by `stop`.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl Server {
    async fn start() -> Self {
        Self::start_with(settings(&temp_home())).await
    }

    async fn start_with(settings: Settings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_ws(listener, settings, async move {
            let _ = stopped.await;
        }));
        Self { addr, stop: Some(stop), task }
    }

    async fn connect(&self) -> Socket {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        let url = format!("ws://{}/", self.addr);
        tokio_tungstenite::client_async(url, stream).await.unwrap().0
    }

    /// Sends raw HTTP and returns the whole response (the server closes after it).
    async fn http(&self, request: &str) -> String {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    async fn shut_down(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task).await.unwrap().unwrap().unwrap();
    }
}

async fn send(socket: &mut Socket, frame: Value) {
    socket.send(Message::text(frame.to_string())).await.unwrap();
}

/// The next JSON message, skipping control messages.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("server went quiet")
            .expect("connection ended")
            .expect("read error");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Messages up to and including the first that `done` accepts.
async fn until(socket: &mut Socket, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = next(socket).await;
        let stop = done(&frame);
        seen.push(frame);
        if stop {
            return seen;
        }
    }
}

async fn response(socket: &mut Socket, id: i64) -> Value {
    until(socket, |f| f["id"] == id && f.get("method").is_none()).await.pop().unwrap()
}

async fn initialize(socket: &mut Socket, name: &str) {
    send(
        socket,
        json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": name, "version": "1"}}}),
    )
    .await;
    response(socket, 1).await;
}

fn turn_start(id: i64, thread_id: &str, text: &str) -> Value {
    json!({"id": id, "method": "turn/start", "params": {
        "threadId": thread_id, "input": [{"type": "text", "text": text}]}})
}

/// Every JSON message that arrives until the connection is quiet for a moment.
async fn drain(socket: &mut Socket) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Ok(frame) = tokio::time::timeout(Duration::from_millis(300), next(socket)).await {
        seen.push(frame);
    }
    seen
}

/// No JSON message arrives for a moment (control messages are fine).
async fn quiet(socket: &mut Socket) {
    let waited = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => return other,
            }
        }
    })
    .await;
    assert!(waited.is_err(), "unexpected message: {waited:?}");
}

#[tokio::test]
async fn http_endpoints_and_refusals() {
    let server = Server::start().await;
    let ok = server.http("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(ok.ends_with("\r\n\r\n"), "empty body: {ok}");
    let ok = server.http("GET /healthz HTTP/1.1\r\n\r\n").await;
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    let forbidden = server.http("GET /healthz HTTP/1.1\r\nOrigin: http://page.example\r\n\r\n").await;
    assert!(forbidden.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{forbidden}");
    let bad = server.http("GET / HTTP/1.1\r\n\r\n").await;
    assert!(bad.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{bad}");
    assert!(bad.ends_with("Connection header did not include 'upgrade'"), "{bad}");
    let garbage = server.http("\x16\x03\x01\x02\x00 hello\r\n\r\n").await;
    assert!(garbage.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{garbage}");

    // A browser page cannot upgrade either.
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/", server.addr),
    )
    .unwrap();
    request.headers_mut().insert("origin", "http://page.example".parse().unwrap());
    let refused = tokio_tungstenite::client_async(request, stream).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    server.shut_down().await;
}

#[tokio::test]
async fn connections_are_numbered_from_one_and_events_reach_subscribers_only() {
    let server = Server::start().await;
    let mut a = server.connect().await;
    let mut b = server.connect().await;
    initialize(&mut a, "a").await;
    initialize(&mut b, "b").await;

    send(&mut a, json!({"id": 2, "method": "thread/start", "params": {}})).await;
    let thread_id = response(&mut a, 2).await["result"]["thread"]["id"].as_str().unwrap().to_owned();
    send(&mut a, turn_start(3, &thread_id, "hello from a")).await;
    let frames = until(&mut a, |f| f["method"] == "turn/completed").await;
    let answer = frames
        .iter()
        .find(|f| f["method"] == "item/completed" && f["params"]["item"]["type"] == "agentMessage")
        .expect("an agent message");
    assert_eq!(answer["params"]["item"]["text"], "You said: hello from a");

    // b saw what goes to every initialized connection (`thread/started`, status changes) and
    // nothing of the turn.
    let seen = drain(&mut b).await;
    assert_eq!(seen.first().map(|f| f["method"].clone()), Some(json!("thread/started")), "{seen:?}");
    for f in &seen {
        let method = f["method"].as_str().unwrap_or("");
        assert!(!method.starts_with("turn/") && !method.starts_with("item/"), "b is not subscribed: {f}");
    }

    // Once subscribed, b sees the next turn too.
    send(&mut b, json!({"id": 2, "method": "thread/resume", "params": {"threadId": thread_id}})).await;
    response(&mut b, 2).await;
    send(&mut a, turn_start(4, &thread_id, "again")).await;
    until(&mut a, |f| f["method"] == "turn/completed").await;
    let seen = until(&mut b, |f| f["method"] == "turn/completed").await;
    assert!(seen.iter().any(|f| f["method"] == "turn/started"), "{seen:?}");
    assert!(seen.iter().all(|f| f.get("id").is_none()), "b got a's responses: {seen:?}");
    server.shut_down().await;
}

#[tokio::test]
async fn binary_messages_are_dropped_and_pings_answered() {
    let server = Server::start().await;
    let mut socket = server.connect().await;
    socket
        .send(Message::binary(b"{\"id\":9,\"method\":\"initialize\",\"params\":{}}".to_vec()))
        .await
        .unwrap();
    socket.send(Message::Ping(b"are you there".to_vec().into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(pong, Message::Pong(b"are you there".to_vec().into()));
    // The binary request got no reply; the connection still serves text.
    initialize(&mut socket, "c").await;
    quiet(&mut socket).await;
    server.shut_down().await;
}

#[tokio::test]
async fn a_message_over_the_frame_limit_ends_only_that_connection() {
    let mut settings = settings(&temp_home());
    settings.max_frame_bytes = 1024;
    let server = Server::start_with(settings).await;
    let mut big = server.connect().await;
    let mut other = server.connect().await;
    let text = "x".repeat(4096);
    let _ = big
        .send(Message::text(json!({"id": 1, "method": "initialize", "params": {"p": text}}).to_string()))
        .await;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match big.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection should have ended");
    initialize(&mut other, "other").await;
    server.shut_down().await;
}

#[tokio::test]
async fn shutdown_sends_what_was_queued_and_closes() {
    let server = Server::start().await;
    let mut socket = server.connect().await;
    initialize(&mut socket, "d").await;
    send(&mut socket, json!({"id": 2, "method": "thread/start", "params": {}})).await;
    response(&mut socket, 2).await;
    let stop = server.shut_down();
    let drained = async {
        let mut closed = false;
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(_)) => closed = true,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        closed
    };
    let ((), closed) = tokio::join!(stop, drained);
    assert!(closed, "the server should say goodbye with a close message");
}

#[tokio::test]
async fn with_a_capability_token_only_its_bearers_connect() {
    use sha2::Digest;
    let mut settings = settings(&temp_home());
    settings.ws_auth = Some(WsAuth::CapabilityToken { token_sha256: sha2::Sha256::digest(b"t0ken").into() });
    let server = Server::start_with(settings).await;
    let connect = |authorization: Option<&'static str>| {
        let addr = server.addr;
        async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{addr}/"),
            )
            .unwrap();
            if let Some(value) = authorization {
                request.headers_mut().insert("authorization", value.parse().unwrap());
            }
            tokio_tungstenite::client_async(request, stream).await.map(|(socket, _)| socket)
        }
    };
    for (authorization, body) in
        [(None, "missing websocket bearer token"), (Some("Bearer wrong"), "invalid websocket bearer token")]
    {
        match connect(authorization).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401);
                assert_eq!(response.body().as_deref(), Some(body.as_bytes()));
            }
            other => panic!("{authorization:?}: expected a 401, got {other:?}"),
        }
    }
    // Health checks need no token.
    assert!(server.http("GET /readyz HTTP/1.1\r\n\r\n").await.starts_with("HTTP/1.1 200 OK\r\n"));
    let mut socket = connect(Some("Bearer t0ken")).await.unwrap();
    initialize(&mut socket, "trusted").await;
    server.shut_down().await;
}

#[test]
fn the_banner_names_the_address_as_codex_does() {
    let banner = banner("127.0.0.1:4222".parse().unwrap(), false);
    assert!(banner.contains("\n  listening on: ws://127.0.0.1:4222\n"), "{banner}");
    assert!(banner.contains("\n  readyz: http://127.0.0.1:4222/readyz\n"), "{banner}");
    assert!(banner.contains("\n  healthz: http://127.0.0.1:4222/healthz\n"), "{banner}");
    assert!(banner.contains("localhost only"), "{banner}");
    assert!(super::banner("0.0.0.0:1".parse().unwrap(), false).contains("--ws-auth"));
    assert!(super::banner("0.0.0.0:1".parse().unwrap(), true).contains("Authorization: Bearer"));
}
