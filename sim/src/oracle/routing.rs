//! Who notifications reach: every notification carries the machine's time and goes only to
//! initialized connections that did not opt out of it; broadcasts (`thread/started`,
//! `thread/status/changed`, ...) reach every such connection; thread events (`turn/*`,
//! `item/*`, ...) go only to subscribers of their thread, and fan-outs to all of them.
//! Consecutive sends of one frame form a group, checked for completeness when it ends.

use core_sm::{ConnectionId, ThreadId};

use super::scan::{Method, Summary};
use super::{inv, Oracle, Violation};

/// Who a grouped notification must reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Broadcast,
    Subscribers(ThreadId),
}

/// Consecutive sends of one frame (a fan-out), checked for completeness when it ends.
#[derive(Debug)]
pub(super) struct Group {
    pub(super) frame: core_sm::wire::Frame,
    method: Method,
    class: Class,
    recipients: Vec<ConnectionId>,
}

fn is_broadcast(method: &str) -> bool {
    matches!(
        method,
        "thread/started"
            | "thread/status/changed"
            | "thread/closed"
            | "thread/name/updated"
            | "thread/archived"
            | "thread/unarchived"
    )
}

fn is_thread_event(method: &str) -> bool {
    method.starts_with("turn/")
        || method.starts_with("item/")
        || matches!(method, "thread/tokenUsage/updated" | "error" | "warning" | "serverRequest/resolved")
}

/// Thread events that always go to every subscriber (token usage and warnings can be
/// targeted at one connection, e.g. the usage restored after a resume).
fn is_fan_out(method: &str) -> bool {
    method.starts_with("turn/") || method.starts_with("item/") || method == "error"
}

impl Oracle {
    /// Checks a notification sent to `conn`, groups it with the other sends of its frame and
    /// hands thread events on to the status and turn checks.
    pub(super) fn on_notification(
        &mut self,
        conn: ConnectionId,
        frame: &core_sm::wire::Frame,
        s: &Summary,
    ) -> Result<(), Violation> {
        let method = s.method();
        match s.emitted_at_ms {
            Some(ms) if ms == self.now.millis() => {}
            Some(ms) => {
                return Err(Violation::new(
                    inv::EMITTED_AT,
                    format!(
                        "to {conn}: emittedAtMs {ms} but the machine's time is {}: {frame}",
                        self.now.millis()
                    ),
                ))
            }
            None => {
                return Err(Violation::new(
                    inv::EMITTED_AT,
                    format!("to {conn}: notification without an integer emittedAtMs: {frame}"),
                ))
            }
        }
        let c = &self.conns[&conn];
        if !c.initialized {
            return Err(Violation::new(
                inv::BEFORE_INITIALIZE,
                format!("{conn} is not initialized but got {frame}"),
            ));
        }
        if !c.wants(method) {
            return Err(Violation::new(
                inv::OPT_OUT,
                format!("{conn} opted out of {method} but got {frame}"),
            ));
        }
        if is_broadcast(method) {
            self.add_to_group(conn, frame, s, Class::Broadcast);
            let Some(t) = s.thread_id else {
                return Err(Violation::new(
                    inv::FRAME_SHAPE,
                    format!("to {conn}: {method} without a thread id: {frame}"),
                ));
            };
            match method {
                "thread/status/changed" => self.on_status_changed(conn, t, frame, s)?,
                "thread/started" => {
                    let c = self.conns.get_mut(&conn).expect("checked open");
                    c.threads.entry(t).or_default().status = s.status;
                }
                _ => {}
            }
            return Ok(());
        }
        if !is_thread_event(method) {
            return Ok(());
        }
        let Some(t) = s.thread_id else {
            return Err(Violation::new(
                inv::FRAME_SHAPE,
                format!("to {conn}: {method} without threadId: {frame}"),
            ));
        };
        if !self.conns[&conn].subs.contains(&t) {
            return Err(Violation::new(
                inv::THREAD_EVENT_TO_SUBSCRIBER,
                format!("{conn} is not subscribed to thread {t} but got {frame}"),
            ));
        }
        if method == "serverRequest/resolved" {
            return self.requests.on_resolved(conn, s);
        }
        if is_fan_out(method) {
            self.add_to_group(conn, frame, s, Class::Subscribers(t));
        }
        self.on_turn_event(conn, t, frame, s)
    }

    fn add_to_group(&mut self, conn: ConnectionId, frame: &core_sm::wire::Frame, s: &Summary, class: Class) {
        match &mut self.group {
            Some(g) => g.recipients.push(conn),
            None => {
                self.group = Some(Group {
                    frame: frame.clone(),
                    method: s.method.clone().unwrap_or_default(),
                    class,
                    recipients: vec![conn],
                })
            }
        }
    }

    /// Checks that a finished fan-out reached everyone it had to.
    pub(super) fn flush_group(&mut self) -> Result<(), Violation> {
        let Some(g) = self.group.take() else {
            return Ok(());
        };
        let expected: Vec<ConnectionId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.initialized && c.wants(&g.method))
            .filter(|(_, c)| match g.class {
                Class::Broadcast => true,
                Class::Subscribers(t) => c.subs.contains(&t),
            })
            .map(|(id, _)| *id)
            .collect();
        let mut got = g.recipients;
        got.sort_unstable();
        got.dedup();
        if got != expected {
            let missing: Vec<String> =
                expected.iter().filter(|c| !got.contains(c)).map(ToString::to_string).collect();
            let (name, whom) = match g.class {
                Class::Broadcast => (inv::BROADCAST_TO_ALL, "initialized connections"),
                Class::Subscribers(_) => (inv::THREAD_EVENT_TO_ALL, "subscribers"),
            };
            return Err(Violation::new(
                name,
                format!("{} did not reach {whom} {}: {}", g.method, missing.join(", "), g.frame),
            ));
        }
        Ok(())
    }
}
