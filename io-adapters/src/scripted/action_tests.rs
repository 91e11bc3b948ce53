//! Table-driven tests for directive parsing and scenario steps.

use super::*;
use serde_json::json;

fn exec(command: &str, output: &str, exit_code: i32, duration_ms: i64) -> Action {
    Action::Exec(ExecSpec { command: command.into(), output: output.into(), exit_code, duration_ms })
}

#[test]
fn parses_directives() {
    let table: Vec<(&str, Action)> = vec![
        ("/message hi there", Action::Message("hi there".into())),
        ("  /message a\\nb", Action::Message("a\nb".into())),
        ("/reasoning think", Action::Reasoning("think".into())),
        ("/plan 1. do it", Action::Plan("1. do it".into())),
        ("/sleep 250", Action::Sleep(250)),
        ("/fail boom", Action::Fail("boom".into())),
        ("/fail", Action::Fail("Scripted failure.".into())),
        ("/retry slow down", Action::Retry("slow down".into())),
        ("/warn careful", Action::Warn("careful".into())),
        ("/usage 10 20", Action::Usage(UsageSpec { input: 10, output: 20 })),
        ("/exec ls -la", exec("ls -la", "", 0, 0)),
        (
            "/exec cargo test --exit 101 --output failed\\n --duration 7",
            exec("cargo test", "failed\n", 101, 7),
        ),
        ("/exec echo --output a  b", exec("echo", "a b", 0, 0)),
        (
            "/patch src/lib.rs",
            Action::Patch(PatchSpec { path: "src/lib.rs".into(), kind: PatchKind::Update, diff: None }),
        ),
        (
            "/patch new.txt add --diff hello\\n",
            Action::Patch(PatchSpec {
                path: "new.txt".into(),
                kind: PatchKind::Add,
                diff: Some("hello\n".into()),
            }),
        ),
    ];
    for (line, want) in table {
        assert_eq!(parse_directive(line), want, "{line}");
    }
}

#[test]
fn bad_directives_become_explanations() {
    let table = [
        ("/sleep soon", "Invalid directive `/sleep soon`: expected `/sleep MS`."),
        ("/message", "Invalid directive `/message`: expected `/message TEXT`."),
        ("/usage 1", "Invalid directive `/usage 1`: expected `/usage IN OUT`."),
        ("/usage -1 2", "Invalid directive `/usage -1 2`: expected `/usage IN OUT`."),
        ("/exec --exit 1", "Invalid directive"),
        ("/exec ls --exit x", "Invalid directive"),
        ("/exec ls --exit 1 --exit 2", "Invalid directive"),
        ("/patch a b", "Invalid directive"),
        ("/patch", "Invalid directive"),
        ("/dance now", "Unknown directive `/dance`. Known directives: /message,"),
        ("/", "Unknown directive `/`."),
    ];
    for (line, want) in table {
        match parse_directive(line) {
            Action::Invalid(msg) => assert!(msg.starts_with(want), "{line}: {msg}"),
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn ordinary_text_has_no_directives() {
    assert_eq!(parse_directives("hello\nworld"), None);
    assert_eq!(
        parse_directives("intro line\n/message one\nignored\n/sleep 5"),
        Some(vec![Action::Message("one".into()), Action::Sleep(5)])
    );
}

#[test]
fn unescapes() {
    let table = [("a\\nb", "a\nb"), ("t\\tx", "t\tx"), ("\\\\n", "\\n"), ("\\q", "\\q"), ("end\\", "end\\")];
    for (input, want) in table {
        assert_eq!(unescape(input), want, "{input}");
    }
}

#[test]
fn scenario_steps_deserialize() {
    let steps: Vec<Action> = serde_json::from_str(
        r#"[{"message":"hi"},{"sleep":500},
            {"exec":{"command":"ls","output":"a\n","exitCode":2}},
            {"patch":{"path":"x","kind":"delete"}},
            {"usage":{"input":1,"output":2}},{"fail":"no"}]"#,
    )
    .unwrap();
    assert_eq!(steps[0], Action::Message("hi".into()));
    assert_eq!(steps[1], Action::Sleep(500));
    assert_eq!(steps[2], exec("ls", "a\n", 2, 0));
    assert!(matches!(&steps[3], Action::Patch(p) if p.kind == PatchKind::Delete));
    assert_eq!(steps[5], Action::Fail("no".into()));
    assert!(serde_json::from_str::<Action>(r#"{"invalid":"x"}"#).is_err());
    assert!(serde_json::from_str::<Action>(r#"{"exec":{"cmd":"x"}}"#).is_err());
}

fn approve_exec(command: &str) -> ApproveExecSpec {
    ApproveExecSpec {
        command: command.into(),
        output: String::new(),
        exit_code: 0,
        duration_ms: 0,
        reason: None,
        decisions: None,
        amend: None,
    }
}

fn question(text: &str) -> QuestionSpec {
    QuestionSpec { question: text.into(), id: None, header: None, options: None, other: false, secret: false }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

fn host_port(host: &str, port: u16) -> HostPort {
    HostPort { host: host.into(), port }
}

#[test]
fn parses_request_directives() {
    use CommandDecision as D;
    let network_amendment = |host: &str, action| D::ApplyNetworkPolicyAmendment {
        network_policy_amendment: NetworkPolicyAmendment { host: host.into(), action },
    };
    let table: Vec<(&str, Action)> = vec![
        ("/approve-exec rm -rf build", Action::ApproveExec(approve_exec("rm -rf build"))),
        (
            "/approve-exec make --decisions accept, decline,cancel --reason needs\\tnet --exit 2 --output a\\n --duration 5",
            Action::ApproveExec(ApproveExecSpec {
                output: "a\n".into(),
                exit_code: 2,
                duration_ms: 5,
                reason: Some("needs\tnet".into()),
                decisions: Some(vec![D::Accept, D::Decline, D::Cancel]),
                ..approve_exec("make")
            }),
        ),
        (
            "/approve-exec cargo test --amend cargo --decisions acceptWithExecpolicyAmendment,acceptForSession",
            Action::ApproveExec(ApproveExecSpec {
                amend: Some(words(&["cargo"])),
                decisions: Some(vec![
                    D::AcceptWithExecpolicyAmendment { execpolicy_amendment: words(&["cargo"]) },
                    D::AcceptForSession,
                ]),
                ..approve_exec("cargo test")
            }),
        ),
        (
            "/approve-exec curl x.io --decisions acceptWithExecpolicyAmendment,allow:x.io,deny:y.io",
            Action::ApproveExec(ApproveExecSpec {
                decisions: Some(vec![
                    D::AcceptWithExecpolicyAmendment { execpolicy_amendment: words(&["curl", "x.io"]) },
                    network_amendment("x.io", NetworkPolicyAction::Allow),
                    network_amendment("y.io", NetworkPolicyAction::Deny),
                ]),
                ..approve_exec("curl x.io")
            }),
        ),
        (
            "/approve-patch src/a.rs",
            Action::ApprovePatch(ApprovePatchSpec {
                path: "src/a.rs".into(),
                kind: PatchKind::Update,
                diff: None,
                reason: None,
                grant_root: None,
            }),
        ),
        (
            "/approve-patch new.txt add --diff hi\\n --reason new file --grant-root /repo",
            Action::ApprovePatch(ApprovePatchSpec {
                path: "new.txt".into(),
                kind: PatchKind::Add,
                diff: Some("hi\n".into()),
                reason: Some("new file".into()),
                grant_root: Some("/repo".into()),
            }),
        ),
        (
            "/permissions --read /a /b --network --write /c --reason install deps",
            Action::Permissions(PermissionsSpec {
                read: words(&["/a", "/b"]),
                write: words(&["/c"]),
                network: true,
                reason: Some("install deps".into()),
            }),
        ),
        ("/permissions --network", Action::Permissions(PermissionsSpec { network: true, ..Default::default() })),
        ("/ask Which env?", Action::Ask(AskSpec { questions: vec![question("Which env?")] })),
        (
            "/ask Which env? --id env --header Env --options dev|staging prod | qa --other --secret",
            Action::Ask(AskSpec {
                questions: vec![QuestionSpec {
                    id: Some("env".into()),
                    header: Some("Env".into()),
                    options: Some(words(&["dev", "staging prod", "qa"])),
                    other: true,
                    secret: true,
                    ..question("Which env?")
                }],
            }),
        ),
        ("/tool lookup", Action::Tool(ToolSpec { name: "lookup".into(), namespace: None, arguments: json!({}) })),
        (
            r#"/tool lookup {"q": "a  b", "n": [1, 2]} --namespace kb"#,
            Action::Tool(ToolSpec {
                name: "lookup".into(),
                namespace: Some("kb".into()),
                arguments: json!({"q": "a  b", "n": [1, 2]}),
            }),
        ),
        ("/tool f 42", Action::Tool(ToolSpec { name: "f".into(), namespace: None, arguments: json!(42) })),
        (
            "/elicit form Pick a name",
            Action::Elicit(ElicitSpec::Form { message: "Pick a name".into(), server: None, requested_schema: None }),
        ),
        (
            "/elicit url Log in please https://x.io/login --server github --id e7",
            Action::Elicit(ElicitSpec::Url {
                message: "Log in please".into(),
                url: "https://x.io/login".into(),
                server: Some("github".into()),
                elicitation_id: Some("e7".into()),
            }),
        ),
        (
            "/network a.com:443 b.com:443 a.com:443",
            Action::Network(NetworkSpec {
                destinations: vec![host_port("a.com", 443), host_port("b.com", 443), host_port("a.com", 443)],
                protocol: NetworkProtocol::Https,
            }),
        ),
        (
            "/network [::1]:80 --protocol socks5Udp",
            Action::Network(NetworkSpec {
                destinations: vec![host_port("[::1]", 80)],
                protocol: NetworkProtocol::Socks5Udp,
            }),
        ),
        ("/auth-refresh", Action::AuthRefresh(AuthRefreshSpec::default())),
        (
            "/auth-refresh acct-1",
            Action::AuthRefresh(AuthRefreshSpec { previous_account_id: Some("acct-1".into()) }),
        ),
    ];
    for (line, want) in table {
        assert_eq!(parse_directive(line), want, "{line}");
    }
}

#[test]
fn bad_request_directives_become_explanations() {
    let table = [
        ("/approve-exec", "expected `/approve-exec CMD"),
        ("/approve-exec ls --decisions accept,maybe", "expected `/approve-exec CMD"),
        ("/approve-exec ls --decisions", "expected `/approve-exec CMD"),
        ("/approve-exec ls --decisions allow:", "expected `/approve-exec CMD"),
        ("/approve-exec ls --exit one", "expected `/approve-exec CMD"),
        ("/approve-exec ls --reason", "expected `/approve-exec CMD"),
        ("/approve-patch", "expected `/approve-patch PATH"),
        ("/approve-patch a move", "expected `/approve-patch PATH"),
        ("/approve-patch a --grant-root /x /y", "expected `/approve-patch PATH"),
        ("/permissions", "expected `/permissions"),
        ("/permissions /a", "expected `/permissions"),
        ("/permissions --read", "expected `/permissions"),
        ("/permissions --network yes", "expected `/permissions"),
        ("/permissions --reason why", "expected `/permissions"),
        ("/ask", "expected `/ask QUESTION"),
        ("/ask --id x", "expected `/ask QUESTION"),
        ("/ask why --options a||b", "expected `/ask QUESTION"),
        ("/ask why --other please", "expected `/ask QUESTION"),
        ("/ask why --id two words", "expected `/ask QUESTION"),
        ("/tool", "expected `/tool NAME"),
        ("/tool f {nope", "expected `/tool NAME"),
        ("/tool f --namespace", "expected `/tool NAME"),
        ("/tool f --namespace a b", "expected `/tool NAME"),
        ("/elicit", "expected `/elicit form"),
        ("/elicit form", "expected `/elicit form"),
        ("/elicit url https://x", "expected `/elicit form"),
        ("/elicit form hi --id e1", "expected `/elicit form"),
        ("/elicit dialog hi", "expected `/elicit form"),
        ("/network", "expected `/network HOST:PORT"),
        ("/network a.com", "expected `/network HOST:PORT"),
        ("/network a.com:99999", "expected `/network HOST:PORT"),
        ("/network :80", "expected `/network HOST:PORT"),
        ("/network a.com:80 --protocol ftp", "expected `/network HOST:PORT"),
        ("/auth-refresh a b", "expected `/auth-refresh [ACCOUNT_ID]"),
    ];
    for (line, want) in table {
        match parse_directive(line) {
            Action::Invalid(msg) => {
                assert!(msg.starts_with(&format!("Invalid directive `{line}`")), "{line}: {msg}");
                assert!(msg.contains(want), "{line}: {msg}");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn consecutive_asks_form_one_request() {
    let actions = parse_directives("/ask one\n/ask two --id b\n/message x\n/ask three").unwrap();
    assert_eq!(
        actions,
        vec![
            Action::Ask(AskSpec {
                questions: vec![question("one"), QuestionSpec { id: Some("b".into()), ..question("two") }]
            }),
            Action::Message("x".into()),
            Action::Ask(AskSpec { questions: vec![question("three")] }),
        ]
    );
    // Ordinary lines between directives do not break a group; an invalid /ask does.
    let actions = parse_directives("/ask one\nsome prose\n/ask two\n/ask\n/ask three").unwrap();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert!(matches!(&actions[0], Action::Ask(a) if a.questions.len() == 2));
    assert!(matches!(&actions[1], Action::Invalid(_)));
}

#[test]
fn request_scenario_steps_deserialize() {
    use CommandDecision as D;
    let table: Vec<(&str, Action)> = vec![
        (
            r#"{"approveExec": {"command": "make", "exitCode": 1, "output": "x", "reason": "r",
                "decisions": ["accept", {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["make"]}},
                              {"applyNetworkPolicyAmendment": {"network_policy_amendment": {"host": "h", "action": "deny"}}}, "cancel"],
                "amend": ["make"]}}"#,
            Action::ApproveExec(ApproveExecSpec {
                output: "x".into(),
                exit_code: 1,
                reason: Some("r".into()),
                decisions: Some(vec![
                    D::Accept,
                    D::AcceptWithExecpolicyAmendment { execpolicy_amendment: words(&["make"]) },
                    D::ApplyNetworkPolicyAmendment {
                        network_policy_amendment: NetworkPolicyAmendment {
                            host: "h".into(),
                            action: NetworkPolicyAction::Deny,
                        },
                    },
                    D::Cancel,
                ]),
                amend: Some(words(&["make"])),
                ..approve_exec("make")
            }),
        ),
        (r#"{"approveExec": {"command": "ls"}}"#, Action::ApproveExec(approve_exec("ls"))),
        (
            r#"{"approvePatch": {"path": "a", "kind": "delete", "grantRoot": "/r"}}"#,
            Action::ApprovePatch(ApprovePatchSpec {
                path: "a".into(),
                kind: PatchKind::Delete,
                diff: None,
                reason: None,
                grant_root: Some("/r".into()),
            }),
        ),
        (
            r#"{"permissions": {"write": ["/repo"], "network": true}}"#,
            Action::Permissions(PermissionsSpec {
                write: words(&["/repo"]),
                network: true,
                ..Default::default()
            }),
        ),
        (
            r#"{"ask": {"questions": [{"question": "Env?", "id": "env", "options": ["dev"], "other": true},
                                      {"question": "Token?", "secret": true}]}}"#,
            Action::Ask(AskSpec {
                questions: vec![
                    QuestionSpec {
                        id: Some("env".into()),
                        options: Some(words(&["dev"])),
                        other: true,
                        ..question("Env?")
                    },
                    QuestionSpec { secret: true, ..question("Token?") },
                ],
            }),
        ),
        (
            r#"{"tool": {"name": "lookup", "namespace": "kb", "arguments": {"q": 1}}}"#,
            Action::Tool(ToolSpec {
                name: "lookup".into(),
                namespace: Some("kb".into()),
                arguments: json!({"q": 1}),
            }),
        ),
        (
            r#"{"tool": {"name": "lookup"}}"#,
            Action::Tool(ToolSpec { name: "lookup".into(), namespace: None, arguments: json!({}) }),
        ),
        (
            r#"{"elicit": {"mode": "form", "message": "Name?", "requestedSchema": {"type": "object"}}}"#,
            Action::Elicit(ElicitSpec::Form {
                message: "Name?".into(),
                server: None,
                requested_schema: Some(json!({"type": "object"})),
            }),
        ),
        (
            r#"{"elicit": {"mode": "url", "message": "Log in", "url": "https://x", "server": "gh", "elicitationId": "e1"}}"#,
            Action::Elicit(ElicitSpec::Url {
                message: "Log in".into(),
                url: "https://x".into(),
                server: Some("gh".into()),
                elicitation_id: Some("e1".into()),
            }),
        ),
        (
            r#"{"network": {"destinations": ["a.com:443", "b.com:80"], "protocol": "http"}}"#,
            Action::Network(NetworkSpec {
                destinations: vec![host_port("a.com", 443), host_port("b.com", 80)],
                protocol: NetworkProtocol::Http,
            }),
        ),
        (
            r#"{"network": {"destinations": ["a.com:443"]}}"#,
            Action::Network(NetworkSpec {
                destinations: vec![host_port("a.com", 443)],
                protocol: NetworkProtocol::Https,
            }),
        ),
        (r#"{"authRefresh": {}}"#, Action::AuthRefresh(AuthRefreshSpec::default())),
        (
            r#"{"authRefresh": {"previousAccountId": "a"}}"#,
            Action::AuthRefresh(AuthRefreshSpec { previous_account_id: Some("a".into()) }),
        ),
    ];
    for (text, want) in table {
        let got: Action = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got, want, "{text}");
    }
    for bad in [
        r#"{"approveExec": {"cmd": "x"}}"#,
        r#"{"approveExec": {"command": "x", "decisions": ["maybe"]}}"#,
        r#"{"approvePatch": {"path": "a", "kind": "move"}}"#,
        r#"{"permissions": {"read": "/a"}}"#,
        r#"{"ask": [{"question": "x"}]}"#,
        r#"{"ask": {"questions": [{"question": "x", "multi": true}]}}"#,
        r#"{"tool": {"tool": "x"}}"#,
        r#"{"elicit": {"mode": "url", "message": "m"}}"#,
        r#"{"elicit": {"mode": "dialog", "message": "m"}}"#,
        r#"{"elicit": {"mode": "form", "message": "m", "url": "u"}}"#,
        r#"{"network": {"destinations": ["a.com"]}}"#,
        r#"{"network": {"destinations": ["a.com:443"], "protocol": "ftp"}}"#,
        r#"{"authRefresh": {"account": "a"}}"#,
    ] {
        assert!(serde_json::from_str::<Action>(bad).is_err(), "{bad} accepted");
    }
}
