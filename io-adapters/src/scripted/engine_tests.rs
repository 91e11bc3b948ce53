//! Engine and runner tests: commands in through [`ScriptedEngine`], events out, with the
//! test playing the machine (sending back resolutions, verdicts and interrupts).

use super::*;
use core_sm::wire::UserInput;
use core_sm::{EngineEvent, MachineConfig, ThreadSettings, TurnId};
use std::time::Duration;

fn ids() -> (ThreadId, TurnId) {
    (
        ThreadId::parse("0190a5b2-0000-7000-8000-000000000001").unwrap(),
        TurnId::parse("0190a5b2-0000-7000-8000-000000000002").unwrap(),
    )
}

fn settings() -> ThreadSettings {
    // ThreadSettings is non-exhaustive; take the one a real machine sends.
    let mut machine = core_sm::Machine::new(MachineConfig::new(1));
    let now = core_sm::Timestamp(1_764_000_000_000);
    let conn = core_sm::ConnectionId(0);
    machine.handle(now, core_sm::Input::ConnectionOpened { conn });
    for text in [
        r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"t","version":"1"}}}"#,
        r#"{"id":2,"method":"thread/start","params":{"cwd":"/w"}}"#,
    ] {
        machine.handle(now, core_sm::Input::Frame { conn, text: text.into() });
    }
    while let Some(out) = machine.poll_output() {
        if let core_sm::Output::Engine { command: EngineCommand::OpenThread { settings }, .. } = out {
            return settings;
        }
    }
    panic!("no OpenThread");
}

fn start(turn_id: TurnId, text: &str) -> EngineCommand {
    EngineCommand::StartTurn {
        turn_id,
        input: vec![UserInput::Text { text: text.into(), text_elements: Vec::new() }],
        settings: settings(),
    }
}

async fn collect_until_end(rx: &mut mpsc::Receiver<(ThreadId, EngineEvent)>) -> Vec<EngineEvent> {
    let mut events = Vec::new();
    loop {
        let (_, event) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("engine went quiet")
            .expect("channel open");
        let end = matches!(
            event,
            EngineEvent::TurnCompleted { .. }
                | EngineEvent::TurnAborted { .. }
                | EngineEvent::TurnFailed { .. }
        );
        events.push(event);
        if end {
            return events;
        }
    }
}

#[tokio::test]
async fn runs_a_turn_start_to_end() {
    let (tx, mut rx) = mpsc::channel(128);
    let mut engine = ScriptedEngine::new(Scenario::default(), tx);
    let (thread, turn) = ids();
    engine.command(thread, EngineCommand::OpenThread { settings: settings() });
    engine.command(thread, start(turn, "hi"));
    let events = collect_until_end(&mut rx).await;
    assert!(matches!(events[0], EngineEvent::TurnStarted { .. }));
    assert!(matches!(events[events.len() - 2], EngineEvent::TokenUsage { .. }));
    assert!(matches!(events.last(), Some(EngineEvent::TurnCompleted { .. })));
    assert_eq!(engine.thread_count(), 1);
}

#[tokio::test]
async fn interrupt_cancels_a_sleeping_turn() {
    let (tx, mut rx) = mpsc::channel(128);
    let mut engine = ScriptedEngine::new(Scenario::default(), tx);
    let (thread, turn) = ids();
    engine.command(thread, start(turn, "/sleep 60000\n/message never"));
    let (_, first) = rx.recv().await.unwrap();
    assert_eq!(first, EngineEvent::TurnStarted { turn_id: turn });
    engine.command(thread, EngineCommand::Interrupt { turn_id: turn });
    let rest = collect_until_end(&mut rx).await;
    assert_eq!(rest, vec![EngineEvent::TurnAborted { turn_id: turn }]);
}

#[tokio::test]
async fn steer_adds_a_message_after_the_remaining_steps() {
    let (tx, mut rx) = mpsc::channel(128);
    let mut engine = ScriptedEngine::new(Scenario::default(), tx);
    let (thread, turn) = ids();
    engine.command(thread, start(turn, "/sleep 50\n/warn w"));
    let _ = rx.recv().await.unwrap();
    engine.command(
        thread,
        EngineCommand::Steer {
            turn_id: turn,
            input: vec![UserInput::Text { text: "more".into(), text_elements: Vec::new() }],
        },
    );
    let events = collect_until_end(&mut rx).await;
    assert!(matches!(&events[0], EngineEvent::Warning { message } if message == "w"));
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::ItemCompleted {
                body: core_sm::wire::ItemBody::AgentMessage { text, .. }, ..
            } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec!["You steered: more"]);
    assert!(matches!(events.last(), Some(EngineEvent::TurnCompleted { .. })));
}

#[tokio::test]
async fn close_thread_drops_its_task() {
    let (tx, mut rx) = mpsc::channel(128);
    let mut engine = ScriptedEngine::new(Scenario::default(), tx);
    let (thread, turn) = ids();
    engine.command(thread, start(turn, "/sleep 60000"));
    let _ = rx.recv().await.unwrap();
    engine.command(thread, EngineCommand::CloseThread);
    assert_eq!(engine.thread_count(), 0);
    let quiet = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await;
    assert!(quiet.is_err(), "closed thread still reported {quiet:?}");
}

// ---- Requests: the test plays the machine's side. ----

use core_sm::wire::server_requests::{CommandDecision, FileChangeDecision};
use core_sm::wire::ItemBody;
use core_sm::{EngineRequest, RequestKey, RequestOutcome};

fn turn(n: u8) -> TurnId {
    TurnId::parse(&format!("0190a5b2-0000-7000-8000-0000000001{n:02}")).unwrap()
}

/// A scripted engine for one thread, with the test as its machine.
struct Fake {
    engine: ScriptedEngine,
    events: mpsc::Receiver<(ThreadId, EngineEvent)>,
    thread: ThreadId,
}

impl Fake {
    fn new() -> Self {
        let (tx, events) = mpsc::channel(128);
        let engine = ScriptedEngine::new(Scenario::default(), tx);
        Self { engine, events, thread: ids().0 }
    }

    fn with_scenario(scenario: &str) -> Self {
        let (tx, events) = mpsc::channel(128);
        let engine = ScriptedEngine::new(Scenario::parse(scenario).unwrap(), tx);
        Self { engine, events, thread: ids().0 }
    }

    fn send(&mut self, command: EngineCommand) {
        self.engine.command(self.thread, command);
    }

    fn start(&mut self, turn_id: TurnId, text: &str) {
        self.send(start(turn_id, text));
    }

    fn resolve(&mut self, key: u64, outcome: RequestOutcome) {
        self.send(EngineCommand::RequestResolved { key: RequestKey(key), outcome });
    }

    fn verdict(&mut self, key: u64, verdict: Result<(), String>) {
        self.send(EngineCommand::NetworkVerdict { key: RequestKey(key), verdict });
    }

    async fn next(&mut self) -> EngineEvent {
        let (thread, event) = tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .expect("engine went quiet")
            .expect("channel open");
        assert_eq!(thread, self.thread);
        event
    }

    /// Events up to and including the next request (described), and that request.
    async fn until_request(&mut self) -> (Vec<String>, RequestKey, EngineRequest) {
        let mut before = Vec::new();
        loop {
            match self.next().await {
                EngineEvent::Request { key, request, .. } => return (before, key, request),
                other => before.push(brief(&other)),
            }
        }
    }

    /// The rest of the turn, described.
    async fn rest(&mut self) -> Vec<String> {
        collect_until_end(&mut self.events).await.iter().map(brief).collect()
    }

    /// Asserts the engine reports nothing for a while (it is waiting).
    async fn quiet(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(150), self.events.recv()).await;
        assert!(got.is_err(), "expected a waiting engine, got {got:?}");
    }
}

/// One line per event; agent messages by their final text only.
fn brief(event: &EngineEvent) -> String {
    match event {
        EngineEvent::TurnStarted { .. } => "turn started".into(),
        EngineEvent::ItemStarted { key, body, .. } => format!("start {} {}", key.0, body.kind()),
        EngineEvent::ItemDelta { key, delta, .. } => format!("delta {} {delta:?}", key.0),
        EngineEvent::ItemCompleted { key, body, .. } => match body {
            ItemBody::AgentMessage { text, .. } => format!("message {} {text:?}", key.0),
            ItemBody::CommandExecution { status, exit_code, aggregated_output, .. } => {
                format!("done {} exec {status:?} {exit_code:?} {aggregated_output:?}", key.0)
            }
            ItemBody::FileChange { status, .. } => format!("done {} patch {status:?}", key.0),
            other => format!("done {} {}", key.0, other.kind()),
        },
        EngineEvent::Request { key, request, .. } => format!("request {} {request:?}", key.0),
        EngineEvent::NetworkAttempt { key, host, protocol, port, .. } => {
            format!("attempt {} {}://{host}:{port}", key.0, protocol.label())
        }
        EngineEvent::TokenUsage { .. } => "usage".into(),
        EngineEvent::TurnCompleted { .. } => "turn completed".into(),
        EngineEvent::TurnAborted { .. } => "turn aborted".into(),
        other => format!("{other:?}"),
    }
}

/// Message events without their start and deltas.
fn messages_only(lines: Vec<String>) -> Vec<String> {
    lines.into_iter().filter(|l| !l.starts_with("start") && !l.contains("AgentMessage(")).collect()
}

#[tokio::test]
async fn accepted_command_runs_after_the_answer() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/approve-exec make --output ok\\n --reason build\n/message done");
    let (before, key, request) = fake.until_request().await;
    assert_eq!(before, ["turn started"]);
    assert_eq!(key, RequestKey(0));
    let EngineRequest::CommandApproval { item, command, cwd, reason, approval_id, .. } = request else {
        panic!("{request:?}")
    };
    assert_eq!((item.0, command.as_str(), cwd.as_str()), (0, "make", "/w"));
    assert_eq!((reason.as_deref(), approval_id), (Some("build"), None));
    fake.quiet().await;
    fake.resolve(0, RequestOutcome::Command(CommandDecision::Accept));
    assert_eq!(
        messages_only(fake.rest().await),
        [
            r#"delta 0 CommandOutput("ok\n")"#,
            r#"done 0 exec Completed Some(0) Some("ok\n")"#,
            r#"message 1 "done""#,
            "usage",
            "turn completed"
        ]
    );
}

#[tokio::test]
async fn declined_command_goes_on_with_the_next_steps() {
    for outcome in [
        RequestOutcome::Command(CommandDecision::Decline),
        RequestOutcome::ClientError { code: -32000, message: "closed".into() },
        RequestOutcome::Malformed { error: "bad".into() },
    ] {
        let mut fake = Fake::new();
        fake.start(turn(1), "/approve-exec rm -rf /\n/message next");
        fake.until_request().await;
        fake.resolve(0, outcome.clone());
        // The machine completed the item itself: the engine does not.
        assert_eq!(
            messages_only(fake.rest().await),
            [r#"message 1 "next""#, "usage", "turn completed"],
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn cancelled_command_aborts_when_the_interrupt_arrives() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/approve-exec make\n/message never");
    fake.until_request().await;
    fake.resolve(0, RequestOutcome::Command(CommandDecision::Cancel));
    fake.quiet().await;
    fake.send(EngineCommand::Interrupt { turn_id: turn(1) });
    assert_eq!(fake.rest().await, ["turn aborted"]);
}

#[tokio::test]
async fn abandoned_request_stops_the_turn_quietly_and_the_thread_goes_on() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/approve-exec make\n/message never");
    fake.until_request().await;
    fake.resolve(0, RequestOutcome::Abandoned);
    fake.quiet().await;
    // Keys go on counting within the thread.
    fake.start(turn(2), "/approve-patch a.txt add\n/message ok");
    let (_, key, request) = fake.until_request().await;
    assert_eq!(key, RequestKey(1));
    assert!(matches!(request, EngineRequest::FileChangeApproval { .. }), "{request:?}");
    fake.resolve(1, RequestOutcome::FileChange(FileChangeDecision::Accept));
    assert_eq!(
        messages_only(fake.rest().await),
        ["done 0 patch Completed", r#"message 1 "ok""#, "usage", "turn completed"]
    );
}

#[tokio::test]
async fn cancelled_patch_waits_for_the_interrupt() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/approve-patch a.txt\n/message never");
    fake.until_request().await;
    fake.resolve(0, RequestOutcome::FileChange(FileChangeDecision::Cancel));
    fake.quiet().await;
    fake.send(EngineCommand::Interrupt { turn_id: turn(1) });
    assert_eq!(fake.rest().await, ["turn aborted"]);
}

#[tokio::test]
async fn interrupt_while_waiting_aborts_and_the_late_abandonment_is_ignored() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/ask Which env?\n/message never");
    fake.until_request().await;
    fake.send(EngineCommand::Interrupt { turn_id: turn(1) });
    assert_eq!(fake.rest().await, ["turn aborted"]);
    fake.resolve(0, RequestOutcome::Abandoned);
    fake.resolve(0, RequestOutcome::UserInput(Default::default()));
    fake.quiet().await;
    fake.start(turn(2), "hi");
    assert_eq!(
        messages_only(fake.rest().await),
        ["turn started", r#"message 0 "You said: hi""#, "usage", "turn completed"]
    );
}

#[tokio::test]
async fn unexpected_and_duplicate_answers_are_ignored() {
    let mut fake = Fake::new();
    // Before any turn.
    fake.resolve(7, RequestOutcome::Abandoned);
    fake.verdict(7, Ok(()));
    fake.start(turn(1), "/tool lookup {\"q\": 1}\n/sleep 50\n/message end");
    let (_, key, request) = fake.until_request().await;
    assert_eq!(key, RequestKey(0));
    assert_eq!(
        request,
        EngineRequest::DynamicToolCall {
            tool: "lookup".into(),
            namespace: None,
            arguments: serde_json::json!({"q": 1})
        }
    );
    // Another key, a verdict nobody asked for, an interrupt for another turn: still waiting.
    fake.resolve(3, RequestOutcome::Command(CommandDecision::Accept));
    fake.verdict(0, Ok(()));
    fake.send(EngineCommand::Interrupt { turn_id: turn(9) });
    fake.quiet().await;
    let output = RequestOutcome::DynamicTool {
        content_items: vec![serde_json::json!({"type": "inputText", "text": "42"})],
        success: true,
    };
    fake.resolve(0, output.clone());
    fake.resolve(0, output); // duplicate, during the sleep
    assert_eq!(
        messages_only(fake.rest().await),
        // The reply takes the next free item key (the later message's was given when the
        // script was built).
        [r#"message 1 "Tool lookup succeeded: 42""#, r#"message 0 "end""#, "usage", "turn completed"]
    );
}

#[tokio::test]
async fn steer_while_waiting_lands_after_the_remaining_steps() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/permissions --write /w\n/message after");
    let (_, _, request) = fake.until_request().await;
    assert!(matches!(request, EngineRequest::Permissions { .. }));
    fake.send(EngineCommand::Steer {
        turn_id: turn(1),
        input: vec![UserInput::Text { text: "hurry".into(), text_elements: Vec::new() }],
    });
    fake.quiet().await;
    fake.resolve(
        0,
        RequestOutcome::Permissions {
            granted: serde_json::from_value(serde_json::json!({"fileSystem": {"write": ["/w"]}})).unwrap(),
            scope: core_sm::wire::server_requests::PermissionGrantScope::Turn,
        },
    );
    assert_eq!(
        messages_only(fake.rest().await),
        [
            r#"message 2 "Permissions granted for the turn: {\"fileSystem\":{\"write\":[\"/w\"]}}""#,
            r#"message 0 "after""#,
            r#"message 1 "You steered: hurry""#,
            "usage",
            "turn completed"
        ]
    );
}

#[tokio::test]
async fn network_attempts_are_all_reported_before_waiting() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/network a.com:443 b.com:443 a.com:443\n/message end");
    let mut first = Vec::new();
    for _ in 0..4 {
        first.push(brief(&fake.next().await));
    }
    assert_eq!(
        first,
        [
            "turn started",
            "attempt 0 https://a.com:443",
            "attempt 1 https://b.com:443",
            "attempt 2 https://a.com:443"
        ]
    );
    fake.quiet().await;
    // Verdicts in the machine's order (a.com's prompt answered first, releasing keys 0 and 2),
    // plus a duplicate and a stranger.
    let denied = "Network access to \"https://b.com:443\" was rejected by user.".to_owned();
    fake.verdict(0, Ok(()));
    fake.verdict(2, Ok(()));
    fake.verdict(2, Err("late".into()));
    fake.verdict(9, Ok(()));
    fake.quiet().await;
    fake.verdict(1, Err(denied));
    assert_eq!(
        messages_only(fake.rest().await),
        [
            "message 1 \"Network https://a.com:443: allowed.\\nNetwork https://b.com:443: denied (Network access to \\\"https://b.com:443\\\" was rejected by user.)\\nNetwork https://a.com:443: allowed.\"",
            r#"message 0 "end""#,
            "usage",
            "turn completed"
        ]
    );
}

#[tokio::test]
async fn auth_refresh_and_elicitation_report_their_outcomes() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/auth-refresh acct-0\n/elicit url Log in https://x.io --id e1");
    let (_, key, request) = fake.until_request().await;
    assert_eq!(request, EngineRequest::AuthRefresh { previous_account_id: Some("acct-0".into()) });
    fake.resolve(
        key.0,
        RequestOutcome::AuthTokens {
            access_token: "tok".into(),
            account_id: "acct-1".into(),
            plan_type: None,
        },
    );
    let (before, key, request) = fake.until_request().await;
    assert_eq!(
        messages_only(before),
        [
            r#"message 0 "Auth tokens refreshed for account acct-1 (plan unknown); access token redacted (3 characters).""#
        ]
    );
    let EngineRequest::Elicitation { server_name, request } = request else { panic!("{request:?}") };
    assert_eq!(server_name, "scripted-mcp");
    assert_eq!(
        serde_json::Value::Object(request),
        serde_json::json!({"mode": "url", "message": "Log in", "url": "https://x.io", "elicitationId": "e1"})
    );
    fake.resolve(
        key.0,
        RequestOutcome::Elicitation {
            action: core_sm::wire::server_requests::ElicitationAction::Decline,
            content: None,
            meta: None,
        },
    );
    assert_eq!(
        messages_only(fake.rest().await),
        [r#"message 1 "Elicitation decline.""#, "usage", "turn completed"]
    );
}

#[tokio::test]
async fn scenario_steps_make_requests_too() {
    let mut fake = Fake::with_scenario(
        r#"{"turns": [{"steps": [
            {"ask": {"questions": [{"question": "Env?", "options": ["dev", "prod"]}]}},
            {"approveExec": {"command": "deploy", "exitCode": 1}}
        ]}]}"#,
    );
    fake.start(turn(1), "go");
    let (_, key, request) = fake.until_request().await;
    let EngineRequest::UserInput { questions, is_blocking: true } = request else { panic!("{request:?}") };
    assert_eq!(questions[0].id, "q1");
    let answers =
        [("q1".to_owned(), core_sm::wire::server_requests::UserInputAnswer { answers: vec!["prod".into()] })];
    fake.resolve(key.0, RequestOutcome::UserInput(answers.into_iter().collect()));
    let (before, key, _) = fake.until_request().await;
    assert_eq!(messages_only(before), [r#"message 1 "Answers: q1: prod""#]);
    assert_eq!(key, RequestKey(1));
    fake.resolve(1, RequestOutcome::Command(CommandDecision::AcceptForSession));
    assert_eq!(
        messages_only(fake.rest().await),
        ["done 0 exec Failed Some(1) Some(\"\")", "usage", "turn completed"]
    );
}

#[tokio::test]
async fn close_thread_while_waiting_ends_the_task() {
    let mut fake = Fake::new();
    fake.start(turn(1), "/approve-exec make");
    fake.until_request().await;
    fake.send(EngineCommand::CloseThread);
    assert_eq!(fake.engine.thread_count(), 0);
    fake.quiet().await;
}
