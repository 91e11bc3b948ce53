//! Turn-level checks on what each connection sees (invariants 1 and 2): status before
//! `turn/started`, non-active status only right before `turn/completed`, one turn at a time,
//! item pairs, nothing after completion, and agreement with the engine's reports.

use std::collections::BTreeMap;

use core_sm::{ConnectionId, ThreadId};

use super::conn::{ConnThread, OpenTurn};
use super::scan::{Status, Summary};
use super::{inv, Oracle, Violation};

impl Oracle {
    pub(super) fn on_status_changed(
        &mut self,
        conn: ConnectionId,
        t: ThreadId,
        frame: &core_sm::wire::Frame,
        s: &Summary,
    ) -> Result<(), Violation> {
        let Some(status) = s.status else {
            return Err(Violation::new(
                inv::FRAME_SHAPE,
                format!("to {conn}: status change without a status: {frame}"),
            ));
        };
        let c = self.conns.get_mut(&conn).expect("checked open");
        let wants_completed = c.wants("turn/completed");
        let ct = c.threads.entry(t).or_default();
        if ct.last_changed == Some(status) {
            return Err(Violation::new(
                inv::STATUS_DEDUP,
                format!("{conn} got the same status twice in a row: {frame}"),
            ));
        }
        ct.last_changed = Some(status);
        ct.status = Some(status);
        if !status.is_active() && ct.open.is_some() {
            if ct.closing {
                return Err(Violation::new(
                    inv::IDLE_ONLY_BEFORE_COMPLETED,
                    format!("{conn}: second non-active status before turn/completed: {frame}"),
                ));
            }
            if wants_completed {
                ct.closing = true;
                self.closing += 1;
            } else {
                ct.open = None;
            }
        }
        self.watch(t).emitted = Some(status);
        Ok(())
    }

    pub(super) fn on_turn_event(
        &mut self,
        conn: ConnectionId,
        t: ThreadId,
        frame: &core_sm::wire::Frame,
        s: &Summary,
    ) -> Result<(), Violation> {
        let method = s.method();
        if matches!(method, "thread/tokenUsage/updated" | "warning") {
            // Usage is restored after a resume for a finished turn; warnings are thread-wide.
            return Ok(());
        }
        let Some(turn) = s.turn_id else {
            return Err(Violation::new(
                inv::FRAME_SHAPE,
                format!("to {conn}: {method} without a turn id: {frame}"),
            ));
        };
        let v = |name: &'static str, what: &str| {
            Err(Violation::new(name, format!("{conn}, thread {t}, turn {turn}: {what}: {frame}")))
        };
        let c = self.conns.get_mut(&conn).expect("checked open");
        let wants_status = c.wants("thread/status/changed");
        let strict_items = c.wants("item/started") && c.wants("item/completed");
        let sees_completion = c.wants("turn/completed");
        let ct: &mut ConnThread = c.threads.entry(t).or_default();
        if !sees_completion && ct.open.as_ref().is_some_and(|o| o.id != turn) {
            // Without turn/completed a connection cannot tell when a turn ends: a new turn
            // id replaces the one it was watching.
            ct.open = None;
        }
        if ct.closing && method != "turn/completed" {
            return v(inv::IDLE_ONLY_BEFORE_COMPLETED, "event after a non-active status");
        }
        match method {
            "turn/started" => {
                if wants_status && !ct.status.is_some_and(Status::is_active) {
                    return v(
                        inv::ACTIVE_BEFORE_TURN_STARTED,
                        &format!("turn/started while the connection's last status is {:?}", ct.status),
                    );
                }
                if self.engine_turn != Some((turn, None)) {
                    return v(
                        inv::TURN_STARTED_BY_ENGINE,
                        "turn/started without the engine starting the turn in this step",
                    );
                }
                if self.completed.contains_key(&turn) || ct.completed.contains(&turn) {
                    return v(inv::TURN_STARTED_ONCE, "turn/started after turn/completed");
                }
                match &ct.open {
                    Some(o) if o.id == turn => return v(inv::TURN_STARTED_ONCE, "second turn/started"),
                    Some(o) => {
                        return v(inv::TURN_ORDER, &format!("turn/started while turn {} is still open", o.id))
                    }
                    None => {}
                }
                ct.open = Some(OpenTurn { id: turn, saw_start: true, items: BTreeMap::new() });
            }
            "turn/completed" => {
                if !s.turn_status.is_some_and(|st| st.is_terminal()) {
                    return v(inv::TURN_TERMINAL, &format!("status {:?}", s.turn_status));
                }
                match self.engine_turn {
                    Some((t, Some(end))) if t == turn && Some(end) == s.turn_status => {}
                    other => {
                        return v(
                            inv::TURN_COMPLETED_BY_ENGINE,
                            &format!("the engine input of this step was {other:?}"),
                        )
                    }
                }
                if ct.completed.contains(&turn) {
                    return v(inv::TURN_COMPLETES_ONCE, "second turn/completed on this connection");
                }
                if let Some(first) = self.completed.get(&turn) {
                    if !std::sync::Arc::ptr_eq(first, frame) {
                        return v(inv::TURN_COMPLETES_ONCE, "turn/completed emitted twice");
                    }
                }
                if let Some(o) = &ct.open {
                    if o.id != turn {
                        return v(inv::TURN_ORDER, &format!("completes while turn {} is open", o.id));
                    }
                    if o.saw_start && strict_items {
                        if let Some((item, _)) = o.items.iter().find(|(_, done)| !**done) {
                            return v(
                                inv::ITEM_PAIRS,
                                &format!("item {item:032x} started but never completed"),
                            );
                        }
                    }
                }
                ct.open = None;
                if ct.closing {
                    ct.closing = false;
                    self.closing -= 1;
                }
                ct.completed.insert(turn);
                self.completed.entry(turn).or_insert_with(|| frame.clone());
                self.submitted.remove(&turn);
            }
            _ => {
                // item/*, error: they belong to the open turn and precede its completion.
                if self.completed.contains_key(&turn) || ct.completed.contains(&turn) {
                    return v(inv::NOTHING_AFTER_TURN, "event for a completed turn");
                }
                if let Some(o) = ct.open.as_ref().filter(|o| o.id != turn) {
                    return v(inv::TURN_ORDER, &format!("event while turn {} is open", o.id));
                }
                // No open turn: joined mid-turn (resume) or opted out of turn/started.
                let open = ct.open.get_or_insert_with(|| OpenTurn {
                    id: turn,
                    saw_start: false,
                    items: BTreeMap::new(),
                });
                if !method.starts_with("item/") {
                    return Ok(());
                }
                let Some(item) = s.item_id else {
                    return v(inv::FRAME_SHAPE, "item event without an item id");
                };
                let strict = open.saw_start && strict_items;
                match (method, open.items.get(&item).copied()) {
                    ("item/started", None) => {
                        open.items.insert(item, false);
                    }
                    ("item/started", Some(_)) => return v(inv::ITEM_PAIRS, "second item/started"),
                    ("item/completed", Some(false)) => {
                        open.items.insert(item, true);
                    }
                    ("item/completed", Some(true)) => return v(inv::ITEM_PAIRS, "second item/completed"),
                    ("item/completed", None) if strict => {
                        return v(inv::ITEM_PAIRS, "item/completed without item/started")
                    }
                    ("item/completed", None) => {
                        open.items.insert(item, true);
                    }
                    (_, Some(true)) => return v(inv::ITEM_PAIRS, "delta after item/completed"),
                    (_, None) if strict => return v(inv::ITEM_PAIRS, "delta for an item never started"),
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
