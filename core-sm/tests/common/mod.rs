//! An in-memory harness over the public API: a machine, some connections, and helpers that
//! send frames and engine events and collect what each connection received.

#![allow(dead_code)]

use std::collections::BTreeMap;

use core_sm::{
    ConnectionId, EngineCommand, EngineEvent, Input, Machine, MachineConfig, Output, ThreadId, Timestamp,
};
use serde_json::{json, Value};

pub const EPOCH: u64 = 1_764_000_000_000;

/// The machine plus everything it produced, split by destination.
pub struct Harness {
    pub machine: Machine,
    pub now: Timestamp,
    next_id: i64,
    /// Frames received per connection, not yet taken.
    pub inbox: BTreeMap<ConnectionId, Vec<Value>>,
    /// Engine commands not yet taken.
    pub engine: Vec<(ThreadId, EngineCommand)>,
    /// Every other output (persist, load, close) not yet taken.
    pub other: Vec<Output>,
    /// Every frame ever sent, in order, as text (for determinism checks).
    pub wire_log: Vec<(ConnectionId, String)>,
}

impl Harness {
    pub fn new(seed: u64) -> Self {
        Self::with_config(MachineConfig::new(seed))
    }

    pub fn with_config(config: MachineConfig) -> Self {
        Self {
            machine: Machine::new(config),
            now: Timestamp(EPOCH),
            next_id: 1,
            inbox: BTreeMap::new(),
            engine: Vec::new(),
            other: Vec::new(),
            wire_log: Vec::new(),
        }
    }

    pub fn input(&mut self, input: Input) {
        self.now = self.now.plus_millis(1);
        self.machine.handle(self.now, input);
        while let Some(out) = self.machine.poll_output() {
            match out {
                Output::Send { conn, frame } => {
                    self.wire_log.push((conn, frame.to_string()));
                    let v: Value = serde_json::from_str(&frame).expect("frames are JSON");
                    self.inbox.entry(conn).or_default().push(v);
                }
                Output::Engine { thread_id, command } => self.engine.push((thread_id, command)),
                other => self.other.push(other),
            }
        }
    }

    pub fn advance(&mut self, ms: u64) {
        self.now = self.now.plus_millis(ms);
    }

    pub fn open(&mut self, conn: u64) -> ConnectionId {
        let c = ConnectionId(conn);
        self.input(Input::ConnectionOpened { conn: c });
        c
    }

    /// Opens and initializes a connection.
    pub fn client(&mut self, conn: u64, caps: Value) -> ConnectionId {
        let c = self.open(conn);
        let r = self.request(
            c,
            "initialize",
            json!({"clientInfo": {"name": "harness", "version": "1.0"}, "capabilities": caps}),
        );
        assert!(r.get("result").is_some(), "initialize failed: {r}");
        self.take(c);
        c
    }

    pub fn raw(&mut self, conn: ConnectionId, text: &str) {
        self.input(Input::Frame { conn, text: text.to_owned() });
    }

    /// Sends a request and returns the reply to it (which is also left in the inbox).
    pub fn request(&mut self, conn: ConnectionId, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send_request(conn, id, method, params);
        self.reply(conn, id).unwrap_or_else(|| panic!("no reply to {method} #{id}"))
    }

    pub fn send_request(&mut self, conn: ConnectionId, id: i64, method: &str, params: Value) {
        let frame = json!({"id": id, "method": method, "params": params}).to_string();
        self.raw(conn, &frame);
    }

    /// The reply (result or error) to request `id` in `conn`'s inbox, if any.
    pub fn reply(&self, conn: ConnectionId, id: i64) -> Option<Value> {
        self.inbox
            .get(&conn)?
            .iter()
            .find(|f| f.get("id") == Some(&json!(id)) && f.get("method").is_none())
            .cloned()
    }

    pub fn take(&mut self, conn: ConnectionId) -> Vec<Value> {
        self.inbox.remove(&conn).unwrap_or_default()
    }

    /// What `conn` received, as `method` names (`<result>` / `<error>` for replies).
    pub fn methods(&mut self, conn: ConnectionId) -> Vec<String> {
        self.take(conn).iter().map(describe).collect()
    }

    pub fn take_engine(&mut self) -> Vec<(ThreadId, EngineCommand)> {
        std::mem::take(&mut self.engine)
    }

    pub fn engine_event(&mut self, thread: ThreadId, event: EngineEvent) {
        self.input(Input::Engine { thread_id: thread, event });
    }

    /// Starts a thread on `conn` and returns its id (inbox cleared).
    pub fn start_thread(&mut self, conn: ConnectionId) -> ThreadId {
        let r = self.request(conn, "thread/start", json!({}));
        let id = r["result"]["thread"]["id"].as_str().expect("thread id").to_owned();
        self.take(conn);
        self.take_engine();
        ThreadId::parse(&id).unwrap()
    }

    /// Starts a turn and returns its id (inbox and engine commands cleared).
    pub fn start_turn(&mut self, conn: ConnectionId, thread: ThreadId, text: &str) -> core_sm::TurnId {
        let r = self.request(
            conn,
            "turn/start",
            json!({"threadId": thread.to_string(), "input": [{"type": "text", "text": text}]}),
        );
        let id =
            r["result"]["turn"]["id"].as_str().unwrap_or_else(|| panic!("turn/start failed: {r}")).to_owned();
        self.take(conn);
        self.take_engine();
        core_sm::TurnId::parse(&id).unwrap()
    }
}

/// `method` for notifications and requests, `<result>`/`<error>` for replies, with the
/// status type appended to `thread/status/changed`.
pub fn describe(frame: &Value) -> String {
    match frame.get("method").and_then(Value::as_str) {
        Some("thread/status/changed") => {
            format!("thread/status/changed:{}", frame["params"]["status"]["type"].as_str().unwrap_or("?"))
        }
        Some("item/started") | Some("item/completed") => format!(
            "{}:{}",
            frame["method"].as_str().unwrap(),
            frame["params"]["item"]["type"].as_str().unwrap_or("?")
        ),
        Some(m) => m.to_owned(),
        None if frame.get("error").is_some() => "<error>".into(),
        None => "<result>".into(),
    }
}
