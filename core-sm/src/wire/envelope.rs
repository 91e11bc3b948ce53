//! The JSON-RPC envelope: decoding inbound frames and encoding outbound ones.
//!
//! Codex speaks JSON-RPC 2.0 without the `"jsonrpc"` member: it never writes it and ignores it
//! on input. Decoding is "untagged" in the order request, notification, response, error; a
//! frame that fits none of them is undecodable and dropped without a reply.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json;
use super::views::RawJson;

/// A JSON-RPC request id: a string or a 64-bit integer. Floats and `null` are not ids.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// An integer id; server-to-client requests always use these.
    Integer(i64),
    /// A string id, echoed verbatim.
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Integer(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl RequestId {
    /// Reads an id from a JSON value, refusing floats, `null` and anything else.
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(RequestId::String(s.clone())),
            Value::Number(n) => n.as_i64().map(RequestId::Integer),
            _ => None,
        }
    }
}

/// The `error` member of an error response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// JSON-RPC error code (see [`codes`]).
    pub code: i64,
    /// Human-readable message; Codex's exact texts are reproduced.
    pub message: String,
    /// Optional structured detail; omitted on the wire when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// `-32600` with the given message: Codex's answer to almost every client mistake.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self { code: codes::INVALID_REQUEST, message: message.into(), data: None }
    }

    /// Attaches `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// JSON-RPC error codes used by the protocol.
pub mod codes {
    /// Invalid request: protocol misuse, unknown methods, bad params, unknown ids.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Method not found: used for methods in the schema that turnstile does not implement.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid params: input over the size limit.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The server's ingress queue is full.
    pub const OVERLOADED: i64 = -32001;
}

/// A decoded inbound frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    /// `{id, method, params?}`.
    Request {
        /// The client's id, echoed in the reply.
        id: RequestId,
        /// The method name (not yet checked against the known set).
        method: String,
        /// `params` if present (`null` counts as present).
        params: Option<Value>,
    },
    /// `{method, params?}` without an id.
    Notification {
        /// The method name.
        method: String,
    },
    /// `{id, result}`: a client's answer to a server request.
    Response {
        /// The server request's id.
        id: RequestId,
        /// The answer.
        result: Value,
    },
    /// `{id, error}`: a client's error reply to a server request.
    Error {
        /// The server request's id.
        id: RequestId,
        /// The error as sent.
        error: ErrorObject,
    },
}

/// Why a frame could not be decoded. Undecodable frames are dropped with no reply.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    /// Not JSON at all.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// JSON, but not an object (arrays, i.e. batches, included).
    #[error("not a JSON-RPC message object")]
    NotAnObject,
    /// An object that matches no JSON-RPC message shape.
    #[error("unrecognized JSON-RPC message shape")]
    Shape,
}

impl Incoming {
    /// Decodes one frame the way Codex's untagged `JSONRPCMessage` does.
    pub fn decode(text: &str) -> Result<Incoming, DecodeError> {
        let value: Value = serde_json::from_str(text).map_err(|e| DecodeError::Json(e.to_string()))?;
        let Value::Object(mut obj) = value else {
            return Err(DecodeError::NotAnObject);
        };
        let id = obj.get("id").and_then(RequestId::from_value);
        let method = match obj.get("method") {
            Some(Value::String(m)) => Some(m.clone()),
            _ => None,
        };
        match (id, method) {
            (Some(id), Some(method)) => Ok(Incoming::Request { id, method, params: obj.remove("params") }),
            (None, Some(method)) => Ok(Incoming::Notification { method }),
            (Some(id), None) => {
                if let Some(result) = obj.remove("result") {
                    Ok(Incoming::Response { id, result })
                } else if let Some(error) = obj.remove("error") {
                    let error = serde_json::from_value(error).map_err(|_| DecodeError::Shape)?;
                    Ok(Incoming::Error { id, error })
                } else {
                    Err(DecodeError::Shape)
                }
            }
            (None, None) => Err(DecodeError::Shape),
        }
    }
}

/// One serialized outbound message, shared by every recipient (fan-out costs one serialization).
pub type Frame = Arc<str>;

#[derive(Serialize)]
struct ResultEnvelope<'a, R: Serialize> {
    id: &'a RequestId,
    result: &'a R,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    id: &'a RequestId,
    error: &'a ErrorObject,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationEnvelope<'a, P: Serialize> {
    method: &'a str,
    params: &'a P,
    emitted_at_ms: i64,
}

#[derive(Serialize)]
struct RequestEnvelope<'a, P: Serialize> {
    id: &'a RequestId,
    method: &'a str,
    params: &'a P,
}

/// Serializes outbound frames through one reusable buffer, so a frame costs one allocation
/// (its shared [`Frame`]) instead of a growing `String` plus a copy into the `Arc`.
///
/// The bytes are exactly those of `serde_json::to_string` (see [`super::json`]), written into a
/// buffer that outlives the call. Encoding takes `&self` so a frame can be
/// built from borrowed machine state; the lock is never contended (the machine is driven from
/// one thread at a time) and keeps the machine `Sync`.
#[derive(Debug, Default)]
pub(crate) struct FrameEncoder {
    buf: Mutex<String>,
}

/// A buffer grown past this by one huge frame (a long history) is released afterwards.
const KEEP_BUFFER_BYTES: usize = 1 << 20;

impl FrameEncoder {
    /// Serializes `value` into the buffer and hands the text to `finish`.
    fn encode<T: Serialize, R>(&self, value: &T, finish: impl FnOnce(&str) -> R) -> Result<R, json::Error> {
        // A poisoned lock only means a panic elsewhere; the buffer is cleared before use anyway.
        let mut buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        buf.clear();
        let result = json::to_writer(&mut buf, value).map(|()| finish(&buf));
        if buf.capacity() > KEEP_BUFFER_BYTES {
            *buf = String::new();
        }
        result
    }

    fn frame<T: Serialize>(&self, value: &T) -> Frame {
        // Our wire types contain only string keys and finite numbers; serialization cannot fail.
        self.encode(value, |text| Arc::from(text)).unwrap_or_else(|error| {
            tracing::error!(%error, "failed to serialize an outbound frame");
            Arc::from("{}")
        })
    }

    /// The JSON of one value, to be written verbatim into later frames.
    pub(crate) fn raw<T: Serialize>(&self, value: &T) -> RawJson {
        let json = self.encode(value, |text| Box::from(text)).unwrap_or_else(|error| {
            tracing::error!(%error, "failed to serialize a value for later frames");
            Box::from("null")
        });
        RawJson::new(json)
    }

    /// `{"id":…,"result":…}`.
    pub(crate) fn result<R: Serialize>(&self, id: &RequestId, result: &R) -> Frame {
        self.frame(&ResultEnvelope { id, result })
    }

    /// `{"id":…,"error":{…}}`.
    pub(crate) fn error(&self, id: &RequestId, error: &ErrorObject) -> Frame {
        self.frame(&ErrorEnvelope { id, error })
    }

    /// `{"method":…,"params":…,"emittedAtMs":…}`.
    pub(crate) fn notification<P: Serialize>(&self, method: &str, params: &P, emitted_at_ms: i64) -> Frame {
        self.frame(&NotificationEnvelope { method, params, emitted_at_ms })
    }

    /// `{"id":…,"method":…,"params":…}` for server-to-client requests.
    pub(crate) fn request<P: Serialize>(&self, id: &RequestId, method: &str, params: &P) -> Frame {
        self.frame(&RequestEnvelope { id, method, params })
    }
}

/// `{"id":…,"result":…}`.
pub fn encode_result<R: Serialize>(id: &RequestId, result: &R) -> Frame {
    FrameEncoder::default().result(id, result)
}

/// `{"id":…,"error":{…}}`.
pub fn encode_error(id: &RequestId, error: &ErrorObject) -> Frame {
    FrameEncoder::default().error(id, error)
}

/// `{"method":…,"params":…,"emittedAtMs":…}`.
pub fn encode_notification<P: Serialize>(method: &str, params: &P, emitted_at_ms: i64) -> Frame {
    FrameEncoder::default().notification(method, params, emitted_at_ms)
}

/// `{"id":…,"method":…,"params":…}` for server-to-client requests.
pub fn encode_request<P: Serialize>(id: &RequestId, method: &str, params: &P) -> Frame {
    FrameEncoder::default().request(id, method, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_like_codex() {
        let table: &[(&str, Result<&str, DecodeError>)] = &[
            (r#"{"id":1,"method":"initialize","params":{}}"#, Ok("request")),
            (r#"{"jsonrpc":"2.0","id":"a","method":"x"}"#, Ok("request")),
            (r#"{"method":"initialized"}"#, Ok("notification")),
            (r#"{"id":1.5,"method":"initialize"}"#, Ok("notification")),
            (r#"{"id":null,"method":"initialize"}"#, Ok("notification")),
            (r#"{"id":3,"result":{}}"#, Ok("response")),
            (r#"{"id":3,"error":{"code":1,"message":"m"}}"#, Ok("error")),
            (r#"{"id":3,"error":{"code":"x"}}"#, Err(DecodeError::Shape)),
            (r#"{"id":1.5,"result":{}}"#, Err(DecodeError::Shape)),
            (r#"[{"id":1,"method":"x"}]"#, Err(DecodeError::NotAnObject)),
            (r#"{"id":1,"method":7}"#, Err(DecodeError::Shape)),
        ];
        for (text, want) in table {
            let got = Incoming::decode(text).map(|m| match m {
                Incoming::Request { .. } => "request",
                Incoming::Notification { .. } => "notification",
                Incoming::Response { .. } => "response",
                Incoming::Error { .. } => "error",
            });
            assert_eq!(&got, want, "{text}");
        }
        assert!(matches!(Incoming::decode("{nope"), Err(DecodeError::Json(_))));
    }

    #[test]
    fn encodes_without_jsonrpc_member() {
        let id = RequestId::String("r".into());
        assert_eq!(&*encode_result(&id, &json!({})), r#"{"id":"r","result":{}}"#);
        let err = ErrorObject::invalid_request("Not initialized");
        assert_eq!(
            &*encode_error(&RequestId::Integer(2), &err),
            r#"{"id":2,"error":{"code":-32600,"message":"Not initialized"}}"#
        );
        assert_eq!(
            &*encode_notification("x/y", &json!({"a":1}), 5),
            r#"{"method":"x/y","params":{"a":1},"emittedAtMs":5}"#
        );
    }
}
