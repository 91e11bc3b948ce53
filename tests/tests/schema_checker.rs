//! The schema checker accepts correct frames and rejects wrong ones, for every entry point.

use serde_json::{json, Value};
use tests::{MethodKind, Schema, SchemaError, Transcript};

const TID: &str = "019a0000-0000-7000-8000-000000000001";

fn schema() -> &'static Schema {
    Schema::load()
}

/// Asserts `r` failed with a violation at `pointer` whose message contains `needle`.
#[track_caller]
fn assert_fails_at(r: Result<(), SchemaError>, pointer: &str, needle: &str) -> SchemaError {
    let e = r.expect_err("frame should have been rejected");
    assert!(
        e.violations.iter().any(|v| v.pointer == pointer && v.message.contains(needle)),
        "expected a violation at {pointer:?} mentioning {needle:?}, got:\n{e}"
    );
    e
}

#[track_caller]
fn ok(r: Result<(), SchemaError>) {
    if let Err(e) = r {
        panic!("frame should be valid:\n{e}");
    }
}

fn thread_json() -> Value {
    json!({
        "id": TID, "sessionId": TID, "cliVersion": "0.169.0", "createdAt": 1, "updatedAt": 2,
        "cwd": "/work", "ephemeral": false, "modelProvider": "mock", "preview": "",
        "projectId": null, "source": "appServer", "status": {"type": "idle"}, "turns": []
    })
}

fn initialize_result() -> Value {
    json!({"userAgent": "x/1", "codexHome": "/h", "platformFamily": "unix", "platformOs": "linux"})
}

// ---------------------------------------------------------------- client requests

#[test]
fn client_requests_valid() {
    let s = schema();
    ok(s.validate_client_request(
        &json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "x", "version": "1"}}}),
    ));
    ok(s.validate_client_request(&json!({"id": "a", "method": "thread/start", "params": {}})));
    ok(s.validate_client_request(&json!({"id": 3, "method": "account/logout"})));
    ok(s.validate_client_request(&json!({
        "id": 4, "method": "turn/start",
        "params": {"threadId": TID, "input": [{"type": "text", "text": "hi"}]},
        "trace": {"traceparent": "00-abc-def-01"}
    })));
}

#[test]
fn client_requests_invalid() {
    let s = schema();
    // Missing required field.
    assert_fails_at(
        s.validate_client_request(
            &json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "x"}}}),
        ),
        "/params/clientInfo",
        "\"version\" is a required property",
    );
    // `params` is required for struct params even when every field is optional.
    assert_fails_at(
        s.validate_client_request(&json!({"id": 1, "method": "thread/list"})),
        "",
        "\"params\" is a required property",
    );
    // Wrong type.
    assert_fails_at(
        s.validate_client_request(
            &json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "x", "version": 1}}}),
        ),
        "/params/clientInfo/version",
        "is not of type \"string\"",
    );
    // Wrong enum value, inside a nullable union.
    assert_fails_at(
        s.validate_client_request(
            &json!({"id": 1, "method": "thread/start", "params": {"historyMode": "bogus"}}),
        ),
        "/params/historyMode",
        "\"legacy\"",
    );
    // Wrong tag inside a tagged union (UserInput).
    assert_fails_at(
        s.validate_client_request(&json!({
            "id": 1, "method": "turn/start",
            "params": {"threadId": TID, "input": [{"type": "txt", "text": "hi"}]}
        })),
        "/params/input/0/type",
        "\"text\"",
    );
    // Unknown method, `jsonrpc`, bad ids, stray members.
    let e = assert_fails_at(
        s.validate_client_request(&json!({"id": 1, "method": "thread/rollback", "params": {}})),
        "/method",
        "unknown client request method `thread/rollback`",
    );
    assert!(e.to_string().contains("thread/rollback"), "{e}");
    assert_fails_at(
        s.validate_client_request(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "thread/start", "params": {}}),
        ),
        "/jsonrpc",
        "jsonrpc",
    );
    assert_fails_at(
        s.validate_client_request(&json!({"id": 1.5, "method": "thread/start", "params": {}})),
        "/id",
        "int64",
    );
    assert_fails_at(
        s.validate_client_request(&json!({"method": "thread/start", "params": {}})),
        "/id",
        "missing",
    );
    assert_fails_at(
        s.validate_client_request(&json!({"id": 1, "method": "thread/start", "params": {}, "extra": 1})),
        "/extra",
        "unexpected",
    );
    assert_fails_at(s.validate_client_request(&json!([1, 2])), "", "not a JSON object");
}

#[test]
fn client_notifications() {
    let s = schema();
    ok(s.validate_client_notification(&json!({"method": "initialized"})));
    assert_fails_at(
        s.validate_client_notification(&json!({"method": "initialised"})),
        "/method",
        "unknown client notification",
    );
    assert_fails_at(
        s.validate_client_notification(&json!({"id": 1, "method": "initialized"})),
        "/id",
        "must not carry",
    );
}

// ---------------------------------------------------------------- server notifications

#[test]
fn server_notifications_valid() {
    let s = schema();
    ok(s.validate_server_notification(&json!({
        "method": "thread/status/changed",
        "params": {"threadId": TID, "status": {"type": "idle"}},
        "emittedAtMs": 5
    })));
    ok(s.validate_server_notification(&json!({
        "method": "thread/status/changed",
        "params": {"threadId": TID, "status": {"type": "active", "activeFlags": ["waitingOnApproval"]}},
        "emittedAtMs": 1_700_000_000_000_i64
    })));
    ok(s.validate_server_notification(&json!({
        "method": "item/started",
        "params": {"threadId": TID, "turnId": "t1", "startedAtMs": 3,
                   "item": {"type": "agentMessage", "id": "i1", "text": ""}},
        "emittedAtMs": 5
    })));
    ok(s.validate_server_notification(&json!({
        "method": "thread/started", "params": {"thread": thread_json()}, "emittedAtMs": 0
    })));
}

#[test]
fn server_notifications_invalid() {
    let s = schema();
    let good = json!({
        "method": "thread/status/changed",
        "params": {"threadId": TID, "status": {"type": "idle"}},
        "emittedAtMs": 5
    });
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    // Missing / non-integer emittedAtMs.
    assert_fails_at(
        s.validate_server_notification(&with(&|v| {
            v.as_object_mut().unwrap().remove("emittedAtMs");
        })),
        "/emittedAtMs",
        "missing",
    );
    assert_fails_at(
        s.validate_server_notification(&with(&|v| v["emittedAtMs"] = json!(5.5))),
        "/emittedAtMs",
        "int64",
    );
    assert_fails_at(
        s.validate_server_notification(&with(&|v| v["emittedAtMs"] = json!("5"))),
        "/emittedAtMs",
        "int64",
    );
    // No `id` on notifications, no `jsonrpc` anywhere.
    assert_fails_at(s.validate_server_notification(&with(&|v| v["id"] = json!(1))), "/id", "must not carry");
    assert_fails_at(
        s.validate_server_notification(&with(&|v| v["jsonrpc"] = json!("2.0"))),
        "/jsonrpc",
        "jsonrpc",
    );
    // Wrong enum value in a tagged union: the message names the allowed tags.
    assert_fails_at(
        s.validate_server_notification(&with(&|v| v["params"]["status"]["type"] = json!("busy"))),
        "/params/status/type",
        "\"idle\"",
    );
    // Missing required field, top level of params and inside the chosen variant.
    assert_fails_at(
        s.validate_server_notification(&with(&|v| {
            v["params"].as_object_mut().unwrap().remove("threadId");
        })),
        "/params",
        "\"threadId\" is a required property",
    );
    assert_fails_at(
        s.validate_server_notification(&with(&|v| v["params"]["status"] = json!({"type": "active"}))),
        "/params/status",
        "\"activeFlags\" is a required property",
    );
    assert_fails_at(
        s.validate_server_notification(&with(&|v| {
            v["params"]["status"] = json!({"type": "active", "activeFlags": ["napping"]})
        })),
        "/params/status/activeFlags/0",
        "\"waitingOnApproval\"",
    );
    // Wrong type.
    assert_fails_at(
        s.validate_server_notification(&with(&|v| v["params"]["threadId"] = json!(7))),
        "/params/threadId",
        "is not of type \"string\"",
    );
    // Unknown method.
    assert_fails_at(
        s.validate_server_notification(&with(&|v| v["method"] = json!("thread/status/changd"))),
        "/method",
        "unknown server notification method",
    );
    // Deep: a ThreadItem variant missing its required `text`.
    assert_fails_at(
        s.validate_server_notification(&json!({
            "method": "item/started",
            "params": {"threadId": TID, "turnId": "t1", "startedAtMs": 3,
                       "item": {"type": "agentMessage", "id": "i1"}},
            "emittedAtMs": 5
        })),
        "/params/item",
        "\"text\" is a required property",
    );
}

// ---------------------------------------------------------------- server requests

#[test]
fn server_requests() {
    let s = schema();
    let good = json!({
        "id": 0, "method": "item/commandExecution/requestApproval",
        "params": {"threadId": TID, "turnId": "t1", "itemId": "i1", "startedAtMs": 9}
    });
    ok(s.validate_server_request(&good));
    let mut missing = good.clone();
    missing["params"].as_object_mut().unwrap().remove("startedAtMs");
    assert_fails_at(s.validate_server_request(&missing), "/params", "\"startedAtMs\"");
    assert_fails_at(
        s.validate_server_request(&json!({"id": 1, "method": "item/fileChange/approve", "params": {}})),
        "/method",
        "unknown server request method",
    );
    // A notification method with an id is not a server request.
    assert_fails_at(
        s.validate_server_request(&json!({
            "id": 1, "method": "thread/status/changed",
            "params": {"threadId": TID, "status": {"type": "idle"}}
        })),
        "/method",
        "drop the `id`",
    );
    let mut rpc = good.clone();
    rpc["jsonrpc"] = json!("2.0");
    assert_fails_at(s.validate_server_request(&rpc), "/jsonrpc", "jsonrpc");
}

#[test]
fn client_responses_to_server_requests() {
    let s = schema();
    let m = "item/commandExecution/requestApproval";
    ok(s.validate_client_response(m, &json!({"id": 0, "result": {"decision": "accept"}})));
    ok(s.validate_client_response(m, &json!({"id": 0, "result": {"decision": "acceptForSession"}})));
    assert_fails_at(
        s.validate_client_response(m, &json!({"id": 0, "result": {"decision": "yes"}})),
        "/result/decision",
        "\"accept\"",
    );
}

// ---------------------------------------------------------------- responses

#[test]
fn responses_valid() {
    let s = schema();
    ok(s.validate_response("initialize", &json!({"id": 1, "result": initialize_result()})));
    ok(s.validate_response("turn/interrupt", &json!({"id": "x", "result": {}})));
    ok(s.validate_response("thread/unsubscribe", &json!({"id": 2, "result": {"status": "unsubscribed"}})));
    ok(s.validate_response(
        "thread/start",
        &json!({"id": 3, "result": {
            "thread": thread_json(), "model": "gpt-test", "modelProvider": "mock", "cwd": "/work",
            "approvalPolicy": "never", "approvalsReviewer": "user", "sandbox": {"type": "dangerFullAccess"}
        }}),
    ));
    ok(s.validate_response(
        "config/value/write",
        &json!({"id": 4, "result": {"filePath": "/h/config.toml", "status": "ok", "version": "1"}}),
    ));
}

#[test]
fn responses_invalid() {
    let s = schema();
    let mut r = initialize_result();
    r.as_object_mut().unwrap().remove("codexHome");
    let e = assert_fails_at(
        s.validate_response("initialize", &json!({"id": 1, "result": r})),
        "/result",
        "\"codexHome\" is a required property",
    );
    assert!(e.to_string().contains("initialize") && e.to_string().contains("InitializeResponse"), "{e}");
    assert_fails_at(
        s.validate_response("thread/unsubscribe", &json!({"id": 2, "result": {"status": "gone"}})),
        "/result/status",
        "\"unsubscribed\"",
    );
    assert_fails_at(
        s.validate_response("turn/interrupt", &json!({"id": 2, "result": null})),
        "/result",
        "is not of type \"object\"",
    );
    assert_fails_at(
        s.validate_response("thread/rollback", &json!({"id": 2, "result": {}})),
        "/method",
        "unknown request method `thread/rollback`",
    );
    assert_fails_at(
        s.validate_response("initialize", &json!({"jsonrpc": "2.0", "id": 1, "result": initialize_result()})),
        "/jsonrpc",
        "jsonrpc",
    );
    // An error frame is not a success response.
    assert_fails_at(
        s.validate_response("initialize", &json!({"id": 1, "error": {"code": 1, "message": "x"}})),
        "/result",
        "missing",
    );
    // The thread inside a response is checked too.
    let mut t = thread_json();
    t["status"] = json!({"type": "sleeping"});
    assert_fails_at(
        s.validate_response(
            "thread/start",
            &json!({"id": 3, "result": {
                "thread": t, "model": "m", "modelProvider": "mock", "cwd": "/work",
                "approvalPolicy": "never", "approvalsReviewer": "user", "sandbox": {"type": "dangerFullAccess"}
            }}),
        ),
        "/result/thread/status/type",
        "\"notLoaded\"",
    );
}

#[test]
fn error_responses() {
    let s = schema();
    ok(s.validate_error_response(&json!({"id": 2, "error": {"code": -32600, "message": "Not initialized"}})));
    ok(s.validate_error_response(&json!({
        "id": "b", "error": {"code": -32602, "message": "too long", "data": {"max_chars": 1}}
    })));
    assert_fails_at(
        s.validate_error_response(&json!({"id": 2, "error": {"code": "-32600", "message": "x"}})),
        "/error/code",
        "is not of type \"integer\"",
    );
    assert_fails_at(
        s.validate_error_response(&json!({"id": 2, "error": {"code": -32600.5, "message": "x"}})),
        "/error/code",
        "",
    );
    assert_fails_at(
        s.validate_error_response(&json!({"id": 2, "error": {"code": -32600}})),
        "/error",
        "\"message\" is a required property",
    );
    assert_fails_at(
        s.validate_error_response(&json!({"id": 2, "error": {"code": -32600, "message": "x", "data": null}})),
        "/error/data",
        "omitted",
    );
    assert_fails_at(
        s.validate_error_response(&json!({"jsonrpc": "2.0", "id": 2, "error": {"code": 1, "message": "x"}})),
        "/jsonrpc",
        "jsonrpc",
    );
    assert_fails_at(
        s.validate_error_response(&json!({"id": null, "error": {"code": 1, "message": "x"}})),
        "/id",
        "",
    );
    assert_fails_at(
        s.validate_error_response(&json!({"id": 1, "result": {}, "error": {"code": 1, "message": "x"}})),
        "/result",
        "unexpected",
    );
}

#[test]
fn definitions_by_name() {
    let s = schema();
    ok(s.validate_definition("Thread", &thread_json()));
    ok(s.validate_definition("v2/ThreadStatus", &json!({"type": "notLoaded"})));
    assert!(s.validate_definition("ThreadStatus", &json!({"type": "gone"})).is_err());
    assert!(s.validate_definition("NoSuchDefinition", &json!({})).is_err());
}

// ---------------------------------------------------------------- transcripts

fn session() -> Vec<(bool, Value)> {
    // (from_client, frame)
    vec![
        (
            true,
            json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "x", "version": "1"}}}),
        ),
        (false, json!({"id": 1, "result": initialize_result()})),
        (true, json!({"method": "initialized"})),
        (true, json!({"id": 2, "method": "thread/start", "params": {}})),
        (false, json!({"method": "thread/started", "params": {"thread": thread_json()}, "emittedAtMs": 10})),
        (
            false,
            json!({"id": 2, "result": {
                "thread": thread_json(), "model": "m", "modelProvider": "mock", "cwd": "/work",
                "approvalPolicy": "never", "approvalsReviewer": "user", "sandbox": {"type": "dangerFullAccess"}
            }}),
        ),
        (
            true,
            json!({"id": "t", "method": "turn/start",
                      "params": {"threadId": TID, "input": [{"type": "text", "text": "hi"}]}}),
        ),
        (
            false,
            json!({"method": "thread/status/changed",
                       "params": {"threadId": TID, "status": {"type": "active", "activeFlags": []}},
                       "emittedAtMs": 11}),
        ),
        (false, json!({"id": "t", "result": {"turn": {"id": "u1", "items": [], "status": "inProgress"}}})),
        (
            false,
            json!({"id": 0, "method": "item/commandExecution/requestApproval",
                       "params": {"threadId": TID, "turnId": "u1", "itemId": "i1", "startedAtMs": 12}}),
        ),
        (true, json!({"id": 0, "result": {"decision": "decline"}})),
        (
            false,
            json!({"method": "serverRequest/resolved", "params": {"threadId": TID, "requestId": 0},
                       "emittedAtMs": 13}),
        ),
        (
            false,
            json!({"method": "turn/completed",
                       "params": {"threadId": TID, "turn": {"id": "u1", "items": [], "status": "completed"}},
                       "emittedAtMs": 14}),
        ),
        (true, json!({"id": 3, "method": "turn/interrupt", "params": {"threadId": TID, "turnId": "u1"}})),
        (false, json!({"id": 3, "error": {"code": -32600, "message": "no active turn to interrupt"}})),
    ]
}

fn feed(t: &mut Transcript<'_>, frames: &[(bool, Value)]) {
    for (from_client, frame) in frames {
        if *from_client {
            t.client(frame);
        } else {
            t.server(frame);
        }
    }
}

#[test]
fn transcript_accepts_a_valid_session() {
    let mut t = Transcript::new();
    feed(&mut t, &session());
    t.assert_complete();
    let c = t.counts();
    assert_eq!((c.client_requests, c.server_responses, c.server_errors), (4, 3, 1));
    assert_eq!((c.server_notifications, c.server_requests, c.client_responses), (4, 1, 1));
    assert!(t.outstanding_server_requests().is_empty());
    // Text frames work as well as values.
    let mut t = Transcript::new();
    t.client(r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"x","version":"1"}}}"#);
    t.server(
        r#"{"id":1,"result":{"userAgent":"x/1","codexHome":"/h","platformFamily":"unix","platformOs":"linux"}}"#
            .to_string(),
    );
    t.assert_valid();
}

#[test]
fn transcript_validates_responses_by_the_method_they_answer() {
    let mut t = Transcript::new();
    t.client(json!({"id": 1, "method": "thread/unsubscribe", "params": {"threadId": TID}}));
    // An initialize result is not a ThreadUnsubscribeResponse.
    t.server(json!({"id": 1, "result": initialize_result()}));
    assert_eq!(t.failures().len(), 1, "{:?}", t.failures());
    assert!(t.failures()[0].error.contains("thread/unsubscribe"), "{}", t.failures()[0]);
    assert!(t.failures()[0].error.contains("\"status\" is a required property"));
}

#[test]
fn transcript_rejects_unknown_and_duplicate_response_ids() {
    let mut t = Transcript::new();
    t.client(json!({"id": 1, "method": "turn/interrupt", "params": {"threadId": TID, "turnId": "u"}}));
    t.server(json!({"id": 1, "result": {}}));
    t.server(json!({"id": 1, "result": {}}));
    t.server(json!({"id": 9, "error": {"code": -32600, "message": "x"}}));
    t.server(json!({"id": "1", "result": {}}));
    let errors: Vec<&str> = t.failures().iter().map(|f| f.error.as_str()).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].contains("second response to id 1"), "{}", errors[0]);
    assert!(errors[1].contains("id 9, which matches no outstanding client request"), "{}", errors[1]);
    assert!(errors[2].contains("id \"1\", which matches no outstanding"), "{}", errors[2]);
    assert_eq!(t.failures()[1].index, 3);
    // Client answers to server requests get the same bookkeeping.
    let mut t = Transcript::new();
    t.client(json!({"id": 5, "result": {"decision": "accept"}}));
    assert!(t.failures()[0].error.contains("no outstanding server request"));
}

#[test]
fn transcript_flags_frame_errors_in_both_directions() {
    let mut t = Transcript::new();
    t.client(json!({"jsonrpc": "2.0", "id": 1, "method": "thread/start", "params": {}}));
    t.server(
        json!({"method": "thread/status/changed", "params": {"threadId": TID, "status": {"type": "idle"}}}),
    );
    t.server(json!({"id": 4, "method": "thread/status/changed",
                    "params": {"threadId": TID, "status": {"type": "idle"}}}));
    t.server("not json");
    t.server(json!({"id": 1}));
    assert_eq!(t.failures().len(), 5, "{}", t.report().unwrap());
    let report = t.report().unwrap();
    for needle in ["jsonrpc", "emittedAtMs", "drop the `id`", "not valid JSON", "not a JSON-RPC message"] {
        assert!(report.contains(needle), "{needle} missing from:\n{report}");
    }
}

#[test]
fn transcript_unchecked_client_frames_still_pair_responses() {
    let mut t = Transcript::new();
    t.client_unchecked(json!({"id": 7, "method": "thread/rollback", "params": {}}));
    t.server(json!({"id": 7, "error": {"code": -32600, "message": "Invalid request: unknown variant `thread/rollback`"}}));
    t.client_unchecked("{ torn");
    t.assert_complete();
    // A success answer to an unknown method is caught.
    t.client_unchecked(json!({"id": 8, "method": "thread/rollback", "params": {}}));
    t.server(json!({"id": 8, "result": {}}));
    assert!(t.failures()[0].error.contains("unknown request method `thread/rollback`"));
}

#[test]
#[should_panic(expected = "2 protocol conformance failure(s)")]
fn transcript_assert_valid_panics_listing_failures() {
    let mut t = Transcript::new();
    t.server(json!({"id": 1, "result": {}}));
    t.server(json!({"method": "warning", "params": {}, "emittedAtMs": 1}));
    t.assert_valid();
}

#[test]
#[should_panic(expected = "never answered: 2 (`thread/start`)")]
fn transcript_assert_complete_reports_unanswered_requests() {
    let mut t = Transcript::new();
    t.client(json!({"id": 2, "method": "thread/start", "params": {}}));
    t.assert_complete();
}

// ---------------------------------------------------------------- inventory

#[test]
fn inventory_lists_every_method_in_schema_order() {
    let inv = tests::method_inventory();
    assert_eq!(inv.client_requests.len(), 184);
    assert_eq!(inv.server_notifications.len(), 86);
    assert_eq!(inv.server_requests.len(), 11);
    assert_eq!(inv.client_notifications, ["initialized"]);
    assert_eq!(inv.client_requests[0], "initialize");
    assert_eq!(inv.server_notifications[0], "error");
    assert_eq!(inv.server_requests[0], "item/commandExecution/requestApproval");
    assert_eq!(inv.iter().count(), 184 + 1 + 86 + 11);
    let table = inv.support_table(|kind, m| kind == MethodKind::ClientRequest && m == "initialize");
    assert!(table.contains("## client requests: 1 / 184 supported"), "{table}");
    assert!(table.contains("| `initialize` | yes |"));
    assert!(table.contains("| `thread/start` | no |"));
}

// ---------------------------------------------------------------- performance

#[test]
fn validating_thousands_of_frames_is_fast() {
    let frames = session();
    let mut warm = Transcript::new();
    feed(&mut warm, &frames);
    warm.assert_valid();
    let rounds = 300; // 15 frames each: 4,500 frames
    let mut all = Vec::new();
    for round in 0..rounds {
        let offset = round * 1000;
        for (c, f) in &frames {
            let mut f = f.clone();
            if let Some(n) = f.get("id").and_then(Value::as_i64) {
                f["id"] = json!(n + offset);
            } else if let Some(s) = f.get("id").and_then(Value::as_str) {
                f["id"] = json!(format!("{s}{round}"));
            }
            if let Some(n) = f.pointer("/params/requestId").and_then(Value::as_i64) {
                f["params"]["requestId"] = json!(n + offset);
            }
            all.push((*c, f.to_string()));
        }
    }
    // Frames arrive as text, as they would from a socket: parsing is part of the cost.
    let start = std::time::Instant::now();
    let mut t = Transcript::new();
    for (from_client, text) in &all {
        if *from_client {
            t.client(text);
        } else {
            t.server(text);
        }
    }
    let elapsed = start.elapsed();
    t.assert_complete();
    eprintln!(
        "validated {} frames in {elapsed:?} ({:.1} µs/frame)",
        t.frames(),
        elapsed.as_secs_f64() * 1e6 / t.frames() as f64
    );
    // The figure is printed, never asserted: tests must pass on a slow, noisy machine.
    assert_eq!(t.frames(), all.len());
}
