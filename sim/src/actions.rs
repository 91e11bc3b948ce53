//! The action model: everything that can happen to the world in one driver iteration. The
//! seeded random driver ([`draw`]) and the proptest state-machine test generate the same
//! [`Action`]s, so a failure found by either can be shrunk and replayed the same way.
//!
//! Actions refer to threads and turns by `pick` indices into what the client has learned, so
//! every action is meaningful in every state (an index wraps; an op that needs something the
//! client lacks is skipped).
//!
//! Server-to-client requests are answered by [`ClientOp::Answer`]: one of the client's
//! [`server_requests`](crate::clients::Client::server_requests) with a decision, an error, a
//! malformed result or twice; or, to probe the machine, a request answered before, one held by
//! another client, or an id nobody received. Requests nobody answers stay pending through
//! interrupts, turn ends, disconnects and unloads; in the liveness phase clients answer
//! everything they receive.

use crate::clients::Client;
use crate::faults::FaultProfile;

/// One step of a simulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Client `client` (modulo the number of clients) does something.
    Client {
        /// Which client.
        client: u8,
        /// What it does.
        op: ClientOp,
    },
    /// Deliver up to `n` scheduled events (engine events, storage answers), in time order.
    Deliver {
        /// How many.
        n: u8,
    },
    /// Let `ms` of virtual time pass (idle-unload deadlines fire).
    Advance {
        /// Milliseconds.
        ms: u16,
    },
    /// The server restarts: a fresh machine over the same storage; every connection drops.
    Restart,
}

/// What a client does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientOp {
    /// Open a connection (reusing a closed connection's id if `reuse` and one exists).
    Connect {
        /// Reuse a closed id.
        reuse: bool,
    },
    /// Close the connection.
    Disconnect,
    /// `initialize`, opting out of the methods in bitmask `opt_out` (see [`OPT_OUT_METHODS`]).
    Initialize {
        /// Opt-out bitmask.
        opt_out: u16,
        /// `experimentalApi`.
        experimental: bool,
    },
    /// `thread/resume` every thread the client was subscribed to before it lost its
    /// connection.
    ResumeAll,
    /// `thread/start`.
    ThreadStart {
        /// `ephemeral: true`.
        ephemeral: bool,
    },
    /// `thread/resume` of a known thread.
    ThreadResume {
        /// Which thread.
        pick: u8,
        /// `excludeTurns: true`.
        exclude_turns: bool,
    },
    /// `thread/read` of a known thread.
    ThreadRead {
        /// Which thread.
        pick: u8,
        /// `includeTurns: true`.
        include_turns: bool,
    },
    /// `thread/list`.
    ThreadList {
        /// `limit` (0 = absent).
        limit: u8,
    },
    /// `thread/loaded/list`.
    LoadedList,
    /// `turn/start` on a known thread.
    TurnStart {
        /// Which thread.
        pick: u8,
    },
    /// `turn/steer` of a known turn (a stale or made-up turn id if `stale`).
    TurnSteer {
        /// Which thread.
        pick: u8,
        /// Use a wrong turn id.
        stale: bool,
    },
    /// `turn/interrupt` of a known turn (a stale or made-up turn id if `stale`).
    TurnInterrupt {
        /// Which thread.
        pick: u8,
        /// Use a wrong turn id.
        stale: bool,
    },
    /// `thread/unsubscribe`.
    Unsubscribe {
        /// Which thread.
        pick: u8,
    },
    /// `thread/name/set`.
    NameSet {
        /// Which thread.
        pick: u8,
    },
    /// `thread/fork` of a known thread, sometimes up to its last finished turn.
    Fork {
        /// Which thread.
        pick: u8,
        /// Pass `lastTurnId` (the last turn this client knows of the thread).
        last_turn: bool,
    },
    /// `thread/archive` of a known thread.
    Archive {
        /// Which thread.
        pick: u8,
    },
    /// `thread/unarchive` of a known thread.
    Unarchive {
        /// Which thread.
        pick: u8,
    },
    /// A malformed or unusual frame.
    Malformed {
        /// Which kind.
        kind: Malformed,
        /// Which thread, where one is needed.
        pick: u8,
    },
    /// Answer a server request (see [`Reply`]).
    Answer {
        /// Which request (an index into what the reply picks from; bits also vary the
        /// decision's form).
        pick: u8,
        /// How.
        reply: Reply,
    },
}

/// How a client answers a server request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Accept (run once, grant for the turn, answer the questions, tool output, tokens).
    Accept,
    /// Accept for the session (`acceptForSession`, `scope: session`, network allow rule).
    AcceptForSession,
    /// Decline (empty answers, a failed tool call, a network deny rule sometimes).
    Decline,
    /// `cancel` where it exists (the turn is interrupted), else decline.
    Cancel,
    /// A JSON-RPC error reply.
    Error,
    /// A `result` that does not parse as the answer.
    Malformed,
    /// Two answers in a row for the same request (the second must be ignored).
    Twice,
    /// Again, a request this client answered before or saw resolved.
    Late,
    /// A request another client holds (this connection never received it).
    Foreign,
    /// An id no client received (possibly one the server has not used yet).
    Unknown,
    /// A held request, answered with its id as a string (matches nothing).
    StringId,
}

/// Every [`Reply`], for drawing one.
pub const REPLIES: [Reply; 11] = [
    Reply::Accept,
    Reply::AcceptForSession,
    Reply::Decline,
    Reply::Cancel,
    Reply::Error,
    Reply::Malformed,
    Reply::Twice,
    Reply::Late,
    Reply::Foreign,
    Reply::Unknown,
    Reply::StringId,
];

/// Kinds of bad or unusual frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Not JSON.
    BadJson,
    /// A JSON array (batch), undecodable.
    Batch,
    /// An unknown method.
    UnknownMethod,
    /// Params of the wrong type.
    WrongParamType,
    /// No `params` where they are required.
    MissingParams,
    /// A well-formed thread id nobody knows (resume/read go to storage).
    UnknownThread,
    /// A thread id that is not a UUID.
    BadThreadId,
    /// A float id: decodes as a notification, gets no reply.
    FloatId,
    /// A response to a server request that was never sent.
    StrayResponse,
    /// The `initialized` notification.
    Notification,
    /// A second `initialize`.
    ReInitialize,
    /// A request reusing the id of the previous one.
    DuplicateId,
    /// An experimental field without the capability.
    ExperimentalField,
    /// An `initialize` whose client name is not a valid header value.
    BadClientName,
    /// A request with a string id.
    StringId,
}

/// Every [`Malformed`] kind, for drawing one.
pub const MALFORMED: [Malformed; 15] = [
    Malformed::BadJson,
    Malformed::Batch,
    Malformed::UnknownMethod,
    Malformed::WrongParamType,
    Malformed::MissingParams,
    Malformed::UnknownThread,
    Malformed::BadThreadId,
    Malformed::FloatId,
    Malformed::StrayResponse,
    Malformed::Notification,
    Malformed::ReInitialize,
    Malformed::DuplicateId,
    Malformed::ExperimentalField,
    Malformed::BadClientName,
    Malformed::StringId,
];

/// Notification methods a client may opt out of, by bit of [`ClientOp::Initialize::opt_out`].
pub const OPT_OUT_METHODS: [&str; 14] = [
    "item/agentMessage/delta",
    "thread/tokenUsage/updated",
    "thread/status/changed",
    "turn/started",
    "turn/completed",
    "item/started",
    "item/completed",
    "thread/started",
    "thread/closed",
    "thread/name/updated",
    "error",
    "warning",
    "item/reasoning/summaryTextDelta",
    "item/commandExecution/outputDelta",
];

/// The random driver: draws the next action from the seed's PRNG and fault profile, looking
/// at the clients' state so most actions are sensible.
pub fn draw(rng: &mut fastrand::Rng, profile: &FaultProfile, clients: &[Client], scheduled: usize) -> Action {
    if rng.f64() < profile.restart {
        return Action::Restart;
    }
    let r = rng.u8(..100);
    if scheduled > 0 && r < 60 {
        return Action::Deliver { n: rng.u8(1..=4) };
    }
    if r >= 96 {
        let ms = if rng.bool() { rng.u16(1..100) } else { rng.u16(100..4000) };
        return Action::Advance { ms };
    }
    let client = rng.usize(..clients.len());
    Action::Client { client: u8::try_from(client).unwrap_or(0), op: draw_op(rng, profile, &clients[client]) }
}

fn draw_op(rng: &mut fastrand::Rng, profile: &FaultProfile, c: &Client) -> ClientOp {
    let pick = rng.u8(..);
    if c.conn.is_none() {
        return ClientOp::Connect { reuse: rng.f64() < profile.conn_reuse };
    }
    if rng.f64() < profile.disconnect {
        return ClientOp::Disconnect;
    }
    if rng.f64() < profile.malformed {
        return ClientOp::Malformed { kind: MALFORMED[rng.usize(..MALFORMED.len())], pick };
    }
    if !c.initialized && rng.u8(..10) != 0 {
        // Mostly opt out of nothing or of deltas only, so most connections see everything.
        let opt_out = match rng.u8(..10) {
            0..=5 => 0,
            6..=7 => 1,
            _ => rng.u16(..),
        };
        return ClientOp::Initialize { opt_out, experimental: rng.bool() };
    }
    if c.needs_resume && (profile.reconnect_resume || rng.u8(..4) == 0) {
        return ClientOp::ResumeAll;
    }
    let interrupt = 2 + (profile.interrupt * 100.0) as u32;
    let start = if c.threads.len() < 4 { 10 } else { 2 };
    // Held requests are answered often, so some are found pending by interrupts, turn ends,
    // disconnects and resumes; and now and then answers go where they must be ignored.
    let answer = if c.server_requests.is_empty() { 1 } else { 16 };
    let reply = if c.server_requests.is_empty() {
        [Reply::Late, Reply::Foreign, Reply::Unknown][rng.usize(..3)]
    } else {
        match rng.u8(..100) {
            0..=34 => Reply::Accept,
            35..=49 => Reply::AcceptForSession,
            50..=64 => Reply::Decline,
            65..=70 => Reply::Cancel,
            71..=77 => Reply::Error,
            78..=83 => Reply::Malformed,
            84..=88 => Reply::Twice,
            89..=92 => Reply::Late,
            93..=96 => Reply::Foreign,
            97..=98 => Reply::Unknown,
            _ => Reply::StringId,
        }
    };
    let table: [(u32, ClientOp); 15] = [
        (answer, ClientOp::Answer { pick, reply }),
        (start, ClientOp::ThreadStart { ephemeral: rng.u8(..8) == 0 }),
        (22, ClientOp::TurnStart { pick }),
        (7, ClientOp::ThreadResume { pick, exclude_turns: rng.u8(..4) == 0 }),
        (4, ClientOp::ThreadRead { pick, include_turns: rng.bool() }),
        (2, ClientOp::ThreadList { limit: rng.u8(..4) }),
        (2, ClientOp::LoadedList),
        (6, ClientOp::TurnSteer { pick, stale: rng.u8(..8) == 0 }),
        (interrupt, ClientOp::TurnInterrupt { pick, stale: rng.u8(..8) == 0 }),
        (3, ClientOp::Unsubscribe { pick }),
        (2, ClientOp::NameSet { pick }),
        (2, ClientOp::Fork { pick, last_turn: rng.u8(..4) == 0 }),
        (1, ClientOp::Archive { pick }),
        (1, ClientOp::Unarchive { pick }),
        (1, ClientOp::Initialize { opt_out: 0, experimental: false }),
    ];
    let total: u32 = table.iter().map(|(w, _)| w).sum();
    let mut x = rng.u32(..total);
    for (w, op) in table {
        if x < w {
            return op;
        }
        x -= w;
    }
    ClientOp::LoadedList
}
