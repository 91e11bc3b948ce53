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
//!
//! The tests are here; the harness they run through is `wire_roundtrip/harness.rs` and the
//! strategies are in `wire_roundtrip/strategies/`, one module per concern.

#[macro_use]
#[path = "wire_roundtrip/harness.rs"]
mod harness;
#[path = "wire_roundtrip/strategies/mod.rs"]
mod strategies;

use std::collections::BTreeMap;

use core_sm::wire::notifications::{self as nt, Notification};
use core_sm::wire::requests::{self as rq, SortDirection, ThreadSortKey, UnsubscribeStatus};
use core_sm::wire::server_requests as sr;
use core_sm::wire::{
    ApprovalMode, ApprovalsReviewer, CommandExecutionSource, CommandExecutionStatus, ErrorObject,
    NetworkAccess, PatchApplyStatus, RequestId, SandboxMode, SandboxPolicy, SessionSource, ThreadActiveFlag,
    ThreadHistoryMode, ToolCallStatus, TurnItemsView, TurnStatus, UserInput,
};
use proptest::collection::{btree_map, vec};
use proptest::option::of as opt;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

use harness::{
    check_all, check_answer, check_client_params, check_def, check_notification, check_result,
    check_server_request, conform, round_trip, run, schema,
};
use strategies::item::{
    command_action, dynamic_content_item, file_update_change, item_body_variants, patch_change_kind,
    thread_item, thread_item_with,
};
use strategies::leaf::{
    item_id, json_object, json_value, millis, path, text, thread_id, turn_id, uuid7, word,
};
use strategies::model::{
    breakdown, thread, thread_status, token_usage, turn, turn_error, user_input, user_input_variants,
};
use strategies::requests::{
    client_info, cwd_filter, initialize_capabilities, initialize_params, initialize_response,
    thread_list_params, thread_resume_params, thread_session_response, thread_start_params,
    turn_start_params,
};
use strategies::server_requests::{
    command_approval_params, command_decision, elicitation_request, elicitation_response,
    file_change_decision, grant_scope, host, network_policy_amendment, network_protocol, permission_profile,
    user_input_question,
};
use strategies::settings::{ask_for_approval, sandbox_policy};

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
    run("ThreadArchived", thread_id(), |thread_id| check_notification(&nt::ThreadArchived { thread_id }));
    run("ThreadUnarchived", thread_id(), |thread_id| check_notification(&nt::ThreadUnarchived { thread_id }));
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
        nt::ThreadArchived::METHOD,
        nt::ThreadUnarchived::METHOD,
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
