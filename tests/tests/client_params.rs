//! Client params, generated from the schema, are accepted by the machine.
//!
//! `wire_roundtrip` checks that what core-sm's types *produce* is schema-valid; this checks the
//! reverse: whatever a schema-valid client may *send* to a method turnstile implements parses.
//! For every method in `core_sm::wire::methods::IMPLEMENTED`, params are generated straight from
//! the method's params definition: once with every optional field present (following
//! `$ref`/`anyOf`/`oneOf` to a schema-valid value for each), once with only the required ones,
//! and once with every nullable optional field sent as an explicit `null`.
//! A few per-method fixups then turn "schema-valid" into "meaningful" (a real thread id, the
//! active turn's id, a parseable cursor, no mutually exclusive pair), the connection opts into
//! `experimentalApi` (many optional fields are experimental-only), and the state each method
//! needs is set up first, so every request is expected to succeed, not merely to parse.
//!
//! The whole exchange runs through a `Transcript`, so every frame the machine sends on the way
//! (responses, notifications) is validated too.

use std::collections::BTreeSet;

use core_sm::wire::methods::IMPLEMENTED;
use core_sm::{ConnectionId, EngineEvent, Input, Machine, MachineConfig, Output, Timestamp, TurnId};
use serde_json::{json, Map, Value};
use tests::{Schema, Transcript};

// ================================================================ the machine, in memory

/// The machine plus one connection, every frame recorded in a validating transcript.
/// (A few lines of core-sm's private test harness, which other crates cannot use.)
struct Session {
    machine: Machine,
    now: Timestamp,
    conn: ConnectionId,
    next_id: i64,
    transcript: Transcript<'static>,
    /// Frames to `conn` not yet looked at.
    inbox: Vec<Value>,
}

impl Session {
    fn new() -> Self {
        let mut s = Session {
            machine: Machine::new(MachineConfig::new(7)),
            now: Timestamp(1_764_000_000_000),
            conn: ConnectionId(1),
            next_id: 1,
            transcript: Transcript::new(),
            inbox: Vec::new(),
        };
        s.input(Input::ConnectionOpened { conn: s.conn });
        s
    }

    fn input(&mut self, input: Input) {
        self.now = self.now.plus_millis(1);
        self.machine.handle(self.now, input);
        while let Some(out) = self.machine.poll_output() {
            if let Output::Send { conn, frame } = out {
                assert_eq!(conn, self.conn, "only one connection is open");
                let v: Value = serde_json::from_str(&frame).expect("frames are JSON");
                self.transcript.server(v.clone());
                self.inbox.push(v);
            }
        }
    }

    /// Sends a request; returns its id.
    fn send(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"id": id, "method": method, "params": params});
        self.transcript.client(frame.clone());
        self.input(Input::Frame { conn: self.conn, text: frame.to_string() });
        id
    }

    fn reply(&mut self, id: i64) -> Option<Value> {
        let i = self.inbox.iter().position(|f| f["id"] == json!(id) && f.get("method").is_none())?;
        Some(self.inbox.remove(i))
    }

    /// Sends a setup request that must succeed; returns its result.
    fn ok(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        let reply = self.reply(id).unwrap_or_else(|| panic!("no reply to setup {method}"));
        reply.get("result").cloned().unwrap_or_else(|| panic!("setup {method} failed: {reply}"))
    }

    fn engine(&mut self, thread: &str, event: EngineEvent) {
        let thread_id = core_sm::ThreadId::parse(thread).expect("thread id");
        self.input(Input::Engine { thread_id, event });
    }
}

/// What a scenario set up, for the fixups: a loaded thread and, for some methods, a turn.
struct Scenario {
    session: Session,
    thread: String,
    turn: Option<String>,
}

/// The state `method` needs to succeed: an initialized experimental connection, a loaded
/// thread it is subscribed to, a finished turn (so `thread/read` may `includeTurns` and the
/// thread has a rollout to fork, archive or, once archived, unarchive) or an active one (for
/// `turn/steer` and `turn/interrupt`). `initialize` gets a bare connection.
fn scenario(method: &str) -> Scenario {
    let mut s = Session::new();
    if method == "initialize" {
        return Scenario { session: s, thread: String::new(), turn: None };
    }
    let client = json!({"name": "params", "version": "1.0"});
    s.ok("initialize", json!({"clientInfo": client, "capabilities": {"experimentalApi": true}}));
    let started = s.ok("thread/start", json!({}));
    let thread = started["thread"]["id"].as_str().expect("thread id").to_owned();
    let mut turn = None;
    let finished = matches!(method, "thread/read" | "thread/fork" | "thread/archive" | "thread/unarchive");
    if finished || matches!(method, "turn/steer" | "turn/interrupt") {
        let r = s.ok("turn/start", json!({"threadId": thread, "input": [{"type": "text", "text": "hi"}]}));
        let id = r["turn"]["id"].as_str().expect("turn id").to_owned();
        let turn_id = TurnId::parse(&id).expect("turn id");
        s.engine(&thread, EngineEvent::TurnStarted { turn_id });
        if finished {
            s.engine(&thread, EngineEvent::TurnCompleted { turn_id });
        }
        turn = Some(id);
    }
    if method == "thread/unarchive" {
        s.ok("thread/archive", json!({"threadId": thread}));
    }
    s.inbox.clear();
    Scenario { session: s, thread, turn }
}

// ================================================================ params from the schema

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Every property, at every level down to `MAX_OPTIONAL_DEPTH`.
    All,
    /// Required properties only, at every level.
    Required,
    /// Required properties, plus an explicit `null` for every nullable optional top-level
    /// property: what clients generated from the schema (TypeScript, Python) commonly send.
    Nulls,
}

/// Below this nesting depth optional properties are left out even in [`Mode::All`]: some
/// definitions (`ResponseItem` in `thread/resume.history`) are recursive or very wide.
const MAX_OPTIONAL_DEPTH: usize = 4;

/// A schema-valid value generator over the full bundle.
struct Gen<'a> {
    bundle: &'a Value,
    mode: Mode,
}

impl<'a> Gen<'a> {
    fn resolve(&self, reference: &str) -> &'a Value {
        let pointer = reference.strip_prefix('#').expect("local $ref");
        self.bundle.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"))
    }

    /// Follows `$ref`s to the schema they name.
    fn deref(&self, mut schema: &'a Value) -> &'a Value {
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            schema = self.resolve(r);
        }
        schema
    }

    /// A value for `schema`; `hint` is the property name it is for (picks realistic strings).
    fn value(&self, schema: &'a Value, hint: &str, depth: usize) -> Value {
        let schema = self.deref(schema);
        let Some(o) = schema.as_object().filter(|o| !o.is_empty()) else {
            return free_form(hint); // `true` or `{}`: anything goes
        };
        if let Some(c) = o.get("const") {
            return c.clone();
        }
        if let Some(e) = o.get("enum").and_then(Value::as_array) {
            return e.iter().find(|v| !v.is_null()).expect("non-null enum value").clone();
        }
        if let Some([only]) = o.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            return self.value(only, hint, depth);
        }
        let alternatives: Vec<&Value> = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_array))
            .flatten()
            .filter(|v| self.deref(v).get("type") != Some(&json!("null")))
            .collect();
        if !alternatives.is_empty() {
            let chosen = self.value(self.pick(&alternatives), hint, depth);
            // An object with its own properties besides the union (`UserInput`'s image:
            // `{type, detail}` plus `anyOf` url | fileId) merges both.
            if o.contains_key("properties") {
                if let (Value::Object(mut base), Value::Object(extra)) =
                    (self.object(o, depth), chosen.clone())
                {
                    base.extend(extra);
                    return Value::Object(base);
                }
            }
            return chosen;
        }
        let ty = match o.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => {
                ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null")
            }
            _ if o.contains_key("properties") => "object",
            _ => return free_form(hint),
        };
        match ty {
            "object" => self.object(o, depth),
            // Arrays carry one element: realistic, and it exercises the item schema.
            "array" => match o.get("items") {
                Some(items) => json!([self.value(items, hint, depth + 1)]),
                None => json!([]),
            },
            "string" => json!(string_for(hint)),
            "integer" => {
                let min = o.get("minimum").and_then(Value::as_f64).unwrap_or(0.0) as i64;
                json!(min.max(if hint == "limit" { 10 } else { 1 }))
            }
            "number" => json!(1.5),
            "boolean" => json!(true),
            "null" => Value::Null,
            other => panic!("unhandled schema type {other} for {hint}"),
        }
    }

    fn object(&self, o: &'a Map<String, Value>, depth: usize) -> Value {
        let required: BTreeSet<&str> = o
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut out = Map::new();
        let props = o.get("properties").and_then(Value::as_object);
        for (name, schema) in props.into_iter().flatten() {
            let wanted =
                required.contains(name.as_str()) || (self.mode == Mode::All && depth < MAX_OPTIONAL_DEPTH);
            if wanted {
                out.insert(name.clone(), self.value(schema, name, depth + 1));
            } else if self.mode == Mode::Nulls && depth == 0 && self.nullable(schema) {
                out.insert(name.clone(), Value::Null);
            }
        }
        // A map type (`config`, `additionalContext`, ...): one entry.
        if props.is_none_or(|p| p.is_empty()) {
            match o.get("additionalProperties") {
                Some(Value::Bool(true)) => {
                    out.insert("sample".into(), json!("value"));
                }
                Some(s @ Value::Object(_)) => {
                    out.insert("sample".into(), self.value(s, "sample", depth + 1));
                }
                _ => {}
            }
        }
        Value::Object(out)
    }

    /// Whether `schema` admits `null` (`type: [.., "null"]` or a `{"type": "null"}` alternative).
    fn nullable(&self, schema: &'a Value) -> bool {
        let schema = self.deref(schema);
        let null = json!("null");
        let in_type = match schema.get("type") {
            Some(Value::Array(ts)) => ts.contains(&null),
            Some(t) => *t == null,
            None => false,
        };
        in_type
            || ["anyOf", "oneOf"]
                .iter()
                .filter_map(|k| schema.get(*k).and_then(Value::as_array))
                .flatten()
                .any(|v| self.nullable(v))
    }

    /// The union alternative to generate: the first one outside [`Mode::All`]; for
    /// [`Mode::All`], the one with the most properties (ties: the first), to exercise the most.
    fn pick(&self, alternatives: &[&'a Value]) -> &'a Value {
        if self.mode != Mode::All {
            return alternatives[0];
        }
        let width =
            |v: &Value| self.deref(v).get("properties").and_then(Value::as_object).map_or(0, Map::len);
        let best = alternatives.iter().map(|v| width(v)).max().unwrap_or(0);
        alternatives.iter().find(|v| width(v) == best).expect("non-empty")
    }
}

/// A realistic string for a property named `hint`.
fn string_for(hint: &str) -> String {
    let lower = hint.to_ascii_lowercase();
    if lower == "id" || lower.ends_with("id") || lower.ends_with("ids") {
        "019a0000-0000-7000-8000-00000000abcd".into()
    } else if lower.contains("cwd")
        || lower.contains("path")
        || lower.contains("root")
        || lower.contains("home")
    {
        "/tmp/turnstile".into()
    } else if lower.contains("effort") {
        "medium".into()
    } else if lower.contains("url") {
        "https://example.com/image.png".into()
    } else {
        // Identifier-safe, since names end up in tool names and HTTP headers.
        format!("sample_{hint}")
    }
}

/// A value for an unconstrained schema: a JSON Schema where one is expected, else an object.
fn free_form(hint: &str) -> Value {
    if hint.ends_with("Schema") {
        json!({"type": "object", "properties": {}})
    } else {
        json!({"sample": true})
    }
}

// ================================================================ per-method fixups

/// Whether `key` is sent with a value (an explicit `null` means absent to the server).
fn present(p: &Map<String, Value>, key: &str) -> bool {
    p.get(key).is_some_and(|v| !v.is_null())
}

/// Makes generated params meaningful for the scenario; returns what was changed, for the log.
fn fix_up(method: &str, p: &mut Map<String, Value>, sc: &Scenario) -> Vec<String> {
    let mut notes = Vec::new();
    if p.contains_key("threadId") {
        p.insert("threadId".into(), json!(sc.thread));
    }
    // `permissions` (a named profile) is exclusive with a sandbox; keep the sandbox.
    let sandbox = match method {
        "thread/start" | "thread/resume" => "sandbox",
        "turn/start" => "sandboxPolicy",
        _ => "",
    };
    if present(p, sandbox) && p.remove("permissions").is_some() {
        notes.push(format!("dropped permissions (exclusive with {sandbox})"));
    }
    match method {
        "turn/steer" => {
            p.insert("expectedTurnId".into(), json!(sc.turn.as_deref().expect("active turn")));
        }
        "turn/interrupt" => {
            p.insert("turnId".into(), json!(sc.turn.as_deref().expect("active turn")));
        }
        "thread/fork" if present(p, "lastTurnId") => {
            p.insert("lastTurnId".into(), json!(sc.turn.as_deref().expect("finished turn")));
            notes.push("lastTurnId set to the thread's finished turn".into());
        }
        // Cursors are opaque to clients: use the shapes the server hands out.
        "thread/list" if present(p, "cursor") => {
            p.insert("cursor".into(), json!(format!("1764000000001:{}", sc.thread)));
            notes.push("cursor set to a `<sort value>:<thread id>` cursor".into());
        }
        "thread/loaded/list" if present(p, "cursor") => {
            p.insert("cursor".into(), json!(sc.thread));
            notes.push("cursor set to a thread id".into());
        }
        _ => {}
    }
    // A top-level function tool may not defer loading (only namespaced ones may).
    if let Some(Value::Array(tools)) = p.get_mut("dynamicTools") {
        for tool in tools.iter_mut().filter(|t| t["type"] == "function") {
            if tool.get("deferLoading") == Some(&json!(true)) {
                tool["deferLoading"] = json!(false);
                notes.push("dynamicTools[].deferLoading set to false (needs a namespace)".into());
            }
        }
    }
    notes
}

// ================================================================ the test

fn bundle() -> Value {
    let path = Schema::load().dir().join("codex_app_server_protocol.schemas.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("bundle is JSON")
}

/// Sends `params` to `method` in a fresh scenario and requires a schema-valid success.
/// Returns the optional top-level fields that were sent.
fn exercise(method: &str, mode: Mode, bundle: &Value) -> Vec<String> {
    let schema = Schema::load();
    let entry = schema.client_request(method).unwrap_or_else(|| panic!("{method} is not in the schema"));
    let def_name = entry.params_definition.as_deref().unwrap_or_else(|| panic!("{method} has no params"));
    let def_path = schema.definition_path(def_name).expect("params definition");
    let definition = bundle.pointer(&format!("/definitions/{def_path}")).expect("definition");
    let required: BTreeSet<&str> =
        definition["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();

    let mut sc = scenario(method);
    let Value::Object(mut params) = Gen { bundle, mode }.value(definition, "params", 0) else {
        panic!("{def_name} is not an object");
    };
    let notes = fix_up(method, &mut params, &sc);
    let optional: Vec<String> = params.keys().filter(|k| !required.contains(k.as_str())).cloned().collect();
    if mode == Mode::Required {
        assert!(optional.is_empty(), "{method}: required-only params carry {optional:?}");
    }

    let params = Value::Object(params);
    let frame = json!({"id": 1000, "method": method, "params": params});
    if let Err(e) = schema.validate_client_request(&frame) {
        panic!("{method} ({mode:?}): generated params are not schema-valid:\n{e}\n{frame}");
    }
    let s = &mut sc.session;
    let id = s.send(method, params.clone());
    if method == "turn/interrupt" && s.reply(id).is_none() {
        // Answered once the engine reports the abort, as in Codex.
        let turn_id = TurnId::parse(sc.turn.as_deref().expect("active turn")).expect("turn id");
        s.engine(&sc.thread, EngineEvent::TurnAborted { turn_id });
    }
    let reply = s.reply(id).unwrap_or_else(|| panic!("{method} ({mode:?}): no reply"));
    if let Some(error) = reply.get("error") {
        let message = error["message"].as_str().unwrap_or_default();
        if error["code"] == json!(-32600) && message.starts_with("Invalid request:") {
            panic!(
                "{method} ({mode:?}): schema-valid params rejected as malformed: {message}\nparams: {params}"
            );
        }
        panic!("{method} ({mode:?}): the scenario should succeed, got {error}\nparams: {params}");
    }
    if let Some(report) = s.transcript.report() {
        panic!("{method} ({mode:?}): the exchange is not schema-valid:\n{report}");
    }
    let fixed = if notes.is_empty() { String::new() } else { format!("; fixups: {}", notes.join(", ")) };
    println!("{method:<20} {mode:?}: {} optional field(s) {optional:?}{fixed}", optional.len());
    optional
}

#[test]
fn every_implemented_method_accepts_all_optional_fields() {
    let bundle = bundle();
    let mut table = Vec::new();
    for method in IMPLEMENTED {
        let sent = exercise(method, Mode::All, &bundle);
        table.push(format!("{method}: {}", sent.len()));
    }
    println!("optional fields sent per method: {}", table.join(", "));
}

#[test]
fn every_implemented_method_accepts_only_required_fields() {
    let bundle = bundle();
    for method in IMPLEMENTED {
        exercise(method, Mode::Required, &bundle);
    }
}

#[test]
fn every_implemented_method_accepts_explicit_nulls() {
    let bundle = bundle();
    let mut table = Vec::new();
    for method in IMPLEMENTED {
        let nulls = exercise(method, Mode::Nulls, &bundle);
        table.push(format!("{method}: {}", nulls.len()));
    }
    println!("optional fields sent as null per method: {}", table.join(", "));
}

/// Regression: a schema-valid `turn/start.sandboxPolicy` of `{"type": "externalSandbox"}` was
/// echoed by `thread/resume` with `"networkAccess": null`, which `ThreadResumeResponse` rejects.
#[test]
fn external_sandbox_policy_is_echoed_schema_valid() {
    let mut sc = scenario("turn/start");
    let s = &mut sc.session;
    let thread = sc.thread.clone();
    let input = json!([{"type": "text", "text": "hi"}]);
    let policy = json!({"type": "externalSandbox"});
    s.ok("turn/start", json!({"threadId": thread, "input": input, "sandboxPolicy": policy}));
    s.ok("thread/resume", json!({"threadId": thread}));
    if let Some(report) = s.transcript.report() {
        panic!("{report}");
    }
}
