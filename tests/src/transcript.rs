//! [`Transcript`]: checks a whole session, frame by frame, in order.
//!
//! Feed it every frame the client sent ([`Transcript::client`]) and every frame the server
//! sent ([`Transcript::server`]) in the order they crossed the wire. It remembers which
//! method each request id belongs to, so responses are validated against the response
//! definition of the request they answer, and it collects every failure instead of
//! stopping at the first. Finish with [`Transcript::assert_valid`].

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use crate::error::truncate_to;
use crate::frame::{classify, method_of, FrameKind, IntoFrame, RequestId};
use crate::schema::Schema;

/// Longest frame text kept in a failure report.
const MAX_FRAME_CHARS: usize = 300;

/// Which side sent a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent by the client, received by the server.
    ClientToServer,
    /// Sent by the server, received by the client.
    ServerToClient,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ClientToServer => "client→server",
            Direction::ServerToClient => "server→client",
        })
    }
}

/// One conformance failure found in a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Position of the frame in the session (0-based, counting both directions).
    pub index: usize,
    /// Who sent the frame.
    pub direction: Direction,
    /// The frame as text, shortened for reports.
    pub frame: String,
    /// What is wrong (a [`SchemaError`](crate::SchemaError) rendered, or a bookkeeping error
    /// such as a response to an unknown id).
    pub error: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frame #{} ({}): {}\n    frame: {}", self.index, self.direction, self.error, self.frame)
    }
}

/// How many frames of each kind a [`Transcript`] has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameCounts {
    /// Requests the client sent.
    pub client_requests: usize,
    /// Notifications the client sent.
    pub client_notifications: usize,
    /// Responses and error responses the client sent (answers to server requests).
    pub client_responses: usize,
    /// Requests the server sent.
    pub server_requests: usize,
    /// Notifications the server sent.
    pub server_notifications: usize,
    /// Success responses the server sent.
    pub server_responses: usize,
    /// Error responses the server sent.
    pub server_errors: usize,
    /// Frames that were not JSON-RPC messages at all (either direction).
    pub unclassified: usize,
}

/// Validates a session's frames in order and collects every failure.
///
/// Besides validating each frame against the schema, it rejects a server response whose id
/// matches no outstanding client request, a second response to the same id, and the same
/// for client answers to server requests.
#[derive(Debug)]
pub struct Transcript<'s> {
    schema: &'s Schema,
    frames: usize,
    client_pending: HashMap<RequestId, String>,
    client_answered: HashMap<RequestId, String>,
    server_pending: HashMap<RequestId, String>,
    server_answered: HashMap<RequestId, String>,
    server_ids_used: HashSet<RequestId>,
    counts: FrameCounts,
    failures: Vec<Failure>,
}

impl Default for Transcript<'static> {
    fn default() -> Self {
        Transcript::new()
    }
}

impl Transcript<'static> {
    /// A transcript checked against the shared [`Schema::load`] instance.
    pub fn new() -> Self {
        Transcript::with_schema(Schema::load())
    }
}

impl<'s> Transcript<'s> {
    /// A transcript checked against `schema`.
    pub fn with_schema(schema: &'s Schema) -> Self {
        Transcript {
            schema,
            frames: 0,
            client_pending: HashMap::new(),
            client_answered: HashMap::new(),
            server_pending: HashMap::new(),
            server_answered: HashMap::new(),
            server_ids_used: HashSet::new(),
            counts: FrameCounts::default(),
            failures: Vec::new(),
        }
    }

    /// Records and validates a frame the client sent.
    pub fn client(&mut self, frame: impl IntoFrame) {
        self.client_frame(frame, true);
    }

    /// Records a frame the client sent without validating it: for tests that send invalid
    /// input on purpose. Request ids are still remembered, so the server's answer is checked.
    pub fn client_unchecked(&mut self, frame: impl IntoFrame) {
        self.client_frame(frame, false);
    }

    /// Records and validates a frame the server sent.
    pub fn server(&mut self, frame: impl IntoFrame) {
        let index = self.next_index();
        let dir = Direction::ServerToClient;
        let frame = match frame.into_frame() {
            Ok(f) => f,
            Err(e) => {
                self.counts.unclassified += 1;
                return self.fail(index, dir, &Value::Null, e);
            }
        };
        let id = frame.get("id").and_then(RequestId::from_value);
        let result = match classify(&frame) {
            None => {
                self.counts.unclassified += 1;
                Err("not a JSON-RPC message (no `method`, `result` or `error`)".to_string())
            }
            Some(FrameKind::Notification) => {
                self.counts.server_notifications += 1;
                self.schema.validate_server_notification(&frame).map_err(|e| e.to_string())
            }
            Some(FrameKind::Request) => {
                self.counts.server_requests += 1;
                if let Some(id) = &id {
                    if !self.server_ids_used.insert(id.clone()) {
                        self.fail(index, dir, &frame, format!("server request id {id} was already used"));
                    }
                    let method = method_of(&frame).unwrap_or("?").to_string();
                    self.server_pending.insert(id.clone(), method);
                }
                self.schema.validate_server_request(&frame).map_err(|e| e.to_string())
            }
            Some(kind @ (FrameKind::Response | FrameKind::Error)) => {
                if kind == FrameKind::Response {
                    self.counts.server_responses += 1;
                } else {
                    self.counts.server_errors += 1;
                }
                let method = match &id {
                    Some(id) => {
                        let settled =
                            settle(&mut self.client_pending, &mut self.client_answered, id, "client request");
                        settled.map_err(|e| self.fail(index, dir, &frame, e)).ok()
                    }
                    None => None,
                };
                match (kind, method) {
                    (FrameKind::Error, _) => {
                        self.schema.validate_error_response(&frame).map_err(|e| e.to_string())
                    }
                    (_, Some(method)) => {
                        self.schema.validate_response(&method, &frame).map_err(|e| e.to_string())
                    }
                    // Unknown id: already reported; nothing to validate `result` against.
                    (_, None) if id.is_some() => Ok(()),
                    (_, None) => Err(format!(
                        "success response without a valid `id` (got {})",
                        frame.get("id").map_or("nothing".to_string(), Value::to_string)
                    )),
                }
            }
        };
        if let Err(e) = result {
            self.fail(index, dir, &frame, e);
        }
    }

    fn client_frame(&mut self, frame: impl IntoFrame, checked: bool) {
        let index = self.next_index();
        let dir = Direction::ClientToServer;
        let frame = match frame.into_frame() {
            Ok(f) => f,
            Err(e) => {
                self.counts.unclassified += 1;
                if checked {
                    self.fail(index, dir, &Value::Null, e);
                }
                return;
            }
        };
        let id = frame.get("id").and_then(RequestId::from_value);
        let result = match classify(&frame) {
            None => {
                self.counts.unclassified += 1;
                Err("not a JSON-RPC message (no `method`, `result` or `error`)".to_string())
            }
            Some(FrameKind::Notification) => {
                self.counts.client_notifications += 1;
                self.schema.validate_client_notification(&frame).map_err(|e| e.to_string())
            }
            Some(FrameKind::Request) => {
                self.counts.client_requests += 1;
                if let Some(id) = &id {
                    let method = method_of(&frame).unwrap_or("?").to_string();
                    self.client_answered.remove(id);
                    if let Some(prev) = self.client_pending.insert(id.clone(), method) {
                        if checked {
                            let e = format!("client reused id {id} while `{prev}` was still outstanding");
                            self.fail(index, dir, &frame, e);
                        }
                    }
                }
                self.schema.validate_client_request(&frame).map_err(|e| e.to_string())
            }
            Some(kind @ (FrameKind::Response | FrameKind::Error)) => {
                self.counts.client_responses += 1;
                let settled = id.as_ref().map(|id| {
                    settle(&mut self.server_pending, &mut self.server_answered, id, "server request")
                });
                match (kind, settled) {
                    (_, Some(Err(e))) => Err(e),
                    (FrameKind::Response, Some(Ok(method))) => {
                        self.schema.validate_client_response(&method, &frame).map_err(|e| e.to_string())
                    }
                    _ => self.schema.validate_error_response(&frame).map_err(|e| e.to_string()),
                }
            }
        };
        if let (true, Err(e)) = (checked, result) {
            self.fail(index, dir, &frame, e);
        }
    }

    /// Every failure so far, in frame order.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// Whether no failure has been found.
    pub fn is_valid(&self) -> bool {
        self.failures.is_empty()
    }

    /// How many frames have been fed, both directions.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Counts of frames by kind.
    pub fn counts(&self) -> FrameCounts {
        self.counts
    }

    /// Client requests the server has not answered yet, sorted by id.
    pub fn outstanding_client_requests(&self) -> Vec<(RequestId, String)> {
        sorted(&self.client_pending)
    }

    /// Server requests the client has not answered yet, sorted by id.
    pub fn outstanding_server_requests(&self) -> Vec<(RequestId, String)> {
        sorted(&self.server_pending)
    }

    /// A report of every failure, or `None` when the transcript is valid.
    pub fn report(&self) -> Option<String> {
        if self.failures.is_empty() {
            return None;
        }
        let mut s = format!(
            "{} protocol conformance failure(s) in a transcript of {} frames:",
            self.failures.len(),
            self.frames
        );
        for f in &self.failures {
            s.push_str("\n\n");
            s.push_str(&f.to_string());
        }
        Some(s)
    }

    /// Panics listing every failure, if there is any.
    #[track_caller]
    pub fn assert_valid(&self) {
        if let Some(report) = self.report() {
            panic!("{report}");
        }
    }

    /// Panics unless the transcript is valid and every client request has been answered.
    #[track_caller]
    pub fn assert_complete(&self) {
        self.assert_valid();
        let open = self.outstanding_client_requests();
        if !open.is_empty() {
            let list: Vec<String> = open.iter().map(|(id, m)| format!("{id} (`{m}`)")).collect();
            panic!("client requests never answered: {}", list.join(", "));
        }
    }

    fn next_index(&mut self) -> usize {
        self.frames += 1;
        self.frames - 1
    }

    fn fail(&mut self, index: usize, direction: Direction, frame: &Value, error: String) {
        let frame = match frame {
            Value::Null => "(unparseable)".to_string(),
            f => truncate_to(f.to_string(), MAX_FRAME_CHARS),
        };
        self.failures.push(Failure { index, direction, frame, error });
    }
}

/// Moves `id` from `pending` to `answered`, returning the method it answers; errors for an
/// id that was already answered or never asked.
fn settle(
    pending: &mut HashMap<RequestId, String>,
    answered: &mut HashMap<RequestId, String>,
    id: &RequestId,
    what: &str,
) -> Result<String, String> {
    if let Some(method) = pending.remove(id) {
        answered.insert(id.clone(), method.clone());
        return Ok(method);
    }
    Err(match answered.get(id) {
        Some(method) => format!("second response to id {id} (`{method}` was already answered)"),
        None => format!("response to id {id}, which matches no outstanding {what}"),
    })
}

fn sorted(map: &HashMap<RequestId, String>) -> Vec<(RequestId, String)> {
    let mut v: Vec<_> = map.iter().map(|(k, m)| (k.clone(), m.clone())).collect();
    v.sort();
    v
}
