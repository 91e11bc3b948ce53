//! Turning validator errors into [`Violation`]s, with better messages for unions.
//!
//! A failed `oneOf`/`anyOf` only says "not valid under any of the schemas". The protocol's
//! unions are nearly all either tagged (`{"type": "idle"}`, `{"method": ...}`) or nullable
//! (`anyOf: [X, null]`), so on failure we pick the one variant the value was evidently
//! meant to be (by tag values and JSON type) and report that variant's errors instead, or
//! say which tag value was expected. Only the failure path pays for this.

use jsonschema::error::ValidationErrorKind;
use jsonschema::Validator;
use serde_json::Value;

use crate::error::{truncate_to, Violation};
use crate::frame::escape_token;
use crate::schema::{Doc, Schema};

/// A place in the instance and the schema: a JSON pointer and a display schema path.
#[derive(Clone, Copy)]
struct Site<'a> {
    pointer: &'a str,
    schema_path: &'a str,
}

/// How deep nested unions are refined before giving up.
const MAX_DEPTH: usize = 6;

impl Schema {
    /// Runs `validator` (compiled for `root_uri`) on `instance` and appends one violation per
    /// error, with `prefix` prepended to each instance pointer.
    pub(crate) fn collect(
        &self,
        validator: &Validator,
        root_uri: &str,
        instance: &Value,
        prefix: &str,
        out: &mut Vec<Violation>,
    ) {
        let base = Site { pointer: prefix, schema_path: "" };
        self.collect_at(validator, root_uri, instance, base, out, 0);
    }

    fn collect_at(
        &self,
        validator: &Validator,
        root_uri: &str,
        instance: &Value,
        base: Site<'_>,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        for err in validator.iter_errors(instance) {
            let pointer = format!("{}{}", base.pointer, err.instance_path);
            let raw = err.schema_path.as_str();
            let schema_path = format!("{}{}", base.schema_path, raw.strip_prefix("/$ref").unwrap_or(raw));
            let is_union =
                matches!(err.kind, ValidationErrorKind::AnyOf | ValidationErrorKind::OneOfNotValid);
            if is_union && depth < MAX_DEPTH {
                let before = out.len();
                let at = Site { pointer: &pointer, schema_path: &schema_path };
                self.refine_union(root_uri, raw, &err.instance, at, out, depth);
                if out.len() > before {
                    continue;
                }
            }
            let message = match err.kind {
                ValidationErrorKind::AnyOf | ValidationErrorKind::OneOfNotValid => format!(
                    "{} matches none of the union's variants",
                    truncate_to(err.instance.to_string(), 120)
                ),
                _ => err.to_string(),
            };
            out.push(Violation::schema(pointer, message, schema_path));
        }
    }

    /// Explains a failed union at `raw_path` (a schema path of the validator of `root_uri`)
    /// for the failing value `instance` at `at`. Appends nothing when it cannot tell which
    /// variant was meant.
    fn refine_union(
        &self,
        root_uri: &str,
        raw_path: &str,
        instance: &Value,
        at: Site<'_>,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        let Some((doc, union_ptr)) = self.walk(root_uri, raw_path) else {
            return;
        };
        let root = &self.docs[doc as usize];
        let Some(variants) = root.pointer(&union_ptr).and_then(Value::as_array) else {
            return;
        };
        let resolved: Vec<(Doc, &Value)> = variants.iter().map(|v| self.deref(doc, v)).collect();
        let mut candidates: Vec<usize> = (0..variants.len())
            .filter(|&i| {
                let (d, v) = resolved[i];
                type_matches(v, instance) && enum_matches(v, instance) && tags_match(self, d, v, instance)
            })
            .collect();
        if candidates.len() > 1 {
            // Tie-break externally tagged variants (`{"granular": {...}}`) by required keys.
            let complete: Vec<usize> =
                candidates.iter().copied().filter(|&i| required_present(resolved[i].1, instance)).collect();
            if complete.len() == 1 {
                candidates = complete;
            }
        }
        if let [only] = candidates[..] {
            let uri = format!("{}#{union_ptr}/{only}", doc.uri());
            if let Ok(validator) = self.adhoc_validator(&uri) {
                let schema_path = format!("{}/{only}", at.schema_path);
                let base = Site { pointer: at.pointer, schema_path: &schema_path };
                self.collect_at(&validator, &uri, instance, base, out, depth + 1);
            }
            return;
        }
        if candidates.is_empty() {
            if instance.is_object() {
                self.explain_tag_mismatch(&resolved, instance, at, out);
            } else {
                explain_scalar_mismatch(&resolved, instance, at, out);
            }
        }
    }

    /// When no variant's tags match: names the discriminator and its allowed values.
    fn explain_tag_mismatch(
        &self,
        variants: &[(Doc, &Value)],
        instance: &Value,
        at: Site<'_>,
        out: &mut Vec<Violation>,
    ) {
        let Some(obj) = instance.as_object() else {
            return;
        };
        // The discriminator: a tag key every object variant shares.
        let object_variants: Vec<Vec<(String, Value)>> = variants
            .iter()
            .filter(|(_, v)| v.get("properties").is_some())
            .map(|&(d, v)| tags(self, d, v))
            .collect();
        let Some(first) = object_variants.first() else {
            return;
        };
        let Some(key) = first
            .iter()
            .map(|(k, _)| k)
            .find(|k| object_variants.iter().all(|t| t.iter().any(|(k2, _)| k2 == *k)))
        else {
            return;
        };
        let expected: Vec<String> = object_variants
            .iter()
            .filter_map(|t| t.iter().find(|(k2, _)| k2 == key).map(|(_, v)| v.to_string()))
            .collect();
        let expected = truncate_to(expected.join(", "), 600);
        let (pointer, message) = match obj.get(key) {
            Some(actual) => (
                format!("{}/{}", at.pointer, escape_token(key)),
                format!("`{key}` = {actual} is not a known variant; expected one of [{expected}]"),
            ),
            None => (
                at.pointer.to_string(),
                format!("missing discriminator `{key}`; expected one of [{expected}]"),
            ),
        };
        out.push(Violation::schema(pointer, message, at.schema_path));
    }

    /// Follows a validator's schema path from `{"$ref": root_uri}` to the node it names,
    /// resolving every `$ref` on the way. Returns the document and JSON pointer.
    fn walk(&self, root_uri: &str, schema_path: &str) -> Option<(Doc, String)> {
        let mut segments = schema_path.split('/').skip(1).map(unescape);
        if segments.next()? != "$ref" {
            return None;
        }
        let (mut doc, fragment) = Doc::split_uri(root_uri)?;
        let mut ptr = fragment.to_string();
        for seg in segments {
            if seg == "$ref" {
                let node = self.docs[doc as usize].pointer(&ptr)?;
                let reference = node.get("$ref")?.as_str()?;
                (doc, ptr) = resolve(doc, reference)?;
            } else {
                ptr.push('/');
                ptr.push_str(&escape_token(&seg));
            }
        }
        Some((doc, ptr))
    }

    /// Follows `$ref` (and single-element `allOf`) chains from `schema` within `doc`.
    pub(crate) fn deref<'a>(&'a self, mut doc: Doc, mut schema: &'a Value) -> (Doc, &'a Value) {
        for _ in 0..8 {
            let next = if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                resolve(doc, r)
            } else if let Some([only]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                match only.get("$ref").and_then(Value::as_str) {
                    Some(r) => resolve(doc, r),
                    None => return (doc, only),
                }
            } else {
                None
            };
            let Some((d, ptr)) = next else {
                return (doc, schema);
            };
            let Some(target) = self.docs[d as usize].pointer(&ptr) else {
                return (doc, schema);
            };
            doc = d;
            schema = target;
        }
        (doc, schema)
    }
}

/// Resolves a `$ref` seen in `doc` to a document and pointer.
fn resolve(doc: Doc, reference: &str) -> Option<(Doc, String)> {
    match reference.strip_prefix('#') {
        Some(fragment) => Some((doc, fragment.to_string())),
        None => Doc::split_uri(reference).map(|(d, f)| (d, f.to_string())),
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Whether the variant's `type` (if any) admits the instance's JSON type.
fn type_matches(variant: &Value, instance: &Value) -> bool {
    let admits = |t: &Value| match t.as_str() {
        Some("null") => instance.is_null(),
        Some("object") => instance.is_object(),
        Some("array") => instance.is_array(),
        Some("string") => instance.is_string(),
        Some("boolean") => instance.is_boolean(),
        Some("number") => instance.is_number(),
        Some("integer") => instance.is_i64() || instance.is_u64(),
        _ => true,
    };
    match variant.get("type") {
        None => true,
        Some(Value::Array(types)) => types.iter().any(admits),
        Some(t) => admits(t),
    }
}

/// Whether the variant's `enum` (if any) contains the instance.
fn enum_matches(variant: &Value, instance: &Value) -> bool {
    match variant.get("enum").and_then(Value::as_array) {
        Some(values) => values.contains(instance),
        None => true,
    }
}

/// Whether every key in the variant's `required` is present in the (object) instance.
fn required_present(variant: &Value, instance: &Value) -> bool {
    let Some(required) = variant.get("required").and_then(Value::as_array) else {
        return true;
    };
    required.iter().filter_map(Value::as_str).all(|k| instance.get(k).is_some())
}

/// When a scalar matches no variant: lists the allowed scalar values and object shapes.
fn explain_scalar_mismatch(
    variants: &[(Doc, &Value)],
    instance: &Value,
    at: Site<'_>,
    out: &mut Vec<Violation>,
) {
    let mut expected: Vec<String> = Vec::new();
    for (_, v) in variants {
        if let Some(values) = v.get("enum").and_then(Value::as_array) {
            expected.extend(values.iter().map(Value::to_string));
        } else if let Some(t) = v.get("type") {
            let keys: Vec<&str> = v
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if t == "object" && !keys.is_empty() {
                expected.push(format!("{{{}: …}}", keys.join(", ")));
            } else {
                expected.push(format!("<{}>", t.as_str().map_or_else(|| t.to_string(), str::to_string)));
            }
        }
    }
    if expected.is_empty() {
        return;
    }
    let expected = truncate_to(expected.join(", "), 600);
    let message = format!("{instance} is not one of the allowed values [{expected}]");
    out.push(Violation::schema(at.pointer, message, at.schema_path));
}

/// The variant's tag properties: those whose schema is a single-value `enum` or a `const`.
fn tags(schema: &Schema, doc: Doc, variant: &Value) -> Vec<(String, Value)> {
    let Some(props) = variant.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .filter_map(|(k, s)| {
            let (_, s) = schema.deref(doc, s);
            let single = match (s.get("enum").and_then(Value::as_array), s.get("const")) {
                (Some(e), _) if e.len() == 1 => e[0].clone(),
                (_, Some(c)) => c.clone(),
                _ => return None,
            };
            Some((k.clone(), single))
        })
        .collect()
}

/// Whether every tag of the variant is present in the instance with the tagged value.
fn tags_match(schema: &Schema, doc: Doc, variant: &Value, instance: &Value) -> bool {
    tags(schema, doc, variant).iter().all(|(k, v)| instance.get(k) == Some(v))
}
