//! Turn requests: start (or join the active turn), steer, interrupt.

use serde_json::json;

use crate::engine::{EngineCommand, SettingsOverrides};
use crate::history::{RolloutRecord, SessionMeta};
use crate::ids::{ConnectionId, ThreadId};
use crate::io::Output;
use crate::machine::Machine;
use crate::thread::ActiveTurn;
use crate::wire::requests::{
    TurnInterruptParams, TurnStartParams, TurnStartResponse, TurnSteerParams, TurnSteerResponse,
};
use crate::wire::{codes, input_text_chars, ErrorObject, RequestId, UserInput};

use super::parse_thread_id;

/// Codex's cap on the text of one turn's input.
const MAX_INPUT_CHARS: usize = 1 << 20;

fn input_too_large(actual: usize) -> ErrorObject {
    ErrorObject {
        code: codes::INVALID_PARAMS,
        message: format!("Input exceeds the maximum length of {MAX_INPUT_CHARS} characters."),
        data: Some(json!({
            "input_error_code": "input_too_large",
            "max_chars": MAX_INPUT_CHARS,
            "actual_chars": actual,
        })),
    }
}

impl Machine {
    /// Resolves a loaded thread for a turn operation (`thread not found: <id>` otherwise).
    fn loaded_thread(&self, raw: &str) -> Result<ThreadId, ErrorObject> {
        let thread_id = parse_thread_id(raw, "thread")?;
        match self.threads.get(&thread_id) {
            Some(t) if t.live.is_some() => Ok(thread_id),
            _ => Err(ErrorObject::invalid_request(format!("thread not found: {thread_id}"))),
        }
    }

    pub(crate) fn handle_turn_start(&mut self, conn: ConnectionId, id: RequestId, p: TurnStartParams) {
        let thread_id = match self.loaded_thread(&p.thread_id) {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        let chars = input_text_chars(&p.input);
        if chars > MAX_INPUT_CHARS {
            return self.respond_error(conn, &id, input_too_large(chars));
        }
        if p.sandbox_policy.is_some() && p.permissions.is_some() {
            let error = ErrorObject::invalid_request("`permissions` cannot be combined with `sandboxPolicy`");
            return self.respond_error(conn, &id, error);
        }
        let now = self.now;
        let Some(state) = self.threads.get_mut(&thread_id) else {
            return;
        };
        // 0.169.0: input sent while a regular turn is active joins that turn.
        if let Some(active) = state.active_turn() {
            let turn = active.announce();
            self.respond(conn, &id, &TurnStartResponse { turn });
            return self.steer_active(thread_id, p.input, p.client_user_message_id);
        }
        state.settings.apply(SettingsOverrides {
            model: p.model,
            cwd: p.cwd,
            approval_policy: p.approval_policy,
            sandbox: p.sandbox_policy,
            effort: p.effort,
        });
        let settings = state.settings.clone();
        state.note_input(&p.input);
        state.updated_at = now;
        // Defensive cleanup, as in Codex: starting a turn abandons whatever still waits.
        let stale = self.take_thread_requests(thread_id);
        self.abandon(stale);
        let turn_id = self.ids.turn_id(now);
        let state = self.threads.get_mut(&thread_id).expect("checked above");
        let active = ActiveTurn::new(turn_id, p.input.clone(), p.client_user_message_id);
        let turn = active.announce();
        if let Some(live) = state.live.as_mut() {
            live.active = Some(active);
        }
        if !state.ephemeral && !state.materialized {
            state.materialized = true;
            let meta = SessionMeta {
                id: thread_id,
                created_at_ms: state.created_at.0,
                cwd: state.settings.cwd.clone(),
                model: state.settings.model.clone(),
                model_provider: state.settings.model_provider.clone(),
                originator: state.originator.clone(),
                name: state.name.clone(),
                preview: state.preview.clone(),
                forked_from_id: None,
            };
            self.persist(thread_id, RolloutRecord::SessionMeta(meta));
        } else if state.ephemeral {
            state.materialized = true;
        }
        #[cfg(feature = "inject-bugs")]
        let early =
            (self.config.injected_bug == Some(crate::InjectedBug::EarlyTurnStarted)).then(|| turn.clone());
        self.respond(conn, &id, &TurnStartResponse { turn });
        #[cfg(feature = "inject-bugs")]
        if let Some(turn) = early {
            self.notify_subscribers(thread_id, &crate::wire::notifications::TurnStarted { thread_id, turn });
        }
        let command = EngineCommand::StartTurn { turn_id, input: p.input, settings };
        self.outputs.push_back(Output::Engine { thread_id, command });
    }

    /// Adds input to the active turn: tells the engine, and announces the user message now if
    /// the turn is running, or right after `turn/started` if it is only submitted.
    fn steer_active(&mut self, thread_id: ThreadId, input: Vec<UserInput>, client_id: Option<String>) {
        let Some(active) =
            self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()).and_then(|l| l.active.as_mut())
        else {
            return;
        };
        let turn_id = active.id;
        let running = active.started_at.is_some();
        if !running {
            active.queued_steers.push((input.clone(), client_id.clone()));
        }
        self.outputs.push_back(Output::Engine {
            thread_id,
            command: EngineCommand::Steer { turn_id, input: input.clone() },
        });
        if running {
            self.announce_user_message(thread_id, input, client_id);
        }
    }

    pub(crate) fn handle_turn_steer(&mut self, conn: ConnectionId, id: RequestId, p: TurnSteerParams) {
        let thread_id = match self.loaded_thread(&p.thread_id) {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        if p.expected_turn_id.is_empty() {
            return self.respond_error(
                conn,
                &id,
                ErrorObject::invalid_request("expectedTurnId must not be empty"),
            );
        }
        if p.input.is_empty() {
            return self.respond_error(conn, &id, ErrorObject::invalid_request("input must not be empty"));
        }
        let chars = input_text_chars(&p.input);
        if chars > MAX_INPUT_CHARS {
            return self.respond_error(conn, &id, input_too_large(chars));
        }
        let Some(active) = self.threads[&thread_id].active_turn() else {
            return self.respond_error(conn, &id, ErrorObject::invalid_request("no active turn to steer"));
        };
        let turn_id = active.id;
        if p.expected_turn_id != turn_id.to_string() {
            let message = format!("expected active turn id `{}` but found `{turn_id}`", p.expected_turn_id);
            return self.respond_error(conn, &id, ErrorObject::invalid_request(message));
        }
        self.respond(conn, &id, &TurnSteerResponse { turn_id });
        self.steer_active(thread_id, p.input, p.client_user_message_id);
    }

    pub(crate) fn handle_turn_interrupt(
        &mut self,
        conn: ConnectionId,
        id: RequestId,
        p: TurnInterruptParams,
    ) {
        let thread_id = match self.loaded_thread(&p.thread_id) {
            Ok(t) => t,
            Err(e) => return self.respond_error(conn, &id, e),
        };
        let Some(active) =
            self.threads.get_mut(&thread_id).and_then(|t| t.live.as_mut()).and_then(|l| l.active.as_mut())
        else {
            return self.respond_error(
                conn,
                &id,
                ErrorObject::invalid_request("no active turn to interrupt"),
            );
        };
        let turn_id = active.id;
        if p.turn_id != turn_id.to_string() {
            let message = format!("expected active turn id {} but found {turn_id}", p.turn_id);
            return self.respond_error(conn, &id, ErrorObject::invalid_request(message));
        }
        // Answered when the engine reports the abort; the engine is told only once.
        active.interrupters.push((conn, id));
        if !active.interrupt_sent {
            active.interrupt_sent = true;
            self.outputs
                .push_back(Output::Engine { thread_id, command: EngineCommand::Interrupt { turn_id } });
        }
    }
}
