//! Fork, archive and unarchive over the real binary: a turn, a fork of it (history copied,
//! `forkedFromId`, the requester subscribed), archiving the source (torn down, hidden from the
//! list, not resumable), unarchiving and resuming it. Every frame is schema-validated and the
//! transcript is an `insta` snapshot.

use serde_json::json;
use tests::server::{is_reply_to, Server};

#[test]
fn fork_archive_unarchive_transcript() {
    let mut s = Server::spawn(&[]);
    s.handshake("e2e-fork", json!(null));
    let started = s.request("thread/start", json!({}));
    let source = started["result"]["thread"]["id"].as_str().unwrap().to_owned();
    s.recv_until(|f| f["method"] == "thread/started");
    s.send_request(
        "turn/start",
        json!({"threadId": source, "input": [{"type": "text", "text": "keep this"}]}),
    );
    s.recv_until(|f| f["method"] == "turn/completed");

    let id = s.send_request("thread/fork", json!({"threadId": source}));
    let frames = s.recv_until(|f| f["method"] == "thread/started");
    assert!(is_reply_to(&frames[0], id), "the response comes first");
    let fork = &frames[0]["result"]["thread"];
    assert_eq!(fork["forkedFromId"], source.as_str());
    assert_eq!(fork["turns"].as_array().map(Vec::len), Some(1));
    let fork_id = fork["id"].as_str().unwrap().to_owned();
    s.send_request(
        "turn/start",
        json!({"threadId": fork_id, "input": [{"type": "text", "text": "and more"}]}),
    );
    s.recv_until(|f| f["method"] == "turn/completed");

    let id = s.send_request("thread/archive", json!({"threadId": source}));
    let frames = s.recv_until(|f| f["method"] == "thread/archived");
    assert_eq!(frames[0]["params"]["status"], json!({"type": "notLoaded"}));
    assert!(is_reply_to(&frames[1], id));
    let listed = s.request("thread/list", json!({}));
    let ids: Vec<_> = listed["result"]["data"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect();
    assert_eq!(ids, [json!(fork_id)], "the archived source is hidden");
    let archived = s.request("thread/list", json!({"archived": true}));
    assert_eq!(archived["result"]["data"][0]["id"], source.as_str());
    let refused = s.request("thread/resume", json!({"threadId": source}));
    assert_eq!(refused["error"]["code"], -32600);

    s.send_request("thread/unarchive", json!({"threadId": source}));
    s.recv_until(|f| f["method"] == "thread/unarchived");
    let resumed = s.request("thread/resume", json!({"threadId": source}));
    assert_eq!(resumed["result"]["thread"]["turns"].as_array().map(Vec::len), Some(1));

    s.assert_valid();
    insta::assert_snapshot!(s.snapshot());
    assert!(s.close().success());
}
