//! Server-to-client requests end to end over the real binary, driven by the scripted engine's
//! directives: every request kind and decision, interrupts while pending, stray answers. Each
//! test's transcript is an `insta` snapshot and every frame is validated against the schema.

use std::time::Duration;

use serde_json::{json, Value};
use tests::server::Server;

/// How long a stray answer is given to (wrongly) produce something.
const QUIET: Duration = Duration::from_millis(300);

fn is_request(f: &Value) -> bool {
    f.get("id").is_some() && f.get("method").is_some()
}

/// A session with one thread; returns the server and the thread id.
fn session(thread_params: Value) -> (Server, String) {
    let mut s = Server::spawn(&[]);
    s.handshake("e2e-client", json!({"experimentalApi": true}));
    let start = s.request("thread/start", thread_params);
    let thread = start["result"]["thread"]["id"].as_str().unwrap().to_owned();
    s.recv_until_method("thread/started");
    (s, thread)
}

/// Starts a turn and returns the first server request it makes (failing if the turn ends
/// without one).
fn turn_until_request(s: &mut Server, thread: &str, text: &str) -> Value {
    s.send_request("turn/start", json!({"threadId": thread, "input": [{"type": "text", "text": text}]}));
    let frames = s.recv_until(|f| is_request(f) || f["method"] == "turn/completed");
    let last = frames.last().unwrap().clone();
    assert!(is_request(&last), "the turn ended without a request: {frames:?}");
    last
}

fn answer(s: &mut Server, request: &Value, result: Value) {
    s.send(json!({"id": request["id"], "result": result}));
}

fn finish_turn(s: &mut Server) -> Value {
    s.recv_until_method("turn/completed").pop().unwrap()
}

fn completed_item(frames: &[Value], kind: &str) -> Value {
    frames
        .iter()
        .find(|f| f["method"] == "item/completed" && f["params"]["item"]["type"] == kind)
        .map(|f| f["params"]["item"].clone())
        .unwrap_or_else(|| panic!("no completed {kind}"))
}

#[test]
fn command_approval_decisions() {
    let (mut s, t) = session(json!({}));
    // accept: the command runs and its item completes.
    let req = turn_until_request(&mut s, &t, "/approve-exec touch a.txt --output created");
    assert_eq!(req["method"], "item/commandExecution/requestApproval");
    assert_eq!(
        req["params"]["availableDecisions"],
        json!(["accept", "acceptForSession", "decline", "cancel"])
    );
    answer(&mut s, &req, json!({"decision": "accept"}));
    let frames = s.recv_until_method("turn/completed");
    assert_eq!(frames[0]["method"], "serverRequest/resolved");
    assert_eq!(completed_item(&frames, "commandExecution")["status"], "completed");

    // decline: the item is declined and the turn goes on to complete.
    let req = turn_until_request(&mut s, &t, "/approve-exec rm -rf build\n/message skipped it");
    answer(&mut s, &req, json!({"decision": "decline"}));
    let frames = s.recv_until_method("turn/completed");
    assert_eq!(completed_item(&frames, "commandExecution")["status"], "declined");
    assert_eq!(frames.last().unwrap()["params"]["turn"]["status"], "completed");

    // a JSON-RPC error reply: the item fails, the turn goes on.
    let req = turn_until_request(&mut s, &t, "/approve-exec make deploy");
    s.send(json!({"id": req["id"], "error": {"code": -32000, "message": "approval UI crashed"}}));
    let frames = s.recv_until_method("turn/completed");
    assert_eq!(completed_item(&frames, "commandExecution")["status"], "failed");

    // acceptForSession: the identical command later runs without a prompt.
    let req = turn_until_request(&mut s, &t, "/approve-exec cargo test");
    answer(&mut s, &req, json!({"decision": "acceptForSession"}));
    finish_turn(&mut s);
    s.send_request(
        "turn/start",
        json!({"threadId": t, "input": [{"type": "text", "text": "/approve-exec cargo test"}]}),
    );
    let frames = s.recv_until_method("turn/completed");
    assert!(!frames.iter().any(is_request), "no prompt the second time");
    assert_eq!(completed_item(&frames, "commandExecution")["status"], "completed");

    // cancel: declined, and the turn is interrupted.
    let req = turn_until_request(&mut s, &t, "/approve-exec shutdown now\n/message never");
    answer(&mut s, &req, json!({"decision": "cancel"}));
    let frames = s.recv_until_method("turn/completed");
    assert_eq!(completed_item(&frames, "commandExecution")["status"], "declined");
    assert_eq!(frames.last().unwrap()["params"]["turn"]["status"], "interrupted");

    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}

#[test]
fn interrupt_while_pending_and_stray_answers() {
    let (mut s, t) = session(json!({}));
    let req = turn_until_request(&mut s, &t, "/approve-exec sleep 100");
    let turn_id = req["params"]["turnId"].clone();
    let id = s.send_request("turn/interrupt", json!({"threadId": t, "turnId": turn_id}));
    let frames = s.recv_until_method("serverRequest/resolved");
    let order: Vec<String> = frames
        .iter()
        .map(|f| f["method"].as_str().map_or_else(|| format!("reply {}", f["id"]), str::to_owned))
        .collect();
    assert_eq!(order.first().map(String::as_str), Some("item/completed"));
    assert_eq!(
        order[1..],
        [
            format!("reply {id}"),
            "thread/status/changed".into(),
            "turn/completed".into(),
            "serverRequest/resolved".into()
        ]
    );
    // A late answer to the abandoned request, an answer to an id never sent: ignored.
    // (Sent unchecked: the transcript checker rightly flags stray answers as client mistakes.)
    s.send_raw(&json!({"id": req["id"], "result": {"decision": "accept"}}).to_string(), None);
    s.send_raw(r#"{"id":999,"result":{"decision":"accept"}}"#, None);
    s.assert_silent(QUIET);

    // First answer wins: a second answer to a resolved request is ignored.
    let req = turn_until_request(&mut s, &t, "/approve-exec echo hi");
    answer(&mut s, &req, json!({"decision": "accept"}));
    let frames = s.recv_until_method("turn/completed");
    s.send_raw(&json!({"id": req["id"], "result": {"decision": "decline"}}).to_string(), None);
    s.assert_silent(QUIET);
    assert_eq!(completed_item(&frames, "commandExecution")["status"], "completed");
    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}

#[test]
fn file_change_approvals() {
    let (mut s, t) = session(json!({}));
    let req = turn_until_request(&mut s, &t, "/approve-patch src/lib.rs update");
    assert_eq!(req["method"], "item/fileChange/requestApproval");
    answer(&mut s, &req, json!({"decision": "accept"}));
    assert_eq!(completed_item(&s.recv_until_method("turn/completed"), "fileChange")["status"], "completed");
    let req = turn_until_request(&mut s, &t, "/approve-patch secrets.env add");
    answer(&mut s, &req, json!({"decision": "decline"}));
    assert_eq!(completed_item(&s.recv_until_method("turn/completed"), "fileChange")["status"], "declined");
    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}

#[test]
fn permissions_user_input_and_elicitation() {
    let (mut s, t) = session(json!({}));
    let req = turn_until_request(&mut s, &t, "/permissions --write /workspace /etc --network");
    assert_eq!(req["method"], "item/permissions/requestApproval");
    answer(
        &mut s,
        &req,
        json!({"permissions": {"fileSystem": {"write": ["/workspace"]}}, "scope": "session"}),
    );
    let frames = s.recv_until_method("turn/completed");
    assert!(completed_item(&frames, "agentMessage")["text"].as_str().unwrap().contains("/workspace"));

    let req = turn_until_request(&mut s, &t, "/ask Which environment? --options dev|prod --other");
    assert_eq!(req["method"], "item/tool/requestUserInput");
    assert_eq!(req["params"]["questions"][0]["isOther"], true);
    let qid = req["params"]["questions"][0]["id"].as_str().unwrap().to_owned();
    answer(&mut s, &req, json!({"answers": {qid: {"answers": ["staging"]}}}));
    let frames = s.recv_until_method("turn/completed");
    assert!(completed_item(&frames, "agentMessage")["text"].as_str().unwrap().contains("staging"));

    let req = turn_until_request(&mut s, &t, "/elicit form Which token should I use?");
    assert_eq!(req["method"], "mcpServer/elicitation/request");
    answer(&mut s, &req, json!({"action": "accept", "content": {"answer": "ghp_demo"}}));
    s.recv_until_method("turn/completed");

    // An interrupted turn resolves its pending elicitation before turn/completed.
    let req = turn_until_request(&mut s, &t, "/elicit url Sign in https://example.com/login");
    let turn_id = req["params"]["turnId"].clone();
    s.send_request("turn/interrupt", json!({"threadId": t, "turnId": turn_id}));
    let frames = s.recv_until_method("turn/completed");
    let resolved = frames.iter().position(|f| f["method"] == "serverRequest/resolved").expect("resolved");
    assert!(resolved < frames.len() - 1, "resolved before turn/completed");
    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}

#[test]
fn dynamic_tool_calls() {
    let tools = json!([{"type": "function", "name": "lookup_issue", "description": "Find an issue", "inputSchema": {"type": "object"}}]);
    let (mut s, t) = session(json!({"dynamicTools": tools}));
    let req = turn_until_request(&mut s, &t, r#"/tool lookup_issue {"number": 42}"#);
    assert_eq!(req["method"], "item/tool/call");
    assert_eq!(req["params"]["arguments"], json!({"number": 42}));
    answer(
        &mut s,
        &req,
        json!({"contentItems": [{"type": "inputText", "text": "Issue 42: flaky test"}], "success": true}),
    );
    let frames = s.recv_until_method("turn/completed");
    assert!(!frames.iter().any(|f| f["method"] == "serverRequest/resolved"), "none for item/tool/call");
    let item = completed_item(&frames, "dynamicToolCall");
    assert_eq!((item["status"].as_str(), item["success"].as_bool()), (Some("completed"), Some(true)));

    let req = turn_until_request(&mut s, &t, "/tool lookup_issue");
    s.send(json!({"id": req["id"], "error": {"code": -32001, "message": "tool host offline"}}));
    let item = completed_item(&s.recv_until_method("turn/completed"), "dynamicToolCall");
    assert_eq!((item["status"].as_str(), item["success"].as_bool()), (Some("failed"), Some(false)));
    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}

#[test]
fn network_approvals_share_one_prompt_per_destination() {
    let (mut s, t) = session(json!({}));
    s.send_request(
        "turn/start",
        json!({"threadId": t, "input": [{"type": "text", "text": "/network a.com:443 b.com:443 a.com:443 a.com:80"}]}),
    );
    let mut prompts = Vec::new();
    while prompts.len() < 3 {
        prompts.push(s.recv_until(is_request).pop().unwrap());
    }
    let ids: Vec<&str> = prompts.iter().map(|p| p["params"]["itemId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["network#https#a.com#443", "network#https#b.com#443", "network#https#a.com#80"]);
    answer(&mut s, &prompts[0], json!({"decision": "accept"}));
    answer(&mut s, &prompts[1], json!({"decision": "acceptForSession"}));
    answer(&mut s, &prompts[2], json!({"decision": "decline"}));
    let frames = s.recv_until_method("turn/completed");
    assert!(!frames.iter().any(is_request), "no more prompts: {frames:?}");
    // b.com:443 was allowed for the session: no prompt now.
    s.send_request(
        "turn/start",
        json!({"threadId": t, "input": [{"type": "text", "text": "/network b.com:443"}]}),
    );
    assert!(!s.recv_until_method("turn/completed").iter().any(is_request));
    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}

#[test]
fn auth_token_refresh() {
    let (mut s, t) = session(json!({}));
    let req = turn_until_request(&mut s, &t, "/auth-refresh acct-1");
    assert_eq!(req["method"], "account/chatgptAuthTokens/refresh");
    s.send(json!({"id": req["id"], "error": {"code": 401, "message": "login required"}}));
    let frames = s.recv_until_method("turn/completed");
    let text = completed_item(&frames, "agentMessage")["text"].as_str().unwrap().to_owned();
    assert!(text.contains("auth refresh request failed: code=401 message=login required"), "{text}");
    let req = turn_until_request(&mut s, &t, "/auth-refresh");
    answer(
        &mut s,
        &req,
        json!({"accessToken": "tok-123", "chatgptAccountId": "acct-2", "chatgptPlanType": "pro"}),
    );
    s.recv_until_method("turn/completed");
    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}
