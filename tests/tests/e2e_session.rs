//! A whole stdio session over the real binary: handshake (with both error cases), a streamed
//! turn, read, list, loaded list, and the interrupt of a slow turn. The transcript is an `insta`
//! snapshot (deterministic from `--seed` and `--deterministic-clock`), and every frame is
//! validated against the Codex 0.169.0 schema.

use serde_json::{json, Value};
use tests::server::{is_reply_to, Server};

fn methods(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f["method"].as_str() {
            Some(m) if m == "thread/status/changed" => {
                format!("{m}:{}", f["params"]["status"]["type"].as_str().unwrap())
            }
            Some(m) => m.to_owned(),
            None if f.get("error").is_some() => "<error>".into(),
            None => "<result>".into(),
        })
        .collect()
}

#[test]
fn stdio_session_transcript() {
    let mut s = Server::spawn(&[]);
    let early = s.request("thread/start", json!({}));
    assert_eq!(early["error"], json!({"code": -32600, "message": "Not initialized"}));
    let init = s.handshake("e2e-client", json!({"experimentalApi": false}));
    let ua = init["result"]["userAgent"].as_str().unwrap();
    assert!(ua.starts_with("e2e-client/0.169.0 (") && ua.ends_with("(e2e-client; 1.0.0)"), "{ua}");
    let again = s.request("initialize", json!({"clientInfo": {"name": "e2e-client", "version": "1.0.0"}}));
    assert_eq!(again["error"], json!({"code": -32600, "message": "Already initialized"}));

    let id = s.send_request("thread/start", json!({}));
    let frames = s.recv_until(|f| f["method"] == "thread/started");
    assert!(is_reply_to(&frames[0], id), "response first, then thread/started");
    let thread_id = frames[0]["result"]["thread"]["id"].as_str().unwrap().to_owned();

    let id = s.send_request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "hello there, turnstile"}]}),
    );
    let frames = s.recv_until(|f| f["method"] == "turn/completed");
    assert!(is_reply_to(&frames[0], id));
    let names = methods(&frames);
    let pos = |m: &str| names.iter().position(|n| n == m).unwrap_or_else(|| panic!("{m} missing: {names:?}"));
    assert!(pos("thread/status/changed:active") < pos("turn/started"));
    assert!(pos("thread/status/changed:idle") < pos("turn/completed"));
    assert!(names.iter().filter(|n| *n == "item/agentMessage/delta").count() >= 2, "{names:?}");
    let done = &frames.last().unwrap()["params"]["turn"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["items"][0]["text"], "You said: hello there, turnstile");

    let read = s.request("thread/read", json!({"threadId": thread_id, "includeTurns": true}));
    assert_eq!(read["result"]["thread"]["turns"][0]["items"].as_array().unwrap().len(), 2);
    let list = s.request("thread/list", json!({}));
    assert_eq!(list["result"]["data"][0]["id"], thread_id);
    let loaded = s.request("thread/loaded/list", json!({}));
    assert_eq!(loaded["result"]["data"], json!([thread_id]));

    // A slow turn, interrupted while the engine sleeps.
    let slow = "/message working on it\n/sleep 600000\n/message never sent";
    s.send_request("turn/start", json!({"threadId": thread_id, "input": [{"type": "text", "text": slow}]}));
    let frames =
        s.recv_until(|f| f["method"] == "item/completed" && f["params"]["item"]["type"] == "agentMessage");
    let turn_id = frames[0]["result"]["turn"]["id"].as_str().unwrap().to_owned();
    let id = s.send_request("turn/interrupt", json!({"threadId": thread_id, "turnId": turn_id}));
    let frames = s.recv_until(|f| f["method"] == "turn/completed");
    assert!(is_reply_to(&frames[0], id), "the interrupt is answered first: {:?}", methods(&frames));
    assert_eq!(methods(&frames)[1..], ["thread/status/changed:idle", "turn/completed"]);
    assert_eq!(frames[2]["params"]["turn"]["status"], "interrupted");

    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    let status = s.close();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn scripted_items_of_every_kind_stream_and_validate() {
    let mut s = Server::spawn(&[]);
    s.handshake("e2e-client", json!(null));
    let start = s.request("thread/start", json!({}));
    let thread_id = start["result"]["thread"]["id"].as_str().unwrap().to_owned();
    s.recv_until_method("thread/started");
    let text = "/reasoning thinking about it\n/plan 1. look 2. fix\n/exec ls -la --output total 0\n/patch src/lib.rs update\n/usage 120 30\n/message all done";
    s.send_request("turn/start", json!({"threadId": thread_id, "input": [{"type": "text", "text": text}]}));
    let frames = s.recv_until(|f| f["method"] == "turn/completed");
    let names = methods(&frames);
    for needed in [
        "item/reasoning/summaryTextDelta",
        "item/plan/delta",
        "item/commandExecution/outputDelta",
        "thread/tokenUsage/updated",
        "item/agentMessage/delta",
    ] {
        assert!(names.iter().any(|n| n == needed), "{needed} missing: {names:?}");
    }
    let completed: Vec<&str> = frames
        .iter()
        .filter(|f| f["method"] == "item/completed")
        .map(|f| f["params"]["item"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        completed,
        ["userMessage", "reasoning", "plan", "commandExecution", "fileChange", "agentMessage"]
    );
    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}

#[test]
fn the_same_seed_gives_the_same_transcript() {
    let run = || {
        let mut s = Server::spawn(&[]);
        s.handshake("e2e-client", json!(null));
        let start = s.request("thread/start", json!({}));
        let thread_id = start["result"]["thread"]["id"].as_str().unwrap().to_owned();
        s.recv_until_method("thread/started");
        s.send_request(
            "turn/start",
            json!({"threadId": thread_id, "input": [{"type": "text", "text": "same"}]}),
        );
        s.recv_until_method("turn/completed");
        s.snapshot()
    };
    assert_eq!(run(), run());
}
