//! Bad input over the real binary: every case gets Codex's behaviour (a -32600 reply, or a
//! silent drop), nothing panics, and the connection keeps serving afterwards.

use std::time::Duration;

use serde_json::json;
use tests::server::Server;

/// A request that proves the connection still serves.
fn still_serving(s: &mut Server) {
    let r = s.request("thread/loaded/list", json!({}));
    assert!(r.get("result").is_some(), "connection stopped serving: {r}");
}

#[test]
fn bad_input_gets_codex_behaviour_and_the_connection_keeps_serving() {
    let mut s = Server::spawn(&[]);
    // Before initialize: a well-formed request is refused; decodable-but-wrong params are
    // reported as such first (Codex deserializes before checking the handshake).
    s.send_raw(r#"{"id":"a","method":"thread/list","params":{}}"#, None);
    assert_eq!(s.recv()["error"], json!({"code": -32600, "message": "Not initialized"}));
    s.send_raw(r#"{"id":"b","method":"thread/read","params":{"threadId":7}}"#, None);
    let msg = s.recv()["error"]["message"].as_str().unwrap().to_owned();
    assert_eq!(msg, "Invalid request: invalid type: integer `7`, expected a string");
    s.handshake("e2e-client", json!(null));

    // Dropped without a reply: invalid JSON, a batch, a float id, a null id, a client
    // notification nobody knows, blank lines.
    for frame in [
        "{\"id\":1,",
        "[{\"id\":1,\"method\":\"thread/list\",\"params\":{}}]",
        r#"{"id":1.5,"method":"thread/list","params":{}}"#,
        r#"{"id":null,"method":"thread/list","params":{}}"#,
        r#"{"method":"someone/notifies"}"#,
        "",
        "   ",
    ] {
        s.send_raw(frame, None);
    }
    s.assert_silent(Duration::from_millis(300));
    still_serving(&mut s);

    let cases = [
        (
            r#"{"id":20,"method":"no/such/method","params":{}}"#,
            "Invalid request: unknown variant `no/such/method`, expected one of `initialize`, ",
        ),
        (r#"{"id":21,"method":"thread/list"}"#, "Invalid request: missing field `params`"),
        (
            r#"{"id":22,"method":"thread/list","params":{"limit":"ten"}}"#,
            "Invalid request: invalid type: string \"ten\", expected u32",
        ),
        (r#"{"id":23,"method":"turn/start","params":{"threadId":"nope","input":[]}}"#, "invalid thread id: "),
        (
            r#"{"id":24,"method":"turn/interrupt","params":{"threadId":"019ab000-0000-7000-8000-000000000000","turnId":"x"}}"#,
            "thread not found: 019ab000-0000-7000-8000-000000000000",
        ),
    ];
    for (frame, prefix) in cases {
        s.send_raw(frame, None);
        let reply = s.recv();
        assert_eq!(reply["error"]["code"], -32600, "{frame}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(prefix), "{frame}: {message}");
    }
    still_serving(&mut s);

    // A 10 MiB line: a valid turn/start whose text is over the limit gets -32602 with data...
    let start = s.request("thread/start", json!({}));
    let thread_id = start["result"]["thread"]["id"].as_str().unwrap().to_owned();
    s.recv_until_method("thread/started");
    let big = json!({"id": 30, "method": "turn/start", "params": {"threadId": thread_id, "input": [{"type": "text", "text": "x".repeat(10 << 20)}]}});
    s.send_raw(&big.to_string(), Some("<turn/start with 10 MiB of text>"));
    let reply = s.recv();
    assert_eq!(reply["error"]["code"], -32602);
    assert_eq!(
        reply["error"]["data"],
        json!({"input_error_code": "input_too_large", "max_chars": 1048576, "actual_chars": 10485760})
    );
    // ...and 10 MiB of garbage is dropped.
    s.send_raw(&format!("{{\"junk\":\"{}", "y".repeat(10 << 20)), Some("<10 MiB of invalid JSON>"));
    still_serving(&mut s);
    // A turn still works end to end.
    s.send_request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "still here?"}]}),
    );
    let frames = s.recv_until_method("turn/completed");
    assert_eq!(frames.last().unwrap()["params"]["turn"]["status"], "completed");
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
    s.assert_valid();
    assert!(s.close().success());
}

#[test]
fn lines_over_the_frame_limit_are_discarded_and_serving_continues() {
    let mut s = Server::spawn(&["--max-frame-bytes", "4096"]);
    s.handshake("e2e-client", json!(null));
    s.send_raw(
        &format!(r#"{{"id":99,"method":"thread/list","params":{{"searchTerm":"{}"}}}}"#, "z".repeat(8192)),
        Some("<8 KiB request over a 4 KiB limit>"),
    );
    s.assert_silent(Duration::from_millis(300));
    still_serving(&mut s);
    assert!(
        s.stderr().to_lowercase().contains("discard") || s.stderr().contains("max"),
        "a warning is logged: {}",
        s.stderr()
    );
    assert!(s.close().success());
}
