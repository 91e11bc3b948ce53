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
        (
            "/nope",
            vec![
                "turn started",
                r#"start 0 agentMessage """#,
                r#"delta 0 AgentMessage("Unknown directive `/nope`. ")"#,
                r#"delta 0 AgentMessage("Known directives: /message, ")"#,
                r#"delta 0 AgentMessage("/reasoning, /plan, /exec, ")"#,
                r#"delta 0 AgentMessage("/patch, /sleep, /fail, ")"#,
                r#"delta 0 AgentMessage("/retry, /warn, /usage.")"#,
                "done 0 agentMessage \"Unknown directive `/nope`. Known directives: /message, /reasoning, /plan, /exec, /patch, /sleep, /fail, /retry, /warn, /usage.\"",
                "usage last=2/32 total=34",
                "turn completed",
            ],
        ),
    ];
    for (input, want) in table {
        assert_eq!(run(input, 0, &none), want, "input {input:?}");
    }
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
