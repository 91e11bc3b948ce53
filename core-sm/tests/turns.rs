//! Turns end to end inside the machine: ordering, steering, interrupts, failures (PROTOCOL.md §8).

mod common;

use common::Harness;
use core_sm::wire::{CommandExecutionStatus, ItemBody, ThreadTokenUsage, TurnError};
use core_sm::{EngineCommand, EngineEvent, ItemDelta, ItemKey};
use serde_json::json;

fn agent_message(text: &str) -> ItemBody {
    serde_json::from_value(json!({"type": "agentMessage", "text": text})).unwrap()
}

#[test]
fn a_plain_turn_streams_in_codex_order() {
    let mut h = Harness::new(3);
    let c = h.client(0, json!(null));
    let t = h.start_thread(c);
    let r = h.request(
        c,
        "turn/start",
        json!({"threadId": t.to_string(), "input": [{"type": "text", "text": "hi"}]}),
    );
    let turn = &r["result"]["turn"];
    assert_eq!(turn["status"], "inProgress");
    assert_eq!(turn["itemsView"], "notLoaded");
    assert_eq!(turn["startedAt"], json!(null));
    let turn_id = core_sm::TurnId::parse(turn["id"].as_str().unwrap()).unwrap();
    assert_eq!(h.methods(c), ["<result>"], "nothing is announced before the engine starts the turn");
    let cmds = h.take_engine();
    assert!(matches!(&cmds[..], [(_, EngineCommand::StartTurn { turn_id: id, .. })] if *id == turn_id));

    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    let k = ItemKey(1);
    h.engine_event(t, EngineEvent::ItemStarted { turn_id, key: k, body: agent_message("") });
    for d in ["Hel", "lo"] {
        h.engine_event(
            t,
            EngineEvent::ItemDelta { turn_id, key: k, delta: ItemDelta::AgentMessage(d.into()) },
        );
    }
    h.engine_event(t, EngineEvent::ItemCompleted { turn_id, key: k, body: agent_message("Hello") });
    h.engine_event(t, EngineEvent::TokenUsage { turn_id, usage: ThreadTokenUsage::default() });
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id });
    let frames = h.take(c);
    let names: Vec<String> = frames.iter().map(common::describe).collect();
    assert_eq!(
        names,
        [
            "thread/status/changed:active",
            "turn/started",
            "item/started:userMessage",
            "item/completed:userMessage",
            "item/started:agentMessage",
            "item/agentMessage/delta",
            "item/agentMessage/delta",
            "item/completed:agentMessage",
            "thread/tokenUsage/updated",
            "thread/status/changed:idle",
            "turn/completed",
        ]
    );
    assert_eq!(frames[1]["params"]["turn"]["startedAt"], json!(1_764_000_000));
    assert_eq!(frames[3]["params"]["item"]["content"][0]["text"], "hi");
    let done = &frames[10]["params"]["turn"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["itemsView"], "summary");
    assert_eq!(done["items"][0]["text"], "Hello");
    assert!(frames.iter().all(|f| f["emittedAtMs"].is_i64()));

    let read = h.request(c, "thread/read", json!({"threadId": t.to_string(), "includeTurns": true}));
    let turns = &read["result"]["thread"]["turns"];
    assert_eq!(turns[0]["itemsView"], "full");
    assert_eq!(turns[0]["items"].as_array().unwrap().len(), 2);
    assert_eq!(read["result"]["thread"]["preview"], "hi");
}

#[test]
fn turn_start_during_an_active_turn_joins_it() {
    let mut h = Harness::new(3);
    let c = h.client(0, json!(null));
    let t = h.start_thread(c);
    let turn_id = h.start_turn(c, t, "first");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    h.take(c);
    let r = h.request(
        c,
        "turn/start",
        json!({"threadId": t.to_string(), "input": [{"type": "text", "text": "more"}]}),
    );
    assert_eq!(r["result"]["turn"]["id"], turn_id.to_string());
    assert_eq!(h.methods(c), ["<result>", "item/started:userMessage", "item/completed:userMessage"]);
    assert!(matches!(&h.take_engine()[..], [(_, EngineCommand::Steer { .. })]));
}

#[test]
fn steer_checks_and_queues_until_the_turn_runs() {
    let mut h = Harness::new(3);
    let c = h.client(0, json!(null));
    let t = h.start_thread(c);
    let tid = t.to_string();
    let e = h.request(
        c,
        "turn/steer",
        json!({"threadId": tid, "expectedTurnId": "x", "input": [{"type": "text", "text": "a"}]}),
    );
    assert_eq!(e["error"]["message"], "no active turn to steer");
    let turn_id = h.start_turn(c, t, "first");
    let e = h.request(
        c,
        "turn/steer",
        json!({"threadId": tid, "expectedTurnId": "", "input": [{"type": "text", "text": "a"}]}),
    );
    assert_eq!(e["error"]["message"], "expectedTurnId must not be empty");
    let e = h.request(c, "turn/steer", json!({"threadId": tid, "expectedTurnId": "abc", "input": []}));
    assert_eq!(e["error"]["message"], "input must not be empty");
    let e = h.request(
        c,
        "turn/steer",
        json!({"threadId": tid, "expectedTurnId": "abc", "input": [{"type": "text", "text": "a"}]}),
    );
    assert_eq!(e["error"]["message"], format!("expected active turn id `abc` but found `{turn_id}`"));
    let ok = h.request(c, "turn/steer", json!({"threadId": tid, "expectedTurnId": turn_id.to_string(), "input": [{"type": "text", "text": "later"}]}));
    assert_eq!(ok["result"]["turnId"], turn_id.to_string());
    h.take(c);
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    let frames = h.take(c);
    let names: Vec<String> = frames.iter().map(common::describe).collect();
    assert_eq!(
        names,
        [
            "thread/status/changed:active",
            "turn/started",
            "item/started:userMessage",
            "item/completed:userMessage",
            "item/started:userMessage",
            "item/completed:userMessage"
        ]
    );
    assert_eq!(frames[5]["params"]["item"]["content"][0]["text"], "later");
}

#[test]
fn interrupt_answers_when_the_abort_is_observed() {
    let mut h = Harness::new(3);
    let c = h.client(0, json!(null));
    let t = h.start_thread(c);
    let tid = t.to_string();
    let e = h.request(c, "turn/interrupt", json!({"threadId": tid, "turnId": "x"}));
    assert_eq!(e["error"]["message"], "no active turn to interrupt");
    let turn_id = h.start_turn(c, t, "slow");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    let cmd_body: ItemBody = serde_json::from_value(json!({
        "type": "commandExecution", "command": "sleep 10", "cwd": "/tmp", "commandActions": [], "status": "inProgress"
    }))
    .unwrap();
    h.engine_event(t, EngineEvent::ItemStarted { turn_id, key: ItemKey(1), body: cmd_body });
    h.take(c);
    let e = h.request(c, "turn/interrupt", json!({"threadId": tid, "turnId": "wrong"}));
    assert_eq!(e["error"]["message"], format!("expected active turn id wrong but found {turn_id}"));
    h.take(c);
    h.send_request(c, 100, "turn/interrupt", json!({"threadId": tid, "turnId": turn_id.to_string()}));
    h.send_request(c, 101, "turn/interrupt", json!({"threadId": tid, "turnId": turn_id.to_string()}));
    assert!(h.take(c).is_empty(), "the interrupt is answered only once the engine aborted");
    let cmds = h.take_engine();
    assert_eq!(cmds.len(), 1, "the engine is told once: {cmds:?}");
    h.engine_event(t, EngineEvent::TurnAborted { turn_id });
    let frames = h.take(c);
    let names: Vec<String> = frames.iter().map(common::describe).collect();
    assert_eq!(
        names,
        [
            "item/completed:commandExecution",
            "<result>",
            "<result>",
            "thread/status/changed:idle",
            "turn/completed"
        ]
    );
    assert_eq!(frames[0]["params"]["item"]["status"], "failed");
    let done = &frames[4]["params"]["turn"];
    assert_eq!(
        (done["status"].as_str(), done["itemsView"].as_str()),
        (Some("interrupted"), Some("notLoaded"))
    );
    assert_eq!(done["items"], json!([]));
    // Events after the end are dropped.
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id });
    assert!(h.take(c).is_empty());
    let _ = CommandExecutionStatus::Failed;
}

#[test]
fn a_failed_turn_reports_the_error_and_system_error_until_the_next_turn() {
    let mut h = Harness::new(3);
    let observer = h.client(9, json!(null));
    let c = h.client(0, json!(null));
    let t = h.start_thread(c);
    h.take(observer);
    let turn_id = h.start_turn(c, t, "boom");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    h.take(c);
    let error = TurnError {
        message: "model exploded".into(),
        codex_error_info: Some(json!("other")),
        additional_details: None,
    };
    h.engine_event(t, EngineEvent::Retrying { turn_id, error: error.clone() });
    h.engine_event(t, EngineEvent::TurnFailed { turn_id, error });
    let frames = h.take(c);
    let names: Vec<String> = frames.iter().map(common::describe).collect();
    assert_eq!(names, ["error", "error", "thread/status/changed:systemError", "turn/completed"]);
    assert_eq!(frames[0]["params"]["willRetry"], true);
    assert_eq!(frames[1]["params"]["willRetry"], false);
    assert_eq!(frames[3]["params"]["turn"]["status"], "failed");
    assert_eq!(frames[3]["params"]["turn"]["error"]["message"], "model exploded");
    // Status is broadcast; turn events are not.
    assert_eq!(h.methods(observer), ["thread/status/changed:active", "thread/status/changed:systemError"]);
    let next = h.start_turn(c, t, "again");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: next });
    assert_eq!(h.methods(c)[0], "thread/status/changed:active");
}

#[test]
fn engine_misbehaviour_is_dropped_not_fatal() {
    let mut h = Harness::new(3);
    let c = h.client(0, json!(null));
    let t = h.start_thread(c);
    let turn_id = h.start_turn(c, t, "x");
    // Items before the turn started, unknown keys, duplicate starts: all dropped.
    h.engine_event(t, EngineEvent::ItemStarted { turn_id, key: ItemKey(1), body: agent_message("") });
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    h.engine_event(
        t,
        EngineEvent::ItemDelta { turn_id, key: ItemKey(7), delta: ItemDelta::AgentMessage("?".into()) },
    );
    h.engine_event(t, EngineEvent::ItemCompleted { turn_id, key: ItemKey(2), body: agent_message("late") });
    h.engine_event(t, EngineEvent::ItemCompleted { turn_id, key: ItemKey(2), body: agent_message("twice") });
    h.engine_event(
        t,
        EngineEvent::ItemDelta { turn_id, key: ItemKey(2), delta: ItemDelta::AgentMessage("!".into()) },
    );
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id });
    let names = h.methods(c);
    assert_eq!(
        names,
        [
            "thread/status/changed:active",
            "turn/started",
            "item/started:userMessage",
            "item/completed:userMessage",
            "item/started:agentMessage",
            "item/completed:agentMessage",
            "thread/status/changed:idle",
            "turn/completed"
        ]
    );
    let other = core_sm::ThreadId::parse("019ab000-0000-7000-8000-000000000000").unwrap();
    h.engine_event(other, EngineEvent::TurnCompleted { turn_id });
    assert!(h.take(c).is_empty());
}
