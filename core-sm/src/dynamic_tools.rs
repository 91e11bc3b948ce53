//! Validation of client-declared dynamic tools (`thread/start.dynamicTools`), with Codex's rules.

use std::collections::BTreeSet;

use serde_json::Value;

const MAX_NAME: usize = 128;
const MAX_NAMESPACE: usize = 64;
const MAX_NAMESPACE_DESCRIPTION: usize = 1024;
/// Namespaces the Responses API reserves.
const RESERVED_NAMESPACES: &[&str] = &[
    "api_tool",
    "browser",
    "computer",
    "container",
    "file_search",
    "functions",
    "image_gen",
    "multi_tool_use",
    "python",
    "python_user_visible",
    "submodel_delegator",
    "terminal",
    "tool_search",
    "web",
];

fn valid_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_name(kind: &str, name: &str, max: usize) -> Result<(), String> {
    if !valid_identifier(name) {
        return Err(format!(
            "dynamic tool {kind} must match ^[a-zA-Z0-9_-]+$ to match Responses API: {name}"
        ));
    }
    if name.len() > max {
        return Err(format!("dynamic tool {kind} must be at most {max} characters: {name}"));
    }
    if name == "mcp" || name.starts_with("mcp__") {
        return Err(format!("dynamic tool {kind} is reserved: {name}"));
    }
    Ok(())
}

fn str_field<'a>(spec: &'a Value, field: &str) -> Result<&'a str, String> {
    spec.get(field).and_then(Value::as_str).ok_or_else(|| format!("dynamic tool spec is missing `{field}`"))
}

/// Checks a `dynamicTools` list; the error is Codex's `-32600` message.
pub(crate) fn validate(specs: &[Value]) -> Result<(), String> {
    let mut functions: BTreeSet<&str> = BTreeSet::new();
    let mut namespaces: BTreeSet<&str> = BTreeSet::new();
    for spec in specs {
        // A spec without `type` is a function, as 0.169.0 accepts it.
        match spec.get("type").and_then(Value::as_str).unwrap_or("function") {
            "function" => {
                let name = str_field(spec, "name")?;
                check_name("name", name, MAX_NAME)?;
                if spec.get("deferLoading").and_then(Value::as_bool) == Some(true) {
                    return Err(format!("dynamic tool {name} uses deferLoading, which requires a namespace"));
                }
                if !functions.insert(name) {
                    return Err(format!("duplicate dynamic tool name: {name}"));
                }
            }
            "namespace" => {
                let namespace = str_field(spec, "name")?;
                check_name("namespace", namespace, MAX_NAMESPACE)?;
                if RESERVED_NAMESPACES.contains(&namespace) {
                    return Err(format!("dynamic tool namespace is reserved: {namespace}"));
                }
                if str_field(spec, "description")?.chars().count() > MAX_NAMESPACE_DESCRIPTION {
                    return Err(format!(
                        "dynamic tool namespace description must be at most {MAX_NAMESPACE_DESCRIPTION} characters: {namespace}"
                    ));
                }
                if !namespaces.insert(namespace) {
                    return Err(format!("duplicate dynamic tool namespace: {namespace}"));
                }
                let tools =
                    spec.get("tools").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                if tools.is_empty() {
                    return Err(format!(
                        "dynamic tool namespace must contain at least one tool: {namespace}"
                    ));
                }
                let mut names = BTreeSet::new();
                for tool in tools {
                    let name = str_field(tool, "name")?;
                    check_name("name", name, MAX_NAME)?;
                    if !names.insert(name) {
                        return Err(format!("duplicate dynamic tool name in namespace {namespace}: {name}"));
                    }
                }
            }
            other => return Err(format!("unknown dynamic tool type: {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;
    use serde_json::json;

    #[test]
    fn codex_rules() {
        let ok = [
            json!([]),
            json!([{"name": "lookup", "description": "d", "inputSchema": {}}]),
            json!([{"type": "namespace", "name": "crm", "description": "d", "tools": [{"name": "find"}]}]),
        ];
        for specs in ok {
            assert_eq!(validate(specs.as_array().unwrap()), Ok(()), "{specs}");
        }
        let bad = [
            (
                json!([{"name": "has space"}]),
                "dynamic tool name must match ^[a-zA-Z0-9_-]+$ to match Responses API: has space",
            ),
            (json!([{"name": "mcp__x"}]), "dynamic tool name is reserved: mcp__x"),
            (json!([{"name": "a"}, {"name": "a"}]), "duplicate dynamic tool name: a"),
            (
                json!([{"name": "a", "deferLoading": true}]),
                "dynamic tool a uses deferLoading, which requires a namespace",
            ),
            (
                json!([{"type": "namespace", "name": "web", "description": "", "tools": [{"name": "x"}]}]),
                "dynamic tool namespace is reserved: web",
            ),
            (
                json!([{"type": "namespace", "name": "n", "description": "", "tools": []}]),
                "dynamic tool namespace must contain at least one tool: n",
            ),
            (json!([{"name": "x".repeat(129)}]), "dynamic tool name must be at most 128 characters"),
        ];
        for (specs, want) in bad {
            let got = validate(specs.as_array().unwrap()).unwrap_err();
            assert!(got.starts_with(want), "{got}");
        }
    }
}
