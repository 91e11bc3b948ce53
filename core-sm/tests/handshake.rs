//! The connection lifecycle and Codex's answers to protocol misuse (PROTOCOL.md §1, §3, §4).

mod common;

use common::Harness;
use serde_json::{json, Value};

fn error_of(reply: &Value) -> (i64, String) {
    let e = &reply["error"];
    (e["code"].as_i64().unwrap(), e["message"].as_str().unwrap().to_owned())
}

#[test]
fn initialize_once_per_connection() {
    let mut h = Harness::new(1);
    let c = h.open(0);
    let early = h.request(c, "thread/start", json!({}));
    assert_eq!(error_of(&early), (-32600, "Not initialized".into()));

    let bad = h.request(c, "initialize", json!({"clientInfo": {"name": "bad\nname", "version": "1"}}));
    assert_eq!(
        error_of(&bad),
        (-32600, "Invalid clientInfo.name: 'bad\nname'. Must be a valid HTTP header value.".into())
    );
    // The failed initialize leaves the connection uninitialized.
    let still = h.request(c, "thread/list", json!({}));
    assert_eq!(error_of(&still).1, "Not initialized");

    let ok = h.request(
        c,
        "initialize",
        json!({"clientInfo": {"name": "probe", "title": null, "version": "0.0.1"}}),
    );
    let result = &ok["result"];
    assert_eq!(result["codexHome"], "/tmp/turnstile-home");
    assert_eq!(result["platformFamily"], "unix");
    assert_eq!(result["platformOs"], "linux");
    let ua = result["userAgent"].as_str().unwrap();
    assert!(ua.starts_with("probe/") && ua.ends_with("(probe; 0.0.1)"), "{ua}");

    let again = h.request(c, "initialize", json!({"clientInfo": {"name": "probe", "version": "1"}}));
    assert_eq!(error_of(&again), (-32600, "Already initialized".into()));
}

#[test]
fn first_client_sets_the_originator() {
    let mut h = Harness::new(1);
    let a = h.open(1);
    let b = h.open(2);
    h.request(a, "initialize", json!({"clientInfo": {"name": "first", "version": "1"}}));
    let r = h.request(b, "initialize", json!({"clientInfo": {"name": "second", "version": "2"}}));
    let ua = r["result"]["userAgent"].as_str().unwrap();
    assert!(ua.starts_with("first/") && ua.ends_with("(second; 2)"), "{ua}");
}

#[test]
fn misuse_gets_codex_errors_and_the_connection_keeps_serving() {
    let mut h = Harness::new(1);
    let c = h.client(0, json!(null));
    // (frame, expected reply: None = dropped silently, Some((code, message prefix)))
    let table: Vec<(String, Option<(i64, &str)>)> = vec![
        ("{not json".into(), None),
        (r#"[{"id":1,"method":"thread/list","params":{}}]"#.into(), None),
        (r#"{"id":1.5,"method":"thread/list","params":{}}"#.into(), None),
        (r#"{"id":null,"method":"thread/list","params":{}}"#.into(), None),
        (r#"{"method":"initialized"}"#.into(), None),
        (r#"{"id":99,"result":{}}"#.into(), None),
        (r#"{"id":10,"method":"nope/nope","params":{}}"#.into(), Some((-32600, "Invalid request: unknown variant `nope/nope`, expected one of `initialize`,"))),
        (r#"{"id":11,"method":"thread/list"}"#.into(), Some((-32600, "Invalid request: missing field `params`"))),
        (r#"{"id":12,"method":"thread/read","params":{}}"#.into(), Some((-32600, "Invalid request: missing field `threadId`"))),
        (r#"{"id":13,"method":"thread/read","params":{"threadId":5}}"#.into(), Some((-32600, "Invalid request: invalid type: integer `5`, expected a string"))),
        (r#"{"id":14,"method":"thread/read","params":{"threadId":"xyz"}}"#.into(), Some((-32600, "invalid thread id: "))),
        (r#"{"id":15,"method":"turn/start","params":{"threadId":"019ab000-0000-7000-8000-000000000000","input":[]}}"#.into(), Some((-32600, "thread not found: 019ab000-0000-7000-8000-000000000000"))),
        (r#"{"id":16,"method":"mock/experimentalMethod","params":{}}"#.into(), Some((-32600, "mock/experimentalMethod requires experimentalApi capability"))),
        (r#"{"id":17,"method":"thread/start","params":{"dynamicTools":[{"name":"x"}]}}"#.into(), Some((-32600, "thread/start.dynamicTools requires experimentalApi capability"))),
        (r#"{"id":18,"method":"model/list","params":{}}"#.into(), Some((-32601, "model/list is not supported yet"))),
        (r#"{"jsonrpc":"2.0","id":"s","method":"thread/loaded/list","params":{}}"#.into(), Some((0, ""))),
    ];
    for (frame, want) in table {
        h.take(c);
        h.raw(c, &frame);
        let got = h.take(c);
        match want {
            None => assert!(got.is_empty(), "{frame} should be dropped, got {got:?}"),
            Some((0, _)) => assert!(got[0].get("result").is_some(), "{frame}: {got:?}"),
            Some((code, prefix)) => {
                assert_eq!(got.len(), 1, "{frame}: {got:?}");
                let (c2, msg) = error_of(&got[0]);
                assert_eq!(c2, code, "{frame}: {msg}");
                assert!(msg.starts_with(prefix), "{frame}: {msg}");
                assert!(got[0]["error"].get("data").is_none());
            }
        }
    }
    let ok = h.request(c, "thread/loaded/list", json!({}));
    assert_eq!(ok["result"], json!({"data": [], "nextCursor": null}));
}

#[test]
fn experimental_connections_may_use_experimental_fields() {
    let mut h = Harness::new(1);
    let c = h.client(0, json!({"experimentalApi": true}));
    let r = h.request(
        c,
        "thread/start",
        json!({"dynamicTools": [{"name": "lookup", "description": "d", "inputSchema": {}}]}),
    );
    assert!(r.get("result").is_some(), "{r}");
    let tools = h.take_engine().into_iter().find_map(|(_, cmd)| match cmd {
        core_sm::EngineCommand::OpenThread { settings } => Some(settings.dynamic_tools),
        _ => None,
    });
    assert_eq!(tools.unwrap().len(), 1, "dynamic tools reach the engine");
    // Unused experimental fields (null / false) do not need the capability either.
    let plain = h.client(1, json!(null));
    let r = h.request(plain, "thread/start", json!({"dynamicTools": null, "experimentalRawEvents": false}));
    assert!(r.get("result").is_some(), "{r}");
}

#[test]
fn opted_out_notifications_are_never_sent() {
    let mut h = Harness::new(1);
    let quiet = h.client(1, json!({"optOutNotificationMethods": ["thread/started"]}));
    let loud = h.client(2, json!(null));
    h.request(loud, "thread/start", json!({}));
    assert_eq!(h.methods(loud), ["<result>", "thread/started"]);
    assert!(h.methods(quiet).is_empty());
}

#[test]
fn ten_mebibyte_frames_are_handled() {
    let mut h = Harness::new(1);
    let c = h.client(0, json!(null));
    let t = h.start_thread(c);
    let big = "x".repeat(10 << 20);
    let frame = json!({"id": 7, "method": "turn/start", "params": {"threadId": t.to_string(), "input": [{"type": "text", "text": big}]}});
    h.raw(c, &frame.to_string());
    let reply = h.reply(c, 7).unwrap();
    assert_eq!(reply["error"]["code"], -32602);
    assert_eq!(reply["error"]["message"], "Input exceeds the maximum length of 1048576 characters.");
    assert_eq!(reply["error"]["data"]["actual_chars"], 10 << 20);
    h.raw(c, &format!("{{\"garbage\": \"{}\"", "y".repeat(10 << 20)));
    h.take(c);
    assert!(h.request(c, "thread/loaded/list", json!({})).get("result").is_some());
}
