//! What each input tells the oracle before the machine sees it: the step's [`Scope`] (which
//! threads the end-of-step checks look at), the client request awaiting its first reply, the
//! connections opened and closed, and the turn events and server-request answers fed in.

use core_sm::wire::RequestId;
use core_sm::{EngineEvent, Input, ThreadId, Timestamp};

use super::conn::{ConnModel, Pending};
use super::scan::{self, Kind, TurnState};
use super::{MayClose, Oracle, Scope, Violation};

impl Oracle {
    /// Observes an input before it is fed to the machine.
    pub fn observe_input(&mut self, now: Timestamp, input: &Input) -> Result<(), Violation> {
        self.now = self.now.max(now);
        self.scope = Scope::All;
        self.fresh = None;
        self.engine_turn = None;
        self.may_close = MayClose::Idle;
        self.loaded = None;
        self.requests.begin_step(self.now);
        match input {
            Input::ConnectionOpened { conn } => {
                // Reopening an open id resets it in the machine too.
                self.scope = Scope::Many(self.subs_of(*conn));
                self.drop_conn(*conn);
                self.conns.insert(*conn, ConnModel::default());
            }
            Input::Frame { conn, text } => {
                self.input = scan::scan(text).ok();
                let Some(c) = self.conns.get_mut(conn) else {
                    return Ok(());
                };
                let Some(s) = &self.input else {
                    self.scope = Scope::Reads;
                    return Ok(());
                };
                self.scope = match (s.kind, s.method(), s.thread_id) {
                    (Kind::Request, _, Some(t)) => Scope::One(t),
                    _ => Scope::Reads,
                };
                if let (Kind::Request, "thread/archive", Some(t)) = (s.kind, s.method(), s.thread_id) {
                    self.may_close = MayClose::Thread(t);
                }
                match (s.kind, &s.id) {
                    (Kind::Request, Some(id)) => {
                        self.requests.on_client_request(s);
                        self.fresh = Some((*conn, id.clone()));
                        c.add_pending(
                            id.clone(),
                            Pending {
                                method: s.method.clone().unwrap_or_default(),
                                thread: s.thread_id,
                                opt_out: s.opt_out.clone(),
                            },
                        )
                    }
                    (Kind::Reply | Kind::ErrorReply, Some(RequestId::Integer(id))) => {
                        // An answer resolves a server request: its thread's status may change.
                        if let Some(t) = self.requests.thread_of(*id) {
                            self.scope = Scope::One(t);
                        }
                        self.requests.on_answer(*conn, *id, text)
                    }
                    _ => {}
                }
            }
            Input::ConnectionClosed { conn } => {
                self.scope = Scope::Many(self.subs_of(*conn));
                self.drop_conn(*conn);
            }
            Input::Storage(result) => {
                if let Some(t) = storage_thread(result) {
                    self.scope = Scope::One(t);
                    self.loaded = Some(t);
                }
            }
            Input::Engine { thread_id, event } => {
                self.scope = Scope::One(*thread_id);
                self.requests.on_engine_event(*thread_id, event)?;
                let end = match event {
                    EngineEvent::TurnCompleted { turn_id } => Some((*turn_id, TurnState::Completed)),
                    EngineEvent::TurnAborted { turn_id } => Some((*turn_id, TurnState::Interrupted)),
                    EngineEvent::TurnFailed { turn_id, .. } => Some((*turn_id, TurnState::Failed)),
                    _ => None,
                };
                if let Some((turn, state)) = end {
                    self.submitted.remove(&turn);
                    self.engine_turn = Some((turn, Some(state)));
                }
                if let EngineEvent::TurnStarted { turn_id } = event {
                    self.engine_turn = Some((*turn_id, None));
                }
            }
            Input::Tick => self.requests.on_tick(),
            Input::Shutdown => {
                self.may_close = MayClose::All;
                self.requests.on_shutdown()
            }
            _ => {}
        }
        Ok(())
    }
}

fn storage_thread(result: &core_sm::StorageResult) -> Option<ThreadId> {
    match result {
        core_sm::StorageResult::Loaded { thread_id, .. }
        | core_sm::StorageResult::NotFound { thread_id }
        | core_sm::StorageResult::Failed { thread_id, .. } => Some(*thread_id),
        _ => None,
    }
}
