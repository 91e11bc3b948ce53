//! End-of-step checks against the machine's accessors: every status a frame announced agrees
//! with `thread_status`, a status change is announced, the announced flags agree with the
//! pending server requests, no thread stays half-closed (non-active without `turn/completed`)
//! past the step, and the subscribers implied by the frames agree with `thread_subscribers`.

use std::collections::BTreeMap;

use core_sm::{ConnectionId, Machine, ThreadId};

use super::conn::ConnModel;
use super::scan::Status;
use super::{inv, Oracle, Scope, Violation};

impl Oracle {
    /// Checks after the outputs of one input are drained. `machine` is the machine that
    /// produced them.
    pub fn end_step(&mut self, machine: &Machine) -> Result<(), Violation> {
        self.flush_group()?;
        if self.closing > 0 {
            for (conn, c) in &self.conns {
                if let Some((t, _)) = c.threads.iter().find(|(_, t)| t.closing) {
                    return Err(Violation::new(
                        inv::IDLE_ONLY_BEFORE_COMPLETED,
                        format!("{conn}: thread {t} went non-active mid-turn without turn/completed in the same step"),
                    ));
                }
            }
        }
        let touched = self.requests.end_step(machine, &self.conns)?;
        self.check_status_flags(&touched)?;
        let scope = std::mem::replace(&mut self.scope, Scope::All);
        if scope == Scope::All {
            for t in machine.loaded_threads() {
                self.watch(t);
            }
        }
        let listener = self.conns.values().any(|c| c.initialized && c.wants("thread/status/changed"));
        let cross_check = self.opts.cross_check_subscribers;
        for (t, w) in &mut self.threads {
            if !scope.covers(*t) && w.emitted.is_none() && !w.silent {
                continue;
            }
            if cross_check {
                check_subscribers(&self.conns, machine, *t)?;
            }
            let now = Status::of(&machine.thread_status(*t));
            if let Some(e) = w.emitted {
                if e != now {
                    return Err(Violation::new(
                        inv::STATUS_AGREES,
                        format!("thread {t}: announced {e:?} but the machine says {now:?}"),
                    ));
                }
            } else if now != w.machine && !w.silent && listener {
                return Err(Violation::new(
                    inv::STATUS_ANNOUNCED,
                    format!("thread {t}: status went {:?} -> {now:?} with no notification", w.machine),
                ));
            }
            w.machine = now;
            w.emitted = None;
            w.silent = false;
        }
        Ok(())
    }

    /// The flags of every status announced this step agree with the pending requests of the
    /// thread (as the request model knows them, not the machine), and a change of those flags
    /// is announced. `touched` holds the flags before this step of threads whose requests
    /// changed.
    fn check_status_flags(&self, touched: &BTreeMap<ThreadId, u8>) -> Result<(), Violation> {
        for (t, w) in &self.threads {
            let Some(status) = w.emitted else {
                continue;
            };
            let want = self.requests.flags(*t);
            let got = match status {
                Status::Active(bits) => bits,
                _ => 0,
            };
            if got != want {
                return Err(Violation::new(
                    inv::STATUS_FLAGS,
                    format!(
                        "thread {t}: announced {status:?}, but its pending requests call for flags {want:#b} (1 waitingOnApproval, 2 waitingOnUserInput)"
                    ),
                ));
            }
        }
        let listener = self.conns.values().any(|c| c.initialized && c.wants("thread/status/changed"));
        for (t, before) in touched {
            let after = self.requests.flags(*t);
            let announced = self.threads.get(t).is_some_and(|w| w.emitted.is_some());
            if after != *before && !announced && listener {
                return Err(Violation::new(
                    inv::STATUS_FLAGS,
                    format!("thread {t}: pending requests changed its flags {before:#b} -> {after:#b}, but no status was announced"),
                ));
            }
        }
        Ok(())
    }
}

/// Compares the machine's subscribers of `t` with the ones the frames imply.
fn check_subscribers(
    conns: &BTreeMap<ConnectionId, ConnModel>,
    machine: &Machine,
    t: ThreadId,
) -> Result<(), Violation> {
    let ours = || conns.iter().filter(|(_, c)| c.subs.contains(&t)).map(|(id, _)| *id);
    let theirs = machine.thread_subscribers(t);
    if theirs.iter().copied().eq(ours()) {
        return Ok(());
    }
    let ours: Vec<ConnectionId> = ours().collect();
    Err(Violation::new(
        inv::SUBSCRIBERS_AGREE,
        format!("thread {t}: machine has subscribers {theirs:?}, the frames imply {ours:?}"),
    ))
}
