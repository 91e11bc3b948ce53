//! Building a turn's script: a pure function from the turn's input (and the scenario) to the
//! exact sequence of [`EngineEvent`]s and waits the engine will produce.
//!
//! A [`Script`] holds the steps from `TurnStarted` through the last item; [`Script::finish`]
//! gives the tail (`TokenUsage`, then `TurnCompleted` or `TurnFailed`). Steered input is
//! appended with [`Script::steer`] while the script runs, so it lands after the remaining
//! steps and before the tail.

use core_sm::wire::{
    input_text, CommandAction, CommandExecutionSource, CommandExecutionStatus, FileUpdateChange, ItemBody,
    PatchApplyStatus, PatchChangeKind, ThreadTokenUsage, TokenUsageBreakdown, TurnError, UserInput,
};
use core_sm::{EngineEvent, ItemDelta, ItemKey, TurnId};

use super::action::{parse_directives, Action, ExecSpec, PatchKind, PatchSpec};
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
        }
        true
    }

    /// Appends an agent message echoing steered input (after the steps not yet run).
    pub fn steer(&mut self, input: &[UserInput]) {
        let text = input_text(input);
        self.input_chars += text.chars().count();
        self.message(format!("You steered: {text}"));
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

    fn key(&mut self) -> ItemKey {
        let key = ItemKey(self.next_key);
        self.next_key += 1;
        key
    }

    fn started(&mut self, key: ItemKey, body: ItemBody) {
        let turn_id = self.turn_id;
        self.emit(EngineEvent::ItemStarted { turn_id, key, body });
    }

    fn delta(&mut self, key: ItemKey, delta: ItemDelta) {
        let turn_id = self.turn_id;
        self.emit(EngineEvent::ItemDelta { turn_id, key, delta });
    }

    fn completed(&mut self, key: ItemKey, body: ItemBody) {
        let turn_id = self.turn_id;
        self.emit(EngineEvent::ItemCompleted { turn_id, key, body });
    }

    fn message(&mut self, text: String) {
        let key = self.key();
        self.output_chars += text.chars().count();
        let body = |text: String| ItemBody::AgentMessage { text, phase: None };
        self.started(key, body(String::new()));
        for chunk in chunk_words(&text, WORDS_PER_DELTA) {
            self.delta(key, ItemDelta::AgentMessage(chunk));
        }
        self.completed(key, body(text));
    }

    fn reasoning(&mut self, text: &str) {
        let key = self.key();
        self.reasoning_chars += text.chars().count();
        self.started(key, ItemBody::Reasoning { summary: Vec::new(), content: Vec::new() });
        let parts: Vec<String> = text.split("\n\n").map(str::to_owned).collect();
        for (index, part) in (0i64..).zip(&parts) {
            if index > 0 {
                self.delta(key, ItemDelta::ReasoningSummaryPartAdded { index });
            }
            for text in chunk_words(part, WORDS_PER_DELTA) {
                self.delta(key, ItemDelta::ReasoningSummary { index, text });
            }
        }
        self.completed(key, ItemBody::Reasoning { summary: parts, content: Vec::new() });
    }

    fn plan(&mut self, text: String) {
        let key = self.key();
        self.output_chars += text.chars().count();
        self.started(key, ItemBody::Plan { text: String::new() });
        for chunk in chunk_words(&text, WORDS_PER_DELTA) {
            self.delta(key, ItemDelta::Plan(chunk));
        }
        self.completed(key, ItemBody::Plan { text });
    }

    fn exec(&mut self, spec: ExecSpec) {
        let key = self.key();
        self.output_chars += spec.output.chars().count();
        let body = |status, output: Option<String>, exit_code, duration_ms| ItemBody::CommandExecution {
            command: spec.command.clone(),
            cwd: self.cwd.clone(),
            command_actions: vec![CommandAction::Unknown { command: spec.command.clone() }],
            status,
            source: CommandExecutionSource::Agent,
            aggregated_output: output,
            exit_code,
            duration_ms,
            process_id: None,
        };
        let start = body(CommandExecutionStatus::InProgress, None, None, None);
        let status = if spec.exit_code == 0 {
            CommandExecutionStatus::Completed
        } else {
            CommandExecutionStatus::Failed
        };
        let end = body(status, Some(spec.output.clone()), Some(spec.exit_code), Some(spec.duration_ms));
        self.started(key, start);
        for line in spec.output.split_inclusive('\n') {
            self.delta(key, ItemDelta::CommandOutput(line.to_owned()));
        }
        self.completed(key, end);
    }

    fn patch(&mut self, spec: PatchSpec) {
        let key = self.key();
        let (kind, default_diff) = match spec.kind {
            PatchKind::Add => (PatchChangeKind::Add, PLACEHOLDER.to_owned()),
            PatchKind::Delete => (PatchChangeKind::Delete, PLACEHOLDER.to_owned()),
            PatchKind::Update => {
                (PatchChangeKind::Update { move_path: None }, format!("@@ -1 +1 @@\n-hello\n+{PLACEHOLDER}"))
            }
        };
        let changes =
            vec![FileUpdateChange { path: spec.path, kind, diff: spec.diff.unwrap_or(default_diff) }];
        self.started(
            key,
            ItemBody::FileChange { changes: changes.clone(), status: PatchApplyStatus::InProgress },
        );
        self.completed(key, ItemBody::FileChange { changes, status: PatchApplyStatus::Completed });
    }
}

fn turn_error(message: String) -> TurnError {
    TurnError { message, codex_error_info: None, additional_details: None }
}

#[cfg(test)]
#[path = "script_tests.rs"]
mod tests;
