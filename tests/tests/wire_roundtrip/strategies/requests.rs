//! Strategies for client requests and their results (`core_sm::wire::requests`): initialize,
//! thread/start (with dynamic tool specs), the thread session response, thread/resume,
//! thread/list (cursor, cwd filter, sorting) and turn/start.

use core_sm::wire::notifications as nt;
use core_sm::wire::requests as rq;
use proptest::collection::vec;
use proptest::option::of as opt;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use rq::{SortDirection, ThreadSortKey};
use serde_json::{json, Value};

use super::leaf::{json_object, path, text, uuid7, word};
use super::model::{thread, user_input};
use super::settings::{approvals_reviewer, ask_for_approval, sandbox_mode, sandbox_policy};

pub fn client_info() -> impl Strategy<Value = rq::ClientInfo> {
    (word(), opt(text()), "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}")
        .prop_map(|(name, title, version)| rq::ClientInfo { name, title, version })
}

pub fn initialize_capabilities() -> impl Strategy<Value = rq::InitializeCapabilities> {
    (any::<bool>(), opt(subsequence(nt::METHODS.to_vec(), 0..4))).prop_map(|(experimental_api, methods)| {
        rq::InitializeCapabilities {
            experimental_api,
            opt_out_notification_methods: methods.map(|m| m.into_iter().map(str::to_owned).collect()),
        }
    })
}

pub fn initialize_params() -> impl Strategy<Value = rq::InitializeParams> {
    (client_info(), opt(initialize_capabilities()))
        .prop_map(|(client_info, capabilities)| rq::InitializeParams { client_info, capabilities })
}

pub fn initialize_response() -> impl Strategy<Value = rq::InitializeResponse> {
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
pub fn dynamic_tool_spec() -> impl Strategy<Value = Value> {
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

pub fn reasoning_effort() -> impl Strategy<Value = String> {
    select(vec!["minimal", "low", "medium", "high", "xhigh"]).prop_map(str::to_owned)
}

pub fn thread_start_params() -> impl Strategy<Value = rq::ThreadStartParams> {
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

pub fn thread_session_response() -> impl Strategy<Value = rq::ThreadSessionResponse> {
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

pub fn thread_resume_params() -> impl Strategy<Value = rq::ThreadResumeParams> {
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

pub fn cwd_filter() -> impl Strategy<Value = rq::CwdFilter> {
    prop_oneof![path().prop_map(rq::CwdFilter::One), vec(path(), 0..3).prop_map(rq::CwdFilter::Many)]
}

pub fn thread_list_params() -> impl Strategy<Value = rq::ThreadListParams> {
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

pub fn turn_start_params() -> impl Strategy<Value = rq::TurnStartParams> {
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
