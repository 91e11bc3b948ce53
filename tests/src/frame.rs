//! Frame-level helpers shared by the validators and the [`Transcript`](crate::Transcript):
//! request ids, frame classification, and accepting frames as text or JSON values.

use std::fmt;

use serde_json::Value;

/// A JSON-RPC request id as the protocol defines it: a string or a 64-bit integer.
///
/// `1` and `"1"` are different ids. Floats (`1.0`) and `null` are not ids.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Int(i64),
    /// A string id.
    Str(String),
}

impl RequestId {
    /// Reads an id from a JSON value; `None` when it is not a valid `RequestId`.
    pub fn from_value(value: &Value) -> Option<RequestId> {
        match value {
            Value::String(s) => Some(RequestId::Str(s.clone())),
            Value::Number(n) => n.as_i64().map(RequestId::Int),
            _ => None,
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Int(i) => write!(f, "{i}"),
            RequestId::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// The four JSON-RPC message shapes, told apart the way the protocol decodes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// `{id, method, params?}`.
    Request,
    /// `{method, params?}` (server notifications also carry `emittedAtMs`).
    Notification,
    /// `{id, result}`.
    Response,
    /// `{id, error}`.
    Error,
}

impl fmt::Display for FrameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameKind::Request => "request",
            FrameKind::Notification => "notification",
            FrameKind::Response => "response",
            FrameKind::Error => "error response",
        })
    }
}

/// Classifies a frame: `method` with `id` is a request, `method` alone a notification,
/// `error` an error response, `result` a success response. `None` for anything else
/// (not an object, or none of those members).
pub fn classify(frame: &Value) -> Option<FrameKind> {
    let obj = frame.as_object()?;
    if obj.contains_key("method") {
        if obj.contains_key("id") {
            Some(FrameKind::Request)
        } else {
            Some(FrameKind::Notification)
        }
    } else if obj.contains_key("error") {
        Some(FrameKind::Error)
    } else if obj.contains_key("result") {
        Some(FrameKind::Response)
    } else {
        None
    }
}

/// Something that can be fed to the checker as one frame: JSON text or a parsed value.
pub trait IntoFrame {
    /// Parses (or clones) the frame; `Err` carries the parse error for text that is not JSON.
    fn into_frame(self) -> Result<Value, String>;
}

impl IntoFrame for Value {
    fn into_frame(self) -> Result<Value, String> {
        Ok(self)
    }
}

impl IntoFrame for &Value {
    fn into_frame(self) -> Result<Value, String> {
        Ok(self.clone())
    }
}

impl IntoFrame for &str {
    fn into_frame(self) -> Result<Value, String> {
        serde_json::from_str(self).map_err(|e| format!("not valid JSON ({e})"))
    }
}

impl IntoFrame for String {
    fn into_frame(self) -> Result<Value, String> {
        self.as_str().into_frame()
    }
}

impl IntoFrame for &String {
    fn into_frame(self) -> Result<Value, String> {
        self.as_str().into_frame()
    }
}

/// The `method` member of a frame, when it is a string.
pub(crate) fn method_of(frame: &Value) -> Option<&str> {
    frame.get("method").and_then(Value::as_str)
}

/// Escapes one JSON-pointer reference token (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
