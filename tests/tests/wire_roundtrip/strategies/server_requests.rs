//! Strategies for server requests and the client's answers (`core_sm::wire::server_requests`):
//! command approval (command and managed-network prompts, decisions, policy amendments), file
//! change decisions, permission profiles and grant scopes, user input questions, and MCP
//! elicitation requests and responses.

use core_sm::wire::server_requests as sr;
use proptest::collection::vec;
use proptest::option::of as opt;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use super::item::command_action;
use super::leaf::{json_object, millis, path, text, thread_id, turn_id, url, uuid7, word};

pub fn network_protocol() -> impl Strategy<Value = sr::NetworkProtocol> {
    use sr::NetworkProtocol;
    select(all_variants!(NetworkProtocol: Http, Https, Socks5Tcp, Socks5Udp))
}

pub fn host() -> BoxedStrategy<String> {
    "[a-z]{1,10}(\\.[a-z]{2,6}){1,2}".boxed()
}

pub fn network_policy_amendment() -> impl Strategy<Value = sr::NetworkPolicyAmendment> {
    use sr::NetworkPolicyAction;
    (host(), select(all_variants!(NetworkPolicyAction: Allow, Deny)))
        .prop_map(|(host, action)| sr::NetworkPolicyAmendment { host, action })
}

pub fn command_decision() -> impl Strategy<Value = sr::CommandDecision> {
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
pub fn command_approval_params() -> impl Strategy<Value = sr::CommandApprovalParams> {
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

pub fn file_change_decision() -> impl Strategy<Value = sr::FileChangeDecision> {
    use sr::FileChangeDecision;
    select(all_variants!(FileChangeDecision: Accept, AcceptForSession, Decline, Cancel))
}

pub fn permission_profile() -> impl Strategy<Value = sr::PermissionProfile> {
    let fs = (opt(vec(path(), 0..3)), opt(vec(path(), 0..3)))
        .prop_map(|(read, write)| sr::FileSystemPermissions { read, write });
    let net = opt(any::<bool>()).prop_map(|enabled| sr::NetworkPermissions { enabled });
    (opt(fs), opt(net)).prop_map(|(file_system, network)| sr::PermissionProfile { file_system, network })
}

pub fn grant_scope() -> impl Strategy<Value = sr::PermissionGrantScope> {
    use sr::PermissionGrantScope;
    select(all_variants!(PermissionGrantScope: Turn, Session))
}

pub fn user_input_question() -> impl Strategy<Value = sr::UserInputQuestion> {
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
pub fn elicitation_request() -> impl Strategy<Value = Map<String, Value>> {
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

pub fn elicitation_response() -> impl Strategy<Value = sr::ElicitationResponse> {
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
