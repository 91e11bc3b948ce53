//! core-sm's client method table agrees with the schema: same names in the same order, and
//! `params_required` matches whether the `ClientRequest.json` variant requires `params`.

use tests::Schema;

#[test]
fn client_method_table_matches_the_schema() {
    let schema = Schema::load();
    let ours: Vec<core_sm::wire::methods::MethodInfo> = core_sm::wire::methods::all().collect();
    let our_names: Vec<&str> = ours.iter().map(|m| m.name).collect();
    let schema_names: Vec<&str> = schema.client_requests().iter().map(|e| e.name.as_str()).collect();
    if our_names != schema_names {
        let missing: Vec<&&str> = schema_names.iter().filter(|n| !our_names.contains(n)).collect();
        let extra: Vec<&&str> = our_names.iter().filter(|n| !schema_names.contains(n)).collect();
        let first_diff = our_names
            .iter()
            .zip(&schema_names)
            .position(|(a, b)| a != b)
            .unwrap_or(our_names.len().min(schema_names.len()));
        panic!(
            "core-sm's method table differs from ClientRequest.json: {} vs {} methods; \
             missing {missing:?}; extra {extra:?}; first difference at index {first_diff}",
            our_names.len(),
            schema_names.len()
        );
    }
    let mismatched: Vec<String> = ours
        .iter()
        .zip(schema.client_requests())
        .filter(|(m, e)| m.params_required != e.params_required)
        .map(|(m, e)| format!("{}: ours {} schema {}", m.name, m.params_required, e.params_required))
        .collect();
    assert!(mismatched.is_empty(), "params_required differs: {mismatched:#?}");
}
