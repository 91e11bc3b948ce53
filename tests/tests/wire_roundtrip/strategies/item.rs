//! Strategies for thread items (`ThreadItem` and every `ItemBody` variant, one strategy per
//! variant plus their union) and their parts: command actions, file changes, MCP and dynamic
//! tool call results, web search actions.

use core_sm::wire::{
    CommandAction, CommandExecutionSource, CommandExecutionStatus, FileUpdateChange, ItemBody,
    PatchApplyStatus, PatchChangeKind, ThreadItem, ToolCallStatus,
};
use proptest::collection::vec;
use proptest::option::of as opt;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use serde_json::{json, Value};

use super::leaf::{duration_ms, item_id, json_object, json_value, millis, path, text, url, uuid7, word};
use super::model::user_input;

pub fn command_action() -> impl Strategy<Value = CommandAction> {
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

pub fn patch_change_kind() -> impl Strategy<Value = PatchChangeKind> {
    prop_oneof![
        Just(PatchChangeKind::Add),
        Just(PatchChangeKind::Delete),
        opt(path()).prop_map(|move_path| PatchChangeKind::Update { move_path }),
    ]
}

pub fn file_update_change() -> impl Strategy<Value = FileUpdateChange> {
    (path(), patch_change_kind(), text()).prop_map(|(path, kind, diff)| FileUpdateChange { path, kind, diff })
}

pub fn tool_call_status() -> impl Strategy<Value = ToolCallStatus> {
    select(all_variants!(ToolCallStatus: InProgress, Completed, Failed))
}

/// `McpToolCallResult`: content blocks plus optional structured content.
pub fn mcp_result() -> impl Strategy<Value = Value> {
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
pub fn dynamic_content_item() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(|t| json!({"type": "inputText", "text": t})),
        url().prop_map(|u| json!({"type": "inputImage", "imageUrl": u})),
        url().prop_map(|u| json!({"type": "inputAudio", "audioUrl": u})),
    ]
}

/// `WebSearchAction`.
pub fn web_search_action() -> impl Strategy<Value = Value> {
    prop_oneof![
        (opt(text()), opt(vec(text(), 0..3)))
            .prop_map(|(query, queries)| json!({"type": "search", "query": query, "queries": queries})),
        opt(url()).prop_map(|u| json!({"type": "openPage", "url": u})),
        (opt(url()), opt(text())).prop_map(|(u, p)| json!({"type": "findInPage", "url": u, "pattern": p})),
        Just(json!({"type": "other"})),
    ]
}

pub fn item_body_variants() -> Vec<(&'static str, BoxedStrategy<ItemBody>)> {
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

pub fn item_body() -> BoxedStrategy<ItemBody> {
    Union::new(item_body_variants().into_iter().map(|(_, s)| s)).boxed()
}

pub fn thread_item_with(body: BoxedStrategy<ItemBody>) -> impl Strategy<Value = ThreadItem> {
    (item_id(), body, opt(millis()), opt(0i64..600_000)).prop_map(|(id, body, started_at_ms, took)| {
        ThreadItem { id, body, started_at_ms, completed_at_ms: started_at_ms.zip(took).map(|(s, t)| s + t) }
    })
}

pub fn thread_item() -> impl Strategy<Value = ThreadItem> {
    thread_item_with(item_body())
}
