//! The compact JSON writer every outbound frame goes through.
//!
//! It writes exactly the bytes `serde_json::to_writer` writes (`tests.rs` and the `tests` crate's
//! snapshots hold it to that): integers are written by itoa and floats and escapes by
//! serde_json's own [`CompactFormatter`], as serde_json writes them, and the structure follows
//! `serde_json::Serializer` method by method. It is faster where the machine spends its time: a string that needs no
//! escaping (object keys, ids, most text) is checked in one pass and copied whole, and the
//! one-byte punctuation of JSON is pushed rather than written through `io::Write`.
//!
//! It also writes [`RawJson`] (JSON the machine serialized earlier: a finished turn, a completed
//! item) verbatim, which serde_json cannot: frames that embed one must go through this writer.

use std::fmt;

use serde::ser::{self, Serialize};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

use restricted::{MapKeySerializer, RawJsonEmitter};

mod restricted;
#[cfg(test)]
mod tests;

/// The struct name [`RawJson`] serializes under: a name no wire type has, which tells this
/// writer to copy the one field's text as it is.
const RAW_JSON_TOKEN: &str = "$turnstile::RawJson";

/// JSON text written verbatim by this writer (other serializers would write it as an object
/// with one string member).
#[derive(Clone, Debug)]
pub(crate) struct RawJson(Box<str>);

impl RawJson {
    /// Wraps text that is one JSON value (this writer's own output).
    pub(crate) fn new(json: Box<str>) -> Self {
        Self(json)
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for RawJson {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeStruct as _;
        let mut raw = serializer.serialize_struct(RAW_JSON_TOKEN, 1)?;
        raw.serialize_field(RAW_JSON_TOKEN, &*self.0)?;
        raw.end()
    }
}

/// Appends the compact JSON of `value` to `out`.
pub(crate) fn to_writer<T: ?Sized + Serialize>(out: &mut String, value: &T) -> Result<(), Error> {
    value.serialize(&mut Serializer { out })
}

/// Appends what one of serde_json's formatter methods writes (a number, an escape: short ASCII)
/// by way of a stack buffer, so the output stays a `String` without re-checking it as UTF-8.
fn formatted(
    out: &mut String,
    write: impl FnOnce(&mut &mut [u8]) -> std::io::Result<()>,
) -> Result<(), Error> {
    // An i128 or u128 takes 40 bytes at most, an f64 24, an escape 6.
    const CAPACITY: usize = 48;
    let mut buf = [0u8; CAPACITY];
    let mut unwritten: &mut [u8] = &mut buf;
    write(&mut unwritten).map_err(io_error)?;
    let len = CAPACITY - unwritten.len();
    let text = std::str::from_utf8(&buf[..len]).map_err(|e| Error(e.to_string()))?;
    out.push_str(text);
    Ok(())
}

/// Why a value could not be written (a map key that is not a string or number, a custom
/// `Serialize` error, ...). The machine's wire types never produce one.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error(e.to_string())
}

/// Whether a byte must be escaped inside a JSON string: control characters, `"` and `\`
/// (serde_json's escape table, which leaves DEL and non-ASCII bytes alone).
fn needs_escape(byte: u8) -> bool {
    NEEDS_ESCAPE[usize::from(byte)]
}

/// [`needs_escape`] as a table: one load per byte.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Writes `"value"`, escaped as serde_json escapes it.
fn write_str(out: &mut String, value: &str) {
    out.reserve(value.len() + 2);
    out.push('"');
    // One pass with no early exit over the whole string; the common case is then one copy.
    if value.bytes().fold(false, |any, b| any | needs_escape(b)) {
        write_escaped(out, value);
    } else {
        out.push_str(value);
    }
    out.push('"');
}

/// Copies the runs between escapes and escapes the bytes that need it. Kept out of line: most
/// strings have nothing to escape.
#[cold]
#[inline(never)]
fn write_escaped(out: &mut String, value: &str) {
    let mut run_start = 0;
    for (i, byte) in value.bytes().enumerate() {
        if !needs_escape(byte) {
            continue;
        }
        // Escaped bytes are ASCII, so `i` is a character boundary.
        out.push_str(&value[run_start..i]);
        run_start = i + 1;
        let escape = match byte {
            b'"' => CharEscape::Quote,
            b'\\' => CharEscape::ReverseSolidus,
            0x08 => CharEscape::Backspace,
            0x09 => CharEscape::Tab,
            0x0A => CharEscape::LineFeed,
            0x0C => CharEscape::FormFeed,
            0x0D => CharEscape::CarriageReturn,
            other => CharEscape::AsciiControl(other),
        };
        // Six bytes at most: it fits.
        let _ = formatted(out, |w| CompactFormatter.write_char_escape(w, escape));
    }
    out.push_str(&value[run_start..]);
}

/// The serializer: a `String` to append to.
struct Serializer<'o> {
    out: &'o mut String,
}

/// Writes integers with itoa, as serde_json does.
macro_rules! integers {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method(self, value: $ty) -> Result<(), Error> {
                self.out.push_str(itoa::Buffer::new().format(value));
                Ok(())
            }
        )*
    };
}

impl<'s, 'o> ser::Serializer for &'s mut Serializer<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'o>;
    type SerializeTuple = Compound<'s, 'o>;
    type SerializeTupleStruct = Compound<'s, 'o>;
    type SerializeTupleVariant = Compound<'s, 'o>;
    type SerializeMap = Compound<'s, 'o>;
    type SerializeStruct = Compound<'s, 'o>;
    type SerializeStructVariant = Compound<'s, 'o>;

    integers! {
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
    }

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.out.push_str(if value { "true" } else { "false" });
        Ok(())
    }

    /// An array of numbers, like serde_json's default `write_byte_array`.
    fn serialize_bytes(self, value: &[u8]) -> Result<(), Error> {
        self.out.push('[');
        for (i, byte) in value.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            formatted(self.out, |w| CompactFormatter.write_u8(w, *byte))?;
        }
        self.out.push(']');
        Ok(())
    }

    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        if value.is_finite() {
            formatted(self.out, |w| CompactFormatter.write_f32(w, value))
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        if value.is_finite() {
            formatted(self.out, |w| CompactFormatter.write_f64(w, value))
        } else {
            self.serialize_unit()
        }
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        write_str(self.out, value);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.push_str("null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push('{');
        write_str(self.out, variant);
        self.out.push(':');
        value.serialize(&mut *self)?;
        self.out.push('}');
        Ok(())
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'s, 'o>, Error> {
        self.out.push('[');
        let state = if len == Some(0) {
            self.out.push(']');
            State::Empty
        } else {
            State::First
        };
        Ok(Compound::Elements { ser: self, state })
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'o>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'s, 'o>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        self.out.push('{');
        write_str(self.out, variant);
        self.out.push(':');
        self.serialize_seq(Some(len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'s, 'o>, Error> {
        self.out.push('{');
        let state = if len == Some(0) {
            self.out.push('}');
            State::Empty
        } else {
            State::First
        };
        Ok(Compound::Elements { ser: self, state })
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'s, 'o>, Error> {
        if name == RAW_JSON_TOKEN {
            return Ok(Compound::RawJson { ser: self });
        }
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        self.out.push('{');
        write_str(self.out, variant);
        self.out.push(':');
        self.serialize_map(Some(len))
    }
}

/// serde_json's `State`: whether a compound was empty (and already closed), or which element
/// comes next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Empty,
    First,
    Rest,
}

/// Arrays, objects and the variants wrapped around them.
enum Compound<'s, 'o> {
    Elements { ser: &'s mut Serializer<'o>, state: State },
    RawJson { ser: &'s mut Serializer<'o> },
}

impl<'o> Compound<'_, 'o> {
    fn ser(&mut self) -> &mut Serializer<'o> {
        match self {
            Compound::Elements { ser, .. } | Compound::RawJson { ser } => ser,
        }
    }

    /// Writes the separator before the next element or key.
    fn next(&mut self) {
        if let Compound::Elements { ser, state } = self {
            if *state != State::First {
                ser.out.push(',');
            }
            *state = State::Rest;
        }
    }

    /// Closes the array or object with `close`, then `suffix` (the brace of a variant).
    fn close(self, close: u8, suffix: Option<u8>) -> Result<(), Error> {
        if let Compound::Elements { ser, state } = self {
            if state != State::Empty {
                ser.out.push(char::from(close));
            }
            if let Some(suffix) = suffix {
                ser.out.push(char::from(suffix));
            }
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.next();
        value.serialize(self.ser())
    }

    fn end(self) -> Result<(), Error> {
        self.close(b']', None)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close(b']', None)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close(b']', None)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close(b']', Some(b'}'))
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.next();
        key.serialize(MapKeySerializer { ser: self.ser() })?;
        self.ser().out.push(':');
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(self.ser())
    }

    fn end(self) -> Result<(), Error> {
        self.close(b'}', None)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        match self {
            Compound::Elements { .. } => {
                self.next();
                let ser = self.ser();
                write_str(ser.out, key);
                ser.out.push(':');
                value.serialize(ser)
            }
            Compound::RawJson { ser } if key == RAW_JSON_TOKEN => value.serialize(RawJsonEmitter { ser }),
            Compound::RawJson { .. } => Err(Error("invalid raw JSON".to_owned())),
        }
    }

    fn end(self) -> Result<(), Error> {
        self.close(b'}', None)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close(b'}', Some(b'}'))
    }
}
