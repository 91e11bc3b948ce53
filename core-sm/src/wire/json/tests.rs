//! The writer against serde_json: every shape serde has, every wire type, and arbitrary values.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::wire::notifications::{AgentMessageDelta, ItemStarted, ThreadStatusChanged};
use crate::wire::{
    CommandAction, CommandExecutionSource, CommandExecutionStatus, FileUpdateChange, ItemBody,
    PatchApplyStatus, PatchChangeKind, SandboxPolicy, ThreadActiveFlag, ThreadItem, ThreadStatus,
    ToolCallStatus, UserInput,
};
use crate::{ItemId, ThreadId, TurnId};

fn ours<T: ?Sized + Serialize>(value: &T) -> String {
    let mut out = String::new();
    to_writer(&mut out, value).expect("serializable");
    out
}

fn same<T: ?Sized + Serialize>(value: &T) {
    let theirs = serde_json::to_string(value).expect("serializable");
    assert_eq!(ours(value), theirs);
}

#[test]
fn scalars_and_escapes_match_serde_json() {
    same(&json!([
        null, true, false, 0, -1, i64::MIN, i64::MAX, u64::MAX, 0.5, -0.0, 1e300, 1.5e-7, 100.0,
        "", "plain", "quote \" backslash \\ slash /", "\u{0}\u{1f}\u{7f}\u{80}", "tab\tnl\ncr\rbs\u{8}ff\u{c}",
        "é ü 日本 🦀", {"": {}, "k\"ey": [], "\n": [[]]}
    ]));
    same(&(
        i128::MIN,
        i128::MAX,
        u128::MAX,
        -5i8,
        200u8,
        f32::MAX,
        0.1f32,
        f64::NAN,
        f64::INFINITY,
        'x',
        '"',
    ));
    same(&Some(()));
    same(&b"bytes"[..]);
    same(&serde_bytes_like(&[0, 1, 255]));
}

/// `serialize_bytes` goes through a wrapper that asks for it.
fn serde_bytes_like(bytes: &[u8]) -> impl Serialize + '_ {
    struct Bytes<'a>(&'a [u8]);
    impl Serialize for Bytes<'_> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
    Bytes(bytes)
}

#[test]
fn map_keys_match_serde_json() {
    same(&BTreeMap::from([(1i64, "a"), (-2, "b")]));
    same(&BTreeMap::from([(true, 1), (false, 2)]));
    same(&BTreeMap::from([(u128::MAX, 1)]));
    same(&BTreeMap::from([('c', 1)]));
    same(&BTreeMap::from([(ThreadActiveFlag::WaitingOnApproval, 1)]));
    // Keys serde_json refuses are refused here too.
    assert!(serde_json::to_string(&BTreeMap::from([((), 1)])).is_err());
    assert!(to_writer(&mut String::new(), &BTreeMap::from([((), 1)])).is_err());
}

#[test]
fn enums_of_every_shape_match_serde_json() {
    #[derive(serde::Serialize)]
    enum Shapes {
        Unit,
        Newtype(u8),
        Tuple(u8, &'static str),
        Struct { a: u8, b: Vec<u8> },
    }
    #[derive(serde::Serialize)]
    struct Unit;
    #[derive(serde::Serialize)]
    struct Pair(u8, u8);
    same(&(Shapes::Unit, Shapes::Newtype(1), Shapes::Tuple(2, "t"), Shapes::Struct { a: 3, b: vec![] }));
    same(&(Unit, Pair(1, 2), Vec::<u8>::new(), BTreeMap::<String, u8>::new()));
}

#[test]
fn wire_types_match_serde_json() {
    let thread_id = ThreadId::parse("019ab698-1bda-7dff-9d99-d2808f614b03").expect("uuid");
    let turn_id = TurnId::parse("019ab698-283b-7fca-a303-fb70942b6122").expect("uuid");
    let bodies = vec![
        ItemBody::UserMessage {
            content: vec![
                UserInput::Text { text: "hi \"there\"".into(), text_elements: vec![json!({"a": 1})] },
                UserInput::Image { url: Some("u".into()), file_id: None, detail: None },
                UserInput::LocalImage { path: "/p".into(), detail: Some("high".into()) },
                UserInput::Audio { url: None, file_id: Some("f".into()) },
                UserInput::LocalAudio { path: "/a".into() },
                UserInput::Skill { name: "s".into(), path: "/s".into() },
                UserInput::Mention { name: "m".into(), path: "/m".into() },
            ],
            client_id: Some("c".into()),
        },
        ItemBody::AgentMessage { text: "line\nnext".into(), phase: None },
        ItemBody::Reasoning { summary: vec!["a".into()], content: vec![] },
        ItemBody::Plan { text: "plan".into() },
        ItemBody::CommandExecution {
            command: "ls".into(),
            cwd: "/".into(),
            command_actions: vec![
                CommandAction::Read { command: "cat a".into(), name: "a".into(), path: "/a".into() },
                CommandAction::Search { command: "rg".into(), path: None, query: Some("q".into()) },
            ],
            status: CommandExecutionStatus::Completed,
            source: CommandExecutionSource::UnifiedExecStartup,
            aggregated_output: Some("out\u{1b}[0m".into()),
            exit_code: Some(-1),
            duration_ms: Some(12),
            process_id: None,
        },
        ItemBody::FileChange {
            changes: vec![FileUpdateChange {
                path: "a".into(),
                kind: PatchChangeKind::Update { move_path: Some("b".into()) },
                diff: "-x\n+y".into(),
            }],
            status: PatchApplyStatus::Declined,
        },
        ItemBody::McpToolCall {
            server: "s".into(),
            tool: "t".into(),
            arguments: json!({"x": [1.5, null]}),
            status: ToolCallStatus::Failed,
            result: None,
            error: Some(json!("e")),
            duration_ms: None,
        },
        ItemBody::WebSearch { query: "q".into(), action: None },
        ItemBody::ImageView { path: "/i".into() },
        ItemBody::ContextCompaction {},
    ];
    for body in bodies {
        let item =
            ThreadItem { id: ItemId("i-1".into()), body, started_at_ms: Some(1), completed_at_ms: None };
        same(&item);
        same(&ItemStarted { thread_id, turn_id, started_at_ms: 5, item });
    }
    let delta = AgentMessageDelta { thread_id, turn_id, item_id: ItemId("i".into()), delta: "d\"".into() };
    same(&delta);
    let status = ThreadStatus::Active { active_flags: vec![ThreadActiveFlag::WaitingOnUserInput] };
    same(&ThreadStatusChanged { thread_id, status });
    same(&SandboxPolicy::WorkspaceWrite {
        writable_roots: vec!["/w".into()],
        network_access: true,
        exclude_tmpdir_env_var: false,
        exclude_slash_tmp: true,
    });
}

#[test]
fn raw_json_is_written_verbatim() {
    let raw = RawJson::new(r#"{"b":1, "a" : [ ]}"#.into());
    assert_eq!(ours(&vec![&raw, &raw]), r#"[{"b":1, "a" : [ ]},{"b":1, "a" : [ ]}]"#);
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".*".prop_map(Value::String),
        "[\\x00-\\x7f]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".*", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_json_value_matches_serde_json(value in any_value()) {
        prop_assert_eq!(ours(&value), serde_json::to_string(&value).expect("serializable"));
    }
}
