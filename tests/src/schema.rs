//! Loading the Codex app-server protocol schema bundle and validating frames against it.
//!
//! The bundle is read once per process ([`Schema::load`]); validators are compiled lazily,
//! one per method or definition, the first time a frame needs them, and cached for the
//! life of the process.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value};

use crate::error::{finish, LoadError, SchemaError, Violation};
use crate::frame::{escape_token, RequestId};

/// Environment variable naming the schema directory; overrides [`DEFAULT_SCHEMA_DIR`].
/// A relative path is taken from the test process's working directory (the crate
/// directory under `cargo test`).
pub const SCHEMA_DIR_ENV: &str = "TURNSTILE_SCHEMA_DIR";

/// Where the schema bundle lives when [`SCHEMA_DIR_ENV`] is unset: `shared/` beside the
/// repository checkout.
pub const DEFAULT_SCHEMA_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/protocol/codex-0.169.0");

/// Client methods whose response definition is not `XResponse` for params `XParams`
/// (or that have no params definition at all). Where the method exists in the upstream
/// `client_request_definitions!` table (codex-rs `app-server-protocol/src/protocol/common.rs`)
/// the entry matches it; the newer ones are the only `*Response` definition left for them.
/// Unit tests assert each entry is needed and that no `*Response` definition is unmapped.
pub const RESPONSE_OVERRIDES: &[(&str, &str)] = &[
    ("memory/reset", "MemoryResetResponse"),
    ("rollout/compress", "RolloutCompressResponse"),
    ("account/gatewayOAuth/cancel", "GatewayOAuthCancelResponse"),
    ("remoteControl/status/read", "RemoteControlStatusReadResponse"),
    ("config/mcpServer/reload", "McpServerRefreshResponse"),
    ("windowsSandbox/readiness", "WindowsSandboxReadinessResponse"),
    ("accountSession/list", "AccountSessionsResponse"),
    ("account/logout", "LogoutAccountResponse"),
    ("account/securitySetup/read", "GetAccountSecuritySetupResponse"),
    ("account/workspaceMessages/read", "GetWorkspaceMessagesResponse"),
    ("externalAgentConfig/import/readHistories", "ExternalAgentConfigImportHistoriesReadResponse"),
    ("config/value/write", "ConfigWriteResponse"),
    ("config/batchWrite", "ConfigWriteResponse"),
    ("configRequirements/read", "ConfigRequirementsReadResponse"),
];

/// Base URI under which the schema files are registered (never fetched).
const BASE_URI: &str = "https://turnstile.invalid/codex-0.169.0/";

/// The schema files the checker reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Doc {
    ClientRequest,
    ClientNotification,
    ServerNotification,
    ServerRequest,
    Bundle,
}

impl Doc {
    pub(crate) const ALL: [Doc; 5] = [
        Doc::ClientRequest,
        Doc::ClientNotification,
        Doc::ServerNotification,
        Doc::ServerRequest,
        Doc::Bundle,
    ];

    pub(crate) fn file(self) -> &'static str {
        match self {
            Doc::ClientRequest => "ClientRequest.json",
            Doc::ClientNotification => "ClientNotification.json",
            Doc::ServerNotification => "ServerNotification.json",
            Doc::ServerRequest => "ServerRequest.json",
            Doc::Bundle => "codex_app_server_protocol.schemas.json",
        }
    }

    pub(crate) fn uri(self) -> String {
        format!("{BASE_URI}{}", self.file())
    }

    /// Splits an absolute reference into the document and the JSON pointer of its fragment.
    pub(crate) fn split_uri(uri: &str) -> Option<(Doc, &str)> {
        let rest = uri.strip_prefix(BASE_URI)?;
        let (file, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let doc = Doc::ALL.into_iter().find(|d| d.file() == file)?;
        Some((doc, fragment))
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A lazily compiled validator (or the reason it could not be compiled).
type Lazy = OnceLock<Result<Arc<Validator>, String>>;

/// One variant of a method union in the schema (`ClientRequest`, `ClientNotification`,
/// `ServerNotification` or `ServerRequest`).
pub struct MethodEntry {
    /// The wire method name.
    pub name: String,
    /// Position of the variant in the union's `oneOf` (schema order).
    pub index: usize,
    /// Whether the variant lists `params` in `required`.
    pub params_required: bool,
    /// Name of the definition the variant's `params` refers to, e.g. `ThreadStartParams`.
    pub params_definition: Option<String>,
    /// For requests: the response definition as a path under the full bundle's
    /// `definitions`, e.g. `v2/ThreadStartResponse` or `InitializeResponse`.
    pub response_definition: Option<String>,
    frame_validator: Lazy,
    response_validator: Lazy,
}

impl fmt::Debug for MethodEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodEntry")
            .field("name", &self.name)
            .field("index", &self.index)
            .field("params_required", &self.params_required)
            .field("params_definition", &self.params_definition)
            .field("response_definition", &self.response_definition)
            .finish_non_exhaustive()
    }
}

/// The methods of one union, in schema order, with a name index.
struct MethodTable {
    doc: Doc,
    entries: Vec<MethodEntry>,
    by_name: HashMap<String, usize>,
}

impl MethodTable {
    fn get(&self, name: &str) -> Option<&MethodEntry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }
}

/// The loaded protocol schema: method tables plus a cache of compiled validators.
///
/// Obtain the shared instance with [`Schema::load`]; every `validate_*` method returns
/// `Ok(())` or a [`SchemaError`] naming the method/definition and each failing pointer.
pub struct Schema {
    dir: PathBuf,
    pub(crate) docs: Vec<Value>,
    registry: Registry,
    client_requests: MethodTable,
    client_notifications: MethodTable,
    server_notifications: MethodTable,
    server_requests: MethodTable,
    adhoc: RwLock<HashMap<String, Arc<Validator>>>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("dir", &self.dir)
            .field("client_requests", &self.client_requests.entries.len())
            .field("server_notifications", &self.server_notifications.entries.len())
            .field("server_requests", &self.server_requests.entries.len())
            .finish_non_exhaustive()
    }
}

impl Schema {
    /// The process-wide schema, loaded on first use from [`Schema::default_dir`].
    ///
    /// # Panics
    /// When the bundle cannot be read; the message names the directory and
    /// [`SCHEMA_DIR_ENV`].
    pub fn load() -> &'static Schema {
        static GLOBAL: OnceLock<Schema> = OnceLock::new();
        GLOBAL.get_or_init(|| Schema::load_from(Schema::default_dir()).unwrap_or_else(|e| panic!("{e}")))
    }

    /// `$TURNSTILE_SCHEMA_DIR` when set and non-empty, else [`DEFAULT_SCHEMA_DIR`].
    pub fn default_dir() -> PathBuf {
        match std::env::var_os(SCHEMA_DIR_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => PathBuf::from(DEFAULT_SCHEMA_DIR),
        }
    }

    /// Loads the bundle from `dir` (a fresh, unshared instance; prefer [`Schema::load`]).
    pub fn load_from(dir: impl AsRef<Path>) -> Result<Schema, LoadError> {
        let dir = dir.as_ref().to_path_buf();
        let mut docs = Vec::with_capacity(Doc::ALL.len());
        for doc in Doc::ALL {
            let path = dir.join(doc.file());
            let err = |message: String| LoadError { path: path.clone(), message };
            let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
            let value: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
            docs.push(value);
        }
        let fail = |message: String| LoadError { path: dir.clone(), message };
        let registry = Registry::options()
            .draft(Draft::Draft7)
            .build(
                Doc::ALL
                    .into_iter()
                    .map(|d| (d.uri(), Draft::Draft7.create_resource(docs[d.index()].clone()))),
            )
            .map_err(|e| fail(e.to_string()))?;
        let bundle = &docs[Doc::Bundle.index()];
        let table = |doc: Doc, overrides: Option<&[(&str, &str)]>| {
            method_table(doc, &docs[doc.index()], bundle, overrides)
                .map_err(|m| LoadError { path: dir.join(doc.file()), message: m })
        };
        let client_requests = table(Doc::ClientRequest, Some(RESPONSE_OVERRIDES))?;
        let client_notifications = table(Doc::ClientNotification, None)?;
        let server_notifications = table(Doc::ServerNotification, None)?;
        let server_requests = table(Doc::ServerRequest, Some(&[]))?;
        Ok(Schema {
            dir,
            docs,
            registry,
            client_requests,
            client_notifications,
            server_notifications,
            server_requests,
            adhoc: RwLock::new(HashMap::new()),
        })
    }

    /// The directory the bundle was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Client→server request methods (`ClientRequest.json`), in schema order.
    pub fn client_requests(&self) -> &[MethodEntry] {
        &self.client_requests.entries
    }

    /// Client→server notification methods (`ClientNotification.json`), in schema order.
    pub fn client_notifications(&self) -> &[MethodEntry] {
        &self.client_notifications.entries
    }

    /// Server→client notification methods (`ServerNotification.json`), in schema order.
    pub fn server_notifications(&self) -> &[MethodEntry] {
        &self.server_notifications.entries
    }

    /// Server→client request methods (`ServerRequest.json`), in schema order.
    pub fn server_requests(&self) -> &[MethodEntry] {
        &self.server_requests.entries
    }

    /// The client request `method`, if the schema has it.
    pub fn client_request(&self, method: &str) -> Option<&MethodEntry> {
        self.client_requests.get(method)
    }

    /// The server request `method`, if the schema has it.
    pub fn server_request(&self, method: &str) -> Option<&MethodEntry> {
        self.server_requests.get(method)
    }

    /// The response definition (path under the bundle's `definitions`, e.g.
    /// `v2/ThreadStartResponse`) for client request `method`.
    pub fn response_definition(&self, method: &str) -> Option<&str> {
        self.client_request(method)?.response_definition.as_deref()
    }

    /// Resolves a definition name to its path under the full bundle's `definitions`:
    /// `Thread` → `v2/Thread`, `InitializeResponse` → `InitializeResponse`. Names that
    /// already contain `/` are checked as given. `None` when no such definition exists.
    pub fn definition_path(&self, name: &str) -> Option<String> {
        definition_path(&self.docs[Doc::Bundle.index()], name)
    }

    /// Validates a client→server request frame against its method's `ClientRequest`
    /// variant. Unknown methods, a `jsonrpc` member and unexpected top-level members fail.
    pub fn validate_client_request(&self, frame: &Value) -> Result<(), SchemaError> {
        let mut out = Vec::new();
        let subject = |m: &str| format!("client request `{m}` (ClientRequest.json)");
        let Some(obj) = envelope(frame, &["id", "method", "params", "trace"], &mut out) else {
            return finish(|| subject("?"), out);
        };
        check_id(obj, &mut out);
        let Some(method) = check_method(obj, &mut out) else {
            return finish(|| subject("?"), out);
        };
        if let Some(trace) = obj.get("trace").filter(|t| !t.is_null()) {
            let uri = bundle_uri("W3cTraceContext");
            self.check_adhoc(&uri, trace, "/trace", &mut out);
        }
        match self.client_requests.get(method) {
            Some(entry) => self.check_frame(&self.client_requests, entry, frame, &mut out),
            None => out.push(unknown_method("client request", method, Doc::ClientRequest)),
        }
        finish(|| subject(method), out)
    }

    /// Validates a client→server notification frame (`ClientNotification.json`).
    pub fn validate_client_notification(&self, frame: &Value) -> Result<(), SchemaError> {
        let mut out = Vec::new();
        let subject = |m: &str| format!("client notification `{m}` (ClientNotification.json)");
        let Some(obj) = envelope(frame, &["method", "params", "id"], &mut out) else {
            return finish(|| subject("?"), out);
        };
        if obj.contains_key("id") {
            out.push(Violation::envelope("/id", "notifications must not carry `id`"));
        }
        let Some(method) = check_method(obj, &mut out) else {
            return finish(|| subject("?"), out);
        };
        match self.client_notifications.get(method) {
            Some(entry) => self.check_frame(&self.client_notifications, entry, frame, &mut out),
            None => out.push(unknown_method("client notification", method, Doc::ClientNotification)),
        }
        finish(|| subject(method), out)
    }

    /// Validates a server→client notification frame against its `ServerNotification`
    /// variant; additionally requires an integer `emittedAtMs` and no `id`.
    pub fn validate_server_notification(&self, frame: &Value) -> Result<(), SchemaError> {
        let mut out = Vec::new();
        let subject = |m: &str| format!("server notification `{m}` (ServerNotification.json)");
        let Some(obj) = envelope(frame, &["method", "params", "emittedAtMs", "id"], &mut out) else {
            return finish(|| subject("?"), out);
        };
        if obj.contains_key("id") {
            out.push(Violation::envelope("/id", "notifications must not carry `id`"));
        }
        match obj.get("emittedAtMs") {
            None => out.push(Violation::envelope(
                "/emittedAtMs",
                "missing `emittedAtMs`: every server notification carries an integer timestamp",
            )),
            Some(v) if v.as_i64().is_none() => out.push(Violation::envelope(
                "/emittedAtMs",
                format!("`emittedAtMs` must be an int64 integer, got {v}"),
            )),
            Some(_) => {}
        }
        let Some(method) = check_method(obj, &mut out) else {
            return finish(|| subject("?"), out);
        };
        match self.server_notifications.get(method) {
            Some(entry) => self.check_frame(&self.server_notifications, entry, frame, &mut out),
            None => out.push(unknown_method("server notification", method, Doc::ServerNotification)),
        }
        finish(|| subject(method), out)
    }

    /// Validates a server→client request frame against its `ServerRequest` variant.
    pub fn validate_server_request(&self, frame: &Value) -> Result<(), SchemaError> {
        let mut out = Vec::new();
        let subject = |m: &str| format!("server request `{m}` (ServerRequest.json)");
        let Some(obj) = envelope(frame, &["id", "method", "params"], &mut out) else {
            return finish(|| subject("?"), out);
        };
        check_id(obj, &mut out);
        let Some(method) = check_method(obj, &mut out) else {
            return finish(|| subject("?"), out);
        };
        match self.server_requests.get(method) {
            Some(entry) => self.check_frame(&self.server_requests, entry, frame, &mut out),
            None => {
                let mut v = unknown_method("server request", method, Doc::ServerRequest);
                if self.server_notifications.get(method).is_some() {
                    v.message.push_str(" (it is a server notification: drop the `id`)");
                }
                out.push(v);
            }
        }
        finish(|| subject(method), out)
    }

    /// Validates a success response `{id, result}` answering a client request of `method`:
    /// `result` must match that method's response definition.
    pub fn validate_response(&self, method: &str, frame: &Value) -> Result<(), SchemaError> {
        self.validate_result(&self.client_requests, "response to", method, frame)
    }

    /// Validates a client's success response `{id, result}` to a server request of `method`
    /// (e.g. `item/commandExecution/requestApproval` → `CommandExecutionRequestApprovalResponse`).
    pub fn validate_client_response(&self, method: &str, frame: &Value) -> Result<(), SchemaError> {
        self.validate_result(&self.server_requests, "client response to server request", method, frame)
    }

    /// Validates an error response: `{id, error: {code: int, message: string, data?}}`
    /// (`JSONRPCError`); `data` must be omitted rather than `null`.
    pub fn validate_error_response(&self, frame: &Value) -> Result<(), SchemaError> {
        let mut out = Vec::new();
        let subject = || "error response (JSONRPCError)".to_string();
        let Some(obj) = envelope(frame, &["id", "error"], &mut out) else {
            return finish(subject, out);
        };
        check_id(obj, &mut out);
        self.check_adhoc(&bundle_uri("JSONRPCError"), frame, "", &mut out);
        if let Some(error) = obj.get("error").and_then(Value::as_object) {
            for key in error.keys() {
                if !["code", "message", "data"].contains(&key.as_str()) {
                    out.push(Violation::envelope(
                        format!("/error/{}", escape_token(key)),
                        format!("unexpected member `{key}` in `error` (allowed: code, message, data)"),
                    ));
                }
            }
            if let Some(code @ Value::Number(n)) = error.get("code") {
                if n.as_i64().is_none() {
                    out.push(Violation::envelope(
                        "/error/code",
                        format!("`code` must be an int64 integer, got {code}"),
                    ));
                }
            }
            if error.get("data").is_some_and(Value::is_null) {
                out.push(Violation::envelope(
                    "/error/data",
                    "`data` is null; it must be omitted when absent",
                ));
            }
        }
        finish(subject, out)
    }

    /// Validates `value` against a definition of the full bundle, by name (`Thread`,
    /// `v2/ThreadItem`, `InitializeResponse`, ...).
    pub fn validate_definition(&self, name: &str, value: &Value) -> Result<(), SchemaError> {
        let mut out = Vec::new();
        match self.definition_path(name) {
            Some(path) => self.check_adhoc(&bundle_uri(&path), value, "", &mut out),
            None => {
                out.push(Violation::envelope("", format!("no definition `{name}` in {}", Doc::Bundle.file())))
            }
        }
        finish(|| format!("definition `{name}`"), out)
    }

    fn validate_result(
        &self,
        table: &MethodTable,
        what: &str,
        method: &str,
        frame: &Value,
    ) -> Result<(), SchemaError> {
        let mut out = Vec::new();
        let entry = table.get(method);
        let def = entry.and_then(|e| e.response_definition.as_deref());
        let subject = || format!("{what} `{method}` (result: {})", def.unwrap_or("?"));
        let Some(obj) = envelope(frame, &["id", "result"], &mut out) else {
            return finish(subject, out);
        };
        check_id(obj, &mut out);
        let Some(result) = obj.get("result") else {
            out.push(Violation::envelope("/result", "missing `result`"));
            return finish(subject, out);
        };
        match (entry, def) {
            (None, _) => out.push(unknown_method("request", method, table.doc)),
            (Some(_), None) => out.push(Violation::envelope(
                "/result",
                format!("`{method}` has no response definition in the schema"),
            )),
            (Some(entry), Some(def)) => {
                let uri = bundle_uri(def);
                match self.cached(&entry.response_validator, &uri) {
                    Ok(v) => self.collect(&v, &uri, result, "/result", &mut out),
                    Err(e) => out.push(Violation::envelope("/result", e)),
                }
            }
        }
        finish(subject, out)
    }

    /// Validates a whole frame against the union variant of `entry`.
    fn check_frame(&self, table: &MethodTable, entry: &MethodEntry, frame: &Value, out: &mut Vec<Violation>) {
        let uri = format!("{}#/oneOf/{}", table.doc.uri(), entry.index);
        match self.cached(&entry.frame_validator, &uri) {
            Ok(v) => self.collect(&v, &uri, frame, "", out),
            Err(e) => out.push(Violation::envelope("", e)),
        }
    }

    /// Validates `value` against the schema at `uri`, through the ad-hoc validator cache.
    pub(crate) fn check_adhoc(&self, uri: &str, value: &Value, prefix: &str, out: &mut Vec<Violation>) {
        match self.adhoc_validator(uri) {
            Ok(v) => self.collect(&v, uri, value, prefix, out),
            Err(e) => out.push(Violation::envelope(prefix, e)),
        }
    }

    /// A validator for the schema at `uri`, compiled on first use and cached by URI.
    pub(crate) fn adhoc_validator(&self, uri: &str) -> Result<Arc<Validator>, String> {
        if let Some(v) = self.adhoc.read().unwrap_or_else(|e| e.into_inner()).get(uri) {
            return Ok(Arc::clone(v));
        }
        let v = Arc::new(self.compile(uri)?);
        let mut map = self.adhoc.write().unwrap_or_else(|e| e.into_inner());
        Ok(Arc::clone(map.entry(uri.to_string()).or_insert(v)))
    }

    fn cached(&self, slot: &Lazy, uri: &str) -> Result<Arc<Validator>, String> {
        slot.get_or_init(|| self.compile(uri).map(Arc::new)).clone()
    }

    fn compile(&self, uri: &str) -> Result<Validator, String> {
        jsonschema::options()
            .with_draft(Draft::Draft7)
            .with_registry(self.registry.clone())
            .build(&serde_json::json!({ "$ref": uri }))
            .map_err(|e| format!("cannot compile schema {uri}: {e}"))
    }
}

/// The URI of a definition path (`v2/Thread`) inside the full bundle.
pub(crate) fn bundle_uri(path: &str) -> String {
    format!("{}#/definitions/{path}", Doc::Bundle.uri())
}

fn definition_path(bundle: &Value, name: &str) -> Option<String> {
    let defs = bundle.get("definitions")?;
    if name.contains('/') {
        return defs.pointer(&format!("/{name}")).map(|_| name.to_string());
    }
    if defs.get(name).is_some() {
        Some(name.to_string())
    } else if defs.get("v2").and_then(|v2| v2.get(name)).is_some() {
        Some(format!("v2/{name}"))
    } else {
        None
    }
}

/// Reads a method union (`oneOf` of `{method: {enum: [name]}, params: ...}` variants).
fn method_table(
    doc: Doc,
    value: &Value,
    bundle: &Value,
    responses: Option<&[(&str, &str)]>,
) -> Result<MethodTable, String> {
    let variants = value.get("oneOf").and_then(Value::as_array).ok_or("no top-level `oneOf`")?;
    let mut entries = Vec::with_capacity(variants.len());
    let mut by_name = HashMap::new();
    for (index, variant) in variants.iter().enumerate() {
        let name = variant
            .pointer("/properties/method/enum/0")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("oneOf[{index}] has no `method` enum"))?
            .to_string();
        let params_required = variant
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|k| k == "params"));
        let params_definition = variant.pointer("/properties/params").and_then(params_ref_name);
        let response_definition = responses.and_then(|overrides| {
            let name = match overrides.iter().find(|(m, _)| *m == name) {
                Some((_, def)) => def.to_string(),
                None => derive_response(params_definition.as_deref()?)?,
            };
            definition_path(bundle, &name)
        });
        if by_name.insert(name.clone(), index).is_some() {
            return Err(format!("method `{name}` appears twice"));
        }
        entries.push(MethodEntry {
            name,
            index,
            params_required,
            params_definition,
            response_definition,
            frame_validator: OnceLock::new(),
            response_validator: OnceLock::new(),
        });
    }
    Ok(MethodTable { doc, entries, by_name })
}

/// `XParams` → `XResponse`.
pub(crate) fn derive_response(params: &str) -> Option<String> {
    params.strip_suffix("Params").map(|base| format!("{base}Response"))
}

/// The definition name a `params` schema refers to: `{"$ref": ".../XParams"}` or
/// `{"anyOf": [{"$ref": ".../XParams"}, {"type": "null"}]}`.
pub(crate) fn params_ref_name(params: &Value) -> Option<String> {
    let reference = params.get("$ref").and_then(Value::as_str).or_else(|| {
        params.get("anyOf")?.as_array()?.iter().find_map(|s| s.get("$ref").and_then(Value::as_str))
    })?;
    reference.rsplit('/').next().map(str::to_string)
}

/// Checks that the frame is an object without `jsonrpc` or members outside `allowed`.
fn envelope<'a>(
    frame: &'a Value,
    allowed: &[&str],
    out: &mut Vec<Violation>,
) -> Option<&'a Map<String, Value>> {
    let Some(obj) = frame.as_object() else {
        out.push(Violation::envelope("", format!("frame is not a JSON object: {frame}")));
        return None;
    };
    for key in obj.keys() {
        if key == "jsonrpc" {
            out.push(Violation::envelope(
                "/jsonrpc",
                "`jsonrpc` member present; turnstile frames never carry one",
            ));
        } else if !allowed.contains(&key.as_str()) {
            out.push(Violation::envelope(
                format!("/{}", escape_token(key)),
                format!("unexpected top-level member `{key}` (allowed: {})", allowed.join(", ")),
            ));
        }
    }
    Some(obj)
}

fn check_id(obj: &Map<String, Value>, out: &mut Vec<Violation>) {
    match obj.get("id") {
        None => out.push(Violation::envelope("/id", "missing `id`")),
        Some(id) if RequestId::from_value(id).is_none() => out
            .push(Violation::envelope("/id", format!("`id` must be a string or an int64 integer, got {id}"))),
        Some(_) => {}
    }
}

fn check_method<'a>(obj: &'a Map<String, Value>, out: &mut Vec<Violation>) -> Option<&'a str> {
    match obj.get("method") {
        Some(Value::String(m)) => Some(m),
        Some(other) => {
            out.push(Violation::envelope("/method", format!("`method` must be a string, got {other}")));
            None
        }
        None => {
            out.push(Violation::envelope("/method", "missing `method`"));
            None
        }
    }
}

fn unknown_method(kind: &str, method: &str, doc: Doc) -> Violation {
    Violation::envelope("/method", format!("unknown {kind} method `{method}` (not in {})", doc.file()))
}

#[cfg(test)]
mod tests;
