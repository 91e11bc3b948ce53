#!/usr/bin/env python3
"""Generates the fuzzing dictionary and the params sketches from the Codex protocol schema.

Re-run after the schema changes (from anywhere):

    python3 fuzz/dict/gen_dict.py [SCHEMA_DIR]

SCHEMA_DIR defaults to ../shared/protocol/codex-0.169.0 beside the repository checkout
(the same bundle the `tests` crate validates against). Writes, next to this script:

* protocol.dict  -- libFuzzer dictionary: every method name (client and server, requests and
  notifications), every property name (bare and as `"name":`), every string enum value, and
  the JSON-RPC envelope tokens. Use with `cargo fuzz run <target> -- -dict=dict/protocol.dict`.
* sketches.json  -- a compact description of every client request's params, every client
  notification and every server request's response, read by the `protocol` target to build
  mostly well-formed frames (see src/sketch.rs for the format).

Output is deterministic (sorted), so a re-run without schema changes leaves git clean.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "protocol", "codex-0.169.0"))


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Defs:
    """All definitions, merged across files; a clash of different bodies gets a file prefix."""

    def __init__(self):
        self.defs = {}

    def add_file(self, prefix, doc):
        rename = {}
        for name, body in doc.get("definitions", {}).items():
            if name in self.defs and self.defs[name] != body:
                rename[name] = prefix + "#" + name
            else:
                rename[name] = name
        for name, body in doc.get("definitions", {}).items():
            self.defs.setdefault(rename[name], body)
        return rename


def ref_name(ref, rename):
    assert ref.startswith("#/definitions/"), ref
    name = ref[len("#/definitions/"):]
    return rename.get(name, name)


def sketch(node, rename):
    """Schema node -> sketch (see src/sketch.rs)."""
    if node is True or node == {}:
        return "any"
    if node is False:
        return "null"
    if "$ref" in node:
        return ["r", ref_name(node["$ref"], rename)]
    if "allOf" in node:
        parts = [sketch(p, rename) for p in node["allOf"]]
        return parts[0] if len(parts) == 1 else ["u", parts]
    alts = []
    for key in ("oneOf", "anyOf"):
        if key in node:
            alts.extend(sketch(p, rename) for p in node[key])
    if alts:
        # A oneOf with shared properties (UserInput's image variants): keep the own shape too.
        if "properties" in node:
            own = dict(node)
            own.pop("oneOf", None)
            own.pop("anyOf", None)
            alts.insert(0, sketch(own, rename))
        # Prefer non-null alternatives first: byte 0 picks the first.
        alts.sort(key=lambda s: s == "null")
        return alts[0] if len(alts) == 1 else ["u", alts]
    if "enum" in node:
        values = [v for v in node["enum"] if isinstance(v, str)]
        if values:
            return ["e", values]
    types = node.get("type")
    if isinstance(types, list):
        alts = []
        for t in types:
            one = dict(node)
            one["type"] = t
            alts.append(sketch(one, rename))
        alts.sort(key=lambda s: s == "null")
        return ["u", alts]
    if types == "null":
        return "null"
    if types == "boolean":
        return "bool"
    if types == "integer":
        return "uint" if node.get("minimum", -1) >= 0 else "int"
    if types == "number":
        return "num"
    if types == "string":
        return "str"
    if types == "array":
        return ["a", sketch(node.get("items", True), rename)]
    if types == "object" or "properties" in node:
        props = node.get("properties", {})
        required = set(node.get("required", []))
        fields = [[k, 1 if k in required else 0, sketch(v, rename)] for k, v in sorted(props.items())]
        extra = node.get("additionalProperties")
        if not props and extra not in (None, False):
            return ["m", sketch(extra, rename)]
        return ["o", fields]
    return "any"


def collect_words(node, props, enums):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "properties" and isinstance(v, dict):
                props.update(v.keys())
                for vv in v.values():
                    collect_words(vv, props, enums)
            elif k == "definitions" and isinstance(v, dict):
                for vv in v.values():
                    collect_words(vv, props, enums)
            elif k == "enum" and isinstance(v, list):
                enums.update(x for x in v if isinstance(x, str))
            elif k not in ("description", "title"):
                collect_words(v, props, enums)
    elif isinstance(node, list):
        for v in node:
            collect_words(v, props, enums)


def dict_escape(s):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\x%02X" % b)
    return "".join(out)


def main():
    schema_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SCHEMA
    defs = Defs()
    docs = {}
    for name in ("ClientRequest", "ClientNotification", "ServerRequest", "ServerNotification"):
        docs[name] = load(os.path.join(schema_dir, name + ".json"))

    client = []
    rename = defs.add_file("ClientRequest", docs["ClientRequest"])
    for entry in docs["ClientRequest"]["oneOf"]:
        p = entry["properties"]
        method = p["method"]["enum"][0]
        required = 1 if "params" in entry.get("required", []) else 0
        client.append([method, required, sketch(p.get("params", True), rename)])

    notifications = []
    rename = defs.add_file("ClientNotification", docs["ClientNotification"])
    for entry in docs["ClientNotification"]["oneOf"]:
        p = entry["properties"]
        notifications.append([p["method"]["enum"][0], sketch(p.get("params", {"type": "null"}), rename)])

    responses = []
    defs.add_file("ServerRequest", docs["ServerRequest"])
    for entry in docs["ServerRequest"]["oneOf"]:
        p = entry["properties"]
        method = p["method"]["enum"][0]
        params_ref = p.get("params", {}).get("$ref", "")
        base = params_ref.rsplit("/", 1)[-1]
        if not base.endswith("Params"):
            continue
        path = os.path.join(schema_dir, base[: -len("Params")] + "Response.json")
        if not os.path.exists(path):
            continue
        doc = load(path)
        prefix = os.path.basename(path)[: -len(".json")]
        rename = defs.add_file(prefix, doc)
        responses.append([method, sketch(doc, rename)])

    # Definitions reachable from the sketches only, each sketched once.
    out_defs = {}
    todo = []

    def refs(s):
        if not isinstance(s, list):
            return
        tag = s[0]
        if tag == "r":
            todo.append(s[1])
        elif tag in ("a", "m"):
            refs(s[1])
        elif tag == "u":
            for x in s[1]:
                refs(x)
        elif tag == "o":
            for _, _, x in s[1]:
                refs(x)

    for _, _, s in client:
        refs(s)
    for _, s in notifications:
        refs(s)
    for _, s in responses:
        refs(s)
    while todo:
        name = todo.pop()
        if name in out_defs:
            continue
        prefix = name.split("#", 1)[0] if "#" in name else None
        body = defs.defs[name]
        # Refs inside a prefixed definition resolve within its own file first.
        local = {}
        if prefix:
            for other in defs.defs:
                if other.startswith(prefix + "#"):
                    local[other.split("#", 1)[1]] = other
        out_defs[name] = sketch(body, local)
        refs(out_defs[name])

    sketches = {
        "schema": os.path.basename(os.path.normpath(schema_dir)),
        "client": client,
        "notifications": notifications,
        "serverResponses": sorted(responses),
        "serverNotifications": [e["properties"]["method"]["enum"][0] for e in docs["ServerNotification"]["oneOf"]],
        "defs": dict(sorted(out_defs.items())),
    }
    with open(os.path.join(HERE, "sketches.json"), "w", encoding="utf-8") as f:
        json.dump(sketches, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")

    # Dictionary.
    props, enums = set(), set()
    methods = set()
    for name in ("ClientRequest", "ClientNotification", "ServerRequest", "ServerNotification"):
        for entry in docs[name]["oneOf"]:
            methods.add(entry["properties"]["method"]["enum"][0])
        collect_words(docs[name], props, enums)
    for f in sorted(os.listdir(schema_dir)):
        if f.endswith("Response.json"):
            collect_words(load(os.path.join(schema_dir, f)), props, enums)
    envelope = [
        '{"id":', '"id":', '"method":', '"params":', '"result":', '"error":', '"code":', '"message":',
        '"data":', '"jsonrpc":"2.0"', "{}", "[]", "null", "true", "false", "-32600", "-32601",
        "-32602", "-32603", "-32001", "9223372036854775807", "-9223372036854775808", "1e309",
        "0.5", '\\u0000', '\\ud800', "\\n",
    ]
    lines = ["# Generated by fuzz/dict/gen_dict.py from %s; do not edit."
             % os.path.basename(os.path.normpath(schema_dir))]
    seen = set()

    def add(kind, word):
        if word in seen:
            return
        seen.add(word)
        lines.append('%s_%d="%s"' % (kind, len(lines), dict_escape(word)))

    for w in envelope:
        add("env", w)
    for m in sorted(methods):
        add("method", m)
        add("method", '"%s"' % m)
    for p in sorted(props):
        add("field", '"%s":' % p)
    for p in sorted(props):
        add("field", p)
    for e in sorted(enums):
        add("enum", '"%s"' % e)
    with open(os.path.join(HERE, "protocol.dict"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d dictionary entries, %d client methods, %d notifications, %d server responses, %d defs"
          % (len(lines) - 1, len(client), len(notifications), len(responses), len(out_defs)))


if __name__ == "__main__":
    main()
