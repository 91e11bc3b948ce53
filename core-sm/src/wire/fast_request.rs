//! Reading a client request without building a `serde_json::Value` of the whole frame.
//!
//! [`Incoming::decode`] parses a frame into a `Value`, and the machine then deserializes
//! `params` from it: a dozen allocations for a hundred bytes. [`read`] checks the frame and
//! reads its id and method without building anything else; [`Params::read`] later reads the
//! typed params straight from the text.
//!
//! It is an exact shortcut, never a second opinion:
//!
//! * [`read`] answers only for frames that `Incoming::decode` decodes as a request, with the
//!   same id and method: it visits every value with the parser calls a `Value` makes, so bad
//!   syntax, numbers out of range, bad escapes and the nesting limit fail alike. Whatever it is
//!   not sure of (not a request, `method` after `params`, a repeated `params`) gets `None`, and
//!   the caller takes the `Value` path.
//! * A typed parse from the text that fails is done again from a `Value` (which keeps the
//!   last of repeated keys and words errors the way the machine always has), so successes and
//!   error messages are both what the `Value` path gives.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::Value;

use super::{Incoming, RequestId};

/// A request read by [`read`].
#[derive(Debug)]
pub(crate) struct FastRequest<'a> {
    pub(crate) id: RequestId,
    pub(crate) method: Cow<'a, str>,
    pub(crate) params: Params<'a>,
}

/// A request's `params`: decoded into a `Value` already, or still in the frame's text.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Params<'a> {
    /// From [`Incoming::decode`]; `None` when absent.
    Decoded(Option<&'a Value>),
    /// From [`read`].
    InFrame {
        /// The whole frame, checked by [`read`].
        frame: &'a str,
        /// Whether the frame has `params` (`null` counts).
        present: bool,
        /// The first of the method's experimental fields that `params` uses.
        experimental_field: Option<&'static str>,
    },
}

impl Params<'_> {
    /// Whether the request has `params` at all (`null` counts).
    pub(crate) fn is_present(&self) -> bool {
        match self {
            Params::Decoded(value) => value.is_some(),
            Params::InFrame { present, .. } => *present,
        }
    }

    /// Reads the params with `reader` (absent params read as `null`). From the frame's text, a
    /// failure is retried from a `Value`: see the module docs.
    pub(crate) fn read<R: ReadParams>(&self, reader: &R) -> Result<R::Output, String> {
        match *self {
            Params::Decoded(value) => reader.read(value),
            Params::InFrame { present: false, .. } => reader.read(None::<&Value>),
            Params::InFrame { frame, .. } => {
                let streamed =
                    serde_json::Deserializer::from_str(frame).deserialize_map(TypedEnvelope { reader });
                match streamed {
                    Ok(Some(output)) => Ok(output),
                    _ => match Incoming::decode(frame) {
                        Ok(Incoming::Request { params, .. }) => reader.read(params.as_ref()),
                        // Unreachable: `read` accepted the frame as a request.
                        _ => Err("not a request".to_owned()),
                    },
                }
            }
        }
    }

    /// The first of `fields` that `params` (an object) uses: present with a value other than
    /// `null`, `false`, `[]` or `{}`. In-frame params know only the fields given to [`read`].
    pub(crate) fn first_used(&self, fields: &'static [&'static str]) -> Option<&'static str> {
        match self {
            Params::Decoded(value) => {
                let object = value.and_then(Value::as_object)?;
                fields.iter().copied().find(|f| object.get(*f).is_some_and(is_used))
            }
            Params::InFrame { experimental_field, .. } => *experimental_field,
        }
    }
}

/// Whether a field value counts as "used" for experimental gating.
fn is_used(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// Reads typed params from a [`ParamsSource`]: the machine's request parser for one method.
pub(crate) trait ReadParams {
    /// What the params become.
    type Output;
    /// Reads the params (or skips them), or gives serde's message.
    fn read<P: ParamsSource>(&self, source: P) -> Result<Self::Output, String>;
}

/// Where typed params are read from: a `Value`, or the frame's text.
pub(crate) trait ParamsSource {
    /// The params as `T`, or serde's message.
    fn parse<T: DeserializeOwned>(self) -> Result<T, String>;
    /// Passes over params that are not read.
    fn skip(self) -> Result<(), String>;
}

impl ParamsSource for Option<&Value> {
    /// Absent params read as `null`.
    fn parse<T: DeserializeOwned>(self) -> Result<T, String> {
        T::deserialize(self.unwrap_or(&Value::Null)).map_err(|e| e.to_string())
    }

    fn skip(self) -> Result<(), String> {
        Ok(())
    }
}

/// The params of a frame being parsed.
struct InStream<D>(D);

impl<'de, D: Deserializer<'de>> ParamsSource for InStream<D> {
    fn parse<T: DeserializeOwned>(self) -> Result<T, String> {
        T::deserialize(self.0).map_err(|e| e.to_string())
    }

    fn skip(self) -> Result<(), String> {
        IgnoredAny::deserialize(self.0).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Reads `frame` as a request if `Incoming::decode` decodes it as one, noting which of
/// `experimental_fields(method)` its params use. `None` means "take the `Value` path".
pub(crate) fn read(
    frame: &str,
    experimental_fields: fn(&str) -> &'static [&'static str],
) -> Option<FastRequest<'_>> {
    let mut de = serde_json::Deserializer::from_str(frame);
    let envelope = de.deserialize_map(EnvelopeVisitor { experimental_fields }).ok()?;
    de.end().ok()?;
    let (Some(Some(id)), Some(Some(method))) = (envelope.id, envelope.method) else {
        return None;
    };
    let params = Params::InFrame {
        frame,
        present: envelope.params.is_some(),
        experimental_field: envelope.params.flatten(),
    };
    Some(FastRequest { id, method, params })
}

/// What [`read`] takes from the top level: `Some` for each member present (the last one if
/// repeated, as in a `Value`) with what `Incoming::decode` makes of it.
struct Envelope<'de> {
    id: Option<Option<RequestId>>,
    method: Option<Option<Cow<'de, str>>>,
    /// Present params, with the first experimental field they use.
    params: Option<Option<&'static str>>,
}

/// Checks the frame, reading the envelope.
struct EnvelopeVisitor {
    experimental_fields: fn(&str) -> &'static [&'static str],
}

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut envelope = Envelope { id: None, method: None, params: None };
        while let Some(key) = map.next_key::<Key>()? {
            match (&*key.0, &envelope) {
                ("id", _) => envelope.id = Some(map.next_value::<IdMember>()?.0),
                // The params were checked for the experimental fields of an earlier method.
                ("method", Envelope { params: Some(_), .. }) => {
                    return Err(de::Error::custom("method after params"))
                }
                ("method", _) => envelope.method = Some(map.next_value::<MethodMember>()?.0),
                ("params", Envelope { params: Some(_), .. }) => {
                    return Err(de::Error::custom("repeated params"))
                }
                ("params", Envelope { method: Some(Some(method)), .. }) => {
                    let fields = (self.experimental_fields)(method);
                    envelope.params = Some(map.next_value_seed(ParamsCheck { fields })?);
                }
                ("params", _) => return Err(de::Error::custom("params before a method")),
                _ => {
                    map.next_value_seed(Check)?;
                }
            }
        }
        Ok(envelope)
    }
}

/// Reads the typed params out of a checked frame with a [`ReadParams`]; `None` if there are
/// none, an error if they do not parse.
struct TypedEnvelope<'r, R> {
    reader: &'r R,
}

impl<'de, R: ReadParams> Visitor<'de> for TypedEnvelope<'_, R> {
    type Value = Option<R::Output>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut output = None;
        while let Some(key) = map.next_key::<Key>()? {
            if key.0 == "params" {
                output = Some(map.next_value_seed(TypedParams { reader: self.reader })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(output)
    }
}

/// The params value read with a [`ReadParams`].
struct TypedParams<'r, R> {
    reader: &'r R,
}

impl<'de, R: ReadParams> DeserializeSeed<'de> for TypedParams<'_, R> {
    type Value = R::Output;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<R::Output, D::Error> {
        self.reader.read(InStream(deserializer)).map_err(de::Error::custom)
    }
}

/// An object key, borrowed when it has no escapes (read as a `Value` reads keys).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The `Visitor` methods for the kinds of value a member visitor does not keep: each answers
/// `$none`, after checking what is inside an array or object.
macro_rules! not_kept {
    ($none:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Check.visit_seq(seq)?;
            Ok($none)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Check.visit_map(map)?;
            Ok($none)
        }
    };
}

/// `RequestId::from_value` of the member: a string, or a number that is an `i64`.
struct IdMember(Option<RequestId>);

impl<'de> Deserialize<'de> for IdMember {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> Visitor<'de> for IdVisitor {
            type Value = IdMember;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, id: &str) -> Result<IdMember, E> {
                Ok(IdMember(Some(RequestId::String(id.to_owned()))))
            }
            fn visit_i64<E: de::Error>(self, id: i64) -> Result<IdMember, E> {
                Ok(IdMember(Some(RequestId::Integer(id))))
            }
            fn visit_u64<E: de::Error>(self, id: u64) -> Result<IdMember, E> {
                Ok(IdMember(i64::try_from(id).ok().map(RequestId::Integer)))
            }
            not_kept!(IdMember(None));
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// The member if it is a string (borrowed from the frame when it has no escapes).
struct MethodMember<'de>(Option<Cow<'de, str>>);

impl<'de> Deserialize<'de> for MethodMember<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MethodVisitor;
        impl<'de> Visitor<'de> for MethodVisitor {
            type Value = MethodMember<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, method: &'de str) -> Result<MethodMember<'de>, E> {
                Ok(MethodMember(Some(Cow::Borrowed(method))))
            }
            fn visit_str<E: de::Error>(self, method: &str) -> Result<MethodMember<'de>, E> {
                Ok(MethodMember(Some(Cow::Owned(method.to_owned()))))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<MethodMember<'de>, E> {
                Ok(MethodMember(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<MethodMember<'de>, E> {
                Ok(MethodMember(None))
            }
            not_kept!(MethodMember(None));
        }
        deserializer.deserialize_any(MethodVisitor)
    }
}

/// Checks one value the way a `Value` parses it (the same deserializer calls, storing nothing)
/// and tells whether it counts as used (not `null`, `false`, `[]` or `{}`).
#[derive(Clone, Copy)]
struct Check;

impl<'de> DeserializeSeed<'de> for Check {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<bool, E> {
        Ok(value)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut used = false;
        while seq.next_element_seed(Check)?.is_some() {
            used = true;
        }
        Ok(used)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut used = false;
        while map.next_key::<Key>()?.is_some() {
            map.next_value_seed(Check)?;
            used = true;
        }
        Ok(used)
    }
}

/// Checks `params` and finds the first of `fields` it uses, if it is an object.
struct ParamsCheck {
    fields: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for ParamsCheck {
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ParamsCheck {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Check.visit_seq(seq)?;
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Bit `i`: whether `fields[i]` is used, by its last occurrence (a `Value` keeps the last).
        if self.fields.len() > 64 {
            return Err(de::Error::custom("too many experimental fields to track"));
        }
        let mut used: u64 = 0;
        while let Some(key) = map.next_key::<Key>()? {
            let value_used = map.next_value_seed(Check)?;
            if let Some(i) = self.fields.iter().position(|f| *f == key.0) {
                used = if value_used { used | 1 << i } else { used & !(1 << i) };
            }
        }
        Ok(self.fields.iter().enumerate().find(|(i, _)| used & 1 << i != 0).map(|(_, f)| *f))
    }
}
