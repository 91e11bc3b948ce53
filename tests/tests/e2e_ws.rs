//! The websocket transport end to end, over the real binary: the HTTP endpoints and refusals
//! of Codex's listener, two connections sharing a thread with Codex's routing, binary messages
//! dropped, pings answered, and a clean exit on SIGTERM. Every frame is schema-validated and
//! each connection's transcript is snapshotted.

use serde_json::json;
use tests::ws::WsServer;
use tungstenite::Message;

#[test]
fn http_endpoints_and_refusals() {
    let server = WsServer::spawn();
    for path in ["/readyz", "/healthz"] {
        let ok = server.http(&format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{path}: {ok}");
    }
    let forbidden = server.http("GET /readyz HTTP/1.1\r\nOrigin: https://page.example\r\n\r\n");
    assert!(forbidden.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{forbidden}");
    let plain = server.http("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(plain.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{plain}");
    assert!(plain.ends_with("\r\n\r\nConnection header did not include 'upgrade'"), "{plain}");
    let status = server.terminate();
    assert!(status.success(), "{status}");
}

#[test]
fn two_connections_share_a_thread() {
    let server = WsServer::spawn();
    let stderr = server.stderr();
    assert!(stderr.contains(&format!("  readyz: http://{}/readyz\n", server.addr())), "{stderr}");
    let mut a = server.connect("client-a");
    let mut b = server.connect("client-b");
    a.handshake();
    b.handshake();

    let started = a.request("thread/start", json!({}));
    let thread_id = started["result"]["thread"]["id"].as_str().expect("a thread id").to_owned();
    b.recv_until(|f| f["method"] == "thread/started");

    let input = |text: &str| json!([{"type": "text", "text": text}]);
    a.request("turn/start", json!({"threadId": thread_id, "input": input("hello over websockets")}));
    a.recv_until(|f| f["method"] == "turn/completed");
    // b is initialized, not subscribed: it sees the broadcast status changes, not the turn.
    let seen =
        b.recv_until(|f| f["method"] == "thread/status/changed" && f["params"]["status"]["type"] == "idle");
    for frame in &seen {
        let method = frame["method"].as_str().unwrap_or("");
        assert!(!method.starts_with("turn/") && !method.starts_with("item/"), "b is not subscribed: {frame}");
    }

    let resumed = b.request("thread/resume", json!({"threadId": thread_id}));
    assert_eq!(resumed["result"]["thread"]["turns"].as_array().map(Vec::len), Some(1), "{resumed}");
    a.request("turn/start", json!({"threadId": thread_id, "input": input("and again")}));
    a.recv_until(|f| f["method"] == "turn/completed");
    let seen = b.recv_until(|f| f["method"] == "turn/completed");
    assert!(seen.iter().any(|f| f["method"] == "turn/started"), "b subscribed by resuming");

    // Binary messages are dropped; pings are answered with the same payload.
    b.send_message(Message::binary(br#"{"id":99,"method":"thread/list","params":{}}"#.to_vec()));
    b.send_message(Message::Ping(b"still there?".to_vec().into()));
    match b.recv_message() {
        Message::Pong(payload) => assert_eq!(payload.as_ref(), b"still there?"),
        other => panic!("expected the pong, got {other:?}"),
    }
    let id = b.send_request("thread/list", json!({}));
    let frames = b.recv_until(|f| tests::server::is_reply_to(f, id));
    assert!(frames.iter().all(|f| f["id"] != 99), "the binary request got a reply: {frames:?}");

    a.assert_valid();
    b.assert_valid();
    insta::assert_snapshot!("ws_client_a", a.snapshot());
    insta::assert_snapshot!("ws_client_b", b.snapshot());
    drop((a, b));
    let status = server.terminate();
    assert!(status.success(), "{status}");
}
