//! Fake clients: each holds at most one connection at a time (a new one after every
//! disconnect), turns [`ClientOp`]s into request frames, and learns thread and turn ids only
//! from what it receives. Server requests it receives are held until it answers them
//! ([`Client::answer`]) or sees them resolved; answered, resolved and lost ones are kept a
//! while for late answers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use core_sm::{ConnectionId, ThreadId, TurnId};

use crate::actions::{ClientOp, Malformed, Reply, OPT_OUT_METHODS};
use crate::oracle::scan::{Kind, Summary};
use crate::storage::uuid_v7;

/// Threads a client remembers at most (oldest forgotten first).
const MAX_KNOWN: usize = 24;

/// Server requests a client remembers having answered or seen resolved (for late answers).
const MAX_SETTLED: usize = 8;

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
    /// Server requests received on the current connection and not answered or seen resolved
    /// yet: id → method. [`ClientOp::Answer`] picks from here.
    pub server_requests: BTreeMap<i64, String>,
    /// Server requests answered, seen resolved or lost with a connection, most recent last
    /// (kept across connections).
    pub settled: VecDeque<i64>,
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
            settled: VecDeque::new(),
            last_id: 0,
        }
    }

    /// The connection is gone (closed by us, the server, or a restart).
    pub fn disconnected(&mut self) {
        self.conn = None;
        self.initialized = false;
        self.outstanding.clear();
        // Requests held on the lost connection: answering them later, from another connection
        // (perhaps one reusing the old id), must be ignored.
        for id in std::mem::take(&mut self.server_requests).into_keys() {
            self.settle(id);
        }
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
                    // The fork is a new thread (the reply's); the source is the request's.
                    "thread/fork" => {
                        if let Some(t) = s.thread_id {
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
                    // Unloaded or archived: nothing to resume when reconnecting.
                    "thread/closed" | "thread/archived" => {
                        self.wanted.remove(&t);
                    }
                    "serverRequest/resolved" => {
                        if let Some(id) = s.request_id {
                            if self.server_requests.remove(&id).is_some() {
                                self.settle(id);
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn settle(&mut self, id: i64) {
        if self.settled.len() >= MAX_SETTLED {
            self.settled.pop_front();
        }
        self.settled.push_back(id);
    }

    /// A held server request, by `pick`.
    pub fn pick_server_request(&self, pick: u8) -> Option<i64> {
        let n = self.server_requests.len();
        (n > 0).then(|| *self.server_requests.keys().nth(usize::from(pick) % n).expect("in range"))
    }

    /// A request this client answered before or saw resolved, by `pick`.
    pub fn pick_settled(&self, pick: u8) -> Option<i64> {
        let n = self.settled.len();
        (n > 0).then(|| self.settled[usize::from(pick) % n])
    }

    /// The frames answering server request `id` with `reply` (`pick` varies the decision's
    /// form). A held request is answered (and forgotten, unless answered with a string id);
    /// other ids (late, foreign, unknown) are answered as a command approval would be.
    pub fn answer(&mut self, id: i64, reply: Reply, pick: u8) -> Vec<String> {
        // A string id matches nothing: the request stays held (and is answered later).
        let held = if reply == Reply::StringId {
            self.server_requests.get(&id).cloned()
        } else {
            self.server_requests.remove(&id).inspect(|_| self.settle(id))
        };
        let method = held.unwrap_or_else(|| "item/commandExecution/requestApproval".to_owned());
        let frame = |reply| match result_for(&method, reply, pick) {
            Some(result) => format!(r#"{{"id":{id},"result":{result}}}"#),
            None => format!(r#"{{"id":{id},"error":{{"code":401,"message":"not signed in"}}}}"#),
        };
        match reply {
            Reply::Error => {
                vec![format!(r#"{{"id":{id},"error":{{"code":-32000,"message":"user closed the dialog"}}}}"#)]
            }
            Reply::Malformed => {
                let result = ["{\"decision\":\"maybe\"}", "7", "null", "{}", "[]"][usize::from(pick) % 5];
                vec![format!(r#"{{"id":{id},"result":{result}}}"#)]
            }
            Reply::Twice => vec![frame(Reply::Accept), frame(Reply::Decline)],
            Reply::StringId => {
                let result = result_for(&method, Reply::Accept, pick).unwrap_or_else(|| "{}".into());
                vec![format!(r#"{{"id":"{id}","result":{result}}}"#)]
            }
            Reply::Late | Reply::Foreign | Reply::Unknown => vec![frame(Reply::Accept)],
            decision => vec![frame(decision)],
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
                // Mostly the defaults; sometimes a policy under which network access is never
                // prompted for (approval policy `never`, no sandbox).
                let policy = match rng.u8(..10) {
                    0 => r#","approvalPolicy":"never""#,
                    1 => r#","sandbox":"danger-full-access""#,
                    2 => r#","approvalPolicy":"untrusted","sandbox":"read-only""#,
                    _ => "",
                };
                self.request(id, "thread/start", None, &format!(r#"{{"ephemeral":{ephemeral}{policy}}}"#))
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
            ClientOp::Fork { pick, last_turn } => {
                let t = self.pick_thread(*pick)?;
                let last = match self.turns.get(&t) {
                    Some((turn, _)) if *last_turn => format!(r#","lastTurnId":"{turn}""#),
                    _ => String::new(),
                };
                self.request(id, "thread/fork", Some(t), &format!(r#"{{"threadId":"{t}"{last}}}"#))
            }
            ClientOp::Archive { pick } => {
                let t = self.pick_thread(*pick)?;
                self.request(id, "thread/archive", Some(t), &format!(r#"{{"threadId":"{t}"}}"#))
            }
            ClientOp::Unarchive { pick } => {
                let t = self.pick_thread(*pick)?;
                self.request(id, "thread/unarchive", Some(t), &format!(r#"{{"threadId":"{t}"}}"#))
            }
            ClientOp::Malformed { kind, pick } => self.malformed(*kind, *pick, id, rng, now_ms),
            ClientOp::Connect { .. }
            | ClientOp::Disconnect
            | ClientOp::ResumeAll
            | ClientOp::Answer { .. } => return None,
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

/// The `result` answering a server request of `method` with a decision (`None`: answer with an
/// error, the only refusal a token refresh has). `pick` varies the form: amendments instead of
/// plain accepts and declines, turn or session scopes.
fn result_for(method: &str, reply: Reply, pick: u8) -> Option<String> {
    let yes = matches!(reply, Reply::Accept | Reply::AcceptForSession);
    let session = reply == Reply::AcceptForSession;
    Some(match method {
        "item/commandExecution/requestApproval" => match reply {
            Reply::Accept if pick & 3 == 1 => {
                r#"{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["cargo","test"]}}}"#.into()
            }
            Reply::AcceptForSession if pick & 3 == 1 => {
                r#"{"decision":{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"api.example.com","action":"allow"}}}}"#.into()
            }
            Reply::Decline if pick & 3 == 1 => {
                r#"{"decision":{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"api.example.com","action":"deny"}}}}"#.into()
            }
            Reply::Accept => r#"{"decision":"accept"}"#.into(),
            Reply::AcceptForSession => r#"{"decision":"acceptForSession"}"#.into(),
            Reply::Cancel => r#"{"decision":"cancel"}"#.into(),
            _ => r#"{"decision":"decline"}"#.into(),
        },
        "item/fileChange/requestApproval" => match reply {
            Reply::Accept => r#"{"decision":"accept"}"#.into(),
            Reply::AcceptForSession => r#"{"decision":"acceptForSession"}"#.into(),
            Reply::Cancel => r#"{"decision":"cancel"}"#.into(),
            _ => r#"{"decision":"decline"}"#.into(),
        },
        "item/permissions/requestApproval" if yes => format!(
            r#"{{"permissions":{{"fileSystem":{{"write":["src/lib.rs","README.md"]}},"network":{{"enabled":{}}}}},"scope":"{}"}}"#,
            pick & 1 == 0,
            if session { "session" } else { "turn" }
        ),
        "item/permissions/requestApproval" => r#"{"permissions":{}}"#.into(),
        "item/tool/requestUserInput" if yes => r#"{"answers":{"q1":{"answers":["dev"]}}}"#.into(),
        "item/tool/requestUserInput" => r#"{"answers":{}}"#.into(),
        "item/tool/call" => format!(
            r#"{{"contentItems":[{{"type":"inputText","text":"{}"}}],"success":{yes}}}"#,
            if yes { "42" } else { "no" }
        ),
        "mcpServer/elicitation/request" => match reply {
            _ if yes => r#"{"action":"accept","content":{"ok":true}}"#.into(),
            Reply::Cancel => r#"{"action":"cancel"}"#.into(),
            _ => r#"{"action":"decline"}"#.into(),
        },
        "account/chatgptAuthTokens/refresh" if yes => {
            r#"{"accessToken":"tok-1","chatgptAccountId":"acct-1","chatgptPlanType":"plus"}"#.into()
        }
        "account/chatgptAuthTokens/refresh" => return None,
        _ => "{}".into(),
    })
}
