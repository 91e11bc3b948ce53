//! Fake clients: each holds at most one connection at a time (a new one after every
//! disconnect), turns [`ClientOp`]s into request frames, and learns thread and turn ids only
//! from what it receives.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use core_sm::{ConnectionId, ThreadId, TurnId};

use crate::actions::{ClientOp, Malformed, OPT_OUT_METHODS};
use crate::oracle::scan::{Kind, Summary};
use crate::storage::uuid_v7;

/// Threads a client remembers at most (oldest forgotten first).
const MAX_KNOWN: usize = 24;

/// One fake client.
#[derive(Debug)]
pub struct Client {
    /// Position in the simulation's client list.
    pub index: usize,
    /// The current connection.
    pub conn: Option<ConnectionId>,
    /// `initialize` succeeded on the current connection.
    pub initialized: bool,
    /// Threads subscribed before the connection was lost, to resume after reconnecting.
    pub needs_resume: bool,
    /// Known threads, oldest first.
    pub threads: Vec<ThreadId>,
    /// Threads this client started or resumed (its own view of its subscriptions).
    pub wanted: BTreeSet<ThreadId>,
    /// The last turn seen per thread, and whether it is still running.
    pub turns: BTreeMap<ThreadId, (TurnId, bool)>,
    /// Requests sent on the current connection: id → (method, thread).
    pub outstanding: BTreeMap<i64, (&'static str, Option<ThreadId>)>,
    /// Server requests received and not answered yet: id → method. Nothing answers them
    /// until the core sends some; an `AnswerServerRequest` op will pick from here.
    pub server_requests: BTreeMap<i64, String>,
    /// Id of the last request, for [`Malformed::DuplicateId`].
    last_id: i64,
}

impl Client {
    /// A client that knows the given stored threads (its history list) and nothing else.
    pub fn new(index: usize, remembered: Vec<ThreadId>) -> Self {
        Self {
            index,
            conn: None,
            initialized: false,
            needs_resume: false,
            threads: remembered,
            wanted: BTreeSet::new(),
            turns: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            server_requests: BTreeMap::new(),
            last_id: 0,
        }
    }

    /// The connection is gone (closed by us, the server, or a restart).
    pub fn disconnected(&mut self) {
        self.conn = None;
        self.initialized = false;
        self.outstanding.clear();
        self.server_requests.clear();
        self.needs_resume = !self.wanted.is_empty();
    }

    fn know(&mut self, t: ThreadId) {
        if !self.threads.contains(&t) {
            if self.threads.len() >= MAX_KNOWN {
                self.threads.remove(0);
            }
            self.threads.push(t);
        }
    }

    /// Learns from a frame received on the current connection.
    pub fn learn(&mut self, s: &Summary) {
        match s.kind {
            Kind::Reply | Kind::ErrorReply => {
                let Some(core_sm::wire::RequestId::Integer(id)) = s.id else {
                    return;
                };
                let Some((method, thread)) = self.outstanding.remove(&id) else {
                    return;
                };
                if s.kind == Kind::ErrorReply {
                    return;
                }
                match method {
                    "initialize" => self.initialized = true,
                    "thread/start" | "thread/resume" => {
                        if let Some(t) = s.thread_id.or(thread) {
                            self.know(t);
                            self.wanted.insert(t);
                        }
                    }
                    "turn/start" | "turn/steer" => {
                        if let (Some(t), Some(turn)) = (thread, s.turn_id) {
                            let running = self.turns.get(&t).is_some_and(|(id, r)| *id == turn && *r);
                            self.turns.insert(t, (turn, running || method == "turn/start"));
                        }
                    }
                    "thread/unsubscribe" => {
                        if let Some(t) = thread {
                            self.wanted.remove(&t);
                        }
                    }
                    "thread/list" | "thread/loaded/list" => {
                        for t in s.data_threads.clone() {
                            self.know(t);
                        }
                    }
                    _ => {}
                }
            }
            Kind::Request => {
                if let Some(core_sm::wire::RequestId::Integer(id)) = s.id {
                    self.server_requests.insert(id, s.method().to_owned());
                }
            }
            Kind::Notification => {
                let Some(t) = s.thread_id else {
                    return;
                };
                match s.method() {
                    "thread/started" | "thread/status/changed" => self.know(t),
                    "turn/started" => {
                        if let Some(turn) = s.turn_id {
                            self.turns.insert(t, (turn, true));
                        }
                    }
                    "turn/completed" => {
                        if let Some(turn) = s.turn_id {
                            self.turns.insert(t, (turn, false));
                        }
                    }
                    "thread/closed" => {
                        self.wanted.remove(&t);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// A known thread: mostly one this client subscribed to, sometimes any.
    fn pick_thread(&self, pick: u8) -> Option<ThreadId> {
        if pick & 0x80 == 0 && !self.wanted.is_empty() {
            return self.wanted.iter().nth(usize::from(pick) % self.wanted.len()).copied();
        }
        if self.threads.is_empty() {
            return None;
        }
        Some(self.threads[usize::from(pick) % self.threads.len()])
    }

    /// A thread with a known turn, preferring running ones.
    fn pick_turn(&self, pick: u8) -> Option<(ThreadId, TurnId)> {
        let running: Vec<_> = self.turns.iter().filter(|(_, (_, r))| *r).collect();
        let pool: Vec<_> =
            if running.is_empty() || pick & 0x80 != 0 { self.turns.iter().collect() } else { running };
        if pool.is_empty() {
            return None;
        }
        let (t, (turn, _)) = pool[usize::from(pick) % pool.len()];
        Some((*t, *turn))
    }

    fn request(&mut self, id: i64, method: &'static str, thread: Option<ThreadId>, params: &str) -> String {
        self.outstanding.insert(id, (method, thread));
        self.last_id = id;
        format!(r#"{{"id":{id},"method":"{method}","params":{params}}}"#)
    }

    /// The `thread/resume` frames for every thread the client was subscribed to.
    pub fn resume_all(&mut self, mut next_id: impl FnMut() -> i64) -> Vec<String> {
        self.needs_resume = false;
        let threads: Vec<ThreadId> = self.wanted.iter().copied().collect();
        threads
            .into_iter()
            .map(|t| {
                let id = next_id();
                self.request(id, "thread/resume", Some(t), &format!(r#"{{"threadId":"{t}"}}"#))
            })
            .collect()
    }

    /// Builds the frame for `op` (with request id `id`), or `None` if the client lacks what
    /// the op needs. `now_ms` and `rng` make up ids for unknown threads and turns.
    pub fn frame(&mut self, op: &ClientOp, id: i64, rng: &mut fastrand::Rng, now_ms: u64) -> Option<String> {
        let text = |n: i64| format!(r#"[{{"type":"text","text":"task {n}"}}]"#);
        Some(match op {
            ClientOp::Initialize { opt_out, experimental } => {
                let mut methods = String::new();
                for (bit, m) in OPT_OUT_METHODS.iter().enumerate() {
                    if opt_out & (1 << bit) != 0 {
                        let _ = write!(methods, "{}\"{m}\"", if methods.is_empty() { "" } else { "," });
                    }
                }
                let params = format!(
                    r#"{{"clientInfo":{{"name":"sim-client-{}","version":"1.0"}},"capabilities":{{"experimentalApi":{experimental},"optOutNotificationMethods":[{methods}]}}}}"#,
                    self.index
                );
                self.request(id, "initialize", None, &params)
            }
            ClientOp::ThreadStart { ephemeral } => {
                self.request(id, "thread/start", None, &format!(r#"{{"ephemeral":{ephemeral}}}"#))
            }
            ClientOp::ThreadResume { pick, exclude_turns } => {
                let t = self.pick_thread(*pick)?;
                let params = format!(r#"{{"threadId":"{t}","excludeTurns":{exclude_turns}}}"#);
                self.request(id, "thread/resume", Some(t), &params)
            }
            ClientOp::ThreadRead { pick, include_turns } => {
                let t = self.pick_thread(*pick)?;
                let params = format!(r#"{{"threadId":"{t}","includeTurns":{include_turns}}}"#);
                self.request(id, "thread/read", Some(t), &params)
            }
            ClientOp::ThreadList { limit } => {
                let params = match limit {
                    0 => "{}".to_owned(),
                    n => format!(r#"{{"limit":{n}}}"#),
                };
                self.request(id, "thread/list", None, &params)
            }
            ClientOp::LoadedList => self.request(id, "thread/loaded/list", None, "{}"),
            ClientOp::TurnStart { pick } => match self.pick_thread(*pick) {
                Some(t) => {
                    let params = format!(r#"{{"threadId":"{t}","input":{}}}"#, text(id));
                    self.request(id, "turn/start", Some(t), &params)
                }
                None => self.request(id, "thread/start", None, "{}"),
            },
            ClientOp::TurnSteer { pick, stale } => {
                let (t, turn) = self.pick_turn(*pick)?;
                let turn = if *stale { TurnId(uuid_v7(rng, now_ms)) } else { turn };
                let params =
                    format!(r#"{{"threadId":"{t}","expectedTurnId":"{turn}","input":{}}}"#, text(id));
                self.request(id, "turn/steer", Some(t), &params)
            }
            ClientOp::TurnInterrupt { pick, stale } => {
                let (t, turn) = self.pick_turn(*pick)?;
                let turn = if *stale { TurnId(uuid_v7(rng, now_ms)) } else { turn };
                let params = format!(r#"{{"threadId":"{t}","turnId":"{turn}"}}"#);
                self.request(id, "turn/interrupt", Some(t), &params)
            }
            ClientOp::Unsubscribe { pick } => {
                let t = self.pick_thread(*pick)?;
                self.request(id, "thread/unsubscribe", Some(t), &format!(r#"{{"threadId":"{t}"}}"#))
            }
            ClientOp::NameSet { pick } => {
                let t = self.pick_thread(*pick)?;
                let params = format!(r#"{{"threadId":"{t}","name":"  name {id} "}}"#);
                self.request(id, "thread/name/set", Some(t), &params)
            }
            ClientOp::Unsupported { pick, fork } => {
                let t = self.pick_thread(*pick)?;
                let method = if *fork { "thread/fork" } else { "thread/archive" };
                self.request(id, method, Some(t), &format!(r#"{{"threadId":"{t}"}}"#))
            }
            ClientOp::Malformed { kind, pick } => self.malformed(*kind, *pick, id, rng, now_ms),
            ClientOp::Connect { .. } | ClientOp::Disconnect | ClientOp::ResumeAll => return None,
        })
    }

    fn malformed(
        &mut self,
        kind: Malformed,
        pick: u8,
        id: i64,
        rng: &mut fastrand::Rng,
        now_ms: u64,
    ) -> String {
        let known = self.pick_thread(pick);
        let unknown = ThreadId(uuid_v7(rng, now_ms));
        match kind {
            Malformed::BadJson => format!(r#"{{"id":{id},"method":"thread/start","params":{{"#),
            Malformed::Batch => format!(r#"[{{"id":{id},"method":"thread/list","params":{{}}}}]"#),
            Malformed::UnknownMethod => self.request(id, "thread/frobnicate", None, "{}"),
            Malformed::WrongParamType => {
                self.request(id, "turn/start", None, r#"{"threadId":7,"input":"not a list"}"#)
            }
            Malformed::MissingParams => {
                self.outstanding.insert(id, ("turn/interrupt", None));
                format!(r#"{{"id":{id},"method":"turn/interrupt"}}"#)
            }
            Malformed::UnknownThread => {
                let method = match pick % 3 {
                    0 => "thread/resume",
                    1 => "thread/read",
                    _ => "turn/start",
                };
                let params = format!(r#"{{"threadId":"{unknown}","input":[]}}"#);
                self.request(id, method, Some(unknown), &params)
            }
            Malformed::BadThreadId => self.request(id, "thread/resume", None, r#"{"threadId":"not-a-uuid"}"#),
            Malformed::FloatId => format!(r#"{{"id":{id}.5,"method":"thread/loaded/list","params":{{}}}}"#),
            Malformed::StrayResponse => format!(r#"{{"id":{id},"result":{{"decision":"accept"}}}}"#),
            Malformed::Notification => r#"{"method":"initialized"}"#.to_owned(),
            Malformed::ReInitialize => {
                self.request(id, "initialize", None, r#"{"clientInfo":{"name":"again","version":"2"}}"#)
            }
            Malformed::DuplicateId => {
                let dup = self.last_id.max(1);
                self.outstanding.insert(dup, ("thread/loaded/list", None));
                format!(r#"{{"id":{dup},"method":"thread/loaded/list","params":{{}}}}"#)
            }
            Malformed::ExperimentalField => self.request(
                id,
                "thread/start",
                None,
                r#"{"dynamicTools":[{"name":"t","description":"d","inputSchema":{}}]}"#,
            ),
            Malformed::BadClientName => {
                self.request(id, "initialize", None, r#"{"clientInfo":{"name":"bad\nname","version":"1"}}"#)
            }
            Malformed::StringId => {
                let t = known.unwrap_or(unknown);
                format!(r#"{{"id":"s-{id}","method":"thread/read","params":{{"threadId":"{t}"}}}}"#)
            }
        }
    }
}
