//! Minimal reproducers of what the fuzzers found in core-sm, one test each. A test is ignored
//! while its bug is open (so `cargo test` stays green) and documents the failure it shows;
//! run those with `cargo test --manifest-path fuzz/Cargo.toml --test findings -- --ignored`.
//! Once core-sm is fixed the `#[ignore]` goes and the test guards the fix.
//!
//! * F1 (fixed in core-sm: `detach_connection` now drops parked loads and interrupters): a
//!   reply owed to a connection reached a later connection with the same id.
//! * F2 (fixed in core-sm: a request key still in flight is dropped when reused; regression
//!   test `a_request_key_reused_while_in_flight_is_dropped` in `core-sm/tests/requests.rs`): a
//!   reused engine `RequestKey` re-announced a dynamic tool call's item.
//! * F3 (fixed in core-sm: the machine's own items live in their own key space, `ItemSlot`;
//!   regression test `engine_item_keys_never_collide_with_the_machines_own_items` in
//!   `core-sm/tests/requests.rs`; input `findings/protocol/f3-item-key-collision`): an engine
//!   item key equal to one the machine picked for a steer's user message was overwritten, and
//!   the engine's item never completed.
//! * F4 (an oracle bug, fixed in `sim::oracle::scan`; input `findings/protocol/f4-positional-params`):
//!   params given by position (`"params":["<thread id>"]`, which JSON-RPC allows and serde
//!   accepts, as Codex's server does) unsubscribed the thread in the machine while the oracle,
//!   reading only object params, still counted the connection as a subscriber.
//! * F5 (an oracle bug, fixed in `sim::oracle::conn::take_pending`; input
//!   `findings/protocol/f5-duplicate-id-parked-on-two-loads`): a client reused a pending
//!   request id for a `thread/fork` while its `thread/archive` waited on another load; the
//!   fork's reply, answered first, was matched to the archive, so the oracle missed the
//!   requester's subscription to the fork.

use turnstile_fuzz::protocol::{self, Action, Id, Script, IMPLEMENTED};

fn req(conn: u8, method: &str, params: &[u8]) -> Action {
    let i = IMPLEMENTED.iter().position(|m| *m == method).unwrap();
    Action::Request { conn, id: Id::Next, method: (i as u16) << 1, params: params.to_vec() }
}

fn raw(conn: u8, text: &str) -> Action {
    Action::Raw { conn, text: text.into() }
}

fn check(actions: Vec<Action>) {
    let script = Script { actions };
    let (d, r) = protocol::run_traced(&script);
    if let Err(f) = r {
        panic!("{f}\n{}", d.trace.unwrap_or_default().join("\n"));
    }
}

const INIT: &str = r#"{"id":"i","method":"initialize","params":{"clientInfo":{"name":"x","version":"1"}}}"#;
const READ_FOREIGN: &str = r#"{"id":2,"method":"thread/read","params":{"threadId":"$F0"}}"#;

/// F1: a request parked on a storage load survived its connection: the reply went to whichever
/// connection later had that id (here the same id reopened while open).
#[test]
fn f1_parked_reply_reaches_a_reopened_connection() {
    check(vec![Action::Open { conn: 0 }, raw(0, INIT), raw(0, READ_FOREIGN), Action::Open { conn: 0 }]);
}

/// F1 (closed, then the id reused after close, which adapters may do).
#[test]
fn f1_parked_reply_reaches_a_new_connection_with_the_same_id() {
    check(vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        raw(0, READ_FOREIGN),
        Action::Close { conn: 0 },
        Action::Open { conn: 0 },
    ]);
}

/// F1 (closed, not reopened): passes, the reply to a closed connection is dropped.
#[test]
fn f1_parked_reply_after_close() {
    check(vec![Action::Open { conn: 0 }, raw(0, INIT), raw(0, READ_FOREIGN), Action::Close { conn: 0 }]);
}

/// F1 (same class): an interrupt answered when the engine reports the abort replies to
/// whichever connection has the interrupter's id by then.
#[test]
fn f1_interrupt_reply_reaches_a_new_connection_with_the_same_id() {
    check(vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        req(0, "thread/start", &[]),
        req(0, "turn/start", &[]),
        Action::Engine { thread: 0, turn: 0, event: protocol::Event::TurnStarted },
        raw(0, r#"{"id":"x","method":"turn/interrupt","params":{"threadId":"$T0","turnId":"$U0"}}"#),
        Action::Close { conn: 0 },
        Action::Open { conn: 0 },
        Action::Engine { thread: 0, turn: 0, event: protocol::Event::TurnAborted },
    ]);
}

/// F2: two dynamic tool calls with the same engine request key announce the same
/// `dynamicToolCall` item twice (a second `item/started` for an item that never completed).
/// Reusing a key breaks the engine contract ("unique within a thread"), so the simulator's
/// oracle rejects it as a driver error before the machine sees it; this test drives the
/// machine directly: it drops the second request (as it drops a reused item key) rather than
/// re-announce the item.
#[test]
fn f2_dynamic_tool_call_with_a_reused_request_key() {
    use core_sm::{
        ConnectionId, EngineEvent, EngineRequest, Input, Machine, MachineConfig, Output, RequestKey,
        Timestamp,
    };
    let mut m = Machine::new(MachineConfig::new(7));
    let mut now = 1_764_000_000_000u64;
    let mut frames: Vec<String> = Vec::new();
    let mut feed = |m: &mut Machine, input: Input, frames: &mut Vec<String>| {
        now += 1;
        m.handle(Timestamp(now), input);
        while let Some(out) = m.poll_output() {
            if let Output::Send { frame, .. } = out {
                frames.push(frame.to_string());
            }
        }
    };
    let c = ConnectionId(0);
    feed(&mut m, Input::ConnectionOpened { conn: c }, &mut frames);
    for text in [
        r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"x","version":"1"}}}"#,
        r#"{"id":2,"method":"thread/start","params":{}}"#,
    ] {
        feed(&mut m, Input::Frame { conn: c, text: text.into() }, &mut frames);
    }
    let thread_id = m.loaded_threads()[0];
    let start = format!(
        r#"{{"id":3,"method":"turn/start","params":{{"threadId":"{thread_id}","input":[{{"type":"text","text":"hi"}}]}}}}"#
    );
    feed(&mut m, Input::Frame { conn: c, text: start }, &mut frames);
    let reply: serde_json::Value = serde_json::from_str(frames.last().unwrap()).unwrap();
    let turn_id = core_sm::TurnId::parse(reply["result"]["turn"]["id"].as_str().unwrap()).unwrap();
    feed(&mut m, Input::Engine { thread_id, event: EngineEvent::TurnStarted { turn_id } }, &mut frames);
    for tool in ["a", "b"] {
        let request = EngineRequest::DynamicToolCall {
            tool: tool.into(),
            namespace: None,
            arguments: serde_json::json!({}),
        };
        feed(
            &mut m,
            Input::Engine { thread_id, event: EngineEvent::Request { turn_id, key: RequestKey(5), request } },
            &mut frames,
        );
    }
    let started: Vec<&String> =
        frames.iter().filter(|f| f.contains("\"item/started\"") && f.contains("dynamicToolCall")).collect();
    assert_eq!(
        started.len(),
        1,
        "the same dynamicToolCall item was started twice:\n{}",
        started.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}

/// F4: by-position params act like named ones, and the oracle follows them: an unsubscribe,
/// a turn started and interrupted, and an initialize whose opt-outs come second.
#[test]
fn f4_params_by_position() {
    check(vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        req(0, "thread/start", &[]),
        raw(0, r#"{"id":"u","method":"thread/unsubscribe","params":["$T0"]}"#),
        raw(0, r#"{"id":"r","params":["$T0",true],"method":"thread/resume"}"#),
        raw(0, r#"{"id":"s","method":"turn/start","params":["$T0",[{"type":"text","text":"hi"}]]}"#),
        Action::Engine { thread: 0, turn: 0, event: protocol::Event::TurnStarted },
        raw(0, r#"{"id":"x","method":"turn/interrupt","params":["$T0","$U0"]}"#),
        Action::Engine { thread: 0, turn: 0, event: protocol::Event::TurnAborted },
        Action::Open { conn: 1 },
        raw(
            1,
            r#"{"id":1,"method":"initialize","params":[{"name":"y","version":"1"},{"optOutNotificationMethods":["thread/started"]}]}"#,
        ),
        req(1, "thread/start", &[]),
    ]);
}

#[test]
fn f5_duplicate_id_parked_on_two_loads() {
    // Loads are picked in thread-id order: the fork's source (…02) is answered first.
    check(vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        raw(
            0,
            r#"{"id":"d","method":"thread/archive","params":{"threadId":"019ab697-0000-7000-8000-000000000009"}}"#,
        ),
        raw(
            0,
            r#"{"id":"d","method":"thread/fork","params":{"threadId":"019ab697-0000-7000-8000-000000000002"}}"#,
        ),
        Action::Storage { load: 0, result: protocol::Stored::Loaded { variant: 0 } },
        Action::Storage { load: 0, result: protocol::Stored::NotFound },
        req(0, "thread/loaded/list", &[]),
    ]);
}
