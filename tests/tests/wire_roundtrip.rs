//! Property tests for core-sm's wire types (`core_sm::wire`): for generated, realistic values of
//! every type, (1) serializing and parsing back gives the same value, and (2) the serialized form
//! is valid against the Codex 0.169.0 schema, checked the way it travels: notifications as whole
//! frames with `emittedAtMs`, server requests as `{id, method, params}`, results as `{id, result}`,
//! client params as whole client requests, everything else against its named definition.
//!
//! The round trip matters because the machine parses what clients send and re-serializes what it
//! stores; the schema check matters because clients are generated from that schema. Values are
//! kept realistic (UUIDv7 ids, timestamps of this decade, small nested JSON) so a failure points at
//! a wire shape rather than at an absurd input. Fieldless enums are checked exhaustively instead.

use std::collections::BTreeMap;
use std::fmt::Debug;

use core_sm::wire::notifications::{self as nt, Notification};
use core_sm::wire::requests as rq;
use core_sm::wire::server_requests as sr;
use core_sm::wire::{
    ApprovalMode, ApprovalsReviewer, AskForApproval, CommandAction, CommandExecutionSource,
    CommandExecutionStatus, ErrorObject, FileUpdateChange, ItemBody, NetworkAccess, PatchApplyStatus,
    PatchChangeKind, RequestId, SandboxMode, SandboxPolicy, SessionSource, Thread, ThreadActiveFlag,
    ThreadHistoryMode, ThreadItem, ThreadStatus, ThreadTokenUsage, TokenUsageBreakdown, ToolCallStatus, Turn,
    TurnError, TurnItemsView, TurnStatus, UserInput,
};
use core_sm::{ItemId, ThreadId, TurnId};
use proptest::collection::{btree_map, vec};
use proptest::option::of as opt;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::Union;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tests::{Schema, SchemaError};

/// Cases per type: enough to reach every variant of the larger unions, small enough that the
/// whole file runs in seconds in a debug build.
const CASES: u32 = 64;

// ================================================================ harness

/// Runs `test` over `CASES` values of `strategy`; proptest shrinks a failure to a minimal value.
/// No failure persistence: a failing value is printed, nothing is written next to the sources.
fn run<S>(what: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
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
fn round_trip<T>(value: &T) -> Result<Value, TestCaseError>
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

fn schema() -> &'static Schema {
    Schema::load()
}

fn conform(result: Result<(), SchemaError>, value: &Value) -> Result<(), TestCaseError> {
    result.map_err(|e| TestCaseError::fail(format!("{e}\nserialized: {value}")))
}

/// Round trip, then validate against the bundle definition `name` (`Thread` → `v2/Thread`).
fn check_def<T>(name: &str, value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(value)?;
    conform(schema().validate_definition(name, &json), &json)
}

/// Round trip, then validate as the `params` of a whole client request frame.
fn check_client_params<T>(method: &str, params: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(params)?;
    let frame = json!({"id": 1, "method": method, "params": json});
    conform(schema().validate_client_request(&frame), &frame)
}

/// Round trip, then validate as the `result` answering client request `method`.
fn check_result<T>(method: &str, result: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(result)?;
    let frame = json!({"id": 1, "result": json});
    conform(schema().validate_response(method, &frame), &frame)
}

/// Round trip, then validate as the `params` of server request `method` (integer id, as sent).
fn check_server_request<T>(method: &str, params: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(params)?;
    let frame = json!({"id": 7, "method": method, "params": json});
    conform(schema().validate_server_request(&frame), &frame)
}

/// Round trip, then validate as a client's `result` answering server request `method`.
fn check_answer<T>(method: &str, answer: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = round_trip(answer)?;
    let frame = json!({"id": 7, "result": json});
    conform(schema().validate_client_response(method, &frame), &frame)
}

/// Round trip, then validate as a whole notification frame under the type's own method name.
fn check_notification<N>(n: &N) -> Result<(), TestCaseError>
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
fn check_all<T>(values: Vec<T>, definitions: &[&str])
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

// ================================================================ leaf strategies

/// A UUIDv7 string: a millisecond timestamp between 2020 and 2030, version 7, RFC 4122 variant.
fn uuid7() -> impl Strategy<Value = String> {
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

fn thread_id() -> impl Strategy<Value = ThreadId> {
    uuid7().prop_map(|s| ThreadId::parse(&s).expect("valid uuid"))
}

fn turn_id() -> impl Strategy<Value = TurnId> {
    uuid7().prop_map(|s| TurnId::parse(&s).expect("valid uuid"))
}

/// Item ids are minted by the machine as UUIDv7 strings.
fn item_id() -> impl Strategy<Value = ItemId> {
    uuid7().prop_map(ItemId)
}

/// Identifiers: tool, server, model and provider names.
fn word() -> BoxedStrategy<String> {
    "[a-z][a-z0-9_-]{0,11}".boxed()
}

/// Free text: printable ASCII (quotes, backslashes) or any non-control Unicode.
fn text() -> BoxedStrategy<String> {
    prop_oneof!["[ -~]{0,32}", "\\PC{0,16}"].boxed()
}

fn path() -> BoxedStrategy<String> {
    "(/[a-z0-9_.-]{1,8}){1,4}".boxed()
}

fn url() -> BoxedStrategy<String> {
    "https://[a-z]{1,8}\\.example/[a-z0-9]{0,8}".boxed()
}

/// Unix seconds in 2020..2030.
fn secs() -> impl Strategy<Value = i64> {
    1_577_836_800i64..1_893_456_000
}

/// Unix milliseconds in 2020..2030.
fn millis() -> impl Strategy<Value = i64> {
    1_577_836_800_000i64..1_893_456_000_000
}

fn duration_ms() -> impl Strategy<Value = i64> {
    0i64..3_600_000
}

/// Small arbitrary JSON (no floats: they are not part of any wire type here).
fn json_value() -> BoxedStrategy<Value> {
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
fn json_object() -> BoxedStrategy<Map<String, Value>> {
    btree_map("[a-z][a-zA-Z_]{0,8}", json_value(), 0..3).prop_map(|m| m.into_iter().collect()).boxed()
}

// ================================================================ model.rs

fn thread_active_flags() -> impl Strategy<Value = Vec<ThreadActiveFlag>> {
    // Sent ordered and without duplicates; `subsequence` keeps that order.
    subsequence(vec![ThreadActiveFlag::WaitingOnApproval, ThreadActiveFlag::WaitingOnUserInput], 0..=2)
}

fn thread_status() -> impl Strategy<Value = ThreadStatus> {
    prop_oneof![
        Just(ThreadStatus::NotLoaded),
        Just(ThreadStatus::Idle),
        Just(ThreadStatus::SystemError),
        thread_active_flags().prop_map(|active_flags| ThreadStatus::Active { active_flags }),
    ]
}

fn session_source() -> impl Strategy<Value = SessionSource> {
    select(all_variants!(SessionSource: Cli, Vscode, Exec, AppServer, Unknown))
}

/// `CodexErrorInfo`: a bare kind or one of the HTTP-status-carrying objects.
fn codex_error_info() -> BoxedStrategy<Value> {
    let kinds = vec![
        "contextWindowExceeded",
        "usageLimitExceeded",
        "serverOverloaded",
        "internalServerError",
        "unauthorized",
        "badRequest",
        "sandboxError",
        "other",
    ];
    prop_oneof![
        select(kinds).prop_map(Value::from),
        (
            select(vec![
                "httpConnectionFailed",
                "responseStreamConnectionFailed",
                "responseStreamDisconnected"
            ]),
            opt(400u16..600),
        )
            .prop_map(|(k, code)| json!({ k: {"httpStatusCode": code} })),
    ]
    .boxed()
}

fn turn_error() -> impl Strategy<Value = TurnError> {
    (text(), opt(codex_error_info()), opt(text())).prop_map(
        |(message, codex_error_info, additional_details)| TurnError {
            message,
            codex_error_info,
            additional_details,
        },
    )
}

fn breakdown() -> impl Strategy<Value = TokenUsageBreakdown> {
    let n = || 0i64..10_000_000;
    (n(), n(), n(), n(), n(), n()).prop_map(|(total, input, cached, cache_write, output, reasoning)| {
        TokenUsageBreakdown {
            total_tokens: total,
            input_tokens: input,
            cached_input_tokens: cached,
            cache_write_input_tokens: cache_write,
            output_tokens: output,
            reasoning_output_tokens: reasoning,
        }
    })
}

fn token_usage() -> impl Strategy<Value = ThreadTokenUsage> {
    (breakdown(), breakdown(), opt(1_000i64..2_000_000)).prop_map(|(total, last, model_context_window)| {
        ThreadTokenUsage { total, last, model_context_window }
    })
}

fn approval_mode() -> impl Strategy<Value = ApprovalMode> {
    select(all_variants!(ApprovalMode: Untrusted, OnRequest, Never))
}

fn ask_for_approval() -> impl Strategy<Value = AskForApproval> {
    let granular = (any::<bool>(), any::<bool>(), any::<bool>(), opt(any::<bool>()), opt(any::<bool>()))
        .prop_map(|(mcp, rules, sandbox, perms, skill)| {
            let mut g = json!({"mcp_elicitations": mcp, "rules": rules, "sandbox_approval": sandbox});
            if let Some(b) = perms {
                g["request_permissions"] = json!(b);
            }
            if let Some(b) = skill {
                g["skill_approval"] = json!(b);
            }
            AskForApproval::Granular { granular: g }
        });
    prop_oneof![approval_mode().prop_map(AskForApproval::Simple), granular]
}

fn approvals_reviewer() -> impl Strategy<Value = ApprovalsReviewer> {
    select(all_variants!(ApprovalsReviewer: User, AutoReview, GuardianSubagent))
}

fn sandbox_mode() -> impl Strategy<Value = SandboxMode> {
    select(all_variants!(SandboxMode: ReadOnly, WorkspaceWrite, DangerFullAccess))
}

fn sandbox_policy() -> impl Strategy<Value = SandboxPolicy> {
    prop_oneof![
        Just(SandboxPolicy::DangerFullAccess),
        any::<bool>().prop_map(|network_access| SandboxPolicy::ReadOnly { network_access }),
        select(vec![NetworkAccess::Restricted, NetworkAccess::Enabled])
            .prop_map(|network_access| SandboxPolicy::ExternalSandbox { network_access }),
        (vec(path(), 0..3), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(writable_roots, network_access, exclude_tmpdir_env_var, exclude_slash_tmp)| {
                SandboxPolicy::WorkspaceWrite {
                    writable_roots,
                    network_access,
                    exclude_tmpdir_env_var,
                    exclude_slash_tmp,
                }
            }
        ),
    ]
}

fn image_detail() -> impl Strategy<Value = Option<String>> {
    opt(select(vec!["auto", "low", "high", "original"]).prop_map(str::to_owned))
}

/// `TextElement`: a byte range in the text, optionally with a placeholder.
fn text_element() -> impl Strategy<Value = Value> {
    (0u32..64, 0u32..64, opt(text())).prop_map(|(a, b, placeholder)| {
        let mut e = json!({"byteRange": {"start": a.min(b), "end": a.max(b)}});
        if let Some(p) = placeholder {
            e["placeholder"] = json!(p);
        }
        e
    })
}

/// A URL, a file id, or both: the schema requires at least one of them (`anyOf`), so the
/// strategy never produces neither (which the Rust type can represent).
fn url_or_file_id() -> impl Strategy<Value = (Option<String>, Option<String>)> {
    prop_oneof![
        url().prop_map(|u| (Some(u), None)),
        "file-[a-zA-Z0-9]{8}".prop_map(|f| (None, Some(f))),
        (url(), "file-[a-zA-Z0-9]{8}").prop_map(|(u, f)| (Some(u), Some(f))),
    ]
}

fn user_input_variants() -> Vec<(&'static str, BoxedStrategy<UserInput>)> {
    vec![
        (
            "text",
            (text(), vec(text_element(), 0..3))
                .prop_map(|(text, text_elements)| UserInput::Text { text, text_elements })
                .boxed(),
        ),
        (
            "image",
            (url_or_file_id(), image_detail())
                .prop_map(|((url, file_id), detail)| UserInput::Image { url, file_id, detail })
                .boxed(),
        ),
        (
            "localImage",
            (path(), image_detail())
                .prop_map(|(path, detail)| UserInput::LocalImage { path, detail })
                .boxed(),
        ),
        ("audio", url_or_file_id().prop_map(|(url, file_id)| UserInput::Audio { url, file_id }).boxed()),
        ("localAudio", path().prop_map(|path| UserInput::LocalAudio { path }).boxed()),
        ("skill", (word(), path()).prop_map(|(name, path)| UserInput::Skill { name, path }).boxed()),
        ("mention", (word(), path()).prop_map(|(name, path)| UserInput::Mention { name, path }).boxed()),
    ]
}

fn user_input() -> BoxedStrategy<UserInput> {
    Union::new(user_input_variants().into_iter().map(|(_, s)| s)).boxed()
}

fn thread_history_mode() -> impl Strategy<Value = ThreadHistoryMode> {
    select(all_variants!(ThreadHistoryMode: Legacy, Paginated))
}

fn turn() -> impl Strategy<Value = Turn> {
    (
        turn_id(),
        vec(thread_item(), 0..3),
        select(all_variants!(TurnItemsView: NotLoaded, Summary, Full)),
        select(all_variants!(TurnStatus: Completed, Interrupted, Failed, InProgress)),
        opt(turn_error()),
        opt(secs()),
        opt(secs()),
        opt(duration_ms()),
        opt(turn_id()),
    )
        .prop_map(
            |(id, items, items_view, status, error, started_at, completed_at, duration_ms, root_turn_id)| {
                Turn {
                    id,
                    items,
                    items_view,
                    status,
                    error,
                    started_at,
                    completed_at,
                    duration_ms,
                    root_turn_id,
                }
            },
        )
}

fn thread() -> BoxedStrategy<Thread> {
    let identity = (thread_id(), opt(thread_id()), opt(thread_id()), any::<bool>(), opt(path()));
    let facts = (text(), word(), opt(word()), secs(), 0i64..10_000_000, path(), "0\\.1[0-9]{2}\\.[0-9]");
    let state = (
        session_source(),
        thread_status(),
        vec(turn(), 0..2),
        opt(text()),
        opt(word()),
        opt(word()),
        thread_history_mode(),
    );
    (identity, facts, state)
        .prop_map(
            |(
                (id, parent, forked_from_id, ephemeral, path),
                (preview, model_provider, model, created_at, age, cwd, cli_version),
                (source, status, turns, name, originator, project_id, history_mode),
            )| Thread {
                id,
                // Equal to `id` for top-level threads; sub-agents carry their parent's session.
                session_id: parent.unwrap_or(id),
                preview,
                ephemeral,
                model_provider,
                model,
                created_at,
                updated_at: created_at + age,
                cwd,
                cli_version,
                source,
                status,
                turns,
                path: if ephemeral { None } else { path },
                name,
                originator,
                forked_from_id,
                project_id,
                history_mode,
            },
        )
        .boxed()
}

// ================================================================ item.rs

fn command_action() -> impl Strategy<Value = CommandAction> {
    prop_oneof![
        (text(), word(), path()).prop_map(|(command, name, path)| CommandAction::Read {
            command,
            name,
            path
        }),
        (text(), opt(path())).prop_map(|(command, path)| CommandAction::ListFiles { command, path }),
        (text(), opt(path()), opt(text())).prop_map(|(command, path, query)| CommandAction::Search {
            command,
            path,
            query
        }),
        text().prop_map(|command| CommandAction::Unknown { command }),
    ]
}

fn patch_change_kind() -> impl Strategy<Value = PatchChangeKind> {
    prop_oneof![
        Just(PatchChangeKind::Add),
        Just(PatchChangeKind::Delete),
        opt(path()).prop_map(|move_path| PatchChangeKind::Update { move_path }),
    ]
}

fn file_update_change() -> impl Strategy<Value = FileUpdateChange> {
    (path(), patch_change_kind(), text()).prop_map(|(path, kind, diff)| FileUpdateChange { path, kind, diff })
}

fn tool_call_status() -> impl Strategy<Value = ToolCallStatus> {
    select(all_variants!(ToolCallStatus: InProgress, Completed, Failed))
}

/// `McpToolCallResult`: content blocks plus optional structured content.
fn mcp_result() -> impl Strategy<Value = Value> {
    (vec(text(), 0..3), opt(json_object())).prop_map(|(texts, structured)| {
        let content: Vec<Value> = texts.into_iter().map(|t| json!({"type": "text", "text": t})).collect();
        let mut r = json!({ "content": content });
        if let Some(s) = structured {
            r["structuredContent"] = Value::Object(s);
        }
        r
    })
}

/// `DynamicToolCallOutputContentItem`.
fn dynamic_content_item() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(|t| json!({"type": "inputText", "text": t})),
        url().prop_map(|u| json!({"type": "inputImage", "imageUrl": u})),
        url().prop_map(|u| json!({"type": "inputAudio", "audioUrl": u})),
    ]
}

/// `WebSearchAction`.
fn web_search_action() -> impl Strategy<Value = Value> {
    prop_oneof![
        (opt(text()), opt(vec(text(), 0..3)))
            .prop_map(|(query, queries)| json!({"type": "search", "query": query, "queries": queries})),
        opt(url()).prop_map(|u| json!({"type": "openPage", "url": u})),
        (opt(url()), opt(text())).prop_map(|(u, p)| json!({"type": "findInPage", "url": u, "pattern": p})),
        Just(json!({"type": "other"})),
    ]
}

fn item_body_variants() -> Vec<(&'static str, BoxedStrategy<ItemBody>)> {
    let phase = || opt(select(vec!["commentary", "partial_answer", "final_answer"]).prop_map(str::to_owned));
    vec![
        (
            "userMessage",
            (vec(user_input(), 1..3), opt(uuid7()))
                .prop_map(|(content, client_id)| ItemBody::UserMessage { content, client_id })
                .boxed(),
        ),
        (
            "agentMessage",
            (text(), phase()).prop_map(|(text, phase)| ItemBody::AgentMessage { text, phase }).boxed(),
        ),
        (
            "reasoning",
            (vec(text(), 0..3), vec(text(), 0..3))
                .prop_map(|(summary, content)| ItemBody::Reasoning { summary, content })
                .boxed(),
        ),
        ("plan", text().prop_map(|text| ItemBody::Plan { text }).boxed()),
        (
            "commandExecution",
            (
                text(),
                path(),
                vec(command_action(), 0..3),
                select(all_variants!(CommandExecutionStatus: InProgress, Completed, Failed, Declined)),
                select(all_variants!(
                    CommandExecutionSource: Agent,
                    UserShell,
                    UnifiedExecStartup,
                    UnifiedExecInteraction
                )),
                opt(text()),
                opt(-1i32..256),
                opt(duration_ms()),
                opt("[0-9]{1,6}"),
            )
                .prop_map(
                    |(
                        command,
                        cwd,
                        command_actions,
                        status,
                        source,
                        aggregated_output,
                        exit_code,
                        duration_ms,
                        process_id,
                    )| ItemBody::CommandExecution {
                        command,
                        cwd,
                        command_actions,
                        status,
                        source,
                        aggregated_output,
                        exit_code,
                        duration_ms,
                        process_id,
                    },
                )
                .boxed(),
        ),
        (
            "fileChange",
            (
                vec(file_update_change(), 0..3),
                select(all_variants!(PatchApplyStatus: InProgress, Completed, Failed, Declined)),
            )
                .prop_map(|(changes, status)| ItemBody::FileChange { changes, status })
                .boxed(),
        ),
        (
            "mcpToolCall",
            (
                word(),
                word(),
                json_value(),
                tool_call_status(),
                opt(mcp_result()),
                opt(text().prop_map(|m| json!({ "message": m }))),
                opt(duration_ms()),
            )
                .prop_map(|(server, tool, arguments, status, result, error, duration_ms)| {
                    ItemBody::McpToolCall { server, tool, arguments, status, result, error, duration_ms }
                })
                .boxed(),
        ),
        (
            "dynamicToolCall",
            (
                word(),
                opt(word()),
                json_value(),
                tool_call_status(),
                opt(vec(dynamic_content_item(), 0..3)),
                opt(any::<bool>()),
                opt(duration_ms()),
            )
                .prop_map(|(tool, namespace, arguments, status, content_items, success, duration_ms)| {
                    ItemBody::DynamicToolCall {
                        tool,
                        namespace,
                        arguments,
                        status,
                        content_items,
                        success,
                        duration_ms,
                    }
                })
                .boxed(),
        ),
        (
            "webSearch",
            (text(), opt(web_search_action()))
                .prop_map(|(query, action)| ItemBody::WebSearch { query, action })
                .boxed(),
        ),
        ("imageView", path().prop_map(|path| ItemBody::ImageView { path }).boxed()),
        ("contextCompaction", Just(ItemBody::ContextCompaction {}).boxed()),
    ]
}

fn item_body() -> BoxedStrategy<ItemBody> {
    Union::new(item_body_variants().into_iter().map(|(_, s)| s)).boxed()
}

fn thread_item_with(body: BoxedStrategy<ItemBody>) -> impl Strategy<Value = ThreadItem> {
    (item_id(), body, opt(millis()), opt(0i64..600_000)).prop_map(|(id, body, started_at_ms, took)| {
        ThreadItem { id, body, started_at_ms, completed_at_ms: started_at_ms.zip(took).map(|(s, t)| s + t) }
    })
}

fn thread_item() -> impl Strategy<Value = ThreadItem> {
    thread_item_with(item_body())
}

// ================================================================ requests.rs

fn client_info() -> impl Strategy<Value = rq::ClientInfo> {
    (word(), opt(text()), "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}")
        .prop_map(|(name, title, version)| rq::ClientInfo { name, title, version })
}

fn initialize_capabilities() -> impl Strategy<Value = rq::InitializeCapabilities> {
    (any::<bool>(), opt(subsequence(nt::METHODS.to_vec(), 0..4))).prop_map(|(experimental_api, methods)| {
        rq::InitializeCapabilities {
            experimental_api,
            opt_out_notification_methods: methods.map(|m| m.into_iter().map(str::to_owned).collect()),
        }
    })
}

fn initialize_params() -> impl Strategy<Value = rq::InitializeParams> {
    (client_info(), opt(initialize_capabilities()))
        .prop_map(|(client_info, capabilities)| rq::InitializeParams { client_info, capabilities })
}

fn initialize_response() -> impl Strategy<Value = rq::InitializeResponse> {
    (text(), path(), select(vec!["unix", "windows"]), select(vec!["linux", "macos", "windows"])).prop_map(
        |(user_agent, codex_home, family, os)| rq::InitializeResponse {
            user_agent,
            codex_home,
            platform_family: family.to_owned(),
            platform_os: os.to_owned(),
        },
    )
}

/// `DynamicToolSpec`: a function, or a namespace of functions.
fn dynamic_tool_spec() -> impl Strategy<Value = Value> {
    let function = (word(), text()).prop_map(|(name, description)| {
        json!({"type": "function", "name": name, "description": description,
               "inputSchema": {"type": "object", "properties": {}}})
    });
    prop_oneof![
        function.clone(),
        (word(), text(), vec(function, 1..3)).prop_map(|(name, description, tools)| {
            json!({"type": "namespace", "name": name, "description": description, "tools": tools})
        }),
    ]
}

fn reasoning_effort() -> impl Strategy<Value = String> {
    select(vec!["minimal", "low", "medium", "high", "xhigh"]).prop_map(str::to_owned)
}

fn thread_start_params() -> impl Strategy<Value = rq::ThreadStartParams> {
    // `sandbox` and `permissions` are exclusive (the machine rejects both), so at most one is set.
    let sandboxing = prop_oneof![
        Just((None, None)),
        sandbox_mode().prop_map(|m| (Some(m), None)),
        word().prop_map(|p| (None, Some(p))),
    ];
    let a = (opt(word()), opt(word()), opt(path()), opt(ask_for_approval()), opt(approvals_reviewer()));
    let b = (sandboxing, opt(text()), opt(text()), opt(any::<bool>()), opt(vec(dynamic_tool_spec(), 0..3)));
    let c = (
        opt(json_object()),
        opt(select(vec!["fast", "flex"]).prop_map(str::to_owned)),
        opt(select(vec!["none", "friendly", "pragmatic"]).prop_map(str::to_owned)),
    );
    (a, b, c).prop_map(
        |(
            (model, model_provider, cwd, approval_policy, approvals_reviewer),
            ((sandbox, permissions), base_instructions, developer_instructions, ephemeral, dynamic_tools),
            (config, service_tier, personality),
        )| rq::ThreadStartParams {
            model,
            model_provider,
            cwd,
            approval_policy,
            approvals_reviewer,
            sandbox,
            permissions,
            base_instructions,
            developer_instructions,
            ephemeral,
            dynamic_tools,
            config,
            service_tier,
            personality,
        },
    )
}

fn thread_session_response() -> impl Strategy<Value = rq::ThreadSessionResponse> {
    (
        thread(),
        word(),
        word(),
        path(),
        ask_for_approval(),
        approvals_reviewer(),
        sandbox_policy(),
        opt(reasoning_effort()),
        opt(word()),
        vec(path(), 0..3),
        vec(word(), 0..3),
    )
        .prop_map(
            |(
                thread,
                model,
                model_provider,
                cwd,
                approval_policy,
                approvals_reviewer,
                sandbox,
                reasoning_effort,
                service_tier,
                instruction_sources,
                disabled_plugin_ids,
            )| rq::ThreadSessionResponse {
                thread,
                model,
                model_provider,
                cwd,
                approval_policy,
                approvals_reviewer,
                sandbox,
                reasoning_effort,
                service_tier,
                instruction_sources,
                disabled_plugin_ids,
            },
        )
}

fn thread_resume_params() -> impl Strategy<Value = rq::ThreadResumeParams> {
    (uuid7(), any::<bool>(), opt(word()), opt(path()), opt(ask_for_approval()), opt(sandbox_mode())).prop_map(
        |(thread_id, exclude_turns, model, cwd, approval_policy, sandbox)| rq::ThreadResumeParams {
            thread_id,
            exclude_turns,
            model,
            cwd,
            approval_policy,
            sandbox,
        },
    )
}

fn cwd_filter() -> impl Strategy<Value = rq::CwdFilter> {
    prop_oneof![path().prop_map(rq::CwdFilter::One), vec(path(), 0..3).prop_map(rq::CwdFilter::Many)]
}

fn thread_list_params() -> impl Strategy<Value = rq::ThreadListParams> {
    let source_kind =
        select(vec!["cli", "vscode", "exec", "appServer", "subAgent", "unknown"]).prop_map(str::to_owned);
    let cursor = (1_577_836_800_000u64..1_893_456_000_000, uuid7()).prop_map(|(k, id)| format!("{k}:{id}"));
    (
        opt(any::<bool>()),
        opt(cursor),
        opt(cwd_filter()),
        opt(vec(uuid7(), 0..3)),
        opt(1u32..200),
        opt(vec(word(), 0..3)),
        opt(text()),
        opt(select(all_variants!(SortDirection: Asc, Desc))),
        opt(select(all_variants!(ThreadSortKey: CreatedAt, UpdatedAt, RecencyAt, SectionPosition))),
        opt(vec(source_kind, 0..3)),
    )
        .prop_map(
            |(
                archived,
                cursor,
                cwd,
                excluded_thread_ids,
                limit,
                model_providers,
                search_term,
                sort_direction,
                sort_key,
                source_kinds,
            )| rq::ThreadListParams {
                archived,
                cursor,
                cwd,
                excluded_thread_ids,
                limit,
                model_providers,
                search_term,
                sort_direction,
                sort_key,
                source_kinds,
            },
        )
}

use rq::{SortDirection, ThreadSortKey, UnsubscribeStatus};

fn turn_start_params() -> impl Strategy<Value = rq::TurnStartParams> {
    // `sandboxPolicy` and `permissions` are exclusive, as for thread/start.
    let sandboxing = prop_oneof![
        Just((None, None)),
        sandbox_policy().prop_map(|p| (Some(p), None)),
        word().prop_map(|p| (None, Some(p))),
    ];
    (
        uuid7(),
        vec(user_input(), 1..3),
        opt(path()),
        opt(ask_for_approval()),
        sandboxing,
        opt(word()),
        opt(reasoning_effort()),
        opt(uuid7()),
    )
        .prop_map(
            |(
                thread_id,
                input,
                cwd,
                approval_policy,
                (sandbox_policy, permissions),
                model,
                effort,
                client_user_message_id,
            )| rq::TurnStartParams {
                thread_id,
                input,
                cwd,
                approval_policy,
                sandbox_policy,
                permissions,
                model,
                effort,
                client_user_message_id,
            },
        )
}

// ================================================================ server_requests.rs

fn network_protocol() -> impl Strategy<Value = sr::NetworkProtocol> {
    use sr::NetworkProtocol;
    select(all_variants!(NetworkProtocol: Http, Https, Socks5Tcp, Socks5Udp))
}

fn host() -> BoxedStrategy<String> {
    "[a-z]{1,10}(\\.[a-z]{2,6}){1,2}".boxed()
}

fn network_policy_amendment() -> impl Strategy<Value = sr::NetworkPolicyAmendment> {
    use sr::NetworkPolicyAction;
    (host(), select(all_variants!(NetworkPolicyAction: Allow, Deny)))
        .prop_map(|(host, action)| sr::NetworkPolicyAmendment { host, action })
}

fn command_decision() -> impl Strategy<Value = sr::CommandDecision> {
    use sr::CommandDecision as D;
    prop_oneof![
        Just(D::Accept),
        Just(D::AcceptForSession),
        vec(word(), 1..4)
            .prop_map(|execpolicy_amendment| D::AcceptWithExecpolicyAmendment { execpolicy_amendment }),
        network_policy_amendment()
            .prop_map(|network_policy_amendment| D::ApplyNetworkPolicyAmendment { network_policy_amendment }),
        Just(D::Decline),
        Just(D::Cancel),
    ]
}

/// The two shapes the machine sends: a command prompt (command, cwd, actions) and a
/// managed-network prompt (`networkApprovalContext`, no command fields).
fn command_approval_params() -> impl Strategy<Value = sr::CommandApprovalParams> {
    let command = (text(), path(), vec(command_action(), 0..3), opt(uuid7()), opt(vec(word(), 1..3)))
        .prop_map(|(c, cwd, actions, approval_id, amendment)| {
            (Some(c), Some(cwd), Some(actions), None, approval_id, amendment)
        });
    let network = (host(), network_protocol()).prop_map(|(host, protocol)| {
        (None, None, None, Some(sr::NetworkApprovalContext { host, protocol }), None, None)
    });
    (
        thread_id(),
        turn_id(),
        uuid7(),
        millis(),
        opt(text()),
        prop_oneof![command, network],
        vec(command_decision(), 0..5),
    )
        .prop_map(
            |(
                thread_id,
                turn_id,
                item_id,
                started_at_ms,
                reason,
                (command, cwd, command_actions, network_approval_context, approval_id, amendment),
                available_decisions,
            )| sr::CommandApprovalParams {
                thread_id,
                turn_id,
                item_id,
                approval_id,
                started_at_ms,
                reason,
                command,
                cwd,
                command_actions,
                network_approval_context,
                proposed_execpolicy_amendment: amendment,
                available_decisions,
            },
        )
}

fn file_change_decision() -> impl Strategy<Value = sr::FileChangeDecision> {
    use sr::FileChangeDecision;
    select(all_variants!(FileChangeDecision: Accept, AcceptForSession, Decline, Cancel))
}

fn permission_profile() -> impl Strategy<Value = sr::PermissionProfile> {
    let fs = (opt(vec(path(), 0..3)), opt(vec(path(), 0..3)))
        .prop_map(|(read, write)| sr::FileSystemPermissions { read, write });
    let net = opt(any::<bool>()).prop_map(|enabled| sr::NetworkPermissions { enabled });
    (opt(fs), opt(net)).prop_map(|(file_system, network)| sr::PermissionProfile { file_system, network })
}

fn grant_scope() -> impl Strategy<Value = sr::PermissionGrantScope> {
    use sr::PermissionGrantScope;
    select(all_variants!(PermissionGrantScope: Turn, Session))
}

fn user_input_question() -> impl Strategy<Value = sr::UserInputQuestion> {
    let option = (text(), text()).prop_map(|(label, description)| sr::UserInputOption { label, description });
    (word(), text(), text(), any::<bool>(), any::<bool>(), opt(vec(option, 0..3))).prop_map(
        |(id, header, question, is_other, is_secret, options)| sr::UserInputQuestion {
            id,
            header,
            question,
            is_other,
            is_secret,
            options,
        },
    )
}

/// `mode` and its fields for `mcpServer/elicitation/request`, one per schema variant shape.
fn elicitation_request() -> impl Strategy<Value = Map<String, Value>> {
    let meta = || opt(json_object());
    let form = (text(), word(), opt(text()), any::<bool>(), meta()).prop_map(
        |(message, field, title, req, meta)| {
            let mut prop = json!({"type": "string"});
            if let Some(t) = title {
                prop["title"] = json!(t);
            }
            let required: Vec<&str> = if req { vec![&field] } else { vec![] };
            let schema =
                json!({"type": "object", "properties": { field.clone(): prop }, "required": required});
            (json!({"mode": "form", "message": message, "requestedSchema": schema}), meta)
        },
    );
    let openai_form = (text(), json_object(), meta()).prop_map(|(message, s, meta)| {
        (json!({"mode": "openai/form", "message": message, "requestedSchema": s}), meta)
    });
    let url_mode = (text(), url(), uuid7(), meta()).prop_map(|(message, url, id, meta)| {
        (json!({"mode": "url", "message": message, "url": url, "elicitationId": id}), meta)
    });
    let verification =
        (text(), text(), "[A-Za-z0-9]{16}", meta()).prop_map(|(title, description, challenge, meta)| {
            let v = json!({"mode": "openai/userVerification", "title": title, "description": description,
                       "challenge": challenge});
            (v, meta)
        });
    prop_oneof![form, openai_form, url_mode, verification].prop_map(|(v, meta)| {
        let Value::Object(mut m) = v else { unreachable!() };
        if let Some(meta) = meta {
            m.insert("_meta".into(), Value::Object(meta));
        }
        m
    })
}

fn elicitation_response() -> impl Strategy<Value = sr::ElicitationResponse> {
    use sr::ElicitationAction;
    // `content`/`_meta` are `Option<Value>`: `Some(null)` cannot survive a round trip (it reads
    // back as `None`), so generated contents are objects.
    (
        select(all_variants!(ElicitationAction: Accept, Decline, Cancel)),
        opt(json_object()),
        opt(json_object()),
    )
        .prop_map(|(action, content, meta)| sr::ElicitationResponse {
            action,
            content: content.map(Value::Object),
            meta: meta.map(Value::Object),
        })
}

// ================================================================ tests: model.rs / item.rs

#[test]
fn thread_round_trips() {
    run("Thread", thread(), |t| check_def("Thread", &t));
}

#[test]
fn thread_status_round_trips() {
    run("ThreadStatus", thread_status(), |s| check_def("ThreadStatus", &s));
}

#[test]
fn turn_round_trips() {
    run("Turn", turn(), |t| check_def("Turn", &t));
}

#[test]
fn turn_error_round_trips() {
    run("TurnError", turn_error(), |e| check_def("TurnError", &e));
}

/// Every `ItemBody` variant on its own (so none depends on the luck of a union draw), then
/// the union, each as a whole `ThreadItem`.
#[test]
fn thread_item_every_variant() {
    for (kind, body) in item_body_variants() {
        run(&format!("ThreadItem/{kind}"), thread_item_with(body), |item| {
            prop_assert_eq!(item.body.kind(), kind);
            check_def("ThreadItem", &item)
        });
    }
    run("ThreadItem", thread_item(), |item| check_def("ThreadItem", &item));
}

#[test]
fn user_input_every_variant() {
    for (kind, input) in user_input_variants() {
        run(&format!("UserInput/{kind}"), input, |i| {
            let json = round_trip(&i)?;
            prop_assert_eq!(&json["type"], kind);
            conform(schema().validate_definition("UserInput", &json), &json)
        });
    }
}

#[test]
fn command_action_round_trips() {
    run("CommandAction", command_action(), |a| check_def("CommandAction", &a));
}

#[test]
fn file_update_change_and_patch_change_kind() {
    run("PatchChangeKind", patch_change_kind(), |k| check_def("PatchChangeKind", &k));
    run("FileUpdateChange", file_update_change(), |c| check_def("FileUpdateChange", &c));
}

#[test]
fn token_usage_round_trips() {
    run("TokenUsageBreakdown", breakdown(), |b| check_def("TokenUsageBreakdown", &b));
    run("ThreadTokenUsage", token_usage(), |u| check_def("ThreadTokenUsage", &u));
}

#[test]
fn ask_for_approval_round_trips() {
    run("AskForApproval", ask_for_approval(), |a| check_def("AskForApproval", &a));
}

#[test]
fn sandbox_policy_round_trips() {
    run("SandboxPolicy", sandbox_policy(), |p| check_def("SandboxPolicy", &p));
}

/// Regression: `{"type":"externalSandbox"}` once came back as `"networkAccess": null`, which
/// the schema rejects (`NetworkAccess` is `"restricted" | "enabled"`, default `"restricted"`).
#[test]
fn external_sandbox_without_network_access_conforms() {
    let policy: SandboxPolicy =
        serde_json::from_value(serde_json::json!({"type": "externalSandbox"})).unwrap();
    assert_eq!(policy, SandboxPolicy::ExternalSandbox { network_access: NetworkAccess::Restricted });
    if let Err(e) = check_def("SandboxPolicy", &policy) {
        panic!("{e}");
    }
}

/// A `UserInput::Image`/`Audio` with neither `url` nor `fileId` is representable in Rust but not
/// in the schema (`anyOf` url | fileId). It is only ever an echo of client input, and a schema-valid
/// client cannot send it, so this pins the shape instead of treating it as a bug.
#[test]
fn image_without_url_or_file_id_is_outside_the_schema() {
    let image = UserInput::Image { url: None, file_id: None, detail: None };
    let json = round_trip(&image).unwrap();
    assert!(schema().validate_definition("UserInput", &json).is_err(), "{json}");
}

#[test]
fn fieldless_enums() {
    check_all(all_variants!(ThreadActiveFlag: WaitingOnApproval, WaitingOnUserInput), &["ThreadActiveFlag"]);
    check_all(all_variants!(SessionSource: Cli, Vscode, Exec, AppServer, Unknown), &["SessionSource"]);
    check_all(all_variants!(ThreadHistoryMode: Legacy, Paginated), &["ThreadHistoryMode"]);
    check_all(all_variants!(TurnStatus: Completed, Interrupted, Failed, InProgress), &["TurnStatus"]);
    check_all(all_variants!(TurnItemsView: NotLoaded, Summary, Full), &["TurnItemsView"]);
    check_all(all_variants!(ApprovalsReviewer: User, AutoReview, GuardianSubagent), &["ApprovalsReviewer"]);
    check_all(all_variants!(SandboxMode: ReadOnly, WorkspaceWrite, DangerFullAccess), &["SandboxMode"]);
    check_all(
        all_variants!(CommandExecutionStatus: InProgress, Completed, Failed, Declined),
        &["CommandExecutionStatus"],
    );
    check_all(
        all_variants!(PatchApplyStatus: InProgress, Completed, Failed, Declined),
        &["PatchApplyStatus"],
    );
    check_all(
        all_variants!(CommandExecutionSource: Agent, UserShell, UnifiedExecStartup, UnifiedExecInteraction),
        &["CommandExecutionSource"],
    );
    // One Rust enum serves both tool-call item kinds.
    check_all(
        all_variants!(ToolCallStatus: InProgress, Completed, Failed),
        &["McpToolCallStatus", "DynamicToolCallStatus"],
    );
    // `ApprovalMode` is the string arm of `AskForApproval`.
    check_all(all_variants!(ApprovalMode: Untrusted, OnRequest, Never), &["AskForApproval"]);
    check_all(
        all_variants!(ThreadSortKey: CreatedAt, UpdatedAt, RecencyAt, SectionPosition),
        &["ThreadSortKey"],
    );
    check_all(all_variants!(SortDirection: Asc, Desc), &["SortDirection"]);
    check_all(
        all_variants!(UnsubscribeStatus: NotLoaded, NotSubscribed, Unsubscribed),
        &["ThreadUnsubscribeStatus"],
    );
    use sr::{
        AuthRefreshReason, ElicitationAction, FileChangeDecision, NetworkPolicyAction, NetworkProtocol,
        PermissionGrantScope,
    };
    check_all(
        all_variants!(NetworkProtocol: Http, Https, Socks5Tcp, Socks5Udp),
        &["NetworkApprovalProtocol"],
    );
    check_all(all_variants!(NetworkPolicyAction: Allow, Deny), &["NetworkPolicyRuleAction"]);
    check_all(
        all_variants!(FileChangeDecision: Accept, AcceptForSession, Decline, Cancel),
        &["FileChangeApprovalDecision"],
    );
    check_all(all_variants!(PermissionGrantScope: Turn, Session), &["PermissionGrantScope"]);
    check_all(all_variants!(ElicitationAction: Accept, Decline, Cancel), &["McpServerElicitationAction"]);
    check_all(all_variants!(AuthRefreshReason: Unauthorized), &["ChatgptAuthTokensRefreshReason"]);
}

// ================================================================ tests: requests.rs

#[test]
fn initialize() {
    run("ClientInfo", client_info(), |c| check_def("ClientInfo", &c));
    run("InitializeCapabilities", initialize_capabilities(), |c| check_def("InitializeCapabilities", &c));
    run("InitializeParams", initialize_params(), |p| check_client_params("initialize", &p));
    run("InitializeResponse", initialize_response(), |r| check_result("initialize", &r));
}

#[test]
fn thread_start() {
    run("ThreadStartParams", thread_start_params(), |p| check_client_params("thread/start", &p));
}

/// One result type answers both `thread/start` and `thread/resume`.
#[test]
fn thread_session_response_round_trips() {
    run("ThreadSessionResponse", thread_session_response(), |r| {
        check_result("thread/start", &r)?;
        check_result("thread/resume", &r)
    });
}

#[test]
fn thread_resume() {
    run("ThreadResumeParams", thread_resume_params(), |p| check_client_params("thread/resume", &p));
}

#[test]
fn thread_read() {
    let params = (uuid7(), any::<bool>())
        .prop_map(|(thread_id, include_turns)| rq::ThreadReadParams { thread_id, include_turns });
    run("ThreadReadParams", params, |p| check_client_params("thread/read", &p));
    run("ThreadResponse", thread().prop_map(|thread| rq::ThreadResponse { thread }), |r| {
        check_result("thread/read", &r)
    });
}

#[test]
fn thread_list() {
    run("CwdFilter", cwd_filter(), |c| check_def("ThreadListCwdFilter", &c));
    run("ThreadListParams", thread_list_params(), |p| check_client_params("thread/list", &p));
    let response = (vec(thread(), 0..3), opt("[0-9]{13}:[0-9a-f-]{36}"))
        .prop_map(|(data, next_cursor)| rq::ThreadListResponse { data, next_cursor });
    run("ThreadListResponse", response, |r| check_result("thread/list", &r));
}

#[test]
fn thread_loaded_list() {
    let params = (opt(uuid7()), opt(any::<u32>()))
        .prop_map(|(cursor, limit)| rq::ThreadLoadedListParams { cursor, limit });
    run("ThreadLoadedListParams", params, |p| check_client_params("thread/loaded/list", &p));
    let response = (vec(thread_id(), 0..4), opt(uuid7()))
        .prop_map(|(data, next_cursor)| rq::ThreadLoadedListResponse { data, next_cursor });
    run("ThreadLoadedListResponse", response, |r| check_result("thread/loaded/list", &r));
}

#[test]
fn thread_name_set() {
    let params = (uuid7(), text()).prop_map(|(thread_id, name)| rq::ThreadSetNameParams { thread_id, name });
    run("ThreadSetNameParams", params, |p| check_client_params("thread/name/set", &p));
    check_result("thread/name/set", &rq::EmptyResponse {}).unwrap();
}

#[test]
fn thread_unsubscribe() {
    run("ThreadIdParams", uuid7().prop_map(|thread_id| rq::ThreadIdParams { thread_id }), |p| {
        check_client_params("thread/unsubscribe", &p)
    });
    let status = select(all_variants!(UnsubscribeStatus: NotLoaded, NotSubscribed, Unsubscribed));
    run(
        "ThreadUnsubscribeResponse",
        status.prop_map(|status| rq::ThreadUnsubscribeResponse { status }),
        |r| check_result("thread/unsubscribe", &r),
    );
}

#[test]
fn turn_start() {
    run("TurnStartParams", turn_start_params(), |p| check_client_params("turn/start", &p));
    run("TurnStartResponse", turn().prop_map(|turn| rq::TurnStartResponse { turn }), |r| {
        check_result("turn/start", &r)
    });
}

#[test]
fn turn_steer() {
    let params = (uuid7(), uuid7(), vec(user_input(), 1..3), opt(uuid7())).prop_map(
        |(thread_id, expected_turn_id, input, client_user_message_id)| rq::TurnSteerParams {
            thread_id,
            expected_turn_id,
            input,
            client_user_message_id,
        },
    );
    run("TurnSteerParams", params, |p| check_client_params("turn/steer", &p));
    run("TurnSteerResponse", turn_id().prop_map(|turn_id| rq::TurnSteerResponse { turn_id }), |r| {
        check_result("turn/steer", &r)
    });
}

#[test]
fn turn_interrupt() {
    let params =
        (uuid7(), uuid7()).prop_map(|(thread_id, turn_id)| rq::TurnInterruptParams { thread_id, turn_id });
    run("TurnInterruptParams", params, |p| check_client_params("turn/interrupt", &p));
    check_result("turn/interrupt", &rq::EmptyResponse {}).unwrap();
}

// ================================================================ tests: server_requests.rs

#[test]
fn command_approval() {
    run("NetworkApprovalContext", (host(), network_protocol()), |(host, protocol)| {
        check_def("NetworkApprovalContext", &sr::NetworkApprovalContext { host, protocol })
    });
    run("NetworkPolicyAmendment", network_policy_amendment(), |a| check_def("NetworkPolicyAmendment", &a));
    run("CommandDecision", command_decision(), |d| check_def("CommandExecutionApprovalDecision", &d));
    run("CommandApprovalParams", command_approval_params(), |p| {
        check_server_request("item/commandExecution/requestApproval", &p)
    });
    run(
        "CommandApprovalResponse",
        command_decision().prop_map(|decision| sr::CommandApprovalResponse { decision }),
        |r| check_answer("item/commandExecution/requestApproval", &r),
    );
}

#[test]
fn file_change_approval() {
    let params = (thread_id(), turn_id(), uuid7(), millis(), opt(text()), opt(path())).prop_map(
        |(thread_id, turn_id, item_id, started_at_ms, reason, grant_root)| sr::FileChangeApprovalParams {
            thread_id,
            turn_id,
            item_id,
            started_at_ms,
            reason,
            grant_root,
        },
    );
    run("FileChangeApprovalParams", params, |p| check_server_request("item/fileChange/requestApproval", &p));
    run(
        "FileChangeApprovalResponse",
        file_change_decision().prop_map(|decision| sr::FileChangeApprovalResponse { decision }),
        |r| check_answer("item/fileChange/requestApproval", &r),
    );
}

#[test]
fn permissions_approval() {
    // One Rust type is both the request's `RequestPermissionProfile` (closed) and the answer's
    // `GrantedPermissionProfile`; its parts are the `Additional*Permissions` definitions.
    run("PermissionProfile", permission_profile(), |p| {
        check_def("RequestPermissionProfile", &p)?;
        check_def("GrantedPermissionProfile", &p)?;
        if let Some(fs) = &p.file_system {
            check_def("AdditionalFileSystemPermissions", fs)?;
        }
        if let Some(net) = &p.network {
            check_def("AdditionalNetworkPermissions", net)?;
        }
        Ok(())
    });
    let params = (thread_id(), turn_id(), uuid7(), path(), permission_profile(), opt(text()), millis())
        .prop_map(|(thread_id, turn_id, item_id, cwd, permissions, reason, started_at_ms)| {
            sr::PermissionsApprovalParams {
                thread_id,
                turn_id,
                item_id,
                cwd,
                permissions,
                reason,
                started_at_ms,
            }
        });
    run("PermissionsApprovalParams", params, |p| {
        check_server_request("item/permissions/requestApproval", &p)
    });
    let answer = (permission_profile(), grant_scope())
        .prop_map(|(permissions, scope)| sr::PermissionsApprovalResponse { permissions, scope });
    run("PermissionsApprovalResponse", answer, |r| check_answer("item/permissions/requestApproval", &r));
}

#[test]
fn user_input_request() {
    run("UserInputQuestion", user_input_question(), |q| {
        check_def("ToolRequestUserInputQuestion", &q)?;
        for o in q.options.iter().flatten() {
            check_def("ToolRequestUserInputOption", o)?;
        }
        Ok(())
    });
    let params = (thread_id(), turn_id(), uuid7(), vec(user_input_question(), 1..4), any::<bool>()).prop_map(
        |(thread_id, turn_id, item_id, questions, is_blocking)| sr::UserInputParams {
            thread_id,
            turn_id,
            item_id,
            questions,
            is_blocking,
        },
    );
    run("UserInputParams", params, |p| check_server_request("item/tool/requestUserInput", &p));
    let answer = vec(text(), 0..3).prop_map(|answers| sr::UserInputAnswer { answers });
    run("UserInputAnswer", answer.clone(), |a| check_def("ToolRequestUserInputAnswer", &a));
    let response = btree_map(word(), answer, 0..4)
        .prop_map(|answers: BTreeMap<String, sr::UserInputAnswer>| sr::UserInputResponse { answers });
    run("UserInputResponse", response, |r| check_answer("item/tool/requestUserInput", &r));
}

#[test]
fn dynamic_tool_call() {
    let params = (thread_id(), turn_id(), uuid7(), opt(word()), word(), json_value()).prop_map(
        |(thread_id, turn_id, call_id, namespace, tool, arguments)| sr::DynamicToolCallParams {
            thread_id,
            turn_id,
            call_id,
            namespace,
            tool,
            arguments,
        },
    );
    run("DynamicToolCallParams", params, |p| check_server_request("item/tool/call", &p));
    let answer = (vec(dynamic_content_item(), 0..3), any::<bool>())
        .prop_map(|(content_items, success)| sr::DynamicToolCallResponse { content_items, success });
    run("DynamicToolCallResponse", answer, |r| check_answer("item/tool/call", &r));
}

#[test]
fn elicitation() {
    let params = (thread_id(), opt(turn_id()), word(), elicitation_request()).prop_map(
        |(thread_id, turn_id, server_name, request)| sr::ElicitationParams {
            thread_id,
            turn_id,
            server_name,
            request,
        },
    );
    run("ElicitationParams", params, |p| check_server_request("mcpServer/elicitation/request", &p));
    run("ElicitationResponse", elicitation_response(), |r| check_answer("mcpServer/elicitation/request", &r));
}

#[test]
fn auth_refresh() {
    let params = opt(uuid7()).prop_map(|previous_account_id| sr::AuthRefreshParams {
        reason: sr::AuthRefreshReason::Unauthorized,
        previous_account_id,
    });
    run("AuthRefreshParams", params, |p| check_server_request("account/chatgptAuthTokens/refresh", &p));
    let answer = ("[A-Za-z0-9._-]{8,40}", uuid7(), opt(select(vec!["free", "plus", "pro", "team"])))
        .prop_map(|(access_token, chatgpt_account_id, plan)| sr::AuthRefreshResponse {
            access_token,
            chatgpt_account_id,
            chatgpt_plan_type: plan.map(str::to_owned),
        });
    run("AuthRefreshResponse", answer, |r| check_answer("account/chatgptAuthTokens/refresh", &r));
}

/// Every server request method core-sm declares is covered above.
#[test]
fn every_server_request_method_is_covered() {
    let covered = [
        "item/commandExecution/requestApproval",
        "item/fileChange/requestApproval",
        "item/tool/requestUserInput",
        "mcpServer/elicitation/request",
        "item/permissions/requestApproval",
        "item/tool/call",
        "account/chatgptAuthTokens/refresh",
    ];
    assert_eq!(sr::METHODS, covered);
}

// ================================================================ tests: notifications.rs

#[test]
fn thread_notifications() {
    run("ThreadStarted", thread(), |thread| check_notification(&nt::ThreadStarted { thread }));
    run("ThreadStatusChanged", (thread_id(), thread_status()), |(thread_id, status)| {
        check_notification(&nt::ThreadStatusChanged { thread_id, status })
    });
    run("ThreadClosed", thread_id(), |thread_id| check_notification(&nt::ThreadClosed { thread_id }));
    run("ThreadNameUpdated", (thread_id(), opt(text())), |(thread_id, thread_name)| {
        check_notification(&nt::ThreadNameUpdated { thread_id, thread_name })
    });
    run(
        "ThreadTokenUsageUpdated",
        (thread_id(), turn_id(), token_usage()),
        |(thread_id, turn_id, token_usage)| {
            check_notification(&nt::ThreadTokenUsageUpdated { thread_id, turn_id, token_usage })
        },
    );
    run("Warning", (opt(thread_id()), text()), |(thread_id, message)| {
        check_notification(&nt::Warning { thread_id, message })
    });
    let request_id =
        prop_oneof![(0i64..1_000_000).prop_map(RequestId::Integer), word().prop_map(RequestId::String)];
    run("ServerRequestResolved", (thread_id(), request_id), |(thread_id, request_id)| {
        check_notification(&nt::ServerRequestResolved { thread_id, request_id })
    });
}

#[test]
fn turn_notifications() {
    run("TurnStarted", (thread_id(), turn()), |(thread_id, turn)| {
        check_notification(&nt::TurnStarted { thread_id, turn })
    });
    run("TurnCompleted", (thread_id(), turn()), |(thread_id, turn)| {
        check_notification(&nt::TurnCompleted { thread_id, turn })
    });
    run(
        "Error",
        (thread_id(), turn_id(), any::<bool>(), turn_error()),
        |(thread_id, turn_id, will_retry, error)| {
            check_notification(&nt::Error { thread_id, turn_id, will_retry, error })
        },
    );
}

#[test]
fn item_notifications() {
    run(
        "ItemStarted",
        (thread_id(), turn_id(), millis(), thread_item()),
        |(thread_id, turn_id, at, item)| {
            check_notification(&nt::ItemStarted { thread_id, turn_id, started_at_ms: at, item })
        },
    );
    run(
        "ItemCompleted",
        (thread_id(), turn_id(), millis(), thread_item()),
        |(thread_id, turn_id, at, item)| {
            check_notification(&nt::ItemCompleted { thread_id, turn_id, completed_at_ms: at, item })
        },
    );
}

#[test]
fn delta_notifications() {
    let ids = || (thread_id(), turn_id(), item_id(), text());
    run("AgentMessageDelta", ids(), |(thread_id, turn_id, item_id, delta)| {
        check_notification(&nt::AgentMessageDelta { thread_id, turn_id, item_id, delta })
    });
    run("PlanDelta", ids(), |(thread_id, turn_id, item_id, delta)| {
        check_notification(&nt::PlanDelta { thread_id, turn_id, item_id, delta })
    });
    run("CommandExecutionOutputDelta", ids(), |(thread_id, turn_id, item_id, delta)| {
        check_notification(&nt::CommandExecutionOutputDelta { thread_id, turn_id, item_id, delta })
    });
    run(
        "ReasoningSummaryTextDelta",
        (ids(), 0i64..8),
        |((thread_id, turn_id, item_id, delta), summary_index)| {
            check_notification(&nt::ReasoningSummaryTextDelta {
                thread_id,
                turn_id,
                item_id,
                delta,
                summary_index,
            })
        },
    );
    run(
        "ReasoningSummaryPartAdded",
        (ids(), 0i64..8),
        |((thread_id, turn_id, item_id, _), summary_index)| {
            check_notification(&nt::ReasoningSummaryPartAdded { thread_id, turn_id, item_id, summary_index })
        },
    );
    run("ReasoningTextDelta", (ids(), 0i64..8), |((thread_id, turn_id, item_id, delta), content_index)| {
        check_notification(&nt::ReasoningTextDelta { thread_id, turn_id, item_id, delta, content_index })
    });
}

/// Every notification method core-sm declares is covered above.
#[test]
fn every_notification_method_is_covered() {
    let covered = [
        nt::ThreadStarted::METHOD,
        nt::ThreadStatusChanged::METHOD,
        nt::ThreadClosed::METHOD,
        nt::ThreadNameUpdated::METHOD,
        nt::TurnStarted::METHOD,
        nt::TurnCompleted::METHOD,
        nt::ItemStarted::METHOD,
        nt::ItemCompleted::METHOD,
        nt::AgentMessageDelta::METHOD,
        nt::PlanDelta::METHOD,
        nt::ReasoningSummaryTextDelta::METHOD,
        nt::ReasoningSummaryPartAdded::METHOD,
        nt::ReasoningTextDelta::METHOD,
        nt::CommandExecutionOutputDelta::METHOD,
        nt::ThreadTokenUsageUpdated::METHOD,
        nt::Error::METHOD,
        nt::Warning::METHOD,
        nt::ServerRequestResolved::METHOD,
    ];
    assert_eq!(nt::METHODS, covered);
}

// ================================================================ tests: envelope.rs

#[test]
fn envelope() {
    let request_id =
        prop_oneof![any::<i64>().prop_map(RequestId::Integer), text().prop_map(RequestId::String)];
    run("RequestId", request_id, |id| check_def("RequestId", &id));
    // `data` is omitted when absent; `Some(null)` would read back as `None`, so data is an object.
    let error = (-32_700i64..-32_000, text(), opt(json_object()))
        .prop_map(|(code, message, data)| ErrorObject { code, message, data: data.map(Value::Object) });
    run("ErrorObject", error, |e| {
        let json = round_trip(&e)?;
        conform(schema().validate_definition("JSONRPCErrorError", &json), &json)?;
        let frame = json!({"id": 3, "error": json});
        conform(schema().validate_error_response(&frame), &frame)
    });
}
