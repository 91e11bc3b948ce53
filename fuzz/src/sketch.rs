//! Mostly well-formed JSON values from the protocol schema.
//!
//! `dict/sketches.json` (written by `dict/gen_dict.py` from the schema bundle) describes every
//! client request's params, the client notifications and every server request's response as
//! a small grammar:
//!
//! * `"any" | "null" | "bool" | "int" | "uint" | "num" | "str"`
//! * `["e", [values]]` a string enum; `["a", item]` an array; `["m", value]` a map;
//!   `["u", [alternatives]]` a union (non-null alternatives first);
//!   `["o", [[name, required, sketch], ...]]` an object; `["r", name]` a definition in `defs`.
//!
//! [`Gen`] walks a sketch, reading one byte per decision from the fuzz input. Byte 0 is the
//! most ordinary choice everywhere (required fields only, first alternative, first enum value),
//! and strings are chosen by field name: ids the machine minted for `threadId` / `turnId`,
//! notification methods for opt-outs, paths for `cwd`, and so on.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::Value;

use crate::bytes::Src;

/// One node of the grammar; children are indices into [`Sketches::nodes`].
#[derive(Debug)]
pub enum Sketch {
    /// Anything.
    Any,
    /// `null`.
    Null,
    /// A boolean.
    Bool,
    /// An integer.
    Int,
    /// A non-negative integer.
    Uint,
    /// A number.
    Num,
    /// A string.
    Str,
    /// One of these strings.
    Enum(Vec<String>),
    /// An array of the node.
    Arr(usize),
    /// An object with these fields (name, required, node, hint for string values).
    Obj(Vec<(String, bool, usize, Hint)>),
    /// An object with arbitrary keys and these values.
    Map(usize),
    /// One of these nodes.
    Union(Vec<usize>),
    /// The same as another node (a definition).
    Ref(usize),
}

/// The loaded grammar.
#[derive(Debug)]
pub struct Sketches {
    /// Every node.
    pub nodes: Vec<Sketch>,
    /// Client request methods in schema order: (method, params required, params node).
    pub client: Vec<(String, bool, usize)>,
    /// Client notification methods: (method, params node).
    pub notifications: Vec<(String, usize)>,
    /// Responses to server requests, by server request method.
    pub responses: HashMap<String, usize>,
    /// Server notification methods (for opt-outs).
    pub server_notifications: Vec<String>,
    /// Indices into `client` of the methods turnstile implements
    /// ([`IMPLEMENTED`](crate::protocol::IMPLEMENTED) order).
    pub implemented: Vec<usize>,
}

static SKETCHES_JSON: &str = include_str!("../dict/sketches.json");

impl Sketches {
    /// The grammar, parsed once per process.
    pub fn get() -> &'static Sketches {
        static ONCE: OnceLock<Sketches> = OnceLock::new();
        ONCE.get_or_init(|| Sketches::parse(SKETCHES_JSON))
    }

    fn parse(text: &str) -> Sketches {
        let doc: Value = serde_json::from_str(text).expect("dict/sketches.json is JSON");
        let defs = doc["defs"].as_object().expect("defs");
        let mut s = Sketches {
            nodes: Vec::new(),
            client: Vec::new(),
            notifications: Vec::new(),
            responses: HashMap::new(),
            server_notifications: Vec::new(),
            implemented: Vec::new(),
        };
        // Definitions first, one reserved slot each, so references resolve in one pass.
        let mut slots = HashMap::new();
        for name in defs.keys() {
            slots.insert(name.clone(), s.nodes.len());
            s.nodes.push(Sketch::Any);
        }
        for (name, body) in defs {
            let node = s.node(body, &slots);
            s.nodes[slots[name]] = Sketch::Ref(node);
        }
        for entry in doc["client"].as_array().expect("client") {
            let node = s.node(&entry[2], &slots);
            s.client.push((str_of(&entry[0]), entry[1] == 1, node));
        }
        for entry in doc["notifications"].as_array().expect("notifications") {
            let node = s.node(&entry[1], &slots);
            s.notifications.push((str_of(&entry[0]), node));
        }
        for entry in doc["serverResponses"].as_array().expect("serverResponses") {
            let node = s.node(&entry[1], &slots);
            s.responses.insert(str_of(&entry[0]), node);
        }
        s.server_notifications =
            doc["serverNotifications"].as_array().expect("serverNotifications").iter().map(str_of).collect();
        s.implemented = crate::protocol::IMPLEMENTED
            .iter()
            .map(|m| {
                s.client.iter().position(|(c, _, _)| c == m).expect("implemented methods are in the schema")
            })
            .collect();
        s
    }

    fn push(&mut self, n: Sketch) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn node(&mut self, v: &Value, slots: &HashMap<String, usize>) -> usize {
        let n = match v {
            Value::String(k) => match k.as_str() {
                "null" => Sketch::Null,
                "bool" => Sketch::Bool,
                "int" => Sketch::Int,
                "uint" => Sketch::Uint,
                "num" => Sketch::Num,
                "str" => Sketch::Str,
                _ => Sketch::Any,
            },
            Value::Array(a) => match a[0].as_str().unwrap_or("") {
                "r" => Sketch::Ref(slots[a[1].as_str().expect("ref name")]),
                "e" => Sketch::Enum(a[1].as_array().expect("enum").iter().map(str_of).collect()),
                "a" => Sketch::Arr(self.node(&a[1], slots)),
                "m" => Sketch::Map(self.node(&a[1], slots)),
                "u" => Sketch::Union(
                    a[1].as_array().expect("union").iter().map(|x| self.node(x, slots)).collect(),
                ),
                "o" => Sketch::Obj(
                    a[1].as_array()
                        .expect("object")
                        .iter()
                        .map(|f| {
                            let name = str_of(&f[0]);
                            let hint = Hint::of(&name);
                            (name, f[1] == 1, self.node(&f[2], slots), hint)
                        })
                        .collect(),
                ),
                _ => Sketch::Any,
            },
            _ => Sketch::Any,
        };
        self.push(n)
    }

    /// The params node of a client method.
    pub fn client_method(&self, name: &str) -> Option<&(String, bool, usize)> {
        self.client.iter().find(|(m, _, _)| m == name)
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// What kind of string a field wants, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Free text.
    Plain,
    /// A thread id (`threadId`, `parentThreadId`, ...).
    Thread,
    /// A turn id (`turnId`, `expectedTurnId`, ...).
    Turn,
    /// A server notification method (`optOutNotificationMethods`).
    OptOut,
    /// A path (`cwd`, `*Path`, `*Root(s)`).
    Path,
    /// A paging cursor (thread ids are the real cursors).
    Cursor,
}

impl Hint {
    /// The hint for a field name.
    pub fn of(field: &str) -> Hint {
        let lower = field.to_ascii_lowercase();
        if lower.ends_with("threadid") {
            Hint::Thread
        } else if lower.ends_with("turnid") {
            Hint::Turn
        } else if field == "optOutNotificationMethods" {
            Hint::OptOut
        } else if field == "cursor" {
            Hint::Cursor
        } else if field == "cwd"
            || lower.ends_with("path")
            || lower.ends_with("root")
            || lower.ends_with("roots")
        {
            Hint::Path
        } else {
            Hint::Plain
        }
    }
}

/// Ids and names the generator may refer to.
#[derive(Debug, Default)]
pub struct Pools<'a> {
    /// Thread ids the machine announced, oldest first.
    pub threads: &'a [String],
    /// Turn ids the machine announced, oldest first.
    pub turns: &'a [String],
}

/// Thread ids the machine never minted (UUIDv7 like its own, so only storage knows them).
pub const FOREIGN_THREADS: [&str; 4] = [
    "019ab697-0000-7000-8000-000000000001",
    "019ab697-0000-7000-8000-000000000002",
    "019ab697-0000-7000-8000-000000000003",
    "0196f0a0-1c2b-4d3e-8f40-5a6b7c8d9e0f",
];

/// Strings that are not ids at all, for id fields.
const BAD_IDS: [&str; 5] = ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "{}", "019ab697"];

/// Texts for free-form strings.
pub const TEXTS: [&str; 12] = [
    "hello",
    "",
    "x",
    "a b c",
    "caf\u{e9} \u{2603} \u{1d11e}",
    "line\nbreak \"quoted\" back\\slash",
    "\u{0}\u{1}\u{1f}",
    "/tmp",
    "turnstile-scripted",
    "019ab697-0000-7000-8000-000000000001",
    "$(rm -rf /) ; echo",
    "\u{202e}rtl",
];

const PATHS: [&str; 7] = ["/tmp", "/", "relative/dir", "", "/tmp/../etc", "C:\\work", "/no/such/dir"];
const INTS: [i64; 12] = [0, 1, 2, -1, 10, 25, 100, 101, 65_535, i64::MAX, i64::MIN, 4_294_967_296];
const NUMS: [&str; 6] = ["0.5", "-0.0", "1e300", "1e400", "3", "-7"];

/// Writes a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Generates JSON text from a sketch and fuzz bytes.
pub struct Gen<'s, 'p, 'd> {
    /// The grammar.
    pub sk: &'s Sketches,
    /// Ids to refer to.
    pub pools: &'p Pools<'p>,
    /// Decisions.
    pub src: Src<'d>,
    /// Values still allowed before everything becomes `null` (bounds frame size).
    pub budget: u32,
}

impl Gen<'_, '_, '_> {
    /// Writes a value for `node` into `out`; `field` hints what strings it wants.
    pub fn value(&mut self, node: usize, field: Hint, depth: u32, out: &mut String) {
        let mut node = node;
        while let Sketch::Ref(n) = self.sk.nodes[node] {
            node = n;
        }
        if self.budget == 0 || depth > 8 {
            out.push_str("null");
            return;
        }
        self.budget -= 1;
        let b = self.src.byte();
        if b >= 250 {
            return self.any(depth, out);
        }
        match &self.sk.nodes[node] {
            Sketch::Any => self.any(depth, out),
            Sketch::Null => out.push_str("null"),
            Sketch::Bool => out.push_str(if b & 1 == 1 { "true" } else { "false" }),
            Sketch::Int => {
                let _ = write!(out, "{}", INTS[usize::from(b) % INTS.len()]);
            }
            Sketch::Uint => {
                let _ = write!(out, "{}", INTS[usize::from(b) % INTS.len()].max(0));
            }
            Sketch::Num => out.push_str(NUMS[usize::from(b) % NUMS.len()]),
            Sketch::Str => self.string(field, b, out),
            Sketch::Enum(values) => {
                let v = &values[usize::from(b) % values.len()];
                if b >= 240 {
                    // Near misses: case and whitespace.
                    write_str(out, &format!("{} ", v.to_uppercase()));
                } else {
                    write_str(out, v);
                }
            }
            Sketch::Arr(item) => {
                // One item by default: empty arrays are rarely what a schema field wants.
                let n = [1, 0, 2, 3][usize::from(b % 4)];
                out.push('[');
                for i in 0..n {
                    if i > 0 {
                        out.push(',');
                    }
                    self.value(*item, field, depth + 1, out);
                }
                out.push(']');
            }
            Sketch::Map(v) => {
                let n = usize::from(b % 3);
                out.push('{');
                for i in 0..n {
                    if i > 0 {
                        out.push(',');
                    }
                    let k = self.src.byte();
                    write_str(out, TEXTS[usize::from(k) % TEXTS.len()]);
                    out.push(':');
                    self.value(*v, Hint::Plain, depth + 1, out);
                }
                out.push('}');
            }
            Sketch::Union(alts) => {
                let alt = alts[usize::from(b) % alts.len()];
                self.value(alt, field, depth, out);
            }
            Sketch::Obj(fields) => {
                out.push('{');
                let mut first = true;
                for (name, required, child, hint) in fields {
                    let p = self.src.byte();
                    let present = if *required { p < 245 } else { p >= 200 };
                    if !present {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    write_str(out, name);
                    out.push(':');
                    self.value(*child, *hint, depth + 1, out);
                }
                if b >= 240 {
                    // An unknown member.
                    if !first {
                        out.push(',');
                    }
                    out.push_str("\"fuzzUnknownField\":1");
                }
                out.push('}');
            }
            Sketch::Ref(_) => unreachable!("resolved above"),
        }
    }

    fn string(&mut self, field: Hint, b: u8, out: &mut String) {
        let i = usize::from(b);
        match field {
            Hint::Thread => return write_str(out, &thread_ref(self.pools, b)),
            Hint::Cursor if b & 1 == 0 => return write_str(out, &thread_ref(self.pools, b)),
            Hint::Turn => return write_str(out, &turn_ref(self.pools, b)),
            Hint::OptOut => {
                let m = &self.sk.server_notifications;
                return write_str(out, &m[i % m.len()]);
            }
            Hint::Path => return write_str(out, PATHS[i % PATHS.len()]),
            _ => {}
        }
        if b >= 224 {
            // A literal from the input.
            let raw = self.src.chunk();
            let text = String::from_utf8_lossy(&raw[..raw.len().min(48)]);
            return write_str(out, &text);
        }
        write_str(out, TEXTS[i % TEXTS.len()]);
    }

    /// Any JSON value, biased to small and odd ones.
    pub fn any(&mut self, depth: u32, out: &mut String) {
        let b = self.src.byte();
        match b % 12 {
            0 => out.push_str("null"),
            1 => out.push_str("true"),
            2 => out.push_str("false"),
            3 => {
                let _ = write!(out, "{}", INTS[usize::from(b / 12) % INTS.len()]);
            }
            4 => out.push_str(NUMS[usize::from(b / 12) % NUMS.len()]),
            5 => write_str(out, TEXTS[usize::from(b / 12) % TEXTS.len()]),
            6 => out.push_str("[]"),
            7 => out.push_str("{}"),
            8 if depth < 6 => {
                out.push('[');
                self.any(depth + 1, out);
                out.push(']');
            }
            9 if depth < 6 => {
                out.push_str("{\"k\":");
                self.any(depth + 1, out);
                out.push('}');
            }
            10 => {
                // Deeper than serde_json's recursion limit (128).
                let n = 100 + usize::from(b / 12) * 4;
                out.push_str(&"[".repeat(n));
                out.push_str(&"]".repeat(n));
            }
            _ => write_str(out, &thread_ref(self.pools, b)),
        }
    }
}

/// A thread id by byte: mostly one the machine minted, else foreign or malformed.
pub fn thread_ref(p: &Pools, b: u8) -> String {
    let i = usize::from(b);
    if b < 200 && !p.threads.is_empty() {
        // Recent threads more often.
        let n = p.threads.len();
        return p.threads[n - 1 - (i % n)].clone();
    }
    match b % 4 {
        0 | 1 => FOREIGN_THREADS[i % FOREIGN_THREADS.len()].to_owned(),
        2 if !p.threads.is_empty() => p.threads[i % p.threads.len()].to_uppercase(),
        _ => BAD_IDS[i % BAD_IDS.len()].to_owned(),
    }
}

/// A turn id by byte: mostly the latest the machine minted.
pub fn turn_ref(p: &Pools, b: u8) -> String {
    let i = usize::from(b);
    if b < 200 && !p.turns.is_empty() {
        let n = p.turns.len();
        return p.turns[n - 1 - (i % n)].clone();
    }
    match b % 3 {
        0 if !p.threads.is_empty() => p.threads[i % p.threads.len()].clone(),
        1 => FOREIGN_THREADS[i % FOREIGN_THREADS.len()].to_owned(),
        _ => BAD_IDS[i % BAD_IDS.len()].to_owned(),
    }
}
