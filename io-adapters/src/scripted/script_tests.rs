//! Table-driven tests for [`script_for_turn`](super::script_for_turn).

use super::*;

const TURN: &str = "0190a5b2-0000-7000-8000-000000000001";

fn turn_id() -> TurnId {
    TurnId::parse(TURN).unwrap()
}

fn text(t: &str) -> Vec<UserInput> {
    vec![UserInput::Text { text: t.into(), text_elements: Vec::new() }]
}

/// A one-line description of a step, so expected scripts read like a transcript.
fn describe(step: &Step) -> String {
    let event = match step {
        Step::Wait(ms) => return format!("wait {ms}"),
        Step::Ask { request, .. } => return format!("ask {}", request_text(request)),
        Step::Network(attempts) => {
            let urls: Vec<String> = attempts.iter().map(Attempt::url).collect();
            return format!("network {}", urls.join(" "));
        }
        Step::Emit(event) => event,
    };
    match event {
        EngineEvent::TurnStarted { .. } => "turn started".into(),
        EngineEvent::ItemStarted { key, body, .. } => format!("start {} {}", key.0, body_text(body)),
        EngineEvent::ItemDelta { key, delta, .. } => format!("delta {} {delta:?}", key.0),
        EngineEvent::ItemCompleted { key, body, .. } => format!("done {} {}", key.0, body_text(body)),
        EngineEvent::TokenUsage { usage, .. } => format!(
            "usage last={}/{} total={}",
            usage.last.input_tokens, usage.last.output_tokens, usage.total.total_tokens
        ),
        EngineEvent::Retrying { error, .. } => format!("retrying {}", error.message),
        EngineEvent::Warning { message } => format!("warning {message}"),
        EngineEvent::TurnCompleted { .. } => "turn completed".into(),
        EngineEvent::TurnAborted { .. } => "turn aborted".into(),
        EngineEvent::TurnFailed { error, .. } => format!("turn failed {}", error.message),
        other => format!("{other:?}"),
    }
}

fn request_text(request: &EngineRequest) -> String {
    match request {
        EngineRequest::CommandApproval {
            item,
            approval_id,
            command,
            cwd,
            reason,
            available_decisions,
            proposed_execpolicy_amendment,
            ..
        } => format!(
            "command item={} {command:?} in {cwd} approval={approval_id:?} reason={reason:?} decisions={} amend={}",
            item.0,
            js(available_decisions),
            js(proposed_execpolicy_amendment)
        ),
        EngineRequest::FileChangeApproval { item, changes, reason, grant_root } => format!(
            "fileChange item={} {} {:?} reason={reason:?} grantRoot={grant_root:?}",
            item.0, changes[0].path, changes[0].kind
        ),
        EngineRequest::Permissions { permissions, reason } => {
            format!("permissions {} reason={reason:?}", js(permissions))
        }
        EngineRequest::UserInput { questions, is_blocking } => {
            format!("userInput blocking={is_blocking} {}", js(questions))
        }
        EngineRequest::DynamicToolCall { tool, namespace, arguments } => {
            format!("tool {namespace:?} {tool} {arguments}")
        }
        EngineRequest::Elicitation { server_name, request } => {
            format!("elicitation {server_name} {}", js(request))
        }
        EngineRequest::AuthRefresh { previous_account_id } => format!("authRefresh {previous_account_id:?}"),
        other => format!("{other:?}"),
    }
}

/// A wire value as compact JSON.
fn js<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

fn body_text(body: &ItemBody) -> String {
    match body {
        ItemBody::AgentMessage { text, .. } => format!("agentMessage {text:?}"),
        ItemBody::Plan { text } => format!("plan {text:?}"),
        ItemBody::Reasoning { summary, .. } => format!("reasoning {summary:?}"),
        ItemBody::CommandExecution { command, status, aggregated_output, exit_code, cwd, .. } => {
            format!("exec {command:?} in {cwd} {status:?} {aggregated_output:?} {exit_code:?}")
        }
        ItemBody::FileChange { changes, status } => {
            let c = &changes[0];
            format!("patch {} {:?} {:?} {status:?}", c.path, c.kind, c.diff)
        }
        other => other.kind().to_owned(),
    }
}

fn run(input: &str, index: u64, scenario: &Scenario) -> Vec<String> {
    let input = text(input);
    let ctx = TurnContext { turn_id: turn_id(), turn_index: index, input: &input, cwd: "/w" };
    let script = script_for_turn(&ctx, scenario);
    let mut total = TokenUsageBreakdown::default();
    let mut out: Vec<String> = script.steps.iter().map(describe).collect();
    out.extend(script.finish(&mut total).into_iter().map(|e| describe(&Step::Emit(e))));
    out
}

#[test]
fn scripts_for_directives() {
    let none = Scenario::default();
    let table: Vec<(&str, Vec<&str>)> = vec![
        (
            "hello there, how are you",
            vec![
                "turn started",
                r#"start 0 agentMessage """#,
                r#"delta 0 AgentMessage("You said: hello ")"#,
                r#"delta 0 AgentMessage("there, how are ")"#,
                r#"delta 0 AgentMessage("you")"#,
                r#"done 0 agentMessage "You said: hello there, how are you""#,
                "usage last=6/9 total=15",
                "turn completed",
            ],
        ),
        (
            "/plan a b\n/sleep 20\n/warn hm\n/retry again",
            vec![
                "turn started",
                r#"start 0 plan """#,
                r#"delta 0 Plan("a b")"#,
                r#"done 0 plan "a b""#,
                "wait 20",
                "warning hm",
                "retrying again",
                "usage last=11/1 total=12",
                "turn completed",
            ],
        ),
        (
            "/reasoning x\\n\\ny\n/usage 100 7",
            vec![
                "turn started",
                "start 0 reasoning []",
                "delta 0 ReasoningSummary { index: 0, text: \"x\" }",
                "delta 0 ReasoningSummaryPartAdded { index: 1 }",
                "delta 0 ReasoningSummary { index: 1, text: \"y\" }",
                r#"done 0 reasoning ["x", "y"]"#,
                "usage last=100/7 total=107",
                "turn completed",
            ],
        ),
        (
            "/exec make --exit 2 --output a\\nb",
            vec![
                "turn started",
                r#"start 0 exec "make" in /w InProgress None None"#,
                r#"delta 0 CommandOutput("a\n")"#,
                r#"delta 0 CommandOutput("b")"#,
                r#"done 0 exec "make" in /w Failed Some("a\nb") Some(2)"#,
                "usage last=9/1 total=10",
                "turn completed",
            ],
        ),
        (
            "/patch f.txt add\n/patch g delete --diff gone",
            vec![
                "turn started",
                r#"start 0 patch f.txt Add "hello from turnstile\n" InProgress"#,
                r#"done 0 patch f.txt Add "hello from turnstile\n" Completed"#,
                r#"start 1 patch g Delete "gone" InProgress"#,
                r#"done 1 patch g Delete "gone" Completed"#,
                "usage last=11/0 total=11",
                "turn completed",
            ],
        ),
        (
            "/message ok\n/fail broke\n/message never",
            vec![
                "turn started",
                r#"start 0 agentMessage """#,
                r#"delta 0 AgentMessage("ok")"#,
                r#"done 0 agentMessage "ok""#,
                "usage last=10/1 total=11",
                "turn failed broke",
            ],
        ),
    ];
    for (input, want) in table {
        assert_eq!(run(input, 0, &none), want, "input {input:?}");
    }
}

#[test]
fn unknown_directives_list_the_known_ones() {
    let out = run("/nope", 0, &Scenario::default());
    let done = out.iter().find(|l| l.starts_with("done 0")).unwrap();
    assert!(done.starts_with(
        "done 0 agentMessage \"Unknown directive `/nope`. Known directives: /message, /reasoning,"
    ));
    assert!(done.ends_with("/elicit, /network, /auth-refresh.\""), "{done}");
    assert_eq!(out.last().unwrap(), "turn completed");
}

#[test]
fn scenario_overrides_directives() {
    let scenario = Scenario::parse(
        r#"{"turns":[{"steps":[{"message":"first"}]},{"match":"boom","steps":[{"fail":"x"}]}]}"#,
    )
    .unwrap();
    assert_eq!(run("/message ignored", 0, &scenario)[2], r#"delta 0 AgentMessage("first")"#);
    assert_eq!(run("boom", 0, &scenario).last().unwrap(), "turn failed x");
    // Turn 1 is not scripted: the input's directives run.
    assert_eq!(run("/message mine", 1, &scenario)[2], r#"delta 0 AgentMessage("mine")"#);
}

#[test]
fn steer_appends_a_message_before_the_tail() {
    let input = text("/message a\n/sleep 5");
    let ctx = TurnContext { turn_id: turn_id(), turn_index: 0, input: &input, cwd: "/w" };
    let mut script = script_for_turn(&ctx, &Scenario::default());
    script.steer(&text("go left"));
    let described: Vec<String> = script.steps.iter().map(describe).collect();
    assert_eq!(
        &described[5..],
        [
            r#"start 1 agentMessage """#,
            r#"delta 1 AgentMessage("You steered: go ")"#,
            r#"delta 1 AgentMessage("left")"#,
            r#"done 1 agentMessage "You steered: go left""#,
        ]
    );
    let mut total = TokenUsageBreakdown { total_tokens: 100, ..Default::default() };
    let tail = script.finish(&mut total);
    assert!(matches!(tail[1], EngineEvent::TurnCompleted { .. }));
    assert_eq!(total.total_tokens, 100 + script.last_usage().total_tokens);
}

#[test]
fn scripts_are_deterministic() {
    let none = Scenario::default();
    let input = "/message x y z w\n/exec ls --output a\n/sleep 3";
    assert_eq!(run(input, 0, &none), run(input, 0, &none));
}

#[test]
fn chunks_concatenate_to_the_text() {
    let table: &[(&str, &[&str])] = &[
        ("", &[]),
        ("one", &["one"]),
        ("a b c d", &["a b c ", "d"]),
        ("  lead  space here now  ", &["  lead  space here ", "now  "]),
        ("x\ny z\tw", &["x\ny z\t", "w"]),
        ("é ü ö ä", &["é ü ö ", "ä"]),
    ];
    for (text, want) in table {
        let got = chunk_words(text, 3);
        assert_eq!(&got, want, "{text:?}");
        assert_eq!(got.concat(), *text);
    }
}

#[test]
fn echo_and_tokens() {
    assert_eq!(echo("hi"), "You said: hi");
    assert_eq!(echo(""), "You sent no text.");
    assert_eq!(tokens_for(0), 0);
    assert_eq!(tokens_for(1), 1);
    assert_eq!(tokens_for(8), 2);
    assert_eq!(tokens_for(9), 3);
}

/// The script for `input` (turn 0, no scenario).
fn script(input: &str) -> Script {
    let input = text(input);
    let ctx = TurnContext { turn_id: turn_id(), turn_index: 0, input: &input, cwd: "/w" };
    script_for_turn(&ctx, &Scenario::default())
}

#[test]
fn scripts_for_request_directives() {
    let table: Vec<(&str, Vec<&str>)> = vec![
        (
            "/approve-exec make all --reason build --output ok\n/message after",
            vec![
                "turn started",
                r#"ask command item=0 "make all" in /w approval=None reason=Some("build") decisions=null amend=null"#,
                r#"start 1 agentMessage """#,
                r#"delta 1 AgentMessage("after")"#,
                r#"done 1 agentMessage "after""#,
            ],
        ),
        (
            "/approve-exec git push --decisions accept,cancel --amend git push",
            vec![
                "turn started",
                r#"ask command item=0 "git push" in /w approval=None reason=None decisions=["accept","cancel"] amend=["git","push"]"#,
            ],
        ),
        (
            "/approve-patch a.txt add --grant-root /w",
            vec!["turn started", r#"ask fileChange item=0 a.txt Add reason=None grantRoot=Some("/w")"#],
        ),
        (
            "/permissions --write /w --network --reason deps",
            vec![
                "turn started",
                r#"ask permissions {"fileSystem":{"write":["/w"]},"network":{"enabled":true}} reason=Some("deps")"#,
            ],
        ),
        (
            "/ask Env? --options dev|prod --other\n/ask Token? --id tok --header Secret --secret",
            vec![
                "turn started",
                concat!(
                    r#"ask userInput blocking=true [{"id":"q1","header":"Question 1","question":"Env?","isOther":true,"isSecret":false,"#,
                    r#""options":[{"label":"dev","description":""},{"label":"prod","description":""}]},"#,
                    r#"{"id":"tok","header":"Secret","question":"Token?","isOther":false,"isSecret":true,"options":null}]"#
                ),
            ],
        ),
        (
            r#"/tool lookup {"q":1} --namespace kb"#,
            vec!["turn started", r#"ask tool Some("kb") lookup {"q":1}"#],
        ),
        (
            "/elicit form Your name?\n/elicit url Log in https://x.io",
            vec![
                "turn started",
                concat!(
                    r#"ask elicitation scripted-mcp {"message":"Your name?","mode":"form","requestedSchema":"#,
                    r#"{"properties":{"answer":{"title":"Answer","type":"string"}},"required":["answer"],"type":"object"}}"#
                ),
                concat!(
                    r#"ask elicitation scripted-mcp {"elicitationId":"0190a5b2-0000-7000-8000-000000000001-2","#,
                    r#""message":"Log in","mode":"url","url":"https://x.io"}"#
                ),
            ],
        ),
        (
            "/network a.com:443 B.com:443 a.com:443\n/network h:80 --protocol socks5Tcp",
            vec![
                "turn started",
                "network https://a.com:443 https://B.com:443 https://a.com:443",
                "network socks5-tcp://h:80",
            ],
        ),
        ("/auth-refresh acct", vec!["turn started", r#"ask authRefresh Some("acct")"#]),
    ];
    for (input, want) in table {
        let described: Vec<String> = script(input).steps.iter().map(describe).collect();
        assert_eq!(described, want, "input {input:?}");
    }
}

/// The reaction to `outcome` of the first request of `input`'s script: its events (agent
/// messages reduced to their final text) and flow.
fn react(input: &str, outcome: RequestOutcome) -> (Vec<String>, Flow) {
    let mut script = script(input);
    let then = script
        .steps
        .iter()
        .find_map(|s| match s {
            Step::Ask { then, .. } => Some(then.clone()),
            _ => None,
        })
        .expect("a request step");
    let reaction = script.react(&then, &outcome);
    let lines = reaction
        .events
        .iter()
        .map(|e| describe(&Step::Emit(e.clone())))
        .filter(|l| !l.starts_with("start") && !l.contains("AgentMessage("))
        .collect();
    (lines, reaction.flow)
}

#[test]
fn reactions_to_approval_outcomes() {
    use core_sm::wire::server_requests::{NetworkPolicyAction as A, NetworkPolicyAmendment};
    use CommandDecision as D;
    let exec = "/approve-exec make --output a\\nb --duration 9";
    let ran = vec![
        r#"delta 0 CommandOutput("a\n")"#.to_owned(),
        r#"delta 0 CommandOutput("b")"#.to_owned(),
        r#"done 0 exec "make" in /w Completed Some("a\nb") Some(0)"#.to_owned(),
    ];
    let network = |action| D::ApplyNetworkPolicyAmendment {
        network_policy_amendment: NetworkPolicyAmendment { host: "h".into(), action },
    };
    let table: Vec<(&str, RequestOutcome, Vec<String>, Flow)> = vec![
        (exec, RequestOutcome::Command(D::Accept), ran.clone(), Flow::Continue),
        (exec, RequestOutcome::Command(D::AcceptForSession), ran.clone(), Flow::Continue),
        (
            exec,
            RequestOutcome::Command(D::AcceptWithExecpolicyAmendment {
                execpolicy_amendment: vec!["make".into()],
            }),
            ran.clone(),
            Flow::Continue,
        ),
        (exec, RequestOutcome::Command(network(A::Allow)), ran.clone(), Flow::Continue),
        (exec, RequestOutcome::Command(network(A::Deny)), vec![], Flow::Continue),
        (exec, RequestOutcome::Command(D::Decline), vec![], Flow::Continue),
        (exec, RequestOutcome::Command(D::Cancel), vec![], Flow::AwaitInterrupt),
        (exec, RequestOutcome::ClientError { code: -1, message: "x".into() }, vec![], Flow::Continue),
        (exec, RequestOutcome::Malformed { error: "x".into() }, vec![], Flow::Continue),
        (exec, RequestOutcome::Abandoned, vec![], Flow::Stop),
        (exec, RequestOutcome::UserInput(Default::default()), vec![], Flow::Continue),
        (
            "/approve-exec false --exit 3",
            RequestOutcome::Command(D::Accept),
            vec![r#"done 0 exec "false" in /w Failed Some("") Some(3)"#.to_owned()],
            Flow::Continue,
        ),
        (
            "/approve-patch f add",
            RequestOutcome::FileChange(FileChangeDecision::Accept),
            vec![r#"done 0 patch f Add "hello from turnstile\n" Completed"#.to_owned()],
            Flow::Continue,
        ),
        (
            "/approve-patch f add",
            RequestOutcome::FileChange(FileChangeDecision::AcceptForSession),
            vec![r#"done 0 patch f Add "hello from turnstile\n" Completed"#.to_owned()],
            Flow::Continue,
        ),
        ("/approve-patch f", RequestOutcome::FileChange(FileChangeDecision::Decline), vec![], Flow::Continue),
        (
            "/approve-patch f",
            RequestOutcome::FileChange(FileChangeDecision::Cancel),
            vec![],
            Flow::AwaitInterrupt,
        ),
        (
            "/approve-patch f",
            RequestOutcome::ClientError { code: 1, message: "x".into() },
            vec![],
            Flow::Continue,
        ),
        ("/approve-patch f", RequestOutcome::Abandoned, vec![], Flow::Stop),
    ];
    for (input, outcome, want, flow) in table {
        assert_eq!(react(input, outcome.clone()), (want, flow), "{input} {outcome:?}");
    }
}

#[test]
fn reactions_report_answers() {
    use core_sm::wire::server_requests::{ElicitationAction, PermissionGrantScope, UserInputAnswer};
    let done = |text: &str| vec![format!("done 0 agentMessage {text:?}")];
    let answers = |pairs: &[(&str, &[&str])]| {
        RequestOutcome::UserInput(
            pairs
                .iter()
                .map(|(id, a)| {
                    (
                        (*id).to_owned(),
                        UserInputAnswer { answers: a.iter().map(|s| (*s).to_owned()).collect() },
                    )
                })
                .collect(),
        )
    };
    let client_error = RequestOutcome::ClientError { code: -1, message: "no".into() };
    let ask = "/ask Env?\n/ask Token? --id tok --secret\n/ask Why?";
    let table: Vec<(&str, RequestOutcome, Vec<String>)> = vec![
        (
            "/permissions --write /w /x --network",
            RequestOutcome::Permissions {
                granted: serde_json::from_value(json!({"fileSystem": {"write": ["/w"]}})).unwrap(),
                scope: PermissionGrantScope::Session,
            },
            done(r#"Permissions granted for the session: {"fileSystem":{"write":["/w"]}}"#),
        ),
        (
            "/permissions --network",
            RequestOutcome::Permissions { granted: Default::default(), scope: PermissionGrantScope::Turn },
            done("Permissions granted for the turn: {}"),
        ),
        (
            "/permissions --network",
            client_error.clone(),
            done("Permissions request failed (client error -1: no); nothing granted."),
        ),
        (
            ask,
            answers(&[("q1", &["dev", "qa"]), ("tok", &["hunter2"]), ("q3", &[]), ("extra", &["x"])]),
            done("Answers: q1: dev, qa; tok: (secret, 7 characters); q3: (no answer)"),
        ),
        (ask, RequestOutcome::Malformed { error: "bad".into() }, done("No answers (malformed answer: bad).")),
        (
            "/tool lookup",
            RequestOutcome::DynamicTool {
                content_items: vec![
                    json!({"type": "inputText", "text": "42"}),
                    json!({"type": "inputImage", "imageUrl": "data:"}),
                ],
                success: true,
            },
            done("Tool lookup succeeded: 42\n[inputImage]"),
        ),
        (
            "/tool lookup",
            RequestOutcome::DynamicTool { content_items: vec![], success: false },
            done("Tool lookup failed: (no output)"),
        ),
        ("/tool lookup", client_error.clone(), done("Tool lookup failed (client error -1: no).")),
        (
            "/elicit form Name?",
            RequestOutcome::Elicitation {
                action: ElicitationAction::Accept,
                content: Some(json!({"answer": "Ada"})),
                meta: None,
            },
            done(r#"Elicitation accept: {"answer":"Ada"}"#),
        ),
        (
            "/elicit url Go https://x",
            RequestOutcome::Elicitation { action: ElicitationAction::Cancel, content: None, meta: None },
            done("Elicitation cancel."),
        ),
        ("/elicit form Name?", client_error.clone(), done("Elicitation declined (client error -1: no).")),
        (
            "/auth-refresh",
            RequestOutcome::AuthTokens {
                access_token: "secret-token".into(),
                account_id: "acct".into(),
                plan_type: Some("plus".into()),
            },
            done(
                "Auth tokens refreshed for account acct (plan plus); access token redacted (12 characters).",
            ),
        ),
        (
            "/auth-refresh",
            RequestOutcome::AuthFailed { message: "auth refresh request timed out after 10s".into() },
            done("Auth refresh failed: auth refresh request timed out after 10s"),
        ),
    ];
    for (input, outcome, want) in table {
        assert_eq!(react(input, outcome.clone()), (want, Flow::Continue), "{input} {outcome:?}");
    }
    for input in ["/permissions --network", ask, "/tool t", "/elicit form x", "/auth-refresh"] {
        assert_eq!(react(input, RequestOutcome::Abandoned), (vec![], Flow::Stop), "{input}");
    }
}

#[test]
fn reactions_count_as_output_and_take_fresh_item_keys() {
    let mut s = script("/approve-exec ls --output 12345678\n/message m");
    let Some(Step::Ask { then, .. }) = s.steps.get(1).cloned() else { panic!("{:?}", s.steps) };
    let before = s.last_usage().output_tokens;
    s.react(&then, &RequestOutcome::Command(CommandDecision::Accept));
    assert_eq!(s.last_usage().output_tokens, before + 2);
    let mut s = script("/tool t\n/message m");
    let Some(Step::Ask { then, .. }) = s.steps.get(1).cloned() else { panic!() };
    let events = s.react(&then, &RequestOutcome::DynamicTool { content_items: vec![], success: true }).events;
    assert!(matches!(&events[0], EngineEvent::ItemStarted { key: ItemKey(1), .. }), "{events:?}");
}

#[test]
fn network_report_lists_verdicts_in_order() {
    let mut s = script("/network a.com:443 b.com:443 a.com:443");
    let Some(Step::Network(attempts)) = s.steps.get(1).cloned() else { panic!() };
    let denied = "Network access to \"https://b.com:443\" was rejected by user.".to_owned();
    let events = s.network_report(&attempts, &[Ok(()), Err(denied), Ok(())]);
    let EngineEvent::ItemCompleted { body: ItemBody::AgentMessage { text, .. }, .. } = events.last().unwrap()
    else {
        panic!("{events:?}")
    };
    assert_eq!(
        text,
        "Network https://a.com:443: allowed.\n\
         Network https://b.com:443: denied (Network access to \"https://b.com:443\" was rejected by user.)\n\
         Network https://a.com:443: allowed."
    );
}
