//! Building a turn's script: a pure function from the turn's input (and the scenario) to the
//! exact sequence of [`EngineEvent`]s, waits and requests the engine will produce.
//!
//! A [`Script`] holds the steps from `TurnStarted` through the last item; [`Script::finish`]
//! gives the tail (`TokenUsage`, then `TurnCompleted` or `TurnFailed`). Steered input is
//! appended with [`Script::steer`] while the script runs, so it lands after the remaining
//! steps and before the tail.
//!
//! Requests are the only steps whose effects depend on the world: a [`Step::Ask`] is sent and
//! its outcome awaited by the runner, which then asks [`Script::react`] what follows (run the
//! approved command, echo the answers, stop, ...). [`Step::Network`] is the same for a batch of
//! network attempts ([`Script::network_report`]). Both stay pure functions of their inputs.

use core_sm::wire::server_requests::{
    CommandDecision, ElicitationAction, FileChangeDecision, FileSystemPermissions, NetworkPermissions,
    NetworkPolicyAction, NetworkProtocol, PermissionGrantScope, PermissionProfile, UserInputOption,
    UserInputQuestion,
};
use core_sm::wire::{
    input_text, CommandAction, CommandExecutionSource, CommandExecutionStatus, FileUpdateChange, ItemBody,
    PatchApplyStatus, PatchChangeKind, ThreadTokenUsage, TokenUsageBreakdown, TurnError, UserInput,
};
use core_sm::{EngineEvent, EngineRequest, ItemDelta, ItemKey, RequestOutcome, TurnId};
use serde_json::{json, Map, Value};

use super::action::{
    parse_directives, Action, ApproveExecSpec, ApprovePatchSpec, AskSpec, ElicitSpec, ExecSpec, PatchKind,
    PatchSpec, PermissionsSpec, DEFAULT_MCP_SERVER,
};
use super::scenario::Scenario;

/// Words per streamed delta.
pub const WORDS_PER_DELTA: usize = 3;

/// The model context window reported with token usage.
pub const CONTEXT_WINDOW: i64 = 200_000;

/// Placeholder file content for patches without a diff.
const PLACEHOLDER: &str = "hello from turnstile\n";

/// One step of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Report this event.
    Emit(EngineEvent),
    /// Wait this many milliseconds (real time) before the next step.
    Wait(u64),
    /// Send this request (the runner gives it a thread-unique key), wait for its outcome, then
    /// do what [`Script::react`] says for `then`.
    Ask {
        /// What is asked.
        request: EngineRequest,
        /// What the outcome leads to.
        then: Then,
    },
    /// Report these network attempts (one key each) all at once, wait for every verdict, then
    /// report them with [`Script::network_report`].
    Network(Vec<Attempt>),
}

/// One network attempt of a [`Step::Network`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Host, as written.
    pub host: String,
    /// Protocol.
    pub protocol: NetworkProtocol,
    /// Port.
    pub port: u16,
}

impl Attempt {
    /// `<proto>://<host>:<port>`, as in the machine's policy messages.
    pub fn url(&self) -> String {
        format!("{}://{}:{}", self.protocol.label(), self.host, self.port)
    }
}

/// What an answered request leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Then {
    /// Run the command item `item` once approved.
    Exec {
        /// The item the machine started for the approval.
        item: ItemKey,
        /// What running it produces.
        spec: ExecSpec,
    },
    /// Apply the fileChange item `item` once approved.
    Patch {
        /// The item the machine started for the approval.
        item: ItemKey,
        /// The changes.
        changes: Vec<FileUpdateChange>,
    },
    /// Report what was granted.
    Permissions,
    /// Echo the answers to the questions with these ids (`true`: secret, not echoed).
    Answers(Vec<(String, bool)>),
    /// Echo the output of the dynamic tool with this name.
    Tool(String),
    /// Report what the user did with the elicitation.
    Elicitation,
    /// Report the token refresh (tokens redacted).
    AuthRefresh,
}

/// How the script goes on after a request's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// With the next step.
    Continue,
    /// Not at all: the machine interrupts the turn (a `cancel` decision); wait for the
    /// `Interrupt`, then report `TurnAborted`.
    AwaitInterrupt,
    /// Not at all: the request was abandoned because the turn ended; report nothing more.
    Stop,
}

/// What follows a request's outcome: events to report at once, then how to go on.
#[derive(Debug, Clone, PartialEq)]
pub struct Reaction {
    /// Events to report now.
    pub events: Vec<EngineEvent>,
    /// Then.
    pub flow: Flow,
}

impl Reaction {
    fn go(events: Vec<EngineEvent>) -> Self {
        Self { events, flow: Flow::Continue }
    }

    fn halt(flow: Flow) -> Self {
        Self { events: Vec::new(), flow }
    }
}

/// What the script needs to know about the turn.
#[derive(Debug, Clone, Copy)]
pub struct TurnContext<'a> {
    /// The turn.
    pub turn_id: TurnId,
    /// The turn's position in its thread, from 0.
    pub turn_index: u64,
    /// The user's input.
    pub input: &'a [UserInput],
    /// The thread's working directory (for command items).
    pub cwd: &'a str,
}

/// How a turn ends when its steps have run.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// `TurnCompleted`.
    Completed,
    /// `TurnFailed` with this error.
    Failed(TurnError),
}

/// A turn's script.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The turn.
    pub turn_id: TurnId,
    /// Steps from `TurnStarted` through the last item.
    pub steps: Vec<Step>,
    /// How the turn ends.
    pub end: End,
    cwd: String,
    next_key: u64,
    input_chars: usize,
    output_chars: usize,
    reasoning_chars: usize,
    explicit_usage: Option<(i64, i64)>,
}

/// The script for a turn: the scenario's steps if it scripts this turn, else the directives in
/// the input text, else an echo of the input.
pub fn script_for_turn(ctx: &TurnContext<'_>, scenario: &Scenario) -> Script {
    let text = input_text(ctx.input);
    let actions = match scenario.steps_for(&text, ctx.turn_index) {
        Some(steps) => steps.to_vec(),
        None => parse_directives(&text).unwrap_or_else(|| vec![Action::Message(echo(&text))]),
    };
    let mut script = Script {
        turn_id: ctx.turn_id,
        steps: vec![Step::Emit(EngineEvent::TurnStarted { turn_id: ctx.turn_id })],
        end: End::Completed,
        cwd: ctx.cwd.to_owned(),
        next_key: 0,
        input_chars: text.chars().count(),
        output_chars: 0,
        reasoning_chars: 0,
        explicit_usage: None,
    };
    for action in actions {
        if !script.push(action) {
            break;
        }
    }
    script
}

/// The agent's answer to input without directives.
pub fn echo(text: &str) -> String {
    if text.is_empty() {
        "You sent no text.".to_owned()
    } else {
        format!("You said: {text}")
    }
}

/// Splits `text` into pieces of `words` words each (whitespace stays with the word before it;
/// leading whitespace with the first piece). The pieces concatenate to `text`.
pub fn chunk_words(text: &str, words: usize) -> Vec<String> {
    let words = words.max(1);
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        let starts_word = !c.is_whitespace() && !in_word;
        in_word = !c.is_whitespace();
        if starts_word {
            if seen > 0 && seen % words == 0 {
                chunks.push(text[start..i].to_owned());
                start = i;
            }
            seen += 1;
        }
    }
    if start < text.len() {
        chunks.push(text[start..].to_owned());
    }
    chunks
}

/// Tokens "used" by `chars` characters of text (4 characters per token, rounded up).
pub fn tokens_for(chars: usize) -> i64 {
    i64::try_from(chars.div_ceil(4)).unwrap_or(i64::MAX)
}

/// Whether a command decision lets the command run.
pub fn runs_command(decision: &CommandDecision) -> bool {
    match decision {
        CommandDecision::Accept
        | CommandDecision::AcceptForSession
        | CommandDecision::AcceptWithExecpolicyAmendment { .. } => true,
        CommandDecision::ApplyNetworkPolicyAmendment { network_policy_amendment: a } => {
            a.action == NetworkPolicyAction::Allow
        }
        CommandDecision::Decline | CommandDecision::Cancel => false,
    }
}

/// The schema of `/elicit form` when none is given: one required string property `answer`.
pub fn default_form_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"answer": {"type": "string", "title": "Answer"}},
        "required": ["answer"]
    })
}

/// Why a request produced no usable answer, if it did not.
fn failure(outcome: &RequestOutcome) -> Option<String> {
    match outcome {
        RequestOutcome::ClientError { code, message } => Some(format!("client error {code}: {message}")),
        RequestOutcome::Malformed { error } => Some(format!("malformed answer: {error}")),
        RequestOutcome::AuthFailed { message } => Some(message.clone()),
        _ => None,
    }
}

fn started(turn_id: TurnId, key: ItemKey, body: ItemBody) -> EngineEvent {
    EngineEvent::ItemStarted { turn_id, key, body }
}

fn delta(turn_id: TurnId, key: ItemKey, delta: ItemDelta) -> EngineEvent {
    EngineEvent::ItemDelta { turn_id, key, delta }
}

fn completed(turn_id: TurnId, key: ItemKey, body: ItemBody) -> EngineEvent {
    EngineEvent::ItemCompleted { turn_id, key, body }
}

fn patch_changes(spec: PatchSpec) -> Vec<FileUpdateChange> {
    let (kind, default_diff) = match spec.kind {
        PatchKind::Add => (PatchChangeKind::Add, PLACEHOLDER.to_owned()),
        PatchKind::Delete => (PatchChangeKind::Delete, PLACEHOLDER.to_owned()),
        PatchKind::Update => {
            (PatchChangeKind::Update { move_path: None }, format!("@@ -1 +1 @@\n-hello\n+{PLACEHOLDER}"))
        }
    };
    vec![FileUpdateChange { path: spec.path, kind, diff: spec.diff.unwrap_or(default_diff) }]
}

fn permission_profile(spec: &PermissionsSpec) -> PermissionProfile {
    let list = |paths: &Vec<String>| (!paths.is_empty()).then(|| paths.clone());
    let file_system = (!spec.read.is_empty() || !spec.write.is_empty())
        .then(|| FileSystemPermissions { read: list(&spec.read), write: list(&spec.write) });
    let network = spec.network.then_some(NetworkPermissions { enabled: Some(true) });
    PermissionProfile { file_system, network }
}

fn questions(spec: AskSpec) -> Vec<UserInputQuestion> {
    (1..)
        .zip(spec.questions)
        .map(|(n, q)| UserInputQuestion {
            id: q.id.unwrap_or_else(|| format!("q{n}")),
            header: q.header.unwrap_or_else(|| format!("Question {n}")),
            question: q.question,
            is_other: q.other,
            is_secret: q.secret,
            options: q.options.map(|labels| {
                labels
                    .into_iter()
                    .map(|label| UserInputOption { label, description: String::new() })
                    .collect()
            }),
        })
        .collect()
}

fn text_of_items(items: &[Value]) -> String {
    let texts: Vec<String> = items
        .iter()
        .map(|item| {
            match (item.get("type").and_then(Value::as_str), item.get("text").and_then(Value::as_str)) {
                (Some("inputText"), Some(text)) => text.to_owned(),
                (Some(kind), _) => format!("[{kind}]"),
                (None, _) => item.to_string(),
            }
        })
        .collect();
    if texts.is_empty() {
        "(no output)".to_owned()
    } else {
        texts.join("\n")
    }
}

impl Script {
    /// Adds the steps for one action. Returns `false` once the turn has ended (`/fail`).
    fn push(&mut self, action: Action) -> bool {
        match action {
            Action::Message(text) | Action::Invalid(text) => self.message(text),
            Action::Reasoning(text) => self.reasoning(&text),
            Action::Plan(text) => self.plan(text),
            Action::Exec(spec) => self.exec(spec),
            Action::Patch(spec) => self.patch(spec),
            Action::Sleep(ms) => self.steps.push(Step::Wait(ms)),
            Action::Retry(message) => {
                let error = turn_error(message);
                let turn_id = self.turn_id;
                self.emit(EngineEvent::Retrying { turn_id, error });
            }
            Action::Warn(message) => self.emit(EngineEvent::Warning { message }),
            Action::Usage(usage) => self.explicit_usage = Some((usage.input, usage.output)),
            Action::Fail(message) => {
                self.end = End::Failed(turn_error(message));
                return false;
            }
            Action::ApproveExec(spec) => self.approve_exec(spec),
            Action::ApprovePatch(spec) => self.approve_patch(spec),
            Action::Permissions(spec) => {
                let request = EngineRequest::Permissions {
                    permissions: permission_profile(&spec),
                    reason: spec.reason,
                };
                self.steps.push(Step::Ask { request, then: Then::Permissions });
            }
            Action::Ask(spec) => {
                let questions = questions(spec);
                let ids = questions.iter().map(|q| (q.id.clone(), q.is_secret)).collect();
                let request = EngineRequest::UserInput { questions, is_blocking: true };
                self.steps.push(Step::Ask { request, then: Then::Answers(ids) });
            }
            Action::Tool(spec) => {
                let then = Then::Tool(spec.name.clone());
                let request = EngineRequest::DynamicToolCall {
                    tool: spec.name,
                    namespace: spec.namespace,
                    arguments: spec.arguments,
                };
                self.steps.push(Step::Ask { request, then });
            }
            Action::Elicit(spec) => self.elicit(spec),
            Action::Network(spec) => {
                let attempts = spec
                    .destinations
                    .into_iter()
                    .map(|d| Attempt { host: d.host, protocol: spec.protocol, port: d.port })
                    .collect();
                self.steps.push(Step::Network(attempts));
            }
            Action::AuthRefresh(spec) => {
                let request = EngineRequest::AuthRefresh { previous_account_id: spec.previous_account_id };
                self.steps.push(Step::Ask { request, then: Then::AuthRefresh });
            }
        }
        true
    }

    /// Appends an agent message echoing steered input (after the steps not yet run).
    pub fn steer(&mut self, input: &[UserInput]) {
        let text = input_text(input);
        self.input_chars += text.chars().count();
        self.message(format!("You steered: {text}"));
    }

    /// What follows the `outcome` of a [`Step::Ask`] whose continuation is `then`.
    ///
    /// Item effects the machine applies itself are not repeated: a declined or failed approval
    /// completes its item in the machine, and so does every dynamic tool call. An accepted
    /// command runs (output deltas, then its completion); an accepted patch completes.
    pub fn react(&mut self, then: &Then, outcome: &RequestOutcome) -> Reaction {
        if *outcome == RequestOutcome::Abandoned {
            return Reaction::halt(Flow::Stop);
        }
        match (then, outcome) {
            (Then::Exec { item, spec }, RequestOutcome::Command(decision)) if runs_command(decision) => {
                Reaction::go(self.exec_run(*item, spec))
            }
            (
                Then::Patch { item, changes },
                RequestOutcome::FileChange(FileChangeDecision::Accept | FileChangeDecision::AcceptForSession),
            ) => {
                let body =
                    ItemBody::FileChange { changes: changes.clone(), status: PatchApplyStatus::Completed };
                Reaction::go(vec![completed(self.turn_id, *item, body)])
            }
            (Then::Exec { .. }, RequestOutcome::Command(CommandDecision::Cancel))
            | (Then::Patch { .. }, RequestOutcome::FileChange(FileChangeDecision::Cancel)) => {
                Reaction::halt(Flow::AwaitInterrupt)
            }
            (Then::Exec { .. } | Then::Patch { .. }, _) => {
                if !matches!(
                    outcome,
                    RequestOutcome::Command(_)
                        | RequestOutcome::FileChange(_)
                        | RequestOutcome::ClientError { .. }
                        | RequestOutcome::Malformed { .. }
                ) {
                    tracing::warn!(?outcome, "approval resolved with an outcome of another kind; going on");
                }
                Reaction::go(Vec::new())
            }
            (report, _) => {
                let text = report_text(report, outcome);
                Reaction::go(self.message_events(text))
            }
        }
    }

    /// The agent message summing up a [`Step::Network`]'s verdicts, one line per attempt in
    /// order (`verdicts[i]` answers `attempts[i]`).
    pub fn network_report(
        &mut self,
        attempts: &[Attempt],
        verdicts: &[Result<(), String>],
    ) -> Vec<EngineEvent> {
        let lines: Vec<String> = attempts
            .iter()
            .zip(verdicts)
            .map(|(attempt, verdict)| match verdict {
                Ok(()) => format!("Network {}: allowed.", attempt.url()),
                Err(message) => format!("Network {}: denied ({message})", attempt.url()),
            })
            .collect();
        self.message_events(lines.join("\n"))
    }

    /// This turn's usage (derived from text lengths unless `/usage` set it).
    pub fn last_usage(&self) -> TokenUsageBreakdown {
        let (input, output, reasoning) = match self.explicit_usage {
            Some((input, output)) => (input, output, 0),
            None => {
                let reasoning = tokens_for(self.reasoning_chars);
                let output = tokens_for(self.output_chars) + reasoning;
                (tokens_for(self.input_chars), output, reasoning)
            }
        };
        TokenUsageBreakdown {
            total_tokens: input + output,
            input_tokens: input,
            cached_input_tokens: 0,
            cache_write_input_tokens: 0,
            output_tokens: output,
            reasoning_output_tokens: reasoning,
        }
    }

    /// The events that end the turn: `TokenUsage` (adding this turn to the thread's running
    /// `total`), then `TurnCompleted` or `TurnFailed`.
    pub fn finish(&self, total: &mut TokenUsageBreakdown) -> Vec<EngineEvent> {
        let last = self.last_usage();
        total.total_tokens += last.total_tokens;
        total.input_tokens += last.input_tokens;
        total.cached_input_tokens += last.cached_input_tokens;
        total.cache_write_input_tokens += last.cache_write_input_tokens;
        total.output_tokens += last.output_tokens;
        total.reasoning_output_tokens += last.reasoning_output_tokens;
        let turn_id = self.turn_id;
        let usage = ThreadTokenUsage { total: *total, last, model_context_window: Some(CONTEXT_WINDOW) };
        let end = match &self.end {
            End::Completed => EngineEvent::TurnCompleted { turn_id },
            End::Failed(error) => EngineEvent::TurnFailed { turn_id, error: error.clone() },
        };
        vec![EngineEvent::TokenUsage { turn_id, usage }, end]
    }

    fn emit(&mut self, event: EngineEvent) {
        self.steps.push(Step::Emit(event));
    }

    fn emit_all(&mut self, events: Vec<EngineEvent>) {
        self.steps.extend(events.into_iter().map(Step::Emit));
    }

    fn key(&mut self) -> ItemKey {
        let key = ItemKey(self.next_key);
        self.next_key += 1;
        key
    }

    /// A whole agent message (counted as output).
    fn message_events(&mut self, text: String) -> Vec<EngineEvent> {
        let key = self.key();
        let turn_id = self.turn_id;
        self.output_chars += text.chars().count();
        let body = |text: String| ItemBody::AgentMessage { text, phase: None };
        let mut events = vec![started(turn_id, key, body(String::new()))];
        for chunk in chunk_words(&text, WORDS_PER_DELTA) {
            events.push(delta(turn_id, key, ItemDelta::AgentMessage(chunk)));
        }
        events.push(completed(turn_id, key, body(text)));
        events
    }

    fn message(&mut self, text: String) {
        let events = self.message_events(text);
        self.emit_all(events);
    }

    fn reasoning(&mut self, text: &str) {
        let key = self.key();
        let turn_id = self.turn_id;
        self.reasoning_chars += text.chars().count();
        self.emit(started(turn_id, key, ItemBody::Reasoning { summary: Vec::new(), content: Vec::new() }));
        let parts: Vec<String> = text.split("\n\n").map(str::to_owned).collect();
        for (index, part) in (0i64..).zip(&parts) {
            if index > 0 {
                self.emit(delta(turn_id, key, ItemDelta::ReasoningSummaryPartAdded { index }));
            }
            for text in chunk_words(part, WORDS_PER_DELTA) {
                self.emit(delta(turn_id, key, ItemDelta::ReasoningSummary { index, text }));
            }
        }
        self.emit(completed(turn_id, key, ItemBody::Reasoning { summary: parts, content: Vec::new() }));
    }

    fn plan(&mut self, text: String) {
        let key = self.key();
        let turn_id = self.turn_id;
        self.output_chars += text.chars().count();
        self.emit(started(turn_id, key, ItemBody::Plan { text: String::new() }));
        for chunk in chunk_words(&text, WORDS_PER_DELTA) {
            self.emit(delta(turn_id, key, ItemDelta::Plan(chunk)));
        }
        self.emit(completed(turn_id, key, ItemBody::Plan { text }));
    }

    /// A command item's body.
    fn exec_body(
        &self,
        command: &str,
        status: CommandExecutionStatus,
        run: Option<(&ExecSpec, i32, i64)>,
    ) -> ItemBody {
        ItemBody::CommandExecution {
            command: command.to_owned(),
            cwd: self.cwd.clone(),
            command_actions: vec![CommandAction::Unknown { command: command.to_owned() }],
            status,
            source: CommandExecutionSource::Agent,
            aggregated_output: run.map(|(spec, _, _)| spec.output.clone()),
            exit_code: run.map(|(_, code, _)| code),
            duration_ms: run.map(|(_, _, ms)| ms),
            process_id: None,
        }
    }

    /// Running a started command item: its output deltas, then its completion.
    fn exec_run(&mut self, key: ItemKey, spec: &ExecSpec) -> Vec<EngineEvent> {
        let turn_id = self.turn_id;
        self.output_chars += spec.output.chars().count();
        let status = if spec.exit_code == 0 {
            CommandExecutionStatus::Completed
        } else {
            CommandExecutionStatus::Failed
        };
        let mut events: Vec<EngineEvent> = spec
            .output
            .split_inclusive('\n')
            .map(|line| delta(turn_id, key, ItemDelta::CommandOutput(line.to_owned())))
            .collect();
        let body = self.exec_body(&spec.command, status, Some((spec, spec.exit_code, spec.duration_ms)));
        events.push(completed(turn_id, key, body));
        events
    }

    fn exec(&mut self, spec: ExecSpec) {
        let key = self.key();
        let start = self.exec_body(&spec.command, CommandExecutionStatus::InProgress, None);
        self.emit(started(self.turn_id, key, start));
        let run = self.exec_run(key, &spec);
        self.emit_all(run);
    }

    fn patch(&mut self, spec: PatchSpec) {
        let key = self.key();
        let turn_id = self.turn_id;
        let changes = patch_changes(spec);
        self.emit(started(
            turn_id,
            key,
            ItemBody::FileChange { changes: changes.clone(), status: PatchApplyStatus::InProgress },
        ));
        self.emit(completed(
            turn_id,
            key,
            ItemBody::FileChange { changes, status: PatchApplyStatus::Completed },
        ));
    }

    /// The machine starts the command item when it asks; the engine runs it once approved.
    fn approve_exec(&mut self, spec: ApproveExecSpec) {
        let item = self.key();
        let exec = spec.exec();
        let request = EngineRequest::CommandApproval {
            item,
            approval_id: None,
            command: exec.command.clone(),
            cwd: self.cwd.clone(),
            command_actions: vec![CommandAction::Unknown { command: exec.command.clone() }],
            reason: spec.reason,
            available_decisions: spec.decisions,
            proposed_execpolicy_amendment: spec.amend,
        };
        self.steps.push(Step::Ask { request, then: Then::Exec { item, spec: exec } });
    }

    /// The machine starts the fileChange item when it asks; the engine applies it once approved.
    fn approve_patch(&mut self, spec: ApprovePatchSpec) {
        let item = self.key();
        let changes = patch_changes(spec.patch());
        let request = EngineRequest::FileChangeApproval {
            item,
            changes: changes.clone(),
            reason: spec.reason,
            grant_root: spec.grant_root,
        };
        self.steps.push(Step::Ask { request, then: Then::Patch { item, changes } });
    }

    fn elicit(&mut self, spec: ElicitSpec) {
        let mut request = Map::new();
        let server = match spec {
            ElicitSpec::Form { message, server, requested_schema } => {
                request.insert("mode".into(), json!("form"));
                request.insert("message".into(), json!(message));
                request
                    .insert("requestedSchema".into(), requested_schema.unwrap_or_else(default_form_schema));
                server
            }
            ElicitSpec::Url { message, url, server, elicitation_id } => {
                // Unique within the turn: the step's position.
                let id = elicitation_id.unwrap_or_else(|| format!("{}-{}", self.turn_id, self.steps.len()));
                request.insert("mode".into(), json!("url"));
                request.insert("message".into(), json!(message));
                request.insert("url".into(), json!(url));
                request.insert("elicitationId".into(), json!(id));
                server
            }
        };
        let server_name = server.unwrap_or_else(|| DEFAULT_MCP_SERVER.to_owned());
        let request = EngineRequest::Elicitation { server_name, request };
        self.steps.push(Step::Ask { request, then: Then::Elicitation });
    }
}

/// The agent message answering a reported request (`then` is not an approval).
fn report_text(then: &Then, outcome: &RequestOutcome) -> String {
    let failed = failure(outcome);
    match (then, outcome) {
        (Then::Permissions, RequestOutcome::Permissions { granted, scope }) => {
            let scope = match scope {
                PermissionGrantScope::Turn => "turn",
                PermissionGrantScope::Session => "session",
            };
            let granted = serde_json::to_string(granted).unwrap_or_default();
            format!("Permissions granted for the {scope}: {granted}")
        }
        (Then::Permissions, _) => format!("Permissions request failed ({}); nothing granted.", why(failed, outcome)),
        (Then::Answers(ids), RequestOutcome::UserInput(answers)) => {
            let parts: Vec<String> = ids
                .iter()
                .map(|(id, secret)| match answers.get(id).map(|a| &a.answers) {
                    None => format!("{id}: (no answer)"),
                    Some(list) if list.is_empty() => format!("{id}: (no answer)"),
                    Some(list) if *secret => {
                        let chars: usize = list.iter().map(|a| a.chars().count()).sum();
                        format!("{id}: (secret, {chars} characters)")
                    }
                    Some(list) => format!("{id}: {}", list.join(", ")),
                })
                .collect();
            format!("Answers: {}", parts.join("; "))
        }
        (Then::Answers(_), _) => format!("No answers ({}).", why(failed, outcome)),
        (Then::Tool(name), RequestOutcome::DynamicTool { content_items, success }) => {
            let verb = if *success { "succeeded" } else { "failed" };
            format!("Tool {name} {verb}: {}", text_of_items(content_items))
        }
        (Then::Tool(name), _) => format!("Tool {name} failed ({}).", why(failed, outcome)),
        (Then::Elicitation, RequestOutcome::Elicitation { action, content, .. }) => {
            let action = match action {
                ElicitationAction::Accept => "accept",
                ElicitationAction::Decline => "decline",
                ElicitationAction::Cancel => "cancel",
            };
            match content {
                Some(content) if !content.is_null() => format!("Elicitation {action}: {content}"),
                _ => format!("Elicitation {action}."),
            }
        }
        (Then::Elicitation, _) => format!("Elicitation declined ({}).", why(failed, outcome)),
        (Then::AuthRefresh, RequestOutcome::AuthTokens { access_token, account_id, plan_type }) => format!(
            "Auth tokens refreshed for account {account_id} (plan {}); access token redacted ({} characters).",
            plan_type.as_deref().unwrap_or("unknown"),
            access_token.chars().count()
        ),
        (Then::AuthRefresh, _) => format!("Auth refresh failed: {}", why(failed, outcome)),
        (Then::Exec { .. } | Then::Patch { .. }, _) => format!("Unexpected outcome: {outcome:?}"),
    }
}

/// The failure text, or a description of an outcome of an unexpected kind.
fn why(failed: Option<String>, outcome: &RequestOutcome) -> String {
    failed.unwrap_or_else(|| {
        tracing::warn!(?outcome, "request resolved with an outcome of another kind");
        format!("unexpected outcome {outcome:?}")
    })
}

fn turn_error(message: String) -> TurnError {
    TurnError { message, codex_error_info: None, additional_details: None }
}

#[cfg(test)]
#[path = "script_tests.rs"]
mod tests;
