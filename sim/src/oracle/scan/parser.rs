//! The byte-level parser behind [`scan`](super::scan): validates as it goes and picks out
//! the fields of [`Summary`].

use core_sm::wire::RequestId;
use core_sm::{ThreadId, TurnId};

use super::memo::TurnMemo;

mod positional;
use super::{intern, ItemRef, Kind, ScanError, Status, Summary, TurnState, ITEM_TYPES};

/// Scans one frame (see [`super::scan`]), skipping turns `memo` holds.
pub(super) fn scan(text: &str, memo: Option<&mut TurnMemo>) -> Result<Summary, ScanError> {
    let mut p = Parser { b: text.as_bytes(), s: text, i: 0, depth: 0, memo };
    let mut out = Summary::default();
    p.ws();
    let mut positional = None;
    if p.peek() == Some(b'{') {
        positional = p.top(&mut out)?;
    } else {
        p.skip_value()?;
    }
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err("trailing characters"));
    }
    // By-position params are read once the method is known (it may come after them).
    if let Some(at) = positional {
        p.i = at;
        p.positional(&mut out)?;
    }
    Ok(out)
}

/// Which object a key belongs to, for picking out the interesting fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Params,
    Result,
}

const MAX_DEPTH: u32 = 128;

struct Parser<'a, 'm> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
    depth: u32,
    memo: Option<&'m mut TurnMemo>,
}

/// A string token: borrowed unless it contained escapes.
type Str<'a> = std::borrow::Cow<'a, str>;

enum Num {
    Int(i64),
    Other,
}

impl<'a> Parser<'a, '_> {
    fn err(&self, what: &'static str) -> ScanError {
        ScanError { at: self.i, what }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), ScanError> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err("unexpected character"))
        }
    }

    /// Iterates an object's members; `f` must consume each value.
    fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, Str<'a>) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        self.eat(b'{')?;
        self.enter()?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.eat(b':')?;
            self.ws();
            f(self, key)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected , or }")),
            }
        }
    }

    /// Iterates an array's elements; `f` must consume each value.
    fn array(&mut self, mut f: impl FnMut(&mut Self) -> Result<(), ScanError>) -> Result<(), ScanError> {
        self.eat(b'[')?;
        self.enter()?;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.ws();
            f(self)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected , or ]")),
            }
        }
    }

    fn enter(&mut self) -> Result<(), ScanError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        Ok(())
    }

    /// Validates and skips one value of any depth. Iterative, with the open containers kept
    /// as a bitset (1 = object), because skipping big payloads is the scanner's hot path.
    fn skip_value(&mut self) -> Result<(), ScanError> {
        let mut objects: u128 = 0;
        let mut depth: u32 = 0;
        'value: loop {
            self.ws();
            let open = match self.peek() {
                Some(b'{') => Some(true),
                Some(b'[') => Some(false),
                Some(b'"') => {
                    self.skip_string()?;
                    None
                }
                Some(b't') => {
                    self.literal(b"true")?;
                    None
                }
                Some(b'f') => {
                    self.literal(b"false")?;
                    None
                }
                Some(b'n') => {
                    self.literal(b"null")?;
                    None
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.skip_number()?;
                    None
                }
                _ => return Err(self.err("expected a value")),
            };
            if let Some(is_object) = open {
                self.i += 1;
                if self.depth + depth + 1 > MAX_DEPTH {
                    return Err(self.err("nesting too deep"));
                }
                if is_object {
                    objects |= 1 << depth;
                } else {
                    objects &= !(1 << depth);
                }
                depth += 1;
                self.ws();
                let close = if is_object { b'}' } else { b']' };
                if self.peek() == Some(close) {
                    self.i += 1;
                    depth -= 1;
                } else {
                    if is_object {
                        self.skip_key()?;
                    }
                    continue 'value;
                }
            }
            // A value ended: close containers until one continues with another element.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                self.ws();
                let in_object = objects & (1 << (depth - 1)) != 0;
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if in_object {
                            self.ws();
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if in_object => {
                        self.i += 1;
                        depth -= 1;
                    }
                    Some(b']') if !in_object => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return Err(self.err("expected , or a closing bracket")),
                }
            }
        }
    }

    /// `"key" :` inside an object being skipped.
    fn skip_key(&mut self) -> Result<(), ScanError> {
        self.skip_string()?;
        self.eat(b':')
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ScanError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("bad literal"))
        }
    }

    fn number(&mut self) -> Result<Num, ScanError> {
        let start = self.i;
        let neg = self.peek() == Some(b'-');
        if neg {
            self.i += 1;
        }
        let mut int = true;
        let mut value: i64 = 0;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    let digit = i64::from(d - b'0');
                    // Integers outside i64 are not JSON-RPC ids (serde_json's `as_i64` is None).
                    value = match value.checked_mul(10).and_then(|v| {
                        if neg {
                            v.checked_sub(digit)
                        } else {
                            v.checked_add(digit)
                        }
                    }) {
                        Some(v) => v,
                        None => {
                            int = false;
                            0
                        }
                    };
                    self.i += 1;
                }
            }
            _ => return Err(self.err("bad number")),
        }
        if self.peek() == Some(b'.') {
            int = false;
            self.i += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            int = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digits()?;
        }
        debug_assert!(self.i > start);
        Ok(if int { Num::Int(value) } else { Num::Other })
    }

    /// Validates a number without computing it.
    fn skip_number(&mut self) -> Result<(), ScanError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits()?,
            _ => return Err(self.err("bad number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) -> Result<(), ScanError> {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err("expected digits"));
        }
        Ok(())
    }

    /// Validates a string and returns where its raw content ends and whether it had escapes.
    fn string_span(&mut self) -> Result<(usize, usize, bool), ScanError> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a string"));
        }
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            // Eight bytes at a time, jumping straight to the first one that ends the string or
            // needs a look (short keys and ids then cost one word, not one word per byte).
            while let Some(chunk) = self.b.get(self.i..self.i + 8) {
                let look = look_mask(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
                if look != 0 {
                    self.i += (look.trailing_zeros() / 8) as usize;
                    break;
                }
                self.i += 8;
            }
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    let end = self.i;
                    self.i += 1;
                    return Ok((start, end, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(c) if c.is_ascii_hexdigit() => self.i += 1,
                                    _ => return Err(self.err("bad \\u escape")),
                                }
                            }
                        }
                        _ => return Err(self.err("bad escape")),
                    }
                }
                Some(c) if c < 0x20 => return Err(self.err("control character in string")),
                Some(_) => self.i += 1,
            }
        }
    }

    fn skip_string(&mut self) -> Result<(), ScanError> {
        self.string_span().map(|_| ())
    }

    fn string(&mut self) -> Result<Str<'a>, ScanError> {
        let at = self.i;
        let (start, end, escaped) = self.string_span()?;
        if !escaped {
            return Ok(Str::Borrowed(&self.s[start..end]));
        }
        // Rare: let serde_json apply the escapes (and reject lone surrogates).
        serde_json::from_str::<String>(&self.s[at..self.i])
            .map(Str::Owned)
            .map_err(|_| ScanError { at, what: "bad string escape" })
    }

    /// A string value if the next value is a string, skipping anything else.
    fn opt_string(&mut self) -> Result<Option<Str<'a>>, ScanError> {
        if self.peek() == Some(b'"') {
            self.string().map(Some)
        } else {
            self.skip_value().map(|_| None)
        }
    }

    /// Reads the envelope; answers where by-position (array) params start, if they do.
    fn top(&mut self, out: &mut Summary) -> Result<Option<usize>, ScanError> {
        let mut positional = None;
        let mut has_result = false;
        let mut has_error = false;
        let mut id_ok = false;
        self.object(|p, key| {
            match &*key {
                "id" => {
                    out.id = match p.peek() {
                        Some(b'"') => Some(RequestId::String(p.string()?.into_owned())),
                        Some(b'-' | b'0'..=b'9') => match p.number()? {
                            Num::Int(n) => Some(RequestId::Integer(n)),
                            Num::Other => None,
                        },
                        _ => {
                            p.skip_value()?;
                            None
                        }
                    };
                    id_ok = out.id.is_some();
                }
                "method" => out.method = p.opt_string()?.map(|m| intern(&m)),
                "params" => {
                    out.clear_fields();
                    positional = (p.peek() == Some(b'[')).then_some(p.i);
                    p.fields(out, Ctx::Params)?;
                }
                "result" => {
                    has_result = true;
                    positional = None;
                    out.clear_fields();
                    p.fields(out, Ctx::Result)?;
                }
                "error" => {
                    has_error = true;
                    out.error_code = None;
                    if p.peek() == Some(b'{') {
                        p.object(|p, key| {
                            if key == "code" && matches!(p.peek(), Some(b'-' | b'0'..=b'9')) {
                                if let Num::Int(n) = p.number()? {
                                    out.error_code = Some(n);
                                }
                                Ok(())
                            } else {
                                p.skip_value()
                            }
                        })?;
                    } else {
                        p.skip_value()?;
                    }
                }
                "emittedAtMs" => {
                    out.emitted_at_present = true;
                    out.emitted_at_ms = None;
                    if matches!(p.peek(), Some(b'-' | b'0'..=b'9')) {
                        if let Num::Int(n) = p.number()? {
                            out.emitted_at_ms = Some(n);
                        }
                    } else {
                        p.skip_value()?;
                    }
                }
                _ => p.skip_value()?,
            }
            Ok(())
        })?;
        // The same precedence as `core_sm::wire::Incoming::decode`.
        out.kind = match (id_ok, out.method.is_some()) {
            (true, true) => Kind::Request,
            (false, true) => Kind::Notification,
            (true, false) if has_result => Kind::Reply,
            (true, false) if has_error => Kind::ErrorReply,
            _ => Kind::Other,
        };
        Ok(positional)
    }

    /// `capabilities` of `initialize`: the opt-out list.
    fn capabilities(&mut self, out: &mut Summary) -> Result<(), ScanError> {
        self.object(|p, key| {
            if key == "optOutNotificationMethods" && p.peek() == Some(b'[') {
                let mut list = Vec::new();
                p.array(|p| {
                    if let Some(m) = p.opt_string()? {
                        list.push(intern(&m));
                    }
                    Ok(())
                })?;
                out.opt_out = Some(list);
                Ok(())
            } else {
                p.skip_value()
            }
        })
    }

    /// Reads the interesting members of `params` / `result` (skipping non-objects).
    fn fields(&mut self, out: &mut Summary, ctx: Ctx) -> Result<(), ScanError> {
        if self.peek() != Some(b'{') {
            return self.skip_value();
        }
        self.object(|p, key| {
            match &*key {
                "threadId" => {
                    if let Some(s) = p.opt_string()? {
                        out.thread_id = parse_thread(&s, &mut out.bad_id);
                    }
                }
                "turnId" | "expectedTurnId" => {
                    if let Some(s) = p.opt_string()? {
                        out.turn_id = parse_turn(&s, &mut out.bad_id);
                    }
                }
                "itemId" => {
                    if let Some(s) = p.opt_string()? {
                        out.item_id = Some(item_ref(&s));
                    }
                }
                "requestId" => {
                    out.request_id = None;
                    if matches!(p.peek(), Some(b'-' | b'0'..=b'9')) {
                        if let Num::Int(n) = p.number()? {
                            out.request_id = Some(n);
                        }
                    } else {
                        p.skip_value()?;
                    }
                }
                "status" => match p.peek() {
                    Some(b'{') => out.status = Some(p.status()?),
                    Some(b'"') => {
                        let s = p.string()?;
                        out.status_word =
                            ["unsubscribed", "notSubscribed", "notLoaded"].into_iter().find(|w| *w == s);
                    }
                    _ => p.skip_value()?,
                },
                "turn" => p.turn(out)?,
                "item" => p.item(out)?,
                "thread" => p.thread(out)?,
                "data" if ctx == Ctx::Result && p.peek() == Some(b'[') => {
                    p.array(|p| {
                        let id = match p.peek() {
                            Some(b'"') => Some(p.string()?),
                            Some(b'{') => {
                                let mut id = None;
                                p.object(|p, key| {
                                    if key == "id" {
                                        id = p.opt_string()?;
                                        Ok(())
                                    } else {
                                        p.skip_value()
                                    }
                                })?;
                                id
                            }
                            _ => {
                                p.skip_value()?;
                                None
                            }
                        };
                        if let Some(t) = id.and_then(|s| ThreadId::parse(&s).ok()) {
                            out.data_threads.push(t);
                        }
                        Ok(())
                    })?;
                }
                "capabilities" if ctx == Ctx::Params && p.peek() == Some(b'{') => p.capabilities(out)?,
                _ => p.skip_value()?,
            }
            Ok(())
        })
    }

    fn status(&mut self) -> Result<Status, ScanError> {
        let mut kind = Status::Unknown;
        let mut flags = 0u8;
        self.object(|p, key| {
            match &*key {
                "type" => {
                    kind = match p.opt_string()?.as_deref() {
                        Some("notLoaded") => Status::NotLoaded,
                        Some("idle") => Status::Idle,
                        Some("systemError") => Status::SystemError,
                        Some("active") => Status::Active(0),
                        _ => Status::Unknown,
                    }
                }
                "activeFlags" if p.peek() == Some(b'[') => p.array(|p| {
                    let flag = match p.opt_string()?.as_deref() {
                        Some("waitingOnApproval") => 1,
                        Some("waitingOnUserInput") => 2,
                        _ => 4,
                    };
                    // Each flag once, in protocol order (approval before user input).
                    if flags & !(flag - 1) != 0 {
                        flags |= 8;
                    }
                    flags |= flag;
                    Ok(())
                })?,
                _ => p.skip_value()?,
            }
            Ok(())
        })?;
        Ok(match kind {
            Status::Active(_) => Status::Active(flags),
            other => other,
        })
    }

    fn turn(&mut self, out: &mut Summary) -> Result<(), ScanError> {
        if self.peek() != Some(b'{') {
            return self.skip_value();
        }
        self.object(|p, key| {
            match &*key {
                "id" => {
                    if let Some(s) = p.opt_string()? {
                        out.turn_id = parse_turn(&s, &mut out.bad_id);
                    }
                }
                "status" => {
                    out.turn_status = p.opt_string()?.map(|s| match &*s {
                        "completed" => TurnState::Completed,
                        "interrupted" => TurnState::Interrupted,
                        "failed" => TurnState::Failed,
                        "inProgress" => TurnState::InProgress,
                        _ => TurnState::Unknown,
                    })
                }
                _ => p.skip_value()?,
            }
            Ok(())
        })
    }

    fn item(&mut self, out: &mut Summary) -> Result<(), ScanError> {
        if self.peek() != Some(b'{') {
            return self.skip_value();
        }
        self.object(|p, key| {
            match &*key {
                "id" => {
                    if let Some(s) = p.opt_string()? {
                        out.item_id = Some(item_ref(&s));
                    }
                }
                "type" => {
                    out.item_type =
                        p.opt_string()?.map(|s| ITEM_TYPES.iter().find(|t| **t == s).copied().unwrap_or("?"))
                }
                _ => p.skip_value()?,
            }
            Ok(())
        })
    }

    fn thread(&mut self, out: &mut Summary) -> Result<(), ScanError> {
        if self.peek() != Some(b'{') {
            return self.skip_value();
        }
        self.object(|p, key| {
            match &*key {
                "id" => {
                    if let Some(s) = p.opt_string()? {
                        out.thread_id = parse_thread(&s, &mut out.bad_id);
                    }
                }
                "status" if p.peek() == Some(b'{') => out.status = Some(p.status()?),
                "turns" if p.peek() == Some(b'[') => p.turns()?,
                _ => p.skip_value()?,
            }
            Ok(())
        })
    }

    /// Skips `thread.turns`, comparing each turn the memo knows with its validated text
    /// instead of validating it again, and remembering the others.
    fn turns(&mut self) -> Result<(), ScanError> {
        let b = self.b;
        self.array(|p| {
            let start = p.i;
            let key = TurnMemo::key(&b[start..]);
            if let (Some(key), Some(memo)) = (key, p.memo.as_deref()) {
                if let Some(known) = memo.turns.get(key) {
                    if b[start..].starts_with(known.as_bytes()) {
                        p.i += known.len();
                        return Ok(());
                    }
                }
            }
            p.skip_value()?;
            if let (Some(key), Some(memo)) = (key, p.memo.as_deref_mut()) {
                memo.remember(key, &p.s[start..p.i]);
            }
            Ok(())
        })
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` below `n` (n <= 128), SWAR style. Borrows can mark bytes
/// above the first match too, so only the lowest set bit is exact.
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

/// Marks the bytes of `w` that are `"`, `\\` or a control character; the lowest set bit is
/// the first such byte (little-endian), exactly.
fn look_mask(w: u64) -> u64 {
    below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1) | below(w, 0x20)
}

fn parse_thread(s: &str, bad: &mut bool) -> Option<ThreadId> {
    let t = ThreadId::parse(s).ok();
    *bad |= t.is_none();
    t
}

fn parse_turn(s: &str, bad: &mut bool) -> Option<TurnId> {
    let t = TurnId::parse(s).ok();
    *bad |= t.is_none();
    t
}

/// A UUID item id as a number; other strings hashed (FNV-1a, with the top bit set so they
/// cannot collide with the nil UUID's neighbourhood in practice).
pub(super) fn item_ref(s: &str) -> ItemRef {
    match uuid::Uuid::parse_str(s) {
        Ok(u) => u.as_u128(),
        Err(_) => {
            let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
            for b in s.bytes() {
                h ^= u128::from(b);
                h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
            }
            h | (1 << 127)
        }
    }
}
