//! The client method table: which methods exist, which need `params`, which are experimental.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::sync::OnceLock;

use super::client_methods::CLIENT_METHODS;

/// What the schema says about one client method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodInfo {
    /// The method name.
    pub name: &'static str,
    /// Whether the request must carry a `params` object.
    pub params_required: bool,
    /// Whether the method needs the `experimentalApi` capability.
    pub experimental: bool,
}

/// Method-name prefixes and names that are experimental-only in the 0.169.0 schema (75 methods).
const EXPERIMENTAL: &[&str] = &[
    "server/diagnostics",
    "userVerification/",
    "thread/sample",
    "thread/increment_elicitation",
    "thread/decrement_elicitation",
    "thread/prediction/request",
    "thread/queue/",
    "thread/settings/update",
    "thread/memoryMode/set",
    "thread/memory/read",
    "memory/",
    "rollout/compress",
    "thread/backgroundTerminals/",
    "project/",
    "thread/search",
    "thread/readState/update",
    "thread/items/read",
    "thread/guardianReview",
    "thread/prepareApprovedPlan",
    "plugin/search",
    "turn/settings/update",
    "thread/realtime/",
    "thread/timeline/list",
    "remoteControl/",
    "collaborationMode/list",
    "mock/experimentalMethod",
    "environment/",
    "mcpServer/event/stream/",
    "account/bedrock/",
    "account/gcp/setup",
    "accountSession/",
    "process/",
    "fuzzyFileSearch/session",
];

fn is_experimental(name: &str) -> bool {
    EXPERIMENTAL.iter().any(|p| {
        if p.ends_with('/')
            || *p == "fuzzyFileSearch/session"
            || *p == "thread/sample"
            || *p == "thread/search"
        {
            name.starts_with(p)
        } else {
            name == *p
        }
    })
}

/// Client methods turnstile implements; every other method in the schema is answered with
/// `-32601 "<method> is not supported yet"`.
pub const IMPLEMENTED: &[&str] = &[
    "initialize",
    "thread/start",
    "thread/resume",
    "thread/fork",
    "thread/archive",
    "thread/unarchive",
    "thread/read",
    "thread/list",
    "thread/loaded/list",
    "thread/name/set",
    "thread/unsubscribe",
    "turn/start",
    "turn/steer",
    "turn/interrupt",
];

/// Looks a method up in the schema's table.
pub fn lookup(name: &str) -> Option<MethodInfo> {
    by_name().get(name).copied()
}

/// The table indexed by name, built on first use (every request looks its method up). The
/// hasher has fixed keys, and nothing iterates the index, so nothing depends on its order.
fn by_name() -> &'static MethodIndex {
    static INDEX: OnceLock<MethodIndex> = OnceLock::new();
    INDEX.get_or_init(|| all().map(|info| (info.name, info)).collect())
}

type MethodIndex = HashMap<&'static str, MethodInfo, BuildHasherDefault<DefaultHasher>>;

/// Every client method, in the schema's order.
pub fn all() -> impl Iterator<Item = MethodInfo> {
    CLIENT_METHODS.iter().map(|&(name, params_required)| MethodInfo {
        name,
        params_required,
        experimental: is_experimental(name),
    })
}

/// Codex's text for an unknown method: serde's unknown-variant message over every known method.
pub fn unknown_method_message(method: &str) -> String {
    let mut msg = format!("Invalid request: unknown variant `{method}`, expected one of ");
    for (i, (name, _)) in CLIENT_METHODS.iter().enumerate() {
        if i > 0 {
            msg.push_str(", ");
        }
        let _ = write!(msg, "`{name}`");
    }
    msg
}

/// Fields that only an `experimentalApi` connection may use, per method, with Codex's gate reason.
///
/// A field counts as used when present with a value other than `null`, `false`, `[]` or `{}`.
pub fn experimental_fields(method: &str) -> &'static [&'static str] {
    match method {
        "thread/start" => &[
            "allowProviderModelFallback",
            "daybreakEnabled",
            "dynamicTools",
            "environments",
            "experimentalRawEvents",
            "historyMode",
            "mockExperimentalField",
            "multiAgentMode",
            "permissions",
            "projectId",
            "runtimeWorkspaceRoots",
            "selectedCapabilityRoots",
        ],
        "thread/resume" => &["history", "initialTurnsPage", "path", "permissions", "runtimeWorkspaceRoots"],
        "thread/fork" => &[
            "attachToSource",
            "beforeTurnId",
            "deferGoalContinuation",
            "experimentalDisablePredictionMcp",
            "experimentalPredictionMode",
            "path",
            "permissions",
            "runtimeWorkspaceRoots",
        ],
        "thread/list" => &[
            "ancestorThreadId",
            "attachedToThreadId",
            "includeAttachedThreads",
            "parentThreadId",
            "projectId",
        ],
        "turn/start" => &[
            "additionalContext",
            "collaborationMode",
            "cyberAccessProgram",
            "environments",
            "multiAgentMode",
            "permissions",
            "responsesapiClientMetadata",
            "responsesapiClientMetadataPatch",
            "runtimeWorkspaceRoots",
        ],
        "turn/steer" => {
            &["additionalContext", "responsesapiClientMetadata", "responsesapiClientMetadataPatch"]
        }
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_schema_counts() {
        assert_eq!(all().count(), 184);
        assert_eq!(all().filter(|m| m.experimental).count(), 75);
        assert!(lookup("thread/start").is_some_and(|m| m.params_required && !m.experimental));
        assert!(lookup("mock/experimentalMethod").is_some_and(|m| m.experimental));
        assert!(lookup("account/logout").is_some_and(|m| !m.params_required));
        assert!(lookup("thread/rollback").is_none());
    }

    #[test]
    fn unknown_method_lists_every_method() {
        let msg = unknown_method_message("nope");
        assert!(msg.starts_with(
            "Invalid request: unknown variant `nope`, expected one of `initialize`, `server/diagnostics`"
        ));
        assert!(msg.ends_with("`fuzzyFileSearch/sessionStop`"));
    }
}
