//! Connection ids may be reused after a close (adapters number connections as they like): a new
//! connection must never inherit anything of the old one's (found by the simulator, seeds 0,
//! 786 and 14401).

mod common;

use common::Harness;
use core_sm::history::RolloutRecord;
use core_sm::{EngineEvent, Input, Output, StorageResult};
use serde_json::json;

#[test]
fn a_reused_id_does_not_receive_a_deferred_interrupt_reply() {
    let mut h = Harness::new(21);
    let c = h.client(1, json!(null));
    let t = h.start_thread(c);
    let turn = h.start_turn(c, t, "slow");
    h.engine_event(t, EngineEvent::TurnStarted { turn_id: turn });
    h.send_request(c, 40, "turn/interrupt", json!({"threadId": t.to_string(), "turnId": turn.to_string()}));
    h.input(Input::ConnectionClosed { conn: c });
    let again = h.client(1, json!(null));
    h.take(again);
    h.engine_event(t, EngineEvent::TurnAborted { turn_id: turn });
    let got = h.take(again);
    assert!(
        got.iter().all(|f| f.get("id") != Some(&json!(40))),
        "reply leaked to the new connection: {got:?}"
    );
}

#[test]
fn a_reused_id_does_not_inherit_parked_reads_or_resumes() {
    // Persist a thread in a first machine, to have records storage can return.
    let mut first = Harness::new(21);
    let c = first.client(1, json!(null));
    let t = first.start_thread(c);
    let turn = first.start_turn(c, t, "stored");
    first.engine_event(t, EngineEvent::TurnCompleted { turn_id: turn });
    let records: Vec<RolloutRecord> = first
        .other
        .drain(..)
        .filter_map(|o| match o {
            Output::Persist { record, .. } => Some(record),
            _ => None,
        })
        .collect();

    let mut h = Harness::new(22);
    let c = h.client(1, json!(null));
    h.send_request(c, 7, "thread/resume", json!({"threadId": t.to_string()}));
    h.send_request(c, 8, "thread/read", json!({"threadId": t.to_string()}));
    h.input(Input::ConnectionClosed { conn: c });
    let reused = h.open(1);
    h.input(Input::Storage(StorageResult::Loaded { thread_id: t, records }));
    assert!(h.take(reused).is_empty(), "nothing reaches a connection before its initialize");
    assert!(h.machine.thread_subscribers(t).is_empty(), "the new connection was never subscribed");
    // The loaded thread is still usable by whoever asks next.
    let r = h.request(reused, "initialize", json!({"clientInfo": {"name": "x", "version": "1"}}));
    assert!(r.get("result").is_some());
    let read = h.request(reused, "thread/read", json!({"threadId": t.to_string()}));
    assert_eq!(read["result"]["thread"]["preview"], "stored");
}
