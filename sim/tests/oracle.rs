//! The oracle against a real machine whose output stream is tampered with: each kind of
//! damage must be reported under the right invariant (and an untouched run under none).

use std::sync::Arc;

use core_sm::wire::ItemBody;
use core_sm::{
    ConnectionId, EngineEvent, Input, ItemKey, Machine, MachineConfig, Output, ThreadId, Timestamp, TurnId,
};
use sim::oracle::{Oracle, OracleOptions, Violation};

type Tamper = Box<dyn FnMut(Vec<Output>) -> Vec<Output>>;

struct Harness {
    machine: Machine,
    oracle: Oracle,
    now: u64,
    tamper: Tamper,
    sent: Vec<String>,
}

impl Harness {
    fn new(tamper: Tamper) -> Self {
        Self {
            machine: Machine::new(MachineConfig::new(9)),
            oracle: Oracle::new(OracleOptions::default()),
            now: 1_764_000_000_000,
            tamper,
            sent: Vec::new(),
        }
    }

    fn step(&mut self, input: Input) -> Result<(), Violation> {
        self.now += 1;
        let now = Timestamp(self.now);
        self.oracle.observe_input(now, &input)?;
        self.machine.handle(now, input);
        let outputs: Vec<Output> = std::iter::from_fn(|| self.machine.poll_output()).collect();
        for out in &outputs {
            if let Output::Send { frame, .. } = out {
                self.sent.push(frame.to_string());
            }
        }
        for out in (self.tamper)(outputs) {
            self.oracle.observe_output(&out)?;
        }
        self.oracle.end_step(&self.machine)
    }

    fn frame(&mut self, conn: u64, text: &str) -> Result<(), Violation> {
        self.step(Input::Frame { conn: ConnectionId(conn), text: text.into() })
    }

    fn last_id(&self, key: &str) -> String {
        let frame = self.sent.iter().rev().find(|f| f.contains(key)).expect("sent");
        let at = frame.find(key).expect("key") + key.len() + 2;
        frame[at..at + 36].to_owned()
    }
}

/// Two initialized connections; conn 1 starts a thread and a turn with one item; the engine
/// runs it to completion. Returns the first violation.
fn scenario(tamper: Tamper) -> Option<Violation> {
    let mut h = Harness::new(tamper);
    let run = |h: &mut Harness| -> Result<(), Violation> {
        for conn in [1, 2] {
            h.step(Input::ConnectionOpened { conn: ConnectionId(conn) })?;
            h.frame(
                conn,
                r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"t","version":"1"}}}"#,
            )?;
        }
        h.frame(1, r#"{"id":2,"method":"thread/start","params":{}}"#)?;
        let thread = ThreadId::parse(&h.last_id(r#""thread":{"id""#)).expect("thread id");
        let start = format!(
            r#"{{"id":3,"method":"turn/start","params":{{"threadId":"{thread}","input":[{{"type":"text","text":"hi"}}]}}}}"#
        );
        h.frame(1, &start)?;
        let turn = TurnId::parse(&h.last_id(r#""turn":{"id""#)).expect("turn id");
        let body = |text: &str| ItemBody::AgentMessage { text: text.into(), phase: None };
        let key = ItemKey(1);
        for event in [
            EngineEvent::TurnStarted { turn_id: turn },
            EngineEvent::ItemStarted { turn_id: turn, key, body: body("") },
            EngineEvent::ItemCompleted { turn_id: turn, key, body: body("done") },
            EngineEvent::TurnCompleted { turn_id: turn },
        ] {
            h.step(Input::Engine { thread_id: thread, event })?;
        }
        h.oracle.check_quiescent(&h.machine)
    };
    run(&mut h).err()
}

/// Whether `out` sends a frame containing `needle`.
fn sent_contains(out: &Output, needle: &str) -> bool {
    matches!(out, Output::Send { frame, .. } if frame.contains(needle))
}

fn method_is(out: &Output, method: &str) -> bool {
    matches!(out, Output::Send { frame, .. } if frame.contains(&format!(r#""method":"{method}""#)))
}

/// A copy of a sent frame with `from` replaced by `to` (a new frame: a separate emission).
fn edit(out: &Output, from: &str, to: &str) -> Output {
    match out {
        Output::Send { conn, frame } => {
            Output::Send { conn: *conn, frame: Arc::from(frame.replace(from, to)) }
        }
        other => other.clone(),
    }
}

/// Edits every frame, keeping one frame shared by all its recipients (one emission).
fn edit_all(outs: Vec<Output>, f: impl Fn(&str) -> String) -> Vec<Output> {
    let mut done: Vec<(core_sm::wire::Frame, core_sm::wire::Frame)> = Vec::new();
    outs.into_iter()
        .map(|o| match o {
            Output::Send { conn, frame } => {
                let new = match done.iter().find(|(old, _)| Arc::ptr_eq(old, &frame)) {
                    Some((_, new)) => new.clone(),
                    None => {
                        let new: core_sm::wire::Frame = Arc::from(f(&frame));
                        done.push((frame, new.clone()));
                        new
                    }
                };
                Output::Send { conn, frame: new }
            }
            other => other,
        })
        .collect()
}

fn expect(tamper: Tamper, invariant: &str) {
    let got = scenario(tamper).unwrap_or_else(|| panic!("tampering went unnoticed ({invariant})"));
    assert_eq!(got.invariant, invariant, "{got}");
}

#[test]
fn an_untouched_run_is_clean() {
    assert_eq!(scenario(Box::new(|outs| outs)), None);
}

#[test]
fn a_missing_active_status_is_invariant_1() {
    let tamper = |outs: Vec<Output>| {
        outs.into_iter()
            .filter(|o| !(method_is(o, "thread/status/changed") && sent_contains(o, "active")))
            .collect()
    };
    expect(Box::new(tamper), "1-active-before-turn-started");
}

#[test]
fn a_duplicated_turn_completed_is_invariant_2() {
    let tamper = |outs: Vec<Output>| {
        let mut v = Vec::new();
        for o in outs {
            if method_is(&o, "turn/completed") {
                v.push(edit(&o, "", ""));
            }
            v.push(o);
        }
        v
    };
    expect(Box::new(tamper), "2-turn-completes-once");
}

#[test]
fn an_item_after_turn_completed_is_invariant_2() {
    let tamper = |outs: Vec<Output>| {
        let mut v = Vec::new();
        for o in outs {
            let item = method_is(&o, "turn/completed")
                .then(|| edit(&o, r#""method":"turn/completed""#, r#""method":"item/completed""#));
            v.push(o);
            v.extend(item);
        }
        v
    };
    expect(Box::new(tamper), "2-no-item-after-turn-completed");
}

#[test]
fn an_event_to_a_non_subscriber_is_invariant_5() {
    let tamper = |outs: Vec<Output>| {
        let mut v = Vec::new();
        for o in outs {
            if method_is(&o, "item/started") {
                if let Output::Send { frame, .. } = &o {
                    v.push(Output::Send { conn: ConnectionId(2), frame: frame.clone() });
                }
            }
            v.push(o);
        }
        v
    };
    expect(Box::new(tamper), "5-thread-event-only-to-subscribers");
}

#[test]
fn a_broadcast_missing_a_connection_is_invariant_5() {
    let tamper = |outs: Vec<Output>| {
        outs.into_iter()
            .filter(|o| {
                !(method_is(o, "thread/started") && matches!(o, Output::Send { conn, .. } if conn.0 == 2))
            })
            .collect()
    };
    expect(Box::new(tamper), "5-broadcast-to-every-initialized-connection");
}

#[test]
fn a_wrong_status_is_invariant_6() {
    let tamper = |outs: Vec<Output>| {
        edit_all(outs, |f| {
            if f.contains("thread/status/changed") {
                f.replace("idle", "systemError")
            } else {
                f.to_owned()
            }
        })
    };
    expect(Box::new(tamper), "6-status-matches-machine");
}

#[test]
fn a_lost_reply_is_invariant_8() {
    let tamper =
        |outs: Vec<Output>| outs.into_iter().filter(|o| !sent_contains(o, r#"{"id":3,"result""#)).collect();
    expect(Box::new(tamper), "8-every-request-answered");
}

#[test]
fn a_wrong_timestamp_and_broken_json_are_invariant_0() {
    let tamper = |outs: Vec<Output>| edit_all(outs, |f| f.replace(r#""emittedAtMs":"#, r#""emittedAtMs":1"#));
    expect(Box::new(tamper), "0-notification-emittedAtMs");
    let tamper = |outs: Vec<Output>| {
        edit_all(outs, |f| if f.contains("item/started") { f.replace("}}", "}") } else { f.to_owned() })
    };
    expect(Box::new(tamper), "0-frame-is-valid-json");
}

// Server requests (invariants 3, 4 and 7): a command approval, a resume that replays it, two
// network attempts sharing one prompt, answers, a session-allowed destination, the turn's end.

fn command_request() -> core_sm::EngineRequest {
    core_sm::EngineRequest::CommandApproval {
        item: ItemKey(7),
        approval_id: None,
        command: "make".into(),
        cwd: "/repo".into(),
        command_actions: Vec::new(),
        reason: None,
        available_decisions: None,
        proposed_execpolicy_amendment: None,
    }
}

fn attempt(turn: TurnId, key: u64, host: &str) -> EngineEvent {
    EngineEvent::NetworkAttempt {
        turn_id: turn,
        key: core_sm::RequestKey(key),
        host: host.into(),
        protocol: core_sm::wire::server_requests::NetworkProtocol::Https,
        port: 443,
    }
}

/// Returns the first violation of the request scenario under `tamper`.
fn request_scenario(tamper: Tamper) -> Option<Violation> {
    let mut h = Harness::new(tamper);
    let run = |h: &mut Harness| -> Result<(), Violation> {
        for conn in [1, 2] {
            h.step(Input::ConnectionOpened { conn: ConnectionId(conn) })?;
            h.frame(
                conn,
                r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"t","version":"1"}}}"#,
            )?;
        }
        h.frame(1, r#"{"id":2,"method":"thread/start","params":{}}"#)?;
        let thread = ThreadId::parse(&h.last_id(r#""thread":{"id""#)).expect("thread id");
        let start = format!(
            r#"{{"id":3,"method":"turn/start","params":{{"threadId":"{thread}","input":[{{"type":"text","text":"hi"}}]}}}}"#
        );
        h.frame(1, &start)?;
        let turn = TurnId::parse(&h.last_id(r#""turn":{"id""#)).expect("turn id");
        let engine = |h: &mut Harness, event| h.step(Input::Engine { thread_id: thread, event });
        engine(h, EngineEvent::TurnStarted { turn_id: turn })?;
        let request = command_request();
        engine(h, EngineEvent::Request { turn_id: turn, key: core_sm::RequestKey(1), request })?;
        h.frame(2, &format!(r#"{{"id":2,"method":"thread/resume","params":{{"threadId":"{thread}"}}}}"#))?;
        engine(h, attempt(turn, 2, "a.com"))?;
        engine(h, attempt(turn, 3, "A.com"))?;
        h.frame(1, r#"{"id":0,"result":{"decision":"accept"}}"#)?;
        h.frame(2, r#"{"id":1,"result":{"decision":"acceptForSession"}}"#)?;
        engine(h, attempt(turn, 4, "a.com"))?;
        engine(h, EngineEvent::TurnCompleted { turn_id: turn })?;
        h.oracle.check_quiescent(&h.machine)
    };
    run(&mut h).err()
}

fn expect_requests(tamper: Tamper, invariant: &str) {
    let got = request_scenario(tamper).unwrap_or_else(|| panic!("tampering went unnoticed ({invariant})"));
    assert_eq!(got.invariant, invariant, "{got}");
}

fn is_request_frame(out: &Output) -> bool {
    matches!(out, Output::Send { frame, .. } if frame.starts_with(r#"{"id":"#) && frame.contains(r#""method":"#))
}

#[test]
fn an_untouched_request_run_is_clean() {
    assert_eq!(request_scenario(Box::new(|outs| outs)), None);
}

#[test]
fn a_lost_resolved_notification_is_invariant_3() {
    let tamper = |outs: Vec<Output>| {
        outs.into_iter()
            .filter(|o| {
                !(method_is(o, "serverRequest/resolved")
                    && matches!(o, Output::Send { conn, .. } if conn.0 == 2))
            })
            .collect()
    };
    expect_requests(Box::new(tamper), "3-resolved-notification-with-resolution");
}

#[test]
fn a_lost_or_doubled_engine_resolution_is_invariant_3() {
    let resolved = |o: &Output| {
        matches!(o, Output::Engine { command: core_sm::EngineCommand::RequestResolved { .. }, .. })
    };
    let tamper = move |outs: Vec<Output>| outs.into_iter().filter(|o| !resolved(o)).collect();
    expect_requests(Box::new(tamper), "3-engine-told-once-per-request");
    let tamper = move |outs: Vec<Output>| {
        outs.into_iter().flat_map(|o| if resolved(&o) { vec![o.clone(), o] } else { vec![o] }).collect()
    };
    expect_requests(Box::new(tamper), "3-engine-told-once-per-request");
}

#[test]
fn a_request_sent_again_after_resolution_is_invariant_3() {
    // The first request frame, sent again one step after its resolution was announced.
    let (mut request, mut armed): (Option<Output>, bool) = (None, false);
    let tamper = move |outs: Vec<Output>| {
        let mut v = Vec::new();
        if armed {
            v.extend(request.take());
        }
        for o in outs {
            if is_request_frame(&o) && request.is_none() && !armed {
                request = Some(o.clone());
            }
            armed |= method_is(&o, "serverRequest/resolved");
            v.push(o);
        }
        v
    };
    expect_requests(Box::new(tamper), "3-resolved-request-never-resent");
}

#[test]
fn a_skipped_request_id_is_invariant_3() {
    let tamper = |outs: Vec<Output>| {
        edit_all(outs, |f| {
            if f.starts_with(r#"{"id":0,"method""#) {
                f.replacen(r#"{"id":0"#, r#"{"id":5"#, 1)
            } else {
                f.to_owned()
            }
        })
    };
    expect_requests(Box::new(tamper), "3-server-request-ids-one-counter-from-0");
}

#[test]
fn a_wrong_waiting_flag_is_invariant_3() {
    let tamper = |outs: Vec<Output>| edit_all(outs, |f| f.replace("waitingOnApproval", "waitingOnUserInput"));
    expect_requests(Box::new(tamper), "3-status-flags-match-pending-requests");
}

#[test]
fn a_missing_replay_is_invariant_4() {
    let mut resumed = false;
    let tamper = move |outs: Vec<Output>| {
        outs.into_iter()
            .filter(|o| {
                if matches!(o, Output::Send { conn, frame } if conn.0 == 2 && frame.starts_with(r#"{"id":2,"result""#)) {
                    resumed = true;
                }
                !(resumed && is_request_frame(o) && matches!(o, Output::Send { conn, .. } if conn.0 == 2))
            })
            .collect()
    };
    expect_requests(Box::new(tamper), "4-resume-replays-pending-requests");
}

#[test]
fn a_lost_network_verdict_is_invariant_7() {
    let tamper = |outs: Vec<Output>| {
        outs.into_iter()
            .filter(|o| !matches!(o, Output::Engine { command: core_sm::EngineCommand::NetworkVerdict { key, .. }, .. } if key.0 == 3))
            .collect()
    };
    expect_requests(Box::new(tamper), "7-every-network-attempt-gets-one-verdict");
}
