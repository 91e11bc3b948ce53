//! The `wire` target: arbitrary bytes as one inbound frame on an initialized connection.
//!
//! A fixed prelude sets the scene: connection 0 initialized (experimentalApi) with a thread
//! ([`Prelude::thread`]) running a turn ([`Prelude::turn`]) that waits on a command approval
//! (server request id 0); connection 1 initialized (no experimentalApi, opting out of
//! `item/agentMessage/delta`) and resumed onto the thread, so it got the approval replayed.
//! Then the fuzz bytes arrive on connection 0 (invalid UTF-8 replaced, as a transport would
//! have to), the world reacts (storage answers loads, the engine ends the turn) and:
//!
//! * nothing panics and the simulator's oracle finds nothing (quiescence checks included);
//! * every frame the machine sent from the fuzz frame on is valid JSON and valid against the
//!   schema, responses paired with the request they answer (`tests::Transcript`);
//! * a frame that decodes as a request gets exactly one reply.

use std::sync::OnceLock;

use core_sm::wire::{Incoming, RequestId};
use core_sm::{ConnectionId, Input, RequestKey, ThreadId, TurnId};
use serde_json::{json, Value};
use tests::Transcript;

use crate::drive::{Drive, Failure};
use crate::protocol::{build_event, Event};

/// The machine seed of the prelude: fixes [`Prelude::thread`] and [`Prelude::turn`].
pub const SEED: u64 = 0x5eed;

/// The connection the fuzz frame arrives on.
pub const C0: ConnectionId = ConnectionId(0);
/// The second, resumed connection.
pub const C1: ConnectionId = ConnectionId(1);

/// Ids the prelude created.
#[derive(Clone, Debug)]
pub struct Prelude {
    /// The thread on connection 0 (and 1).
    pub thread: ThreadId,
    /// Its running turn.
    pub turn: TurnId,
    /// Client frames of the prelude, in order (for validation).
    pub client_frames: Vec<String>,
}

/// Plays the prelude on a fresh machine; with `record`, the drive records frames from the start.
pub fn prelude(record: bool) -> Result<(Drive, Prelude), Failure> {
    prelude_on(Drive::new(SEED), record)
}

fn prelude_on(mut d: Drive, record: bool) -> Result<(Drive, Prelude), Failure> {
    if record {
        d.record = Some(Vec::new());
    }
    let mut client_frames = Vec::new();
    let mut send = |d: &mut Drive, conn: ConnectionId, v: Value| {
        let text = v.to_string();
        client_frames.push(text.clone());
        d.feed(Input::Frame { conn, text })
    };
    d.feed(Input::ConnectionOpened { conn: C0 })?;
    d.feed(Input::ConnectionOpened { conn: C1 })?;
    send(
        &mut d,
        C0,
        json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "fuzz", "version": "1.0"}, "capabilities": {"experimentalApi": true}}}),
    )?;
    send(&mut d, C0, json!({"id": 2, "method": "thread/start", "params": {}}))?;
    let thread =
        *d.threads.last().ok_or_else(|| Failure { what: "prelude: thread/start opened no thread".into() })?;
    send(
        &mut d,
        C0,
        json!({"id": 3, "method": "turn/start", "params": {"threadId": thread.to_string(), "input": [{"type": "text", "text": "hello"}]}}),
    )?;
    let turn =
        d.turns.last().ok_or_else(|| Failure { what: "prelude: turn/start started no turn".into() })?.1;
    for e in [
        Event::TurnStarted,
        Event::ItemStarted { key: 1, body: 0 },
        Event::Request { kind: 0, item: 2, variant: 0 },
    ] {
        d.feed(Input::Engine { thread_id: thread, event: build_event(&e, turn, RequestKey(1)) })?;
    }
    send(
        &mut d,
        C1,
        json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "fuzz-2", "version": "1.0"}, "capabilities": {"optOutNotificationMethods": ["item/agentMessage/delta"]}}}),
    )?;
    send(
        &mut d,
        C1,
        json!({"id": 2, "method": "thread/resume", "params": {"threadId": thread.to_string()}}),
    )?;
    if d.server_requests.iter().filter(|r| r.id == 0).count() != 2 {
        return Err(Failure {
            what: format!("prelude: approval #0 not on both connections: {:?}", d.server_requests),
        });
    }
    Ok((d, Prelude { thread, turn, client_frames }))
}

/// The prelude's frames, schema-checked once per process (they are identical every run).
pub fn check_prelude_once() -> Result<(), Failure> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let (mut d, p) = prelude(true).map_err(|f| f.what)?;
            let mut t = Transcript::new();
            let frames = d.record.take().unwrap_or_default();
            // Split by connection: each connection is its own conversation.
            let c0_client = &p.client_frames[..3];
            let c1_client = &p.client_frames[3..];
            for text in c0_client {
                t.client(text.as_str());
            }
            for (conn, f) in &frames {
                if *conn == C0 {
                    t.server(&**f);
                }
            }
            let mut t1 = Transcript::new();
            for text in c1_client {
                t1.client(text.as_str());
            }
            for (conn, f) in &frames {
                if *conn == C1 {
                    t1.server(&**f);
                }
            }
            match (t.report(), t1.report()) {
                (None, None) => Ok(()),
                (a, b) => Err(format!(
                    "prelude frames are not schema-valid:\n{}\n{}",
                    a.unwrap_or_default(),
                    b.unwrap_or_default()
                )),
            }
        })
        .clone()
        .map_err(|what| Failure { what })
}

/// Runs one input; `Err` is a finding.
pub fn run(data: &[u8]) -> Result<(), Failure> {
    check_prelude_once()?;
    let (mut d, _) = prelude(false)?;
    check(&mut d, data)
}

/// Like [`run`], with a readable trace of the whole run in the returned drive.
pub fn run_traced(data: &[u8]) -> (Option<Drive>, Result<(), Failure>) {
    if let Err(f) = check_prelude_once() {
        return (None, Err(f));
    }
    let mut d = Drive::new(SEED);
    d.trace = Some(Vec::new());
    let (mut d, _) = match prelude_on(d, false) {
        Ok(x) => x,
        Err(f) => return (None, Err(f)),
    };
    let r = check(&mut d, data);
    (Some(d), r)
}

fn check(d: &mut Drive, data: &[u8]) -> Result<(), Failure> {
    let text = String::from_utf8_lossy(data).into_owned();
    let request_id = match Incoming::decode(&text) {
        Ok(Incoming::Request { id, .. }) => Some(id),
        _ => None,
    };
    d.record = Some(Vec::new());
    d.feed(Input::Frame { conn: C0, text: text.clone() })?;
    d.quiesce()?;
    let frames = d.record.take().unwrap_or_default();

    // Exactly one reply to a decodable request.
    if let Some(id) = &request_id {
        let replies = frames.iter().filter(|(c, f)| *c == C0 && is_reply_to(f, id)).count();
        if replies != 1 {
            return Err(Failure { what: format!("request {id} got {replies} replies; frame: {text:?}") });
        }
    }

    // Schema validity, per connection (connection 1 sent nothing; it only receives).
    for conn in [C0, C1] {
        let mut t = Transcript::new();
        if conn == C0 {
            t.client_unchecked(text.as_str());
        }
        for (c, f) in &frames {
            if *c == conn {
                t.server(&**f);
            }
        }
        if let Some(report) = t.report() {
            return Err(Failure { what: format!("{conn}: frame {text:?}: {report}") });
        }
    }
    Ok(())
}

fn is_reply_to(frame: &str, id: &RequestId) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(frame) else {
        return false;
    };
    if v.get("method").is_some() || (v.get("result").is_none() && v.get("error").is_none()) {
        return false;
    }
    match (v.get("id"), id) {
        (Some(Value::Number(n)), RequestId::Integer(i)) => n.as_i64() == Some(*i),
        (Some(Value::String(s)), RequestId::String(t)) => s == t,
        _ => false,
    }
}
