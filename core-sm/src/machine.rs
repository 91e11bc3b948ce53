//! The [`Machine`]: one entry point for input, a queue of outputs, and request dispatch.

use std::collections::{BTreeMap, VecDeque};

use crate::config::MachineConfig;
use crate::connection::Connection;
use crate::ids::{ConnectionId, IdGen, ThreadId};
use crate::io::{Input, Output};
use crate::thread::ThreadState;
use crate::time::Timestamp;
use crate::wire::fast_request::{self, Params, ParamsSource, ReadParams};
use crate::wire::requests::{
    InitializeParams, ThreadForkParams, ThreadIdParams, ThreadListParams, ThreadLoadedListParams,
    ThreadReadParams, ThreadResumeParams, ThreadSetNameParams, ThreadStartParams, TurnInterruptParams,
    TurnStartParams, TurnSteerParams,
};
use crate::wire::views::ThreadView;
use crate::wire::{codes, methods, ErrorObject, FrameEncoder, Incoming, RequestId, ThreadStatus};

/// The protocol state machine. See the [crate docs](crate) for how to drive it.
#[derive(Debug)]
pub struct Machine {
    pub(crate) config: MachineConfig,
    pub(crate) ids: IdGen,
    /// Time of the input being handled.
    pub(crate) now: Timestamp,
    pub(crate) outputs: VecDeque<Output>,
    /// Serializes every outbound frame through one reused buffer.
    pub(crate) encoder: FrameEncoder,
    pub(crate) connections: BTreeMap<ConnectionId, Connection>,
    pub(crate) threads: BTreeMap<ThreadId, ThreadState>,
    /// `clientInfo.name` of the first successful `initialize`; prefixes every user agent.
    pub(crate) originator: Option<String>,
    /// Outstanding server-to-client requests.
    pub(crate) pending: crate::pending::PendingTable,
    /// Answered requests kept only to re-create the `ReplayResolvedRequests` bug.
    #[cfg(feature = "inject-bugs")]
    pub(crate) resolved_log: Vec<(ThreadId, crate::wire::Frame)>,
    /// Requests waiting for an [`Output::Load`] to be answered.
    pub(crate) awaiting_load: BTreeMap<ThreadId, Vec<crate::handlers::threads::Parked>>,
}

/// A client request after envelope, method and params validation.
#[derive(Debug)]
pub(crate) enum ClientRequest {
    Initialize(InitializeParams),
    ThreadStart(ThreadStartParams),
    ThreadResume(ThreadResumeParams),
    ThreadFork(ThreadForkParams),
    ThreadArchive(ThreadIdParams),
    ThreadUnarchive(ThreadIdParams),
    ThreadRead(ThreadReadParams),
    ThreadList(ThreadListParams),
    ThreadLoadedList(ThreadLoadedListParams),
    ThreadNameSet(ThreadSetNameParams),
    ThreadUnsubscribe(ThreadIdParams),
    TurnStart(TurnStartParams),
    TurnSteer(TurnSteerParams),
    TurnInterrupt(TurnInterruptParams),
    /// In the schema, not implemented by turnstile.
    Unsupported(&'static str),
}

impl ClientRequest {
    fn parse(method: &'static str, params: impl ParamsSource) -> Result<Self, String> {
        Ok(match method {
            "initialize" => Self::Initialize(params.parse()?),
            "thread/start" => Self::ThreadStart(params.parse()?),
            "thread/resume" => Self::ThreadResume(params.parse()?),
            "thread/fork" => Self::ThreadFork(params.parse()?),
            "thread/archive" => Self::ThreadArchive(params.parse()?),
            "thread/unarchive" => Self::ThreadUnarchive(params.parse()?),
            "thread/read" => Self::ThreadRead(params.parse()?),
            "thread/list" => Self::ThreadList(params.parse()?),
            "thread/loaded/list" => Self::ThreadLoadedList(params.parse()?),
            "thread/name/set" => Self::ThreadNameSet(params.parse()?),
            "thread/unsubscribe" => Self::ThreadUnsubscribe(params.parse()?),
            "turn/start" => Self::TurnStart(params.parse()?),
            "turn/steer" => Self::TurnSteer(params.parse()?),
            "turn/interrupt" => Self::TurnInterrupt(params.parse()?),
            other => {
                params.skip()?;
                Self::Unsupported(other)
            }
        })
    }
}

/// Parses the params of one method into a [`ClientRequest`].
struct RequestParser(&'static str);

impl ReadParams for RequestParser {
    type Output = ClientRequest;

    fn read<P: ParamsSource>(&self, source: P) -> Result<ClientRequest, String> {
        ClientRequest::parse(self.0, source)
    }
}

impl Machine {
    /// A machine with no connections and no threads.
    pub fn new(config: MachineConfig) -> Self {
        Self {
            ids: IdGen::new(config.seed),
            config,
            now: Timestamp::default(),
            outputs: VecDeque::new(),
            encoder: FrameEncoder::default(),
            connections: BTreeMap::new(),
            threads: BTreeMap::new(),
            originator: None,
            pending: Default::default(),
            #[cfg(feature = "inject-bugs")]
            resolved_log: Vec::new(),
            awaiting_load: BTreeMap::new(),
        }
    }

    /// Feeds one input at time `now`. Drain [`poll_output`](Self::poll_output) afterwards.
    pub fn handle(&mut self, now: Timestamp, input: Input) {
        // Time never runs backwards inside the machine, whatever the caller's clock does.
        self.now = self.now.max(now);
        match input {
            Input::ConnectionOpened { conn } => {
                if self.connections.insert(conn, Connection::default()).is_some() {
                    tracing::warn!(%conn, "connection id reused while open; state reset");
                    self.detach_connection(conn);
                }
            }
            Input::Frame { conn, text } => self.handle_frame(conn, &text),
            Input::ConnectionClosed { conn } => {
                if self.connections.remove(&conn).is_some() {
                    self.detach_connection(conn);
                }
            }
            Input::Engine { thread_id, event } => self.handle_engine_event(thread_id, event),
            Input::Storage(result) => self.handle_storage(result),
            Input::Tick => self.handle_timeout(),
            Input::Shutdown => self.handle_shutdown(),
        }
    }

    /// The next thing to do, in order; `None` once everything from the last input is drained.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next deadline (idle thread unload), if any; feed [`Input::Tick`] once it has passed.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let delay = self.config.thread_unload_delay_ms;
        let unload = self.threads.values().filter_map(|t| t.live.as_ref()?.unload_deadline(delay)).min();
        [unload, self.pending.next_deadline()].into_iter().flatten().min()
    }

    /// The derived status of a thread (`notLoaded` for unknown ids).
    pub fn thread_status(&self, thread_id: ThreadId) -> ThreadStatus {
        self.threads
            .get(&thread_id)
            .map_or(ThreadStatus::NotLoaded, |t| t.status(self.pending.flags(thread_id)))
    }

    /// Ids of outstanding server requests with their thread, ascending.
    pub fn pending_requests(&self) -> Vec<(i64, ThreadId)> {
        self.pending
            .thread_scoped()
            .filter(|p| self.threads.contains_key(&p.thread_id))
            .map(|p| (p.id, p.thread_id))
            .collect()
    }

    /// The wire `Thread` for `state`, with its derived status.
    pub(crate) fn thread_wire<'a>(&'a self, state: &'a ThreadState, with_turns: bool) -> ThreadView<'a> {
        state.view(state.status(self.pending.flags(state.id)), with_turns, &self.config.server_version)
    }

    /// Loaded threads, ascending.
    pub fn loaded_threads(&self) -> Vec<ThreadId> {
        self.threads.values().filter(|t| t.live.is_some()).map(|t| t.id).collect()
    }

    /// Connections subscribed to a thread, ascending.
    pub fn thread_subscribers(&self, thread_id: ThreadId) -> Vec<ConnectionId> {
        self.subscribers(thread_id)
    }

    /// Open connections, ascending.
    pub fn connections(&self) -> Vec<ConnectionId> {
        self.connections.keys().copied().collect()
    }

    fn handle_frame(&mut self, conn: ConnectionId, text: &str) {
        if !self.connections.contains_key(&conn) {
            tracing::warn!(%conn, "frame on a connection that is not open; dropped");
            return;
        }
        if let Some(request) = fast_request::read(text, methods::experimental_fields) {
            return self.handle_request(conn, request.id, &request.method, request.params);
        }
        match Incoming::decode(text) {
            Err(error) => {
                tracing::warn!(%conn, %error, len = text.len(), "undecodable frame dropped")
            }
            Ok(Incoming::Notification { method }) => {
                tracing::debug!(%conn, %method, "client notification");
            }
            Ok(Incoming::Response { id, result }) => self.handle_client_answer(conn, id, Ok(result)),
            Ok(Incoming::Error { id, error }) => self.handle_client_answer(conn, id, Err(error)),
            Ok(Incoming::Request { id, method, params }) => {
                self.handle_request(conn, id, &method, Params::Decoded(params.as_ref()));
            }
        }
    }

    fn handle_request(&mut self, conn: ConnectionId, id: RequestId, method: &str, params: Params<'_>) {
        let Some(info) = methods::lookup(method) else {
            let error = ErrorObject::invalid_request(methods::unknown_method_message(method));
            return self.respond_error(conn, &id, error);
        };
        if info.params_required && !params.is_present() {
            let error = ErrorObject::invalid_request("Invalid request: missing field `params`");
            return self.respond_error(conn, &id, error);
        }
        let request = match params.read(&RequestParser(info.name)) {
            Ok(request) => request,
            Err(e) => {
                return self.respond_error(
                    conn,
                    &id,
                    ErrorObject::invalid_request(format!("Invalid request: {e}")),
                )
            }
        };
        if let ClientRequest::Initialize(p) = request {
            return self.handle_initialize(conn, id, p);
        }
        let Some(session) = self.connections.get(&conn).and_then(|c| c.session.as_ref()) else {
            return self.respond_error(conn, &id, ErrorObject::invalid_request("Not initialized"));
        };
        if !session.experimental_api {
            let gated = if info.experimental {
                Some(info.name.to_owned())
            } else {
                let fields = methods::experimental_fields(info.name);
                params.first_used(fields).map(|f| format!("{}.{f}", info.name))
            };
            if let Some(reason) = gated {
                let error =
                    ErrorObject::invalid_request(format!("{reason} requires experimentalApi capability"));
                return self.respond_error(conn, &id, error);
            }
        }
        match request {
            ClientRequest::Initialize(_) => unreachable!("handled above"),
            ClientRequest::ThreadStart(p) => self.handle_thread_start(conn, id, p),
            ClientRequest::ThreadResume(p) => self.handle_thread_resume(conn, id, p),
            ClientRequest::ThreadFork(p) => self.handle_thread_fork(conn, id, p),
            ClientRequest::ThreadArchive(p) => self.handle_thread_archive(conn, id, p),
            ClientRequest::ThreadUnarchive(p) => self.handle_thread_unarchive(conn, id, p),
            ClientRequest::ThreadRead(p) => self.handle_thread_read(conn, id, p),
            ClientRequest::ThreadList(p) => self.handle_thread_list(conn, id, p),
            ClientRequest::ThreadLoadedList(p) => self.handle_thread_loaded_list(conn, id, p),
            ClientRequest::ThreadNameSet(p) => self.handle_thread_name_set(conn, id, p),
            ClientRequest::ThreadUnsubscribe(p) => self.handle_thread_unsubscribe(conn, id, p),
            ClientRequest::TurnStart(p) => self.handle_turn_start(conn, id, p),
            ClientRequest::TurnSteer(p) => self.handle_turn_steer(conn, id, p),
            ClientRequest::TurnInterrupt(p) => self.handle_turn_interrupt(conn, id, p),
            ClientRequest::Unsupported(name) => {
                let error = ErrorObject {
                    code: codes::METHOD_NOT_FOUND,
                    message: format!("{name} is not supported yet"),
                    data: None,
                };
                self.respond_error(conn, &id, error);
            }
        }
    }

    fn handle_shutdown(&mut self) {
        let loaded: Vec<ThreadId> = self.loaded_threads();
        for thread_id in loaded {
            self.drop_thread_requests(thread_id);
            if let Some(t) = self.threads.get_mut(&thread_id) {
                t.live = None;
            }
            self.outputs.push_back(Output::Engine { thread_id, command: crate::EngineCommand::CloseThread });
        }
        for conn in std::mem::take(&mut self.connections).into_keys() {
            self.outputs.push_back(Output::Close { conn });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implemented_methods_are_exactly_those_dispatched() {
        for m in methods::all() {
            let unsupported = matches!(
                ClientRequest::parse(m.name, Some(&serde_json::json!({}))),
                Ok(ClientRequest::Unsupported(_))
            );
            assert_eq!(unsupported, !methods::IMPLEMENTED.contains(&m.name), "{}", m.name);
        }
    }

    /// The fast path reads a request exactly as the `Value` path does, or declines it.
    fn reads_like_decode(frame: &str) -> Result<(), String> {
        let fast = fast_request::read(frame, methods::experimental_fields);
        let slow = match Incoming::decode(frame) {
            Ok(Incoming::Request { id, method, params }) => Some((id, method, params)),
            _ => None,
        };
        let (fast, (id, method, params)) = match (fast, slow) {
            (None, _) => return Ok(()),
            (Some(_), None) => {
                return Err(format!("read a frame `Incoming::decode` does not take as a request: {frame}"))
            }
            (Some(fast), Some(slow)) => (fast, slow),
        };
        let decoded = Params::Decoded(params.as_ref());
        if (&fast.id, &*fast.method, fast.params.is_present()) != (&id, method.as_str(), decoded.is_present())
        {
            return Err(format!("envelope differs: {frame}"));
        }
        let Some(info) = methods::lookup(&method) else { return Ok(()) };
        let parser = RequestParser(info.name);
        let (fast_request, slow_request) = (fast.params.read(&parser), decoded.read(&parser));
        if format!("{fast_request:?}") != format!("{slow_request:?}") {
            return Err(format!("params differ: {frame}\n{fast_request:?}\n{slow_request:?}"));
        }
        let fields = methods::experimental_fields(info.name);
        if fast.params.first_used(fields) != decoded.first_used(fields) {
            return Err(format!("experimental fields differ: {frame}"));
        }
        Ok(())
    }

    #[test]
    fn fast_requests_read_like_decoded_ones() {
        let thread = r#""019ab698-1bda-7dff-9d99-d2808f614b03""#;
        let deep = |n: usize| {
            format!(
                r#"{{"id":1,"method":"thread/list","params":{{"x":{}{}}}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        let frames = [
            format!(r#"{{"id":1,"method":"turn/start","params":{{"threadId":{thread},"input":[{{"type":"text","text":"hi"}}]}}}}"#),
            format!(r#"{{"jsonrpc":"2.0","id":"s-1","method":"thread/resume","params":{{"threadId":{thread},"excludeTurns":true}}}}"#),
            // Repeated keys: a `Value` keeps the last one.
            format!(r#"{{"id":1,"method":"thread/read","params":{{"threadId":"x","threadId":{thread},"includeTurns":true}}}}"#),
            r#"{"id":1,"id":2,"method":"thread/list","method":"thread/loaded/list","params":{}}"#.into(),
            r#"{"id":1,"method":"thread/list","params":{},"params":{"limit":1e400}}"#.into(),
            r#"{"id":1,"params":{},"method":"thread/list"}"#.into(),
            // Escaped member names and values.
            r#"{"\u0069d":3,"m\u0065thod":"thread\/list","params":{"sear\u0063hTerm":"a\"b"}}"#.into(),
            // Values a `Value` refuses, wherever they are.
            r#"{"id":1,"method":"thread/list","params":{},"extra":1e400}"#.into(),
            r#"{"id":1,"method":"thread/list","params":{"extra":[1e400]}}"#.into(),
            r#"{"id":1,"method":"thread/list","params":{"extra":"\ud800"}}"#.into(),
            r#"{"id":1,"method":"thread/list","params":{"extra":"\udc00x"}}"#.into(),
            "{\"id\":1,\"method\":\"thread/list\",\"params\":{\"extra\":\"tab\tinside\"}}".into(),
            r#"{"id":1,"method":"thread/list","params":{}} trailing"#.into(),
            r#"{"id":1,"method":"thread/list","params":{},}"#.into(),
            deep(126),
            deep(127),
            deep(130),
            // Ids and methods of other kinds.
            r#"{"id":1.0,"method":"thread/list","params":{}}"#.into(),
            r#"{"id":-0,"method":"thread/list"}"#.into(),
            r#"{"id":9223372036854775808,"method":"thread/list"}"#.into(),
            r#"{"id":-9223372036854775808,"method":"thread/list"}"#.into(),
            r#"{"id":null,"method":"thread/list"}"#.into(),
            r#"{"id":[1],"method":{"a":[]}}"#.into(),
            r#"{"id":1,"method":7,"params":{}}"#.into(),
            r#"[{"id":1,"method":"thread/list"}]"#.into(),
            // Params of every shape, typed errors, experimental fields.
            r#"{"id":1,"method":"thread/start","params":null}"#.into(),
            r#"{"id":1,"method":"thread/start","params":[]}"#.into(),
            r#"{"id":1,"method":"thread/start","params":{"ephemeral":"yes"}}"#.into(),
            r#"{"id":1,"method":"thread/start","params":{"dynamicTools":[],"permissions":null,"environments":{}}}"#.into(),
            r#"{"id":1,"method":"thread/start","params":{"dynamicTools":[{}],"permissions":"p","permissions":false}}"#.into(),
            r#"{"id":1,"method":"thread/start","params":{"historyMode":0,"dynamicTools":[1]}}"#.into(),
            r#"{"id":1,"method":"thread/start","params":{"approvalPolicy":{"granular":{}},"sandbox":"read-only"}}"#.into(),
            r#"{"id":1,"method":"thread/list","params":{"cwd":["/a","/b"],"limit":1.0}}"#.into(),
            r#"{"id":1,"method":"turn/start","params":{"threadId":"t","input":[{"type":"text","text":"a","type":"text"}]}}"#.into(),
            r#"{"id":1,"method":"turn/start","params":{"threadId":"t","input":"not a list"}}"#.into(),
            r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"n","version":"1"},"capabilities":null}}"#.into(),
            r#"{"id":1,"method":"thread/archive","params":{"anything":[1,{"deep":true}]}}"#.into(),
            r#"{"id":1,"method":"no/such/method","params":{"x":1}}"#.into(),
            r#"{"id":1,"method":"thread/list"}"#.into(),
        ];
        for frame in &frames {
            reads_like_decode(frame).unwrap_or_else(|e| panic!("{e}"));
        }
        // The common case does take the fast path.
        assert!(fast_request::read(&frames[0], methods::experimental_fields).is_some());
    }

    /// A JSON value as text, with what a `Value` refuses mixed in.
    fn value_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("1e400".to_owned()),
            Just("18446744073709551616".to_owned()),
            Just(r#""\ud800""#.to_owned()),
            Just(r#""\u0074ext""#.to_owned()),
            Just(r#""019ab698-1bda-7dff-9d99-d2808f614b03""#.to_owned()),
            Just(r#""turn/start""#.to_owned()),
            Just(r#""thread/start""#.to_owned()),
            Just(r#""thread/list""#.to_owned()),
            Just(r#""text""#.to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:?}")),
            "[a-z \\\\\"/]{0,6}".prop_map(|s| format!("\"{s}\"")),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            let key = prop_oneof![
                Just("type"),
                Just("text"),
                Just("threadId"),
                Just("input"),
                Just("limit"),
                Just("cwd"),
                Just("dynamicTools"),
                Just("permissions"),
                Just("ephemeral"),
                Just("t\\u0065xt"),
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key, inner), 0..4).prop_map(|members| {
                    let members: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    /// A request-like frame: id, method and params (an object of fields the parsers know,
    /// mostly) plus extra and repeated members, in any order.
    fn frame_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let id = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            Just(r#""s-1""#.to_owned()),
            Just("1.0".to_owned()),
            Just("18446744073709551615".to_owned()),
            value_text(),
        ];
        let method = prop_oneof![
            Just(r#""turn/start""#.to_owned()),
            Just(r#""thread/start""#.to_owned()),
            Just(r#""thread/list""#.to_owned()),
            Just(r#""thread/resume""#.to_owned()),
            Just(r#""initialize""#.to_owned()),
            Just(r#""thread/archive""#.to_owned()),
            value_text(),
        ];
        let field = prop_oneof![
            Just("threadId"),
            Just("input"),
            Just("limit"),
            Just("cwd"),
            Just("dynamicTools"),
            Just("permissions"),
            Just("ephemeral"),
            Just("excludeTurns"),
            Just("clientInfo"),
            Just("t\\u0068readId"),
        ];
        let params = prop_oneof![
            4 => prop::collection::vec((field, value_text()), 0..5).prop_map(|fields| {
                let fields: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
            1 => value_text(),
        ];
        let extra =
            (prop_oneof![Just("jsonrpc"), Just("id"), Just("params"), Just("m\\u0065thod")], value_text());
        (id, method, params, prop::collection::vec(extra, 0..2))
            .prop_flat_map(|(id, method, params, extras)| {
                let mut members = vec![
                    format!("\"id\":{id}"),
                    format!("\"method\":{method}"),
                    format!("\"params\":{params}"),
                ];
                members.extend(extras.iter().map(|(k, v)| format!("\"{k}\":{v}")));
                Just(members).prop_shuffle()
            })
            .prop_map(|members| format!("{{{}}}", members.join(",")))
    }

    proptest::proptest! {
        #[test]
        fn generated_requests_read_like_decoded_ones(frame in frame_text()) {
            let verdict = reads_like_decode(&frame);
            proptest::prop_assert!(verdict.is_ok(), "{:?}", verdict);
        }
    }
}
