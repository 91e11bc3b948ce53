//! `thread/fork`, `thread/archive` and `thread/unarchive` (PROTOCOL.md §7.3, §7.4): what is
//! copied, who hears what in which order, teardown of a loaded thread, and what storage holds.

mod common;

use common::Harness;
use core_sm::history::{rebuild, RolloutRecord};
use core_sm::{
    ConnectionId, EngineCommand, EngineEvent, EngineRequest, Input, ItemKey, Output, RequestKey,
    StorageResult, ThreadId, TurnId,
};
use serde_json::{json, Value};

fn message(text: &str) -> core_sm::wire::ItemBody {
    serde_json::from_value(json!({"type": "agentMessage", "text": text})).unwrap()
}

/// A finished turn on `t` whose agent said `text`.
fn finished_turn(h: &mut Harness, c: ConnectionId, t: ThreadId, text: &str) -> TurnId {
    let turn = h.start_turn(c, t, text);
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: turn });
    h.engine_event(t, EngineEvent::ItemStarted { turn_id: turn, key: ItemKey(1), body: message(text) });
    h.engine_event(t, EngineEvent::ItemCompleted { turn_id: turn, key: ItemKey(1), body: message(text) });
    h.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
    h.take(c);
    turn
}

fn id_of(v: &Value) -> ThreadId {
    ThreadId::parse(v.as_str().expect("a thread id")).unwrap()
}

fn persisted(h: &mut Harness, thread: ThreadId) -> Vec<RolloutRecord> {
    std::mem::take(&mut h.other)
        .into_iter()
        .filter_map(|o| match o {
            Output::Persist { thread_id, record } if thread_id == thread => Some(record),
            _ => None,
        })
        .collect()
}

fn agent_texts(thread: &Value) -> Vec<String> {
    thread["turns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["items"].as_array().unwrap().iter())
        .filter(|i| i["type"] == "agentMessage")
        .map(|i| i["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_fork_copies_the_history_subscribes_the_requester_and_announces_itself() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let b = h.client(2, json!(null));
    let t = h.start_thread(a);
    h.request(a, "thread/name/set", json!({"threadId": t.to_string(), "name": "origin"}));
    finished_turn(&mut h, a, t, "one");
    finished_turn(&mut h, a, t, "two");
    h.take(a);
    h.take(b);
    h.other.clear();

    let r = h.request(b, "thread/fork", json!({"threadId": t.to_string(), "cwd": "/fork"}));
    let thread = &r["result"]["thread"];
    let fork = id_of(&thread["id"]);
    assert_ne!(fork, t);
    assert_eq!(thread["forkedFromId"], t.to_string());
    assert_eq!(thread["name"], "origin");
    assert_eq!(thread["status"], json!({"type": "idle"}));
    assert_eq!(r["result"]["cwd"], "/fork");
    assert_eq!(agent_texts(thread), ["one", "two"]);
    // Response, restored usage (none known here), then the broadcast; no status change.
    assert_eq!(h.methods(b), ["<result>", "thread/started"]);
    assert_eq!(h.methods(a), ["thread/started"]);
    let opened: Vec<_> = h
        .take_engine()
        .into_iter()
        .map(|(t, c)| (t, matches!(c, EngineCommand::OpenThread { .. })))
        .collect();
    assert_eq!(opened, [(fork, true)]);

    // The copy is on disk at once: meta naming the source, then the copied turns.
    let records = persisted(&mut h, fork);
    assert!(matches!(&records[0], RolloutRecord::SessionMeta(m) if m.forked_from_id == Some(t)));
    assert_eq!(records.iter().filter(|r| matches!(r, RolloutRecord::TurnCopied { .. })).count(), 2);
    let stored = rebuild(&records).unwrap();
    assert_eq!(stored.turns.len(), 2);
    assert_eq!(stored.meta.forked_from_id, Some(t));

    // b is subscribed to the fork (not to the source): a turn there reaches b only.
    let turn = h.start_turn(b, fork, "on the fork");
    h.engine_event(fork, EngineEvent::TurnStarted { turn_id: turn });
    assert!(h.methods(b).contains(&"turn/started".to_owned()));
    assert!(!h.methods(a).contains(&"turn/started".to_owned()));
}

#[test]
fn last_turn_id_truncates_and_must_name_a_finished_turn() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let t = h.start_thread(a);
    let first = finished_turn(&mut h, a, t, "one");
    finished_turn(&mut h, a, t, "two");
    let r = h.request(a, "thread/fork", json!({"threadId": t.to_string(), "lastTurnId": first.to_string()}));
    assert_eq!(agent_texts(&r["result"]["thread"]), ["one"]);
    let r = h.request(a, "thread/fork", json!({"threadId": t.to_string(), "lastTurnId": "nope"}));
    assert_eq!(r["error"], json!({"code": -32600, "message": "turn not found: nope"}));
    let running = h.start_turn(a, t, "three");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: running });
    let r =
        h.request(a, "thread/fork", json!({"threadId": t.to_string(), "lastTurnId": running.to_string()}));
    assert_eq!(r["error"]["code"], -32600);
    assert_eq!(r["error"]["message"], format!("turn {running} is in progress and cannot be forked"));
}

#[test]
fn forking_mid_turn_copies_the_running_turn_as_interrupted() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let t = h.start_thread(a);
    let turn = h.start_turn(a, t, "run it");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: turn });
    let command: core_sm::wire::ItemBody = serde_json::from_value(json!({
        "type": "commandExecution", "command": "make", "cwd": "/w", "status": "inProgress", "commandActions": []
    }))
    .unwrap();
    h.engine_event(t, EngineEvent::ItemStarted { turn_id: turn, key: ItemKey(7), body: command });
    h.take(a);
    let r = h.request(a, "thread/fork", json!({"threadId": t.to_string(), "excludeTurns": false}));
    let copied = &r["result"]["thread"]["turns"][0];
    assert_eq!(copied["id"], turn.to_string());
    assert_eq!(copied["status"], "interrupted");
    let item = copied["items"].as_array().unwrap().iter().find(|i| i["type"] == "commandExecution").unwrap();
    assert_eq!(item["status"], "failed", "an unfinished item is settled as an abort settles it");
    // The source is untouched: its turn is still running.
    let read = h.request(a, "thread/read", json!({"threadId": t.to_string(), "includeTurns": true}));
    assert_eq!(read["result"]["thread"]["turns"][0]["status"], "inProgress");
    // excludeTurns leaves them out of the response only.
    let r = h.request(a, "thread/fork", json!({"threadId": t.to_string(), "excludeTurns": true}));
    assert_eq!(r["result"]["thread"]["turns"], json!([]));
}

#[test]
fn only_threads_with_a_rollout_can_be_forked() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let fresh = h.start_thread(a);
    let r = h.request(a, "thread/fork", json!({"threadId": fresh.to_string()}));
    assert_eq!(r["error"]["message"], format!("no rollout found for thread id {fresh}"));
    let r = h.request(a, "thread/fork", json!({"threadId": "not-a-uuid"}));
    assert!(r["error"]["message"].as_str().unwrap().starts_with("invalid thread id: "), "{r}");

    // Unknown to the machine: loaded from storage first.
    let stored = ThreadId::parse("019ab698-1bda-7dff-9d99-d2808f614b03").unwrap();
    h.send_request(a, 50, "thread/fork", json!({"threadId": stored.to_string()}));
    assert!(h.other.iter().any(|o| matches!(o, Output::Load { thread_id } if *thread_id == stored)));
    h.input(Input::Storage(StorageResult::NotFound { thread_id: stored }));
    let r = h.reply(a, 50).unwrap();
    assert_eq!(
        r["error"],
        json!({"code": -32600, "message": format!("no rollout found for thread id {stored}")})
    );
}

#[test]
fn archiving_a_loaded_thread_tears_it_down_and_hides_it() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let b = h.client(2, json!(null));
    let t = h.start_thread(a);
    finished_turn(&mut h, a, t, "one");
    h.request(b, "thread/resume", json!({"threadId": t.to_string()}));
    h.take(a);
    h.take(b);
    h.take_engine();

    let r = h.request(b, "thread/archive", json!({"threadId": t.to_string()}));
    assert_eq!(r["result"], json!({}));
    assert_eq!(h.methods(b), ["thread/status/changed:notLoaded", "<result>", "thread/archived"]);
    assert_eq!(h.methods(a), ["thread/status/changed:notLoaded", "thread/archived"]);
    assert!(matches!(h.take_engine().as_slice(), [(id, EngineCommand::CloseThread)] if *id == t));
    assert!(persisted(&mut h, t).contains(&RolloutRecord::ThreadArchived));

    let list = h.request(a, "thread/list", json!({}));
    assert_eq!(list["result"]["data"], json!([]));
    let archived = h.request(a, "thread/list", json!({"archived": true}));
    assert_eq!(archived["result"]["data"][0]["id"], t.to_string());
    let resume = h.request(a, "thread/resume", json!({"threadId": t.to_string()}));
    assert_eq!(
        resume["error"]["message"],
        format!("session {t} is archived. Run `codex unarchive {t}` to unarchive it first.")
    );
    let again = h.request(a, "thread/archive", json!({"threadId": t.to_string()}));
    assert_eq!(again["error"]["message"], format!("no rollout found for thread id {t}"));
    let fork = h.request(a, "thread/fork", json!({"threadId": t.to_string()}));
    assert_eq!(fork["error"]["message"], format!("no rollout found for thread id {t}"));
    h.take(a);
    h.take(b);

    let r = h.request(a, "thread/unarchive", json!({"threadId": t.to_string()}));
    assert_eq!(r["result"]["thread"]["status"], json!({"type": "notLoaded"}));
    assert_eq!(h.methods(a), ["<result>", "thread/unarchived"]);
    assert_eq!(h.methods(b), ["thread/unarchived"]);
    assert!(persisted(&mut h, t).contains(&RolloutRecord::ThreadUnarchived));
    let again = h.request(a, "thread/unarchive", json!({"threadId": t.to_string()}));
    assert_eq!(again["error"]["message"], format!("no archived rollout found for thread id {t}"));
    let resume = h.request(a, "thread/resume", json!({"threadId": t.to_string()}));
    assert_eq!(agent_texts(&resume["result"]["thread"]), ["one"]);
}

#[test]
fn archiving_mid_turn_drops_requests_silently_and_ends_the_turn_unannounced() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let t = h.start_thread(a);
    let turn = h.start_turn(a, t, "risky");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: turn });
    let request = EngineRequest::CommandApproval {
        item: ItemKey(3),
        approval_id: None,
        command: "rm -rf build".into(),
        cwd: "/w".into(),
        command_actions: vec![],
        reason: None,
        available_decisions: None,
        proposed_execpolicy_amendment: None,
    };
    h.engine_event(t, EngineEvent::Request { turn_id: turn, key: RequestKey(1), request });
    let approval =
        h.take(a).into_iter().find(|f| f["method"] == "item/commandExecution/requestApproval").unwrap();
    h.send_request(a, 40, "turn/interrupt", json!({"threadId": t.to_string(), "turnId": turn.to_string()}));
    h.take(a);
    h.take_engine();

    let r = h.request(a, "thread/archive", json!({"threadId": t.to_string()}));
    assert_eq!(r["result"], json!({}));
    let got = h.methods(a);
    assert_eq!(
        got,
        ["<result>", "thread/status/changed:notLoaded", "<result>", "thread/archived"],
        "interrupt answered, no turn/completed, no serverRequest/resolved"
    );
    // A late answer to the dropped request goes nowhere.
    h.raw(a, &json!({"id": approval["id"], "result": {"decision": "accept"}}).to_string());
    assert!(h.take(a).is_empty());
    assert!(!h.take_engine().iter().any(|(_, c)| matches!(c, EngineCommand::RequestResolved { .. })));
    // The history keeps the turn, interrupted.
    h.request(a, "thread/unarchive", json!({"threadId": t.to_string()}));
    let read = h.request(a, "thread/read", json!({"threadId": t.to_string(), "includeTurns": true}));
    assert_eq!(read["result"]["thread"]["turns"][0]["status"], "interrupted");
    let records = persisted(&mut h, t);
    assert!(records
        .iter()
        .any(|r| matches!(r, RolloutRecord::TurnEnded { turn_id, .. } if *turn_id == turn)));
}

#[test]
fn archive_state_survives_a_reload_from_storage() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let t = h.start_thread(a);
    h.other.clear();
    finished_turn(&mut h, a, t, "one");
    h.request(a, "thread/archive", json!({"threadId": t.to_string()}));
    let records = persisted(&mut h, t);
    assert!(rebuild(&records).unwrap().archived);

    // A new server knows the thread only from storage.
    let mut fresh = Harness::new(10);
    let c = fresh.client(1, json!(null));
    fresh.send_request(c, 7, "thread/resume", json!({"threadId": t.to_string()}));
    fresh.input(Input::Storage(StorageResult::Loaded { thread_id: t, records: records.clone() }));
    let r = fresh.reply(c, 7).unwrap();
    assert_eq!(
        r["error"]["message"],
        format!("session {t} is archived. Run `codex unarchive {t}` to unarchive it first.")
    );
    let mut other = Harness::new(11);
    let c = other.client(1, json!(null));
    other.send_request(c, 8, "thread/unarchive", json!({"threadId": t.to_string()}));
    other.input(Input::Storage(StorageResult::Loaded { thread_id: t, records }));
    assert_eq!(other.reply(c, 8).unwrap()["result"]["thread"]["id"], t.to_string());
}

#[test]
fn archiving_answers_interrupts_of_a_turn_the_engine_never_started() {
    let mut h = Harness::new(9);
    let a = h.client(1, json!(null));
    let t = h.start_thread(a);
    let turn = h.start_turn(a, t, "queued");
    // Accepted, not started: the interrupt waits for the engine.
    h.send_request(a, 30, "turn/interrupt", json!({"threadId": t.to_string(), "turnId": turn.to_string()}));
    assert!(h.reply(a, 30).is_none());
    h.request(a, "thread/archive", json!({"threadId": t.to_string()}));
    assert_eq!(h.reply(a, 30).map(|r| r["result"].clone()), Some(json!({})));
    // Nothing of the turn is recorded: the engine never began it.
    h.request(a, "thread/unarchive", json!({"threadId": t.to_string()}));
    let read = h.request(a, "thread/read", json!({"threadId": t.to_string(), "includeTurns": true}));
    assert_eq!(read["result"]["thread"]["turns"], json!([]));
}
