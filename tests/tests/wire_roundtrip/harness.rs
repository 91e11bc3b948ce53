//! The harness every wire round-trip test runs through: `run` drives a strategy for `CASES`
//! values, `round_trip` requires serialize → parse to give the value back (from text and from a
//! `Value`), and the `check_*` functions add the schema check for each way a value travels
//! (named definition, client request params, result, server request params, client answer,
//! notification frame). `all_variants!` and `check_all` cover fieldless enums exhaustively.

use std::fmt::Debug;

use core_sm::wire::notifications::Notification;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tests::{Schema, SchemaError};

/// Cases per type: enough to reach every variant of the larger unions, small enough that the
/// whole `wire_roundtrip` test runs in seconds in a debug build.
const CASES: u32 = 64;

/// Runs `test` over `CASES` values of `strategy`; proptest shrinks a failure to a minimal value.
/// No failure persistence: a failing value is printed, nothing is written next to the sources.
pub fn run<S>(what: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let config = Config { cases: CASES, failure_persistence: None, ..Config::default() };
    if let Err(e) = TestRunner::new(config).run(&strategy, test) {
        panic!("{what}: {e}");
    }
}

/// Serializes `value`, parses it back (from text, as the transports do, and from a `Value`, as
/// the machine parses params) and requires the same value both times. Returns the JSON.
pub fn round_trip<T>(value: &T) -> Result<Value, TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let text = serde_json::to_string(value).map_err(|e| TestCaseError::fail(format!("serialize: {e}")))?;
    let back: T = serde_json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("does not parse back: {e}\n{text}")))?;
    prop_assert_eq!(&back, value, "changed by a round trip through {}", text);
    let json: Value = serde_json::from_str(&text).expect("serde_json output is JSON");
    let back: T = serde_json::from_value(json.clone())
        .map_err(|e| TestCaseError::fail(format!("does not parse back from a Value: {e}\n{text}")))?;
    prop_assert_eq!(&back, value, "changed by a round trip through a Value: {}", text);
    Ok(json)
}

pub fn schema() -> &'static Schema {
    Schema::load()
}

pub fn conform(result: Result<(), SchemaError>, value: &Value) -> Result<(), TestCaseError> {
    result.map_err(|e| TestCaseError::fail(format!("{e}\nserialized: {value}")))
}

/// Round trip, then validate against the bundle definition `name` (`Thread` → `v2/Thread`).
pub fn check_def<T>(name: &str, value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(value)?;
    conform(schema().validate_definition(name, &json), &json)
}

/// Round trip, then validate as the `params` of a whole client request frame.
pub fn check_client_params<T>(method: &str, params: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(params)?;
    let frame = json!({"id": 1, "method": method, "params": json});
    conform(schema().validate_client_request(&frame), &frame)
}

/// Round trip, then validate as the `result` answering client request `method`.
pub fn check_result<T>(method: &str, result: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(result)?;
    let frame = json!({"id": 1, "result": json});
    conform(schema().validate_response(method, &frame), &frame)
}

/// Round trip, then validate as the `params` of server request `method` (integer id, as sent).
pub fn check_server_request<T>(method: &str, params: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(params)?;
    let frame = json!({"id": 7, "method": method, "params": json});
    conform(schema().validate_server_request(&frame), &frame)
}

/// Round trip, then validate as a client's `result` answering server request `method`.
pub fn check_answer<T>(method: &str, answer: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(answer)?;
    let frame = json!({"id": 7, "result": json});
    conform(schema().validate_client_response(method, &frame), &frame)
}

/// Round trip, then validate as a whole notification frame under the type's own method name.
pub fn check_notification<N>(n: &N) -> Result<(), TestCaseError>
where
    N: Notification + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(n)?;
    let frame = json!({"method": N::METHOD, "params": json, "emittedAtMs": 1});
    conform(schema().validate_server_notification(&frame), &frame)
}

/// Every variant of a fieldless enum; the closure's `match` stops compiling when one is added.
macro_rules! all_variants {
    ($ty:ident: $($v:ident),+ $(,)?) => {{
        let _exhaustive = |x: $ty| match x { $($ty::$v => ()),+ };
        vec![$($ty::$v),+]
    }};
}

/// Checks every value of a fieldless enum against each named definition.
pub fn check_all<T>(values: Vec<T>, definitions: &[&str])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    for v in &values {
        for name in definitions {
            if let Err(e) = check_def(name, v) {
                panic!("{v:?} as {name}: {e}");
            }
        }
    }
}
