//! Leaf strategies the others are built from: UUIDv7 ids (thread, turn, item), identifiers,
//! free text, paths, URLs, timestamps and durations of this decade, and small JSON values.

use core_sm::{ItemId, ThreadId, TurnId};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// A UUIDv7 string: a millisecond timestamp between 2020 and 2030, version 7, RFC 4122 variant.
pub fn uuid7() -> impl Strategy<Value = String> {
    (1_577_836_800_000u64..1_893_456_000_000, any::<u16>(), any::<u64>()).prop_map(|(ms, a, b)| {
        let v = (u128::from(ms) << 80)
            | (0x7 << 76)
            | (u128::from(a & 0x0fff) << 64)
            | (0b10 << 62)
            | u128::from(b & 0x3fff_ffff_ffff_ffff);
        let h = format!("{v:032x}");
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    })
}

pub fn thread_id() -> impl Strategy<Value = ThreadId> {
    uuid7().prop_map(|s| ThreadId::parse(&s).expect("valid uuid"))
}

pub fn turn_id() -> impl Strategy<Value = TurnId> {
    uuid7().prop_map(|s| TurnId::parse(&s).expect("valid uuid"))
}

/// Item ids are minted by the machine as UUIDv7 strings.
pub fn item_id() -> impl Strategy<Value = ItemId> {
    uuid7().prop_map(ItemId)
}

/// Identifiers: tool, server, model and provider names.
pub fn word() -> BoxedStrategy<String> {
    "[a-z][a-z0-9_-]{0,11}".boxed()
}

/// Free text: printable ASCII (quotes, backslashes) or any non-control Unicode.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof!["[ -~]{0,32}", "\\PC{0,16}"].boxed()
}

pub fn path() -> BoxedStrategy<String> {
    "(/[a-z0-9_.-]{1,8}){1,4}".boxed()
}

pub fn url() -> BoxedStrategy<String> {
    "https://[a-z]{1,8}\\.example/[a-z0-9]{0,8}".boxed()
}

/// Unix seconds in 2020..2030.
pub fn secs() -> impl Strategy<Value = i64> {
    1_577_836_800i64..1_893_456_000
}

/// Unix milliseconds in 2020..2030.
pub fn millis() -> impl Strategy<Value = i64> {
    1_577_836_800_000i64..1_893_456_000_000
}

pub fn duration_ms() -> impl Strategy<Value = i64> {
    0i64..3_600_000
}

/// Small arbitrary JSON (no floats: they are not part of any wire type here).
pub fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            btree_map("[a-z]{1,6}", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A small JSON object (tool arguments, config overrides, `_meta`).
pub fn json_object() -> BoxedStrategy<Map<String, Value>> {
    btree_map("[a-z][a-zA-Z_]{0,8}", json_value(), 0..3).prop_map(|m| m.into_iter().collect()).boxed()
}
