//! Test support for turnstile: a schema-conformance checker for the Codex app-server
//! protocol (0.169.0, experimental bundle), shared by every end-to-end test.
//!
//! - [`Schema`]: the bundle, loaded once per process ([`Schema::load`]), with one
//!   `validate_*` entry point per frame kind. Validators are compiled lazily per method or
//!   definition and cached.
//! - [`Transcript`]: feed it a whole session in order; it pairs responses with the requests
//!   they answer, validates everything and reports all failures at once.
//! - [`MethodInventory`]: every method in the schema, for support tables.
//! - [`server::Server`]: the real `turnstile` binary over stdio, with a recorded, validated
//!   transcript for snapshots; [`ws::WsServer`]: the same binary listening on a websocket port,
//!   with one recorded, validated transcript per connection.
//!
//! ```
//! use tests::{Schema, Transcript};
//!
//! let mut t = Transcript::new();
//! t.client(r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"x","version":"1"}}}"#);
//! t.server(r#"{"id":1,"result":{"userAgent":"x/1","codexHome":"/h","platformFamily":"unix","platformOs":"linux"}}"#);
//! t.assert_valid();
//!
//! let frame = serde_json::json!({"id": 2, "error": {"code": -32600, "message": "Not initialized"}});
//! Schema::load().validate_error_response(&frame).unwrap();
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod diagnose;
mod error;
mod frame;
mod inventory;
mod schema;
pub mod server;
mod transcript;
pub mod ws;

pub use error::{LoadError, SchemaError, Violation};
pub use frame::{classify, FrameKind, IntoFrame, RequestId};
pub use inventory::{method_inventory, MethodInventory, MethodKind};
pub use schema::{MethodEntry, Schema, DEFAULT_SCHEMA_DIR, RESPONSE_OVERRIDES, SCHEMA_DIR_ENV};
pub use transcript::{Direction, Failure, FrameCounts, Transcript};
