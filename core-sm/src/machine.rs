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
    InitializeParams, ThreadIdParams, ThreadListParams, ThreadLoadedListParams, ThreadReadParams,
    ThreadResumeParams, ThreadSetNameParams, ThreadStartParams, TurnInterruptParams, TurnStartParams,
    TurnSteerParams,
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
        let mut all: Vec<(i64, ThreadId)> = Vec::with_capacity(self.pending.len());
        for t in self.threads.keys() {
            all.extend(self.pending.of_thread(*t).into_iter().map(|id| (id, *t)));
        }
        all.sort_unstable();
        all
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
}
