//! Strategies for the session settings a client picks and the server reports back: approval
//! policy (`AskForApproval`, simple or granular), approvals reviewer, sandbox mode and
//! `SandboxPolicy`.

use core_sm::wire::{
    ApprovalMode, ApprovalsReviewer, AskForApproval, NetworkAccess, SandboxMode, SandboxPolicy,
};
use proptest::collection::vec;
use proptest::option::of as opt;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;

use super::leaf::path;

pub fn approval_mode() -> impl Strategy<Value = ApprovalMode> {
    select(all_variants!(ApprovalMode: Untrusted, OnRequest, Never))
}

pub fn ask_for_approval() -> impl Strategy<Value = AskForApproval> {
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

pub fn approvals_reviewer() -> impl Strategy<Value = ApprovalsReviewer> {
    select(all_variants!(ApprovalsReviewer: User, AutoReview, GuardianSubagent))
}

pub fn sandbox_mode() -> impl Strategy<Value = SandboxMode> {
    select(all_variants!(SandboxMode: ReadOnly, WorkspaceWrite, DangerFullAccess))
}

pub fn sandbox_policy() -> impl Strategy<Value = SandboxPolicy> {
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
