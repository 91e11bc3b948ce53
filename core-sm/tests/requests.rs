//! Server-to-client requests: ordering, decisions and their effects, first answer wins,
//! abandonment on turn transitions, replay on resume, session grants, network dedupe
//! (PROTOCOL.md §11, §13).

mod common;

use common::{describe, Harness};
use core_sm::wire::server_requests::{CommandDecision, NetworkProtocol};
use core_sm::{
    ConnectionId, EngineCommand, EngineEvent, EngineRequest, Input, ItemKey, RequestKey, RequestOutcome,
    ThreadId, TurnId,
};
use serde_json::{json, Value};

/// A client with a running turn.
fn running(h: &mut Harness) -> (ConnectionId, ThreadId, TurnId) {
    let c = h.client(1, json!(null));
    let t = h.start_thread(c);
    let turn = h.start_turn(c, t, "do it");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: turn });
    h.take(c);
    (c, t, turn)
}

fn command_request(item: u64, command: &str) -> EngineRequest {
    EngineRequest::CommandApproval {
        item: ItemKey(item),
        approval_id: None,
        command: command.into(),
        cwd: "/repo".into(),
        command_actions: vec![],
        reason: Some("needs write access".into()),
        available_decisions: None,
        proposed_execpolicy_amendment: None,
    }
}

fn ask(h: &mut Harness, t: ThreadId, turn: TurnId, key: u64, request: EngineRequest) {
    h.engine_event(t, EngineEvent::Request { turn_id: turn, key: RequestKey(key), request });
}

fn answer(h: &mut Harness, c: ConnectionId, id: i64, result: Value) {
    h.raw(c, &json!({"id": id, "result": result}).to_string());
}

fn resolutions(h: &mut Harness) -> Vec<(RequestKey, RequestOutcome)> {
    h.take_engine()
        .into_iter()
        .filter_map(|(_, c)| match c {
            EngineCommand::RequestResolved { key, outcome } => Some((key, outcome)),
            _ => None,
        })
        .collect()
}

fn names(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            if f.get("id").is_some() && f.get("method").is_some() {
                format!("REQUEST {}", f["method"].as_str().unwrap())
            } else {
                describe(f)
            }
        })
        .collect()
}

#[test]
fn command_approval_accept_in_codex_order() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    ask(&mut h, t, turn, 1, command_request(7, "touch a"));
    let frames = h.take(c);
    assert_eq!(
        names(&frames),
        [
            "thread/status/changed:active",
            "item/started:commandExecution",
            "REQUEST item/commandExecution/requestApproval"
        ]
    );
    assert_eq!(frames[0]["params"]["status"]["activeFlags"], json!(["waitingOnApproval"]));
    let req = &frames[2];
    assert_eq!(req["id"], 0, "server request ids start at 0");
    let p = &req["params"];
    assert_eq!(p["itemId"], frames[1]["params"]["item"]["id"]);
    assert_eq!(p["command"], "touch a");
    assert_eq!(p["availableDecisions"], json!(["accept", "acceptForSession", "decline", "cancel"]));
    assert!(p.get("networkApprovalContext").is_none());
    assert!(p["startedAtMs"].is_i64());
    answer(&mut h, c, 0, json!({"decision": "accept"}));
    assert_eq!(names(&h.take(c)), ["serverRequest/resolved", "thread/status/changed:active"]);
    let r = resolutions(&mut h);
    assert_eq!(r, [(RequestKey(1), RequestOutcome::Command(CommandDecision::Accept))]);
    // Late and foreign answers are ignored.
    answer(&mut h, c, 0, json!({"decision": "decline"}));
    answer(&mut h, c, 77, json!({"decision": "decline"}));
    h.raw(c, r#"{"id":"0","result":{"decision":"decline"}}"#);
    assert!(h.take(c).is_empty() && h.take_engine().is_empty());
}

#[test]
fn decline_cancel_and_error_replies_settle_the_item() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    ask(&mut h, t, turn, 1, command_request(1, "rm -rf /"));
    h.take(c);
    answer(&mut h, c, 0, json!({"decision": "decline"}));
    let frames = h.take(c);
    assert_eq!(
        names(&frames),
        ["serverRequest/resolved", "item/completed:commandExecution", "thread/status/changed:active"]
    );
    assert_eq!(frames[1]["params"]["item"]["status"], "declined");

    ask(&mut h, t, turn, 2, command_request(2, "curl x"));
    h.take(c);
    h.raw(c, r#"{"id":1,"error":{"code":-32000,"message":"user closed the dialog"}}"#);
    let frames = h.take(c);
    assert_eq!(frames[1]["params"]["item"]["status"], "failed");
    let r = resolutions(&mut h);
    assert_eq!(
        r[1].1,
        RequestOutcome::ClientError { code: -32000, message: "user closed the dialog".into() }
    );

    ask(&mut h, t, turn, 3, command_request(3, "make"));
    h.take(c);
    answer(&mut h, c, 2, json!({"decision": "cancel"}));
    let frames = h.take(c);
    assert_eq!(frames[1]["params"]["item"]["status"], "declined");
    let cmds = h.take_engine();
    assert!(
        matches!(&cmds[..], [(_, EngineCommand::RequestResolved { .. }), (_, EngineCommand::Interrupt { turn_id })] if *turn_id == turn)
    );
    h.engine_event(t, EngineEvent::TurnAborted { turn_id: turn });
    let frames = h.take(c);
    assert_eq!(names(&frames), ["thread/status/changed:idle", "turn/completed"]);
    assert_eq!(frames[1]["params"]["turn"]["status"], "interrupted");

    // A malformed result counts as a denial.
    let turn = h.start_turn(c, t, "again");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: turn });
    ask(&mut h, t, turn, 4, command_request(4, "ls"));
    h.take(c);
    answer(&mut h, c, 3, json!({"decision": "maybe"}));
    assert_eq!(h.take(c)[1]["params"]["item"]["status"], "failed");
    assert!(matches!(&resolutions(&mut h)[..], [(_, RequestOutcome::Malformed { .. })]));
}

#[test]
fn interrupt_while_pending_resolves_after_turn_completed() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    ask(&mut h, t, turn, 1, command_request(1, "sleep 100"));
    h.take(c);
    h.send_request(c, 50, "turn/interrupt", json!({"threadId": t.to_string(), "turnId": turn.to_string()}));
    h.engine_event(t, EngineEvent::TurnAborted { turn_id: turn });
    let frames = h.take(c);
    assert_eq!(
        names(&frames),
        [
            "item/completed:commandExecution",
            "<result>",
            "thread/status/changed:idle",
            "turn/completed",
            "serverRequest/resolved"
        ]
    );
    assert_eq!(resolutions(&mut h), [(RequestKey(1), RequestOutcome::Abandoned)]);
    answer(&mut h, c, 0, json!({"decision": "accept"}));
    assert!(
        h.take(c).is_empty() && h.take_engine().is_empty(),
        "an abandoned request is never resolved again"
    );
}

#[test]
fn approval_survives_disconnect_and_is_replayed_to_the_resumer() {
    let mut h = Harness::new(11);
    let (a, t, turn) = running(&mut h);
    // One request resolved before the resume: never replayed.
    ask(&mut h, t, turn, 1, command_request(1, "echo first"));
    answer(&mut h, a, 0, json!({"decision": "accept"}));
    ask(&mut h, t, turn, 2, command_request(2, "echo second"));
    let sent = h.take(a).into_iter().find(|f| f["id"] == 1).expect("request #1 sent to A");
    h.input(Input::ConnectionClosed { conn: a });
    h.take_engine();
    assert_eq!(h.machine.pending_requests(), [(1, t)]);

    let b = h.client(2, json!(null));
    h.send_request(b, 9, "thread/resume", json!({"threadId": t.to_string()}));
    let frames = h.take(b);
    assert_eq!(names(&frames), ["<result>", "REQUEST item/commandExecution/requestApproval"]);
    assert_eq!(frames[0]["result"]["thread"]["status"]["activeFlags"], json!(["waitingOnApproval"]));
    assert_eq!(frames[1], sent, "replayed byte-identical with its original id");
    answer(&mut h, b, 1, json!({"decision": "accept"}));
    assert_eq!(names(&h.take(b)), ["serverRequest/resolved", "thread/status/changed:active"]);
    assert_eq!(resolutions(&mut h), [(RequestKey(2), RequestOutcome::Command(CommandDecision::Accept))]);
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
    let frames = h.take(b);
    assert_eq!(frames.last().map(describe).as_deref(), Some("turn/completed"));
    assert_eq!(frames.last().unwrap()["params"]["turn"]["status"], "completed");
}

#[test]
fn requests_go_to_subscribers_at_the_time_and_only_they_may_answer() {
    let mut h = Harness::new(11);
    let (a, t, turn) = running(&mut h);
    let outsider = h.client(2, json!(null));
    h.take(outsider);
    ask(&mut h, t, turn, 1, command_request(1, "ls"));
    assert!(names(&h.take(outsider)).iter().all(|n| !n.starts_with("REQUEST")), "outsider never subscribed");
    answer(&mut h, outsider, 0, json!({"decision": "accept"}));
    assert!(h.take_engine().is_empty(), "an answer from a connection that never got the request is ignored");
    answer(&mut h, a, 0, json!({"decision": "accept"}));
    assert_eq!(resolutions(&mut h).len(), 1);
}

#[test]
fn accept_for_session_skips_later_identical_commands() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    ask(&mut h, t, turn, 1, command_request(1, "cargo test"));
    h.take(c);
    answer(&mut h, c, 0, json!({"decision": "acceptForSession"}));
    h.take(c);
    h.take_engine();
    ask(&mut h, t, turn, 2, command_request(2, "cargo test"));
    assert_eq!(names(&h.take(c)), ["item/started:commandExecution"], "no prompt, no waiting flag");
    assert_eq!(
        resolutions(&mut h),
        [(RequestKey(2), RequestOutcome::Command(CommandDecision::AcceptForSession))]
    );
    ask(&mut h, t, turn, 3, command_request(3, "cargo build"));
    assert!(names(&h.take(c)).contains(&"REQUEST item/commandExecution/requestApproval".to_owned()));
}

#[test]
fn dynamic_tool_calls_complete_their_item_without_resolved() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    let call =
        EngineRequest::DynamicToolCall { tool: "lookup".into(), namespace: None, arguments: json!({"q": 1}) };
    ask(&mut h, t, turn, 1, call.clone());
    let frames = h.take(c);
    assert_eq!(names(&frames), ["item/started:dynamicToolCall", "REQUEST item/tool/call"]);
    assert_eq!(frames[1]["params"]["callId"], frames[0]["params"]["item"]["id"]);
    assert_eq!(frames[1]["params"]["arguments"], json!({"q": 1}));
    h.advance(40);
    answer(&mut h, c, 0, json!({"contentItems": [{"type": "inputText", "text": "42"}], "success": true}));
    let frames = h.take(c);
    assert_eq!(names(&frames), ["item/completed:dynamicToolCall"]);
    let item = &frames[0]["params"]["item"];
    assert_eq!((item["status"].as_str(), item["success"].as_bool()), (Some("completed"), Some(true)));
    assert_eq!(item["contentItems"][0]["text"], "42");
    assert!(item["durationMs"].as_i64().unwrap() >= 40);
    ask(&mut h, t, turn, 2, call);
    h.take(c);
    h.raw(c, r#"{"id":1,"error":{"code":-1,"message":"tool crashed"}}"#);
    let item = h.take(c)[0]["params"]["item"].clone();
    assert_eq!((item["status"].as_str(), item["success"].as_bool()), (Some("failed"), Some(false)));
    assert_eq!(item["contentItems"][0]["text"], "dynamic tool request failed");
}

#[test]
fn permissions_are_intersected_and_session_grants_remembered() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    let requested = json!({"fileSystem": {"write": ["/repo", "/etc"]}, "network": {"enabled": true}});
    let request = || EngineRequest::Permissions {
        permissions: serde_json::from_value(requested.clone()).unwrap(),
        reason: Some("install deps".into()),
    };
    ask(&mut h, t, turn, 1, request());
    let frames = h.take(c);
    assert_eq!(names(&frames), ["thread/status/changed:active", "REQUEST item/permissions/requestApproval"]);
    assert_eq!(frames[1]["params"]["permissions"], requested);
    answer(
        &mut h,
        c,
        0,
        json!({"permissions": {"fileSystem": {"write": ["/repo", "/home"]}, "network": {"enabled": true}}, "scope": "session"}),
    );
    let r = resolutions(&mut h);
    let RequestOutcome::Permissions { granted, .. } = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(
        serde_json::to_value(granted).unwrap(),
        json!({"fileSystem": {"write": ["/repo"]}, "network": {"enabled": true}})
    );
    h.take(c);
    // Asking again for what was granted for the session: no prompt.
    ask(
        &mut h,
        t,
        turn,
        2,
        EngineRequest::Permissions {
            permissions: serde_json::from_value(json!({"fileSystem": {"write": ["/repo"]}})).unwrap(),
            reason: None,
        },
    );
    assert!(h.take(c).is_empty());
    assert!(matches!(&resolutions(&mut h)[..], [(RequestKey(2), RequestOutcome::Permissions { .. })]));
    ask(&mut h, t, turn, 3, request());
    assert_eq!(names(&h.take(c)).len(), 2, "/etc was not granted: ask again");
}

#[test]
fn user_input_raises_its_own_flag_and_answers_reach_the_engine() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    let questions = serde_json::from_value(json!([
        {"id": "q1", "header": "Env", "question": "Which env?", "isOther": true,
         "options": [{"label": "dev", "description": "development"}]}
    ]))
    .unwrap();
    ask(&mut h, t, turn, 1, EngineRequest::UserInput { questions, is_blocking: true });
    let frames = h.take(c);
    assert_eq!(frames[0]["params"]["status"]["activeFlags"], json!(["waitingOnUserInput"]));
    assert_eq!(frames[1]["params"]["questions"][0]["isOther"], true);
    answer(&mut h, c, 0, json!({"answers": {"q1": {"answers": ["staging"]}}}));
    let r = resolutions(&mut h);
    let RequestOutcome::UserInput(answers) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(answers["q1"].answers, ["staging"]);
}

#[test]
fn interrupted_turn_resolves_elicitation_before_turn_completed() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    let request = json!({"mode": "url", "message": "Log in", "url": "https://x", "elicitationId": "e1"});
    let request = request.as_object().unwrap().clone();
    ask(&mut h, t, turn, 1, EngineRequest::Elicitation { server_name: "github".into(), request });
    let frames = h.take(c);
    assert_eq!(frames[1]["params"]["mode"], "url");
    assert_eq!(frames[1]["params"]["serverName"], "github");
    h.engine_event(t, EngineEvent::TurnAborted { turn_id: turn });
    assert_eq!(names(&h.take(c)), ["serverRequest/resolved", "thread/status/changed:idle", "turn/completed"]);
}

#[test]
fn auth_refresh_goes_to_everyone_and_times_out() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    let other = h.client(2, json!(null));
    h.take(other);
    let refresh = || EngineRequest::AuthRefresh { previous_account_id: Some("acct".into()) };
    ask(&mut h, t, turn, 1, refresh());
    assert_eq!(names(&h.take(other)), ["REQUEST account/chatgptAuthTokens/refresh"]);
    assert_eq!(names(&h.take(c)), ["REQUEST account/chatgptAuthTokens/refresh"]);
    h.raw(other, r#"{"id":0,"error":{"code":401,"message":"no tokens"}}"#);
    assert!(h.take(c).is_empty(), "no serverRequest/resolved for token refreshes");
    let r = resolutions(&mut h);
    assert_eq!(
        r[0].1,
        RequestOutcome::AuthFailed {
            message: "auth refresh request failed: code=401 message=no tokens".into()
        }
    );
    ask(&mut h, t, turn, 2, refresh());
    let deadline = h.machine.poll_timeout().expect("refresh deadline");
    h.now = deadline;
    h.input(Input::Tick);
    let r = resolutions(&mut h);
    assert_eq!(
        r[0].1,
        RequestOutcome::AuthFailed { message: "auth refresh request timed out after 10s".into() }
    );
}

#[test]
fn network_attempts_share_one_prompt_per_destination() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    let attempt = |h: &mut Harness, key: u64, host: &str, port: u16| {
        h.engine_event(
            t,
            EngineEvent::NetworkAttempt {
                turn_id: turn,
                key: RequestKey(key),
                host: host.into(),
                protocol: NetworkProtocol::Https,
                port,
            },
        );
    };
    attempt(&mut h, 1, "a.com", 443);
    attempt(&mut h, 2, "b.com", 443);
    attempt(&mut h, 3, "A.com", 443);
    attempt(&mut h, 4, "a.com", 80);
    let frames = h.take(c);
    let prompts: Vec<&Value> = frames.iter().filter(|f| f.get("id").is_some()).collect();
    assert_eq!(prompts.len(), 3, "one prompt each for a.com:443 (asked twice), b.com:443 and a.com:80");
    let p = &prompts[0]["params"];
    assert_eq!(p["itemId"], "network#https#a.com#443");
    assert_eq!(p["networkApprovalContext"], json!({"host": "a.com", "protocol": "https"}));
    assert!(p.get("command").is_none() && p.get("cwd").is_none());
    assert!(names(&frames).iter().all(|n| !n.starts_with("item/")), "no item for network prompts");
    answer(&mut h, c, 0, json!({"decision": "accept"}));
    let verdicts: Vec<(RequestKey, Result<(), String>)> = h
        .take_engine()
        .into_iter()
        .filter_map(|(_, cmd)| match cmd {
            EngineCommand::NetworkVerdict { key, verdict } => Some((key, verdict)),
            _ => None,
        })
        .collect();
    assert_eq!(
        verdicts,
        [(RequestKey(1), Ok(())), (RequestKey(3), Ok(()))],
        "allow once releases that group only"
    );
    answer(&mut h, c, 1, json!({"decision": "acceptForSession"}));
    h.take_engine();
    attempt(&mut h, 5, "b.com", 443);
    assert!(matches!(
        &h.take_engine()[..],
        [(_, EngineCommand::NetworkVerdict { key: RequestKey(5), verdict: Ok(()) })]
    ));
    answer(&mut h, c, 2, json!({"decision": "decline"}));
    let denied = h.take_engine();
    assert!(
        matches!(&denied[..], [(_, EngineCommand::NetworkVerdict { key: RequestKey(4), verdict: Err(m) })] if m.contains("rejected by user"))
    );
    h.take(c);
    // Policy `never` denies without prompting.
    let never = h.request(c, "thread/start", json!({"approvalPolicy": "never"}));
    let t2 = ThreadId::parse(never["result"]["thread"]["id"].as_str().unwrap()).unwrap();
    let turn2 = h.start_turn(c, t2, "x");
    h.engine_event(t2, EngineEvent::TurnStarted { turn_id: turn2 });
    h.take(c);
    h.engine_event(
        t2,
        EngineEvent::NetworkAttempt {
            turn_id: turn2,
            key: RequestKey(9),
            host: "c.com".into(),
            protocol: NetworkProtocol::Http,
            port: 80,
        },
    );
    assert!(h.take(c).iter().all(|f| f.get("id").is_none()));
    assert!(
        matches!(&h.take_engine()[..], [(_, EngineCommand::NetworkVerdict { verdict: Err(m), .. })] if m == "Network access to \"http://c.com:80\" was blocked by policy.")
    );
}

#[test]
fn requests_for_a_turn_that_is_not_running_are_answered_not_dropped() {
    // An engine waiting on a request the machine cannot accept must not hang.
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
    h.take(c);
    h.take_engine();
    ask(&mut h, t, turn, 5, command_request(1, "late"));
    h.engine_event(
        t,
        EngineEvent::NetworkAttempt {
            turn_id: turn,
            key: RequestKey(6),
            host: "a.com".into(),
            protocol: NetworkProtocol::Https,
            port: 443,
        },
    );
    assert!(h.take(c).is_empty(), "nothing reaches clients");
    let cmds = h.take_engine();
    assert!(
        matches!(
            &cmds[0],
            (_, EngineCommand::RequestResolved { key: RequestKey(5), outcome: RequestOutcome::Abandoned })
        ),
        "{cmds:?}"
    );
    assert!(
        matches!(&cmds[1], (_, EngineCommand::NetworkVerdict { key: RequestKey(6), verdict: Err(_) })),
        "{cmds:?}"
    );
}

#[test]
fn unloading_a_thread_drops_its_token_refresh_too() {
    // The engine that asked is closed with the thread: a later answer or timeout must not be
    // delivered to the engine of the thread's next load (found by the simulator, seed 114).
    let mut config = core_sm::MachineConfig::new(11);
    config.thread_unload_delay_ms = 1_000;
    let mut h = Harness::with_config(config);
    let (c, t, turn) = running(&mut h);
    ask(&mut h, t, turn, 1, EngineRequest::AuthRefresh { previous_account_id: None });
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
    h.request(c, "thread/unsubscribe", json!({"threadId": t.to_string()}));
    h.now = h.now.plus_millis(1_000);
    h.input(Input::Tick);
    assert!(h.machine.loaded_threads().is_empty(), "unloaded");
    h.take_engine();
    h.now = h.now.plus_millis(20_000);
    h.input(Input::Tick);
    answer(&mut h, c, 0, json!({"accessToken": "t", "chatgptAccountId": "a"}));
    assert!(resolutions(&mut h).is_empty(), "nothing reaches an engine that never asked");
    assert_eq!(h.machine.poll_timeout(), None, "no deadline left behind");
}

/// Found by the `protocol` fuzzer (F2): an engine that reused a request key while the first
/// request was still pending made the machine announce the first one's item a second time.
/// A key in flight is the engine's contract broken; the second use is dropped, whatever kind
/// of request or attempt either one is, and the first one still resolves normally.
#[test]
fn a_request_key_reused_while_in_flight_is_dropped() {
    fn tool(name: &str) -> EngineRequest {
        EngineRequest::DynamicToolCall { tool: name.into(), namespace: None, arguments: json!({}) }
    }
    fn network(turn_id: TurnId, key: u64) -> EngineEvent {
        EngineEvent::NetworkAttempt {
            turn_id,
            key: RequestKey(key),
            host: "a.com".into(),
            protocol: NetworkProtocol::Https,
            port: 443,
        }
    }
    type Reuse = fn(&mut Harness, ThreadId, TurnId);
    let cases: [(&str, Reuse, Reuse); 4] = [
        ("tool, then tool", |h, t, u| ask(h, t, u, 5, tool("a")), |h, t, u| ask(h, t, u, 5, tool("b"))),
        (
            "command, then tool",
            |h, t, u| ask(h, t, u, 5, command_request(1, "make")),
            |h, t, u| ask(h, t, u, 5, tool("b")),
        ),
        (
            "network, then command",
            |h, t, u| h.engine_event(t, network(u, 5)),
            |h, t, u| ask(h, t, u, 5, command_request(2, "make")),
        ),
        (
            "tool, then network",
            |h, t, u| ask(h, t, u, 5, tool("a")),
            |h, t, u| h.engine_event(t, network(u, 5)),
        ),
    ];
    for (case, first, second) in cases {
        let mut h = Harness::new(11);
        let (c, t, turn) = running(&mut h);
        first(&mut h, t, turn);
        let before = h.take(c);
        assert_eq!(before.iter().filter(|f| f.get("id").is_some()).count(), 1, "{case}: one request");
        second(&mut h, t, turn);
        assert_eq!(names(&h.take(c)), Vec::<String>::new(), "{case}: the reuse sends nothing");
        assert!(h.take_engine().is_empty(), "{case}: and tells the engine nothing");
        // The first request is still the one pending, under id 0, and resolves once.
        let result = match before[before.len() - 1]["method"].as_str() {
            Some("item/tool/call") => json!({"contentItems": [], "success": true}),
            _ => json!({"decision": "accept"}),
        };
        answer(&mut h, c, 0, result);
        let told = h.take_engine();
        assert_eq!(told.len(), 1, "{case}: one decision for key 5: {told:?}");
    }
}

/// Found by the `protocol` fuzzer: the machine named its own items (user messages, dynamic tool
/// calls) with item keys from the engine's range, so an engine item whose key happened to match
/// was overwritten by a steer's user message and never completed. Whatever keys the engine
/// picks, every item started is completed exactly once.
#[test]
fn engine_item_keys_never_collide_with_the_machines_own_items() {
    let mut h = Harness::new(11);
    let (c, t, turn) = running(&mut h);
    let keys = [u64::MAX, u64::MAX - 1, u64::MAX - 2, u64::MAX - 3, 1 << 62, (1 << 62) | 7, 0];
    for (n, key) in keys.into_iter().enumerate() {
        ask(&mut h, t, turn, n as u64, command_request(key, "make"));
    }
    let tool = EngineRequest::DynamicToolCall { tool: "t".into(), namespace: None, arguments: json!({}) };
    ask(&mut h, t, turn, 7, tool);
    h.request(
        c,
        "turn/steer",
        json!({"threadId": t, "expectedTurnId": turn, "input": [{"type": "text", "text": "more"}]}),
    );
    h.engine_event(t, EngineEvent::TurnAborted { turn_id: turn });
    let frames = h.take(c);
    let ids = |method: &str| -> Vec<String> {
        let mut ids: Vec<String> = frames
            .iter()
            .filter(|f| f["method"] == method)
            .map(|f| f["params"]["item"]["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let (started, completed) = (ids("item/started"), ids("item/completed"));
    assert_eq!(started.len(), keys.len() + 2, "every command, the tool call and the steer: {started:?}");
    assert_eq!(started, completed, "each started item completes exactly once");
}
