//! Writes the committed seed corpus: `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`.
//!
//! * `corpus/wire/seed-*`: every client frame of the insta transcripts
//!   (`tests/tests/snapshots/*.snap`, lines starting `-> `) with thread and turn ids rewritten
//!   to the wire prelude's, plus hand-written frames for the paths the snapshots do not reach
//!   (answers to the pending approval, steer/interrupt, loads, malformed envelopes).
//! * `corpus/protocol/seed-*`: encoded [`Script`]s: the stdio session transcript with engine
//!   events filled in, items of every kind, every server request kind answered by two clients,
//!   interrupts, unload and storage loads, network prompts and token-refresh timeouts.
//!
//! Each seed is run through its target first; a seed that fails is reported (and still written,
//! since it is then a reproducer).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use turnstile_fuzz::protocol::{self, Action, Event, Id, Script, Stored, IMPLEMENTED};
use turnstile_fuzz::wire;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

/// Client frames of every committed snapshot, in file order.
fn snapshot_frames() -> Vec<(String, Vec<String>)> {
    let snaps = root().join("../tests/tests/snapshots");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&snaps)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "snap"));
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, text.lines().filter_map(|l| l.strip_prefix("-> ")).map(str::to_owned).collect())
        })
        .collect()
}

/// Rewrites ids: `threadId`-like keys via `thread`, `turnId`-like keys via `turn`.
fn rewrite(v: &mut Value, thread: &dyn Fn(&str) -> String, turn: &dyn Fn(&str) -> String) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let lower = k.to_ascii_lowercase();
                match x {
                    Value::String(s) if lower.ends_with("threadid") => *s = thread(s),
                    Value::String(s) if lower.ends_with("turnid") => *s = turn(s),
                    _ => rewrite(x, thread, turn),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, thread, turn)),
        _ => {}
    }
}

fn wire_seeds() -> Vec<(String, String)> {
    let (_, p) = wire::prelude(false).expect("prelude");
    let (t, u) = (p.thread.to_string(), p.turn.to_string());
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (snap, frames) in snapshot_frames() {
        for (i, f) in frames.iter().enumerate() {
            let mut v: Value = serde_json::from_str(f).expect("snapshot frames are JSON");
            rewrite(&mut v, &|_| t.clone(), &|_| u.clone());
            let text = v.to_string();
            if seen.insert(text.clone()) {
                let short = snap.trim_start_matches("e2e_session__");
                out.push((format!("snap-{short}-{i:02}"), text));
            }
        }
    }
    let hand: Vec<(&str, Value)> = vec![
        ("approve-accept", json!({"id": 0, "result": {"decision": "accept"}})),
        ("approve-session", json!({"id": 0, "result": {"decision": "acceptForSession"}})),
        ("approve-decline", json!({"id": 0, "result": {"decision": "decline"}})),
        ("approve-cancel", json!({"id": 0, "result": {"decision": "cancel"}})),
        (
            "approve-amend",
            json!({"id": 0, "result": {"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["rm"]}}}}),
        ),
        ("approve-error", json!({"id": 0, "error": {"code": -32603, "message": "client failed"}})),
        ("approve-malformed", json!({"id": 0, "result": {}})),
        ("answer-unknown", json!({"id": 7, "result": {"decision": "accept"}})),
        ("answer-string-id", json!({"id": "0", "result": {"decision": "accept"}})),
        (
            "steer",
            json!({"id": 10, "method": "turn/steer", "params": {"threadId": t, "expectedTurnId": u, "input": [{"type": "text", "text": "more"}]}}),
        ),
        (
            "steer-wrong-turn",
            json!({"id": 10, "method": "turn/steer", "params": {"threadId": t, "expectedTurnId": t, "input": [{"type": "text", "text": "more"}]}}),
        ),
        ("interrupt", json!({"id": 11, "method": "turn/interrupt", "params": {"threadId": t, "turnId": u}})),
        (
            "turn-start-joins",
            json!({"id": 12, "method": "turn/start", "params": {"threadId": t, "input": [{"type": "text", "text": "again"}]}}),
        ),
        ("resume-rejoin", json!({"id": 13, "method": "thread/resume", "params": {"threadId": t}})),
        (
            "resume-unknown",
            json!({"id": 14, "method": "thread/resume", "params": {"threadId": "019ab697-0000-7000-8000-000000000001"}}),
        ),
        (
            "read-unknown",
            json!({"id": 15, "method": "thread/read", "params": {"threadId": "019ab697-0000-7000-8000-000000000002", "includeTurns": true}}),
        ),
        (
            "read-turns",
            json!({"id": 16, "method": "thread/read", "params": {"threadId": t, "includeTurns": true}}),
        ),
        ("unsubscribe", json!({"id": 17, "method": "thread/unsubscribe", "params": {"threadId": t}})),
        (
            "name-set",
            json!({"id": 18, "method": "thread/name/set", "params": {"threadId": t, "name": "renamed"}}),
        ),
        (
            "list-paged",
            json!({"id": 19, "method": "thread/list", "params": {"limit": 1, "cursor": t, "sortKey": "created_at"}}),
        ),
        (
            "start-dynamic-tools",
            json!({"id": 20, "method": "thread/start", "params": {"dynamicTools": [{"name": "lookup", "description": "d", "inputSchema": {"type": "object"}}], "ephemeral": true}}),
        ),
        (
            "start-sandbox-and-permissions",
            json!({"id": 21, "method": "thread/start", "params": {"sandbox": "read-only", "permissions": {"network": {"enabled": true}}}}),
        ),
        ("unsupported", json!({"id": 22, "method": "thread/fork", "params": {"threadId": t}})),
        ("experimental", json!({"id": 23, "method": "thread/queue/list", "params": {"threadId": t}})),
        ("unknown-method", json!({"id": 24, "method": "no/such/method", "params": {}})),
        ("missing-params", json!({"id": 25, "method": "thread/read"})),
        ("notification", json!({"method": "initialized"})),
        (
            "jsonrpc-member",
            json!({"jsonrpc": "2.0", "id": "s", "method": "thread/loaded/list", "params": {}}),
        ),
    ];
    for (name, v) in hand {
        out.push((name.to_owned(), v.to_string()));
    }
    for (name, raw) in [
        ("empty", ""),
        ("open-brace", "{"),
        ("batch", r#"[{"id":1,"method":"thread/list","params":{}}]"#),
        ("null", "null"),
        ("id-only", r#"{"id":1}"#),
        ("float-id", r#"{"id":1.5,"method":"thread/list","params":{}}"#),
        ("huge-id", r#"{"id":92233720368547758070,"method":"thread/list","params":{}}"#),
        ("deep", &format!("{}{}", "[".repeat(200), "]".repeat(200))),
        ("dup-keys", r#"{"id":1,"method":"thread/list","params":{},"id":2}"#),
        ("error-bad-code", r#"{"id":0,"error":{"code":"x","message":"m"}}"#),
    ] {
        out.push((name.to_owned(), raw.to_owned()));
    }
    out
}

fn raw(conn: u8, text: &str) -> Action {
    Action::Raw { conn, text: text.into() }
}

fn req(conn: u8, method: &str) -> Action {
    let i = IMPLEMENTED.iter().position(|m| *m == method).expect("implemented method");
    Action::Request { conn, id: Id::Next, method: (i as u16) << 1, params: Vec::new() }
}

fn ev(event: Event) -> Action {
    Action::Engine { thread: 0, turn: 0, event }
}

const INIT: &str =
    r#"{"id":"i","method":"initialize","params":{"clientInfo":{"name":"seed","version":"1"}}}"#;

fn protocol_seeds() -> Vec<(String, Script)> {
    let mut out = Vec::new();

    // 1. The stdio session snapshot, ids as placeholders, engine events filled in.
    for (snap, frames) in snapshot_frames() {
        let mut threads: BTreeMap<String, usize> = BTreeMap::new();
        let mut turns: BTreeMap<String, usize> = BTreeMap::new();
        let mut actions = vec![Action::Open { conn: 0 }];
        for f in &frames {
            let mut v: Value = serde_json::from_str(f).unwrap();
            let t = |s: &str| {
                let n = threads.len();
                format!("$T{}", *threads.entry(s.to_owned()).or_insert(n))
            };
            let threads_ref = std::cell::RefCell::new(t);
            let u = |s: &str| {
                let n = turns.len();
                format!("$U{}", *turns.entry(s.to_owned()).or_insert(n))
            };
            let turns_ref = std::cell::RefCell::new(u);
            rewrite(&mut v, &|s| (threads_ref.borrow_mut())(s), &|s| (turns_ref.borrow_mut())(s));
            let is_turn_start = v["method"] == "turn/start";
            actions.push(raw(0, &v.to_string()));
            if is_turn_start {
                actions.push(ev(Event::TurnStarted));
                actions.push(ev(Event::ItemStarted { key: 1, body: 0 }));
                actions.push(ev(Event::ItemDelta { key: 1, delta: 0 }));
                actions.push(ev(Event::ItemCompleted { key: 1, body: 0 }));
                actions.push(ev(Event::TokenUsage { size: 2 }));
            }
            if is_turn_start && !f.contains("/sleep") {
                actions.push(ev(Event::TurnCompleted));
            }
        }
        let short = snap.trim_start_matches("e2e_session__");
        out.push((format!("snap-{short}"), Script { actions }));
    }

    // 2. Items of every kind, streamed and completed.
    let mut actions = vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        req(0, "thread/start"),
        req(0, "turn/start"),
        ev(Event::TurnStarted),
    ];
    for k in 0..11u8 {
        actions.push(ev(Event::ItemStarted { key: k % 8, body: k }));
        actions.push(ev(Event::ItemDelta { key: k % 8, delta: k }));
        actions.push(ev(Event::ItemCompleted { key: k % 8, body: k }));
    }
    actions.push(ev(Event::TurnCompleted));
    actions
        .push(raw(0, r#"{"id":"r","method":"thread/read","params":{"threadId":"$T0","includeTurns":true}}"#));
    out.push(("items-every-kind".into(), Script { actions }));

    // 3. Every server request kind, two subscribers, answers from both.
    let mut actions = vec![
        Action::Open { conn: 0 },
        Action::Open { conn: 1 },
        raw(0, INIT),
        raw(
            1,
            r#"{"id":"i","method":"initialize","params":{"clientInfo":{"name":"seed-2","version":"1"},"capabilities":{"experimentalApi":true}}}"#,
        ),
        req(0, "thread/start"),
        raw(1, r#"{"id":"r","method":"thread/resume","params":{"threadId":"$T0"}}"#),
        req(0, "turn/start"),
        ev(Event::TurnStarted),
    ];
    for kind in 0..7u8 {
        actions.push(ev(Event::Request { kind, item: kind, variant: kind }));
        actions.push(Action::Answer { conn: kind % 2, target: 0, reply: 0, body: Vec::new() });
    }
    actions.push(ev(Event::Request { kind: 0, item: 3, variant: 1 }));
    actions.push(Action::Answer { conn: 1, target: 0, reply: 180, body: Vec::new() });
    actions.push(Action::Answer { conn: 0, target: 0, reply: 0, body: Vec::new() });
    actions.push(ev(Event::TurnCompleted));
    out.push(("server-requests".into(), Script { actions }));

    // 4. Interrupt while an approval waits, answered by the abort.
    let actions = vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        req(0, "thread/start"),
        req(0, "turn/start"),
        ev(Event::TurnStarted),
        ev(Event::Request { kind: 1, item: 2, variant: 0 }),
        raw(0, r#"{"id":"x","method":"turn/interrupt","params":{"threadId":"$T0","turnId":"$U0"}}"#),
        raw(0, r#"{"id":"y","method":"turn/interrupt","params":{"threadId":"$T0","turnId":"$U0"}}"#),
        ev(Event::TurnAborted),
        req(0, "turn/start"),
        raw(
            0,
            r#"{"id":"s","method":"turn/steer","params":{"threadId":"$T0","expectedTurnId":"$U1","input":[{"type":"text","text":"queued"}]}}"#,
        ),
        ev(Event::TurnStarted),
        ev(Event::TurnFailed { error: 1 }),
    ];
    out.push(("interrupt-and-steer".into(), Script { actions }));

    // 5. Unload, cold resume, storage loads of foreign threads.
    let actions = vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        req(0, "thread/start"),
        raw(0, r#"{"id":"n","method":"thread/name/set","params":{"threadId":"$T0","name":"kept"}}"#),
        raw(0, r#"{"id":"u","method":"thread/unsubscribe","params":{"threadId":"$T0"}}"#),
        Action::Advance { step: 9 },
        raw(0, r#"{"id":"r","method":"thread/resume","params":{"threadId":"$T0"}}"#),
        raw(0, r#"{"id":"f0","method":"thread/resume","params":{"threadId":"$F0"}}"#),
        raw(0, r#"{"id":"f0b","method":"thread/read","params":{"threadId":"$F0","includeTurns":true}}"#),
        Action::Storage { load: 0, result: Stored::Loaded { variant: 2 } },
        raw(0, r#"{"id":"f1","method":"thread/read","params":{"threadId":"$F1"}}"#),
        Action::Storage { load: 0, result: Stored::NotFound },
        raw(0, r#"{"id":"f2","method":"thread/resume","params":{"threadId":"$F2"}}"#),
        Action::Storage { load: 0, result: Stored::Failed { text: 0 } },
        Action::Storage { load: 220, result: Stored::Loaded { variant: 5 } },
        raw(0, r#"{"id":"l","method":"thread/list","params":{}}"#),
        raw(0, r#"{"id":"ll","method":"thread/loaded/list","params":{}}"#),
    ];
    out.push(("unload-and-storage".into(), Script { actions }));

    // 6. Network prompts (deduplicated per destination) and a token refresh that times out.
    let actions = vec![
        Action::Open { conn: 0 },
        raw(0, INIT),
        req(0, "thread/start"),
        req(0, "turn/start"),
        ev(Event::TurnStarted),
        ev(Event::Network { host: 0, port: 0 }),
        ev(Event::Network { host: 1, port: 0 }),
        ev(Event::Network { host: 2, port: 1 }),
        Action::Answer { conn: 0, target: 1, reply: 0, body: vec![0, 1] },
        ev(Event::Request { kind: 6, item: 0, variant: 0 }),
        Action::Advance { step: 5 },
        ev(Event::TurnCompleted),
    ];
    out.push(("network-and-refresh".into(), Script { actions }));

    // 7. Every implemented method from the schema sketches, before and after initialize.
    let mut actions = vec![Action::Open { conn: 2 }];
    for m in IMPLEMENTED {
        actions.push(req(2, m));
    }
    actions.push(req(2, "initialize"));
    for m in IMPLEMENTED {
        actions.push(req(2, m));
    }
    actions.push(Action::Close { conn: 2 });
    actions.push(Action::Shutdown);
    out.push(("schema-methods".into(), Script { actions }));
    out
}

fn main() {
    let corpus = root().join("corpus");
    let mut bad = 0;
    for (name, text) in wire_seeds() {
        if let Err(f) = wire::run(text.as_bytes()) {
            bad += 1;
            eprintln!("wire seed {name} fails: {f}");
        }
        write(&corpus.join("wire"), &name, text.as_bytes());
    }
    for (name, script) in protocol_seeds() {
        let bytes = script.encode();
        assert_eq!(Script::decode(&bytes), script, "seed {name} does not round-trip");
        if let Err(f) = protocol::run(&script) {
            bad += 1;
            eprintln!("protocol seed {name} fails: {f}");
        }
        write(&corpus.join("protocol"), &name, &bytes);
    }
    println!("seeds written to {}; {bad} fail their target", corpus.display());
}
