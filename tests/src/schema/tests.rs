//! Unit tests of the method tables and the method → response mapping.

use super::*;

fn schema() -> &'static Schema {
    Schema::load()
}

#[test]
fn table_sizes_match_the_experimental_bundle() {
    let s = schema();
    assert_eq!(s.client_requests().len(), 184);
    assert_eq!(s.client_notifications().len(), 1);
    assert_eq!(s.server_notifications().len(), 86);
    assert_eq!(s.server_requests().len(), 11);
}

#[test]
fn every_client_method_maps_to_an_existing_response_definition() {
    let s = schema();
    let missing: Vec<&str> = s
        .client_requests()
        .iter()
        .filter(|e| e.response_definition.is_none())
        .map(|e| e.name.as_str())
        .collect();
    assert!(missing.is_empty(), "client methods without a response definition: {missing:?}");
    let bundle = &s.docs[Doc::Bundle.index()];
    for e in s.client_requests() {
        let def = e.response_definition.as_deref().unwrap();
        assert!(bundle.pointer(&format!("/definitions/{def}")).is_some(), "{}: {def} does not exist", e.name);
        assert!(def.ends_with("Response"), "{}: {def}", e.name);
    }
    assert_eq!(s.response_definition("thread/start"), Some("v2/ThreadStartResponse"));
    assert_eq!(s.response_definition("initialize"), Some("InitializeResponse"));
    assert_eq!(s.response_definition("config/batchWrite"), Some("v2/ConfigWriteResponse"));
}

#[test]
fn every_server_request_maps_to_an_existing_response_definition() {
    let s = schema();
    for e in s.server_requests() {
        assert!(e.response_definition.is_some(), "{} has no response definition", e.name);
    }
    assert_eq!(
        s.server_request("item/commandExecution/requestApproval")
            .and_then(|e| e.response_definition.as_deref()),
        Some("CommandExecutionRequestApprovalResponse")
    );
}

#[test]
fn every_override_is_a_real_exception() {
    let s = schema();
    let bundle = &s.docs[Doc::Bundle.index()];
    for (method, def) in RESPONSE_OVERRIDES {
        let entry =
            s.client_request(method).unwrap_or_else(|| panic!("override for unknown method {method}"));
        let derived = entry
            .params_definition
            .as_deref()
            .and_then(derive_response)
            .and_then(|d| definition_path(bundle, &d));
        assert_eq!(derived, None, "{method}: derivation already works, drop the override");
        assert!(definition_path(bundle, def).is_some(), "{method}: {def} does not exist");
    }
}

#[test]
fn definition_paths_resolve_in_both_namespaces() {
    let s = schema();
    assert_eq!(s.definition_path("Thread").as_deref(), Some("v2/Thread"));
    assert_eq!(s.definition_path("InitializeResponse").as_deref(), Some("InitializeResponse"));
    assert_eq!(s.definition_path("v2/Thread").as_deref(), Some("v2/Thread"));
    assert_eq!(s.definition_path("NoSuchThing"), None);
}

#[test]
fn params_ref_names() {
    let v = serde_json::json!({"$ref": "#/definitions/ThreadStartParams"});
    assert_eq!(params_ref_name(&v).as_deref(), Some("ThreadStartParams"));
    let v = serde_json::json!({"anyOf": [{"$ref": "#/definitions/X"}, {"type": "null"}]});
    assert_eq!(params_ref_name(&v).as_deref(), Some("X"));
    assert_eq!(params_ref_name(&serde_json::json!({"type": "null"})), None);
}

#[test]
fn every_response_definition_answers_some_method() {
    // The converse of the mapping test: no `*Response` definition is left over, so no method
    // can be mapped to the wrong one by the naming rule without another method losing its own.
    let s = schema();
    let bundle = &s.docs[Doc::Bundle.index()];
    let defs = bundle["definitions"].as_object().unwrap();
    let v2 = defs["v2"].as_object().unwrap();
    let mapped: Vec<&str> = s
        .client_requests()
        .iter()
        .chain(s.server_requests())
        .filter_map(|e| e.response_definition.as_deref())
        .collect();
    let orphans: Vec<String> = defs
        .keys()
        .filter(|k| k.ends_with("Response"))
        .cloned()
        .chain(v2.keys().filter(|k| k.ends_with("Response")).map(|k| format!("v2/{k}")))
        .filter(|d| d != "JSONRPCResponse" && !mapped.contains(&d.as_str()))
        .collect();
    assert!(orphans.is_empty(), "response definitions no method maps to: {orphans:?}");
}
