//! Replies to client requests: each goes once to the connection that sent the request, and
//! error replies carry an integer code. A successful reply updates the model: the handshake
//! and opt-outs of `initialize`, the subscriptions of `thread/start`, `thread/resume`,
//! `thread/fork` (to the new thread) and `thread/unsubscribe` (whose status must match), and
//! the turns `turn/start` hands out.

use core_sm::ConnectionId;

use super::scan::{Kind, Summary};
use super::{inv, Oracle, Violation};

impl Oracle {
    /// Checks a reply (or error reply) sent to `conn` and applies what it says.
    pub(super) fn on_reply(
        &mut self,
        conn: ConnectionId,
        frame: &core_sm::wire::Frame,
        s: &Summary,
    ) -> Result<(), Violation> {
        self.flush_group()?;
        let id = s.id.clone().expect("replies have ids");
        if s.kind == Kind::ErrorReply && s.error_code.is_none() {
            return Err(Violation::new(
                inv::FRAME_SHAPE,
                format!("to {conn}: error without an integer code: {frame}"),
            ));
        }
        let latest = self.fresh.as_ref() == Some(&(conn, id.clone()));
        if latest {
            self.fresh = None;
        }
        let c = self.conns.get_mut(&conn).expect("checked open");
        let Some(p) = c.take_pending(&id, latest, self.loaded) else {
            return Err(Violation::new(
                inv::RESPONSE_TO_REQUESTER,
                format!("{conn} got a reply to request {id} it has not sent (or already got): {frame}"),
            ));
        };
        if s.kind == Kind::ErrorReply {
            return Ok(());
        }
        match &*p.method {
            "initialize" => {
                c.initialized = true;
                c.opt_out = p.opt_out.unwrap_or_default().into_iter().collect();
            }
            "thread/start" | "thread/resume" => {
                let Some(t) = s.thread_id.or(p.thread) else {
                    return Err(Violation::new(
                        inv::FRAME_SHAPE,
                        format!("to {conn}: {} result without thread.id: {frame}", p.method),
                    ));
                };
                c.subs.insert(t);
                c.threads.entry(t).or_default().status = s.status;
                let resumed = p.method == "thread/resume";
                let w = self.watch(t);
                w.emitted = s.status.or(w.emitted);
                w.silent |= !resumed;
                if resumed {
                    self.requests.on_resumed(conn, t);
                }
            }
            "thread/fork" => {
                // The requester is subscribed to the new thread (the reply's), silently.
                let Some(t) = s.thread_id else {
                    return Err(Violation::new(
                        inv::FRAME_SHAPE,
                        format!("to {conn}: thread/fork result without thread.id: {frame}"),
                    ));
                };
                if Some(t) == p.thread {
                    return Err(Violation::new(
                        inv::FRAME_SHAPE,
                        format!("to {conn}: thread/fork returned its source {t} as the fork: {frame}"),
                    ));
                }
                c.subs.insert(t);
                c.threads.entry(t).or_default().status = s.status;
                let w = self.watch(t);
                w.emitted = s.status.or(w.emitted);
                w.silent = true;
            }
            "turn/start" => {
                if let (Some(turn), Some(t)) = (s.turn_id, p.thread) {
                    let other = self.submitted.iter().find(|(id, th)| **th == t && **id != turn);
                    if let Some((other, _)) = other {
                        return Err(Violation::new(
                            inv::TURN_ORDER,
                            format!("{conn}: turn/start on thread {t} returned turn {turn} while turn {other} has not ended: {frame}"),
                        ));
                    }
                    self.submitted.insert(turn, t);
                }
            }
            "thread/unsubscribe" => {
                if let Some(t) = p.thread {
                    let was = c.subs.contains(&t);
                    if was != (s.status_word == Some("unsubscribed")) {
                        return Err(Violation::new(
                            inv::UNSUBSCRIBE_STATUS,
                            format!(
                                "{conn} was {}subscribed to {t} but got {frame}",
                                if was { "" } else { "not " }
                            ),
                        ));
                    }
                    if c.threads.get(&t).is_some_and(|t| t.closing) {
                        self.closing -= 1;
                    }
                    c.leave(t);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
