//! The engine and storage payloads actions select by byte: texts, item keys and bodies,
//! deltas, errors, token usage, engine requests, whole engine events and rollout records.

use core_sm::history::{RolloutRecord, SessionMeta};
use core_sm::wire::server_requests::{
    CommandDecision, NetworkProtocol, PermissionProfile, UserInputQuestion,
};
use core_sm::wire::{CommandAction, FileUpdateChange, ItemBody, ThreadTokenUsage, TurnError};
use core_sm::{EngineEvent, EngineRequest, ItemDelta, ItemKey, RequestKey, ThreadId, TurnId};
use serde_json::json;

use super::Event;
use crate::drive::Drive;
use crate::sketch::{FOREIGN_THREADS, TEXTS};

fn text(b: u8) -> String {
    TEXTS[usize::from(b) % TEXTS.len()].to_owned()
}

fn item_key(k: u8) -> ItemKey {
    if k >= 248 {
        // Keys at the top of the range, where the machine once numbered its own items: an
        // engine may pick any key (finding F3).
        ItemKey(u64::MAX - u64::from(k - 248))
    } else {
        ItemKey(u64::from(k % 8))
    }
}

/// Item bodies by selector: the kind is `b % 11`, in progress below 128, final above.
pub fn item_body(b: u8) -> ItemBody {
    static TABLE: std::sync::OnceLock<Vec<ItemBody>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=255u8).map(make_item_body).collect())[usize::from(b)].clone()
}

fn make_item_body(b: u8) -> ItemBody {
    let done = b >= 128;
    let t = text(b / 11);
    let status = if done { ["completed", "failed", "declined"][usize::from(b) % 3] } else { "inProgress" };
    let tool_status = if done { ["completed", "failed"][usize::from(b) % 2] } else { "inProgress" };
    let v = match b % 11 {
        0 => {
            json!({"type": "agentMessage", "text": if done { t } else { String::new() }, "phase": if b & 16 == 0 { serde_json::Value::Null } else { json!("final_answer") }})
        }
        1 => {
            json!({"type": "reasoning", "summary": if done { vec![t.clone()] } else { vec![] }, "content": []})
        }
        2 => json!({"type": "plan", "text": t}),
        3 => {
            json!({"type": "commandExecution", "command": "ls -la", "cwd": "/tmp", "commandActions": [{"type": "listFiles", "command": "ls -la", "path": null}], "status": status, "aggregatedOutput": if done { json!(t) } else { json!(null) }, "exitCode": if done { json!(0) } else { json!(null) }, "durationMs": if done { json!(5) } else { json!(null) }})
        }
        4 => {
            json!({"type": "fileChange", "changes": [{"path": "/tmp/a.txt", "kind": {"type": "update", "move_path": null}, "diff": "@@ -1 +1 @@\n-a\n+b\n"}], "status": status})
        }
        5 => {
            json!({"type": "mcpToolCall", "server": "srv", "tool": "t", "arguments": {"q": t}, "status": tool_status, "result": if done { json!({"content": []}) } else { json!(null) }})
        }
        6 => {
            json!({"type": "dynamicToolCall", "tool": "lookup", "namespace": null, "arguments": {}, "status": tool_status, "contentItems": null, "success": if done { json!(true) } else { json!(null) }})
        }
        7 => json!({"type": "webSearch", "query": t, "action": null}),
        8 => json!({"type": "imageView", "path": "/tmp/i.png"}),
        9 => json!({"type": "contextCompaction"}),
        _ => {
            json!({"type": "userMessage", "content": [{"type": "text", "text": t, "text_elements": []}], "clientId": null})
        }
    };
    serde_json::from_value(v).expect("item body templates match ItemBody")
}

fn delta(b: u8) -> ItemDelta {
    let t = text(b / 6);
    let index = [0i64, 1, -1, i64::MAX, 2][usize::from(b / 6) % 5];
    match b % 6 {
        0 => ItemDelta::AgentMessage(t),
        1 => ItemDelta::Plan(t),
        2 => ItemDelta::ReasoningSummary { index, text: t },
        3 => ItemDelta::ReasoningSummaryPartAdded { index },
        4 => ItemDelta::ReasoningText { index, text: t },
        _ => ItemDelta::CommandOutput(t),
    }
}

fn turn_error(b: u8) -> TurnError {
    static TABLE: std::sync::OnceLock<Vec<TurnError>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=255u8).map(make_turn_error).collect())[usize::from(b)].clone()
}

fn make_turn_error(b: u8) -> TurnError {
    let v = match b % 3 {
        0 => json!({"message": text(b), "codexErrorInfo": null, "additionalDetails": null}),
        1 => {
            json!({"message": "rate limited", "codexErrorInfo": "usageLimitExceeded", "additionalDetails": "retry later"})
        }
        _ => json!({"message": "", "codexErrorInfo": {"httpConnectionFailed": {"httpStatusCode": 502}}}),
    };
    serde_json::from_value(v).expect("turn error templates match TurnError")
}

fn usage(b: u8) -> ThreadTokenUsage {
    static TABLE: std::sync::OnceLock<Vec<ThreadTokenUsage>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=255u8).map(make_usage).collect())[usize::from(b)]
}

fn make_usage(b: u8) -> ThreadTokenUsage {
    let n = [0i64, 1, 1000, i64::MAX, -1][usize::from(b) % 5];
    serde_json::from_value(json!({
        "total": {"totalTokens": n, "inputTokens": n, "cachedInputTokens": 0, "cacheWriteInputTokens": 0, "outputTokens": 0, "reasoningOutputTokens": 0},
        "last": {"totalTokens": n, "inputTokens": n, "cachedInputTokens": 0, "cacheWriteInputTokens": 0, "outputTokens": 0, "reasoningOutputTokens": 0},
        "modelContextWindow": if b & 8 == 0 { json!(200000) } else { json!(null) },
    }))
    .expect("usage template matches ThreadTokenUsage")
}

fn engine_request(kind: u8, item: u8, variant: u8) -> EngineRequest {
    static TABLE: std::sync::OnceLock<Vec<EngineRequest>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..7 * 256).map(|i| make_engine_request((i / 256) as u8, 0, (i % 256) as u8)).collect()
    });
    let mut r = table[usize::from(kind % 7) * 256 + usize::from(variant)].clone();
    match &mut r {
        EngineRequest::CommandApproval { item: k, .. }
        | EngineRequest::FileChangeApproval { item: k, .. } => *k = item_key(item),
        _ => {}
    }
    r
}

fn make_engine_request(kind: u8, item: u8, variant: u8) -> EngineRequest {
    let item = item_key(item);
    let reason = (variant & 1 == 1).then(|| text(variant));
    match kind % 7 {
        0 => EngineRequest::CommandApproval {
            item,
            approval_id: (variant & 2 == 2).then(|| format!("approval-{}", variant % 3)),
            command: "rm -rf build".into(),
            cwd: "/tmp".into(),
            command_actions: vec![serde_json::from_value::<CommandAction>(json!({"type": "unknown", "command": "rm -rf build"})).expect("action")],
            reason,
            available_decisions: (variant & 4 == 4).then(|| vec![CommandDecision::Accept, CommandDecision::Decline]),
            proposed_execpolicy_amendment: (variant & 8 == 8).then(|| vec!["rm".into()]),
        },
        1 => EngineRequest::FileChangeApproval {
            item,
            changes: vec![serde_json::from_value::<FileUpdateChange>(json!({"path": "/tmp/a.txt", "kind": {"type": "add"}, "diff": "a\n"})).expect("change")],
            reason,
            grant_root: (variant & 2 == 2).then(|| "/tmp".into()),
        },
        2 => EngineRequest::Permissions {
            permissions: serde_json::from_value::<PermissionProfile>(match variant % 3 {
                0 => json!({"network": {"enabled": true}}),
                1 => json!({"fileSystem": {"write": ["/tmp"]}}),
                _ => json!({}),
            })
            .expect("profile"),
            reason,
        },
        3 => EngineRequest::UserInput {
            questions: (0..variant % 3)
                .map(|i| {
                    serde_json::from_value::<UserInputQuestion>(json!({"id": format!("q{i}"), "header": "H", "question": text(variant), "isOther": i == 1, "isSecret": false, "options": if i == 0 { json!([{"label": "yes", "description": "y"}]) } else { json!(null) }}))
                        .expect("question")
                })
                .collect(),
            is_blocking: variant & 4 == 0,
        },
        4 => EngineRequest::DynamicToolCall {
            tool: ["lookup", "", "ns.tool"][usize::from(variant) % 3].into(),
            namespace: (variant & 4 == 4).then(|| "ns".into()),
            arguments: json!({"q": text(variant)}),
        },
        5 => EngineRequest::Elicitation {
            server_name: "srv".into(),
            request: match json!({"mode": "form", "message": text(variant), "requestedSchema": {"type": "object", "properties": {}}}) {
                serde_json::Value::Object(m) if variant & 2 == 0 => m,
                _ => serde_json::Map::new(),
            },
        },
        _ => EngineRequest::AuthRefresh { previous_account_id: (variant & 1 == 1).then(|| "acct".into()) },
    }
}

/// Builds the engine event for an [`Event`] on turn `turn_id`; `key` names a request or
/// network attempt.
pub fn build_event(e: &Event, turn_id: TurnId, key: RequestKey) -> EngineEvent {
    match e {
        Event::TurnStarted => EngineEvent::TurnStarted { turn_id },
        Event::ItemStarted { key, body } => {
            EngineEvent::ItemStarted { turn_id, key: item_key(*key), body: item_body(body & 0x7f) }
        }
        Event::ItemDelta { key, delta: d } => {
            EngineEvent::ItemDelta { turn_id, key: item_key(*key), delta: delta(*d) }
        }
        Event::ItemCompleted { key, body } => {
            EngineEvent::ItemCompleted { turn_id, key: item_key(*key), body: item_body(body | 0x80) }
        }
        Event::TokenUsage { size } => EngineEvent::TokenUsage { turn_id, usage: usage(*size) },
        Event::Request { kind, item, variant } => {
            EngineEvent::Request { turn_id, key, request: engine_request(*kind, *item, *variant) }
        }
        Event::Network { host, port } => {
            const HOSTS: [&str; 5] = ["example.com", "EXAMPLE.com", "api.openai.com", "", "10.0.0.1"];
            const PORTS: [u16; 4] = [443, 80, 0, 65535];
            const PROTOS: [NetworkProtocol; 4] = [
                NetworkProtocol::Https,
                NetworkProtocol::Http,
                NetworkProtocol::Socks5Tcp,
                NetworkProtocol::Socks5Udp,
            ];
            EngineEvent::NetworkAttempt {
                turn_id,
                key,
                host: HOSTS[usize::from(*host) % HOSTS.len()].into(),
                protocol: PROTOS[usize::from(*host / 5) % PROTOS.len()],
                port: PORTS[usize::from(*port) % PORTS.len()],
            }
        }
        Event::Retrying { error } => EngineEvent::Retrying { turn_id, error: turn_error(*error) },
        Event::Warning { text: t } => EngineEvent::Warning { message: text(*t) },
        Event::TurnCompleted => EngineEvent::TurnCompleted { turn_id },
        Event::TurnAborted => EngineEvent::TurnAborted { turn_id },
        Event::TurnFailed { error } => EngineEvent::TurnFailed { turn_id, error: turn_error(*error) },
    }
}

/// What storage returns for `thread_id`: its persisted records, or synthesized ones.
pub fn records_for(d: &Drive, thread_id: ThreadId, variant: u8) -> Vec<RolloutRecord> {
    let stored = d.persisted.get(&thread_id);
    let other = d.persisted.iter().find(|(t, _)| **t != thread_id).map(|(_, r)| r);
    let meta = |id: ThreadId| {
        RolloutRecord::SessionMeta(SessionMeta {
            id,
            created_at_ms: crate::drive::EPOCH - 1000,
            cwd: "/tmp".into(),
            model: "turnstile-scripted".into(),
            model_provider: "turnstile".into(),
            originator: Some("fuzz".into()),
            name: (variant & 16 == 16).then(|| "stored".into()),
            preview: "stored thread".into(),
            forked_from_id: None,
        })
    };
    let turn = TurnId(ThreadId::parse(FOREIGN_THREADS[usize::from(variant) % 4]).unwrap().0);
    let started = RolloutRecord::TurnStarted { turn_id: turn, started_at: 1_763_999_999 };
    let item = || {
        let body = item_body(0x80);
        RolloutRecord::ItemCompleted {
            turn_id: turn,
            item: serde_json::from_value(json!({"id": "stored-item", "type": "agentMessage", "text": "hi", "phase": null, "startedAtMs": 1, "completedAtMs": 2}))
                .unwrap_or_else(|_| panic!("stored item template: {body:?}")),
        }
    };
    let ended = || {
        serde_json::from_value::<RolloutRecord>(json!({"type": "turn_ended", "payload": {"turn_id": turn.to_string(), "status": "completed", "error": null, "completed_at": 1_764_000_000, "duration_ms": 5}}))
            .expect("turn_ended template")
    };
    match variant % 8 {
        0 => stored.cloned().unwrap_or_else(|| vec![meta(thread_id)]),
        1 => vec![meta(thread_id)],
        2 => vec![meta(thread_id), started, item()],
        3 => vec![meta(thread_id), started, item(), ended()],
        4 => Vec::new(),
        5 => other.cloned().unwrap_or_else(|| vec![meta(ThreadId::parse(FOREIGN_THREADS[0]).unwrap())]),
        6 => vec![started, item(), ended(), meta(thread_id)],
        _ => {
            let mut r = stored.cloned().unwrap_or_else(|| vec![meta(thread_id), started, item()]);
            r.truncate(usize::from(variant / 8) % (r.len() + 1));
            r
        }
    }
}
