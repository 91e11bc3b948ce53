//! Thread lifecycle: start, resume (warm and cold), read, list, names, unsubscribe, idle unload,
//! storage loads, and determinism (PROTOCOL.md §6, §7, §9, §10).

mod common;

use common::Harness;
use core_sm::history::RolloutRecord;
use core_sm::{EngineEvent, Input, ItemKey, MachineConfig, Output, StorageResult};
use serde_json::{json, Value};

#[test]
fn thread_start_replies_then_broadcasts_silently_registered() {
    let mut h = Harness::new(5);
    let other = h.client(2, json!(null));
    let uninit = h.open(3);
    let c = h.client(1, json!(null));
    let r = h.request(c, "thread/start", json!({"cwd": "/work", "sandbox": "read-only"}));
    let result = &r["result"];
    assert_eq!(result["thread"]["status"], json!({"type": "idle"}));
    assert_eq!(result["thread"]["turns"], json!([]));
    assert_eq!(result["thread"]["id"], result["thread"]["sessionId"]);
    assert_eq!(result["cwd"], "/work");
    assert_eq!(result["sandbox"], json!({"type": "readOnly", "networkAccess": false}));
    assert_eq!(result["approvalPolicy"], "on-request");
    assert_eq!(result["thread"]["originator"], "harness");
    assert_eq!(h.methods(c), ["<result>", "thread/started"]);
    assert_eq!(h.methods(other), ["thread/started"], "broadcast reaches non-subscribers");
    assert!(h.methods(uninit).is_empty(), "never to uninitialized connections");
    let gated = h.request(c, "thread/start", json!({"sandbox": "read-only", "permissions": "p"}));
    assert_eq!(gated["error"]["message"], "thread/start.permissions requires experimentalApi capability");
    let exp = h.client(4, json!({"experimentalApi": true}));
    let both = h.request(exp, "thread/start", json!({"sandbox": "read-only", "permissions": "p"}));
    assert_eq!(both["error"]["message"], "`permissions` cannot be combined with `sandbox`");
}

#[test]
fn a_second_connection_rejoins_mid_turn_and_sees_the_rest() {
    let mut h = Harness::new(5);
    let a = h.client(1, json!(null));
    let b = h.client(2, json!(null));
    let t = h.start_thread(a);
    h.take(b);
    let turn_id = h.start_turn(a, t, "hello");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    let msg = |text: &str| serde_json::from_value(json!({"type": "agentMessage", "text": text})).unwrap();
    h.engine_event(t, EngineEvent::ItemStarted { turn_id, key: ItemKey(1), body: msg("") });
    h.engine_event(
        t,
        EngineEvent::ItemDelta {
            turn_id,
            key: ItemKey(1),
            delta: core_sm::ItemDelta::AgentMessage("par".into()),
        },
    );
    assert_eq!(h.methods(b), ["thread/status/changed:active"], "b is not subscribed yet");
    let r = h.request(b, "thread/resume", json!({"threadId": t.to_string(), "model": "ignored"}));
    let thread = &r["result"]["thread"];
    assert_eq!(thread["status"], json!({"type": "active", "activeFlags": []}));
    let turn = &thread["turns"][0];
    assert_eq!(turn["status"], "inProgress");
    assert_eq!(turn["items"][1]["text"], "par", "snapshot carries the text streamed so far");
    assert_ne!(r["result"]["model"], "ignored", "overrides are ignored on rejoin");
    h.take(b);
    h.engine_event(t, EngineEvent::ItemCompleted { turn_id, key: ItemKey(1), body: msg("partial") });
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id });
    let expected = ["item/completed:agentMessage", "thread/status/changed:idle", "turn/completed"];
    assert_eq!(h.methods(b), expected);
    // Unsubscribed connections get broadcasts but no turn events.
    let u = h.request(b, "thread/unsubscribe", json!({"threadId": t.to_string()}));
    assert_eq!(u["result"], json!({"status": "unsubscribed"}));
    let u = h.request(b, "thread/unsubscribe", json!({"threadId": t.to_string()}));
    assert_eq!(u["result"], json!({"status": "notSubscribed"}));
    h.take(b);
    let next = h.start_turn(a, t, "again");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: next });
    assert_eq!(h.methods(b), ["thread/status/changed:active"]);
}

#[test]
fn disconnect_keeps_the_thread_running_then_idle_unload_and_cold_resume() {
    let mut config = MachineConfig::new(5);
    config.thread_unload_delay_ms = 1_000;
    let mut h = Harness::with_config(config);
    let a = h.client(1, json!(null));
    let watcher = h.client(2, json!(null));
    let t = h.start_thread(a);
    let turn_id = h.start_turn(a, t, "work");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    h.input(Input::ConnectionClosed { conn: a });
    assert_eq!(h.machine.poll_timeout(), None, "no unload while a turn runs");
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id });
    let deadline = h.machine.poll_timeout().expect("unload timer runs once idle and unsubscribed");
    h.take(watcher);
    h.input(Input::Tick);
    assert_eq!(h.machine.loaded_threads(), vec![t], "not due yet");
    h.now = deadline;
    h.input(Input::Tick);
    assert_eq!(h.methods(watcher), ["thread/status/changed:notLoaded", "thread/closed"]);
    assert!(h.machine.loaded_threads().is_empty());
    assert!(matches!(&h.take_engine()[..], [(_, core_sm::EngineCommand::CloseThread)]));

    let listed = h.request(watcher, "thread/list", json!({}));
    assert_eq!(listed["result"]["data"][0]["status"], json!({"type": "notLoaded"}));
    let e = h.request(watcher, "turn/start", json!({"threadId": t.to_string(), "input": []}));
    assert_eq!(e["error"]["message"], format!("thread not found: {t}"));
    h.take(watcher);
    let r = h.request(watcher, "thread/resume", json!({"threadId": t.to_string()}));
    assert_eq!(r["result"]["thread"]["turns"][0]["status"], "completed");
    assert_eq!(
        h.methods(watcher),
        ["thread/status/changed:idle", "<result>"],
        "cold resume announces idle first"
    );
}

#[test]
fn list_pages_with_cursors_and_filters() {
    let mut h = Harness::new(5);
    let c = h.client(1, json!(null));
    let mut ids = Vec::new();
    for i in 0..5 {
        h.advance(1_000);
        let t = h.start_thread(c);
        let turn = h.start_turn(c, t, &format!("task {i}"));
        h.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
        ids.push(t.to_string());
    }
    let ephemeral = h.request(c, "thread/start", json!({"ephemeral": true}));
    assert_eq!(ephemeral["result"]["thread"]["ephemeral"], true);
    let unmaterialized = h.start_thread(c);
    h.take(c);

    let page = |h: &mut Harness, params: Value| -> (Vec<String>, Value) {
        let r = h.request(c, "thread/list", params);
        let data = r["result"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        (data, r["result"]["nextCursor"].clone())
    };
    let (first, cursor) = page(&mut h, json!({"limit": 2}));
    assert_eq!(first, [ids[4].clone(), ids[3].clone()], "newest first by default");
    let (second, cursor) = page(&mut h, json!({"limit": 2, "cursor": cursor}));
    assert_eq!(second, [ids[2].clone(), ids[1].clone()]);
    let (third, cursor) = page(&mut h, json!({"limit": 2, "cursor": cursor}));
    assert_eq!((third, cursor), (vec![ids[0].clone()], Value::Null));
    let (asc, _) = page(&mut h, json!({"sortDirection": "asc", "limit": 100}));
    assert_eq!(asc, ids, "ephemeral and unmaterialized threads are not listed");
    let (found, _) = page(&mut h, json!({"searchTerm": "task 3"}));
    assert_eq!(found, [ids[3].clone()]);
    let (none, _) = page(&mut h, json!({"modelProviders": ["openai"]}));
    assert!(none.is_empty());
    let (all, _) = page(&mut h, json!({"modelProviders": [], "limit": 0}));
    assert_eq!(all.len(), 1, "limit clamps to at least 1");
    let bad = h.request(c, "thread/list", json!({"cursor": "garbage"}));
    assert_eq!(bad["error"]["message"], "invalid cursor: garbage");

    let loaded = h.request(c, "thread/loaded/list", json!({"limit": 3}));
    let data = loaded["result"]["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    let rest = h.request(c, "thread/loaded/list", json!({"cursor": loaded["result"]["nextCursor"]}));
    assert_eq!(rest["result"]["data"].as_array().unwrap().len(), 4, "7 loaded in all");
    assert_eq!(rest["result"]["nextCursor"], Value::Null);
    let e =
        h.request(c, "thread/read", json!({"threadId": unmaterialized.to_string(), "includeTurns": true}));
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("includeTurns is unavailable before first user message"));
}

#[test]
fn names_are_trimmed_broadcast_and_persisted() {
    let mut h = Harness::new(5);
    let a = h.client(1, json!(null));
    let b = h.client(2, json!(null));
    let t = h.start_thread(a);
    let turn = h.start_turn(a, t, "hello");
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
    h.take(a);
    h.take(b);
    h.other.clear();
    let e = h.request(a, "thread/name/set", json!({"threadId": t.to_string(), "name": "   "}));
    assert_eq!(e["error"]["message"], "thread name must not be empty");
    let r = h.request(a, "thread/name/set", json!({"threadId": t.to_string(), "name": "  My task "}));
    assert_eq!(r["result"], json!({}));
    let frames = h.take(a);
    assert_eq!(frames[2]["params"], json!({"threadId": t.to_string(), "threadName": "My task"}));
    assert_eq!(h.methods(b), ["thread/name/updated"]);
    assert!(
        matches!(&h.other[..], [Output::Persist { record: RolloutRecord::ThreadNameUpdated { name }, .. }] if name == "My task")
    );
    let read = h.request(a, "thread/read", json!({"threadId": t.to_string()}));
    assert_eq!(read["result"]["thread"]["name"], "My task");
}

#[test]
fn stored_threads_load_through_storage() {
    // A first machine persists a thread; a second one (a restart) loads it through storage.
    let mut h = Harness::new(5);
    let c = h.client(1, json!(null));
    let t = h.start_thread(c);
    let turn = h.start_turn(c, t, "remember me");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: turn });
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
    let records: Vec<RolloutRecord> = h
        .other
        .drain(..)
        .filter_map(|o| match o {
            Output::Persist { record, .. } => Some(record),
            _ => None,
        })
        .collect();
    assert!(matches!(records[0], RolloutRecord::SessionMeta(_)));

    let mut h2 = Harness::new(6);
    let c = h2.client(1, json!(null));
    let unknown = core_sm::ThreadId::parse("019ab000-0000-7000-8000-000000000000").unwrap();
    h2.send_request(c, 50, "thread/resume", json!({"threadId": unknown.to_string()}));
    h2.send_request(c, 51, "thread/read", json!({"threadId": unknown.to_string()}));
    assert!(
        matches!(&h2.other[..], [Output::Load { thread_id }] if *thread_id == unknown),
        "one load for both"
    );
    h2.input(Input::Storage(StorageResult::NotFound { thread_id: unknown }));
    assert_eq!(
        h2.reply(c, 50).unwrap()["error"]["message"],
        format!("no rollout found for thread id {unknown}")
    );
    assert_eq!(h2.reply(c, 51).unwrap()["error"]["message"], format!("thread not loaded: {unknown}"));

    h2.send_request(c, 52, "thread/resume", json!({"threadId": t.to_string()}));
    h2.input(Input::Storage(StorageResult::Loaded { thread_id: t, records }));
    let r = h2.reply(c, 52).unwrap();
    assert_eq!(r["result"]["thread"]["preview"], "remember me");
    assert_eq!(r["result"]["thread"]["turns"][0]["items"][0]["type"], "userMessage");
    h2.input(Input::Storage(StorageResult::NotFound { thread_id: t }));
    let e = h2.request(c, "thread/resume", json!({"threadId": "nope"}));
    assert!(e["error"]["message"].as_str().unwrap().starts_with("invalid session id: "));
}

/// Drives a fixed scenario and returns every frame written, in order.
fn scripted_run(seed: u64) -> Vec<(core_sm::ConnectionId, String)> {
    let mut h = Harness::new(seed);
    let a = h.client(1, json!(null));
    let b = h.client(2, json!({"optOutNotificationMethods": ["item/agentMessage/delta"]}));
    let t = h.start_thread(a);
    h.request(b, "thread/resume", json!({"threadId": t.to_string()}));
    let turn_id = h.start_turn(a, t, "determinism");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id });
    let msg = serde_json::from_value(json!({"type": "agentMessage", "text": "ok"})).unwrap();
    h.engine_event(t, EngineEvent::ItemCompleted { turn_id, key: ItemKey(1), body: msg });
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id });
    h.request(a, "thread/list", json!({}));
    h.wire_log
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    assert_eq!(scripted_run(42), scripted_run(42));
    assert_ne!(scripted_run(42), scripted_run(43), "the seed reaches the ids");
}

#[test]
fn shutdown_closes_connections_and_engines() {
    let mut h = Harness::new(5);
    let c = h.client(1, json!(null));
    let t = h.start_thread(c);
    h.input(Input::Shutdown);
    assert!(matches!(&h.other[..], [Output::Close { conn }] if *conn == c));
    assert!(matches!(&h.take_engine()[..], [(id, core_sm::EngineCommand::CloseThread)] if *id == t));
    assert!(h.machine.connections().is_empty());
}
