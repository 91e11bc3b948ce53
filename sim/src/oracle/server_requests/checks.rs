//! End-of-step reconciliation: what left the pending set and why, the consequences each
//! resolution must have, fan-out, replays on resume, teardown (unload, shutdown, archive), and
//! the quiescence check.

use super::*;

impl ServerRequests {
    /// Reconciles the step with the machine. Returns the threads whose flags the step
    /// changed, with their flags before.
    pub(crate) fn end_step(
        &mut self,
        machine: &Machine,
        conns: &BTreeMap<ConnectionId, ConnModel>,
    ) -> Result<BTreeMap<ThreadId, u8>, Violation> {
        // Only an input that opens or resolves requests may change the machine's table; with
        // nothing pending and nothing opened, a quiet step has nothing to reconcile.
        let quiet = matches!(self.step.cue, Cue::Other) && self.pending.is_empty();
        let listed = if quiet { Vec::new() } else { machine.pending_requests() };
        // Requests opened with nobody to send them to.
        for &(id, t) in &listed {
            if !self.reqs.contains_key(&id) {
                self.open(id, Some(t), None)?;
            }
        }
        self.check_opening(machine)?;
        let resolved = self.resolutions(&listed)?;
        self.check_consequences(&resolved, conns)?;
        self.check_opened_fan_out(conns)?;
        self.check_resumes()?;
        for thread in std::mem::take(&mut self.step.closed) {
            self.teardown(thread);
        }
        Ok(std::mem::take(&mut self.step.touched))
    }

    /// An engine request is answered at once or opens one request; a network attempt gets a
    /// verdict, joins the destination's outstanding prompt or opens one.
    fn check_opening(&mut self, machine: &Machine) -> Result<(), Violation> {
        let opened = self.step.opened;
        match self.step.cue.clone() {
            Cue::Open { thread, key, kind } => {
                let told = self.step.told.iter().any(|(t, k, _)| (*t, *k) == (thread, key));
                match (told, opened) {
                    (true, Some(id)) => violation(
                        inv::ENGINE_TOLD_ONCE,
                        format!("key {key} of thread {thread} was answered at once and also opened request #{id}"),
                    ),
                    // A token refresh while no connection is initialized goes to nobody.
                    (false, None) if kind == ReqKind::AuthRefresh => self.open(self.next_id, None, None),
                    (false, None) if machine.thread_status(thread) != core_sm::wire::ThreadStatus::NotLoaded => {
                        violation(
                            inv::ENGINE_TOLD_ONCE,
                            format!(
                                "engine request key {key} ({}) of thread {thread} was neither answered nor opened: the engine would wait forever",
                                kind.method().unwrap_or("?")
                            ),
                        )
                    }
                    _ => Ok(()),
                }
            }
            Cue::Attempt { thread, key, dest } => {
                let verdict =
                    self.step.verdicts.iter().find(|(t, k, _)| (*t, *k) == (thread, key)).map(|v| v.2);
                let session = self.session.get(&(thread, dest.clone())).copied();
                if let Some(allowed) = session {
                    // A denial may also be the refusal of an attempt whose turn is not running
                    // (one in flight when its turn ended).
                    let ok = match verdict {
                        Some(v) => allowed || !v,
                        None => false,
                    };
                    if opened.is_some() || !ok {
                        return violation(
                            inv::NETWORK_SESSION_DECISION,
                            format!(
                                "thread {thread}: {dest} was {} for the session, but attempt {key} got verdict {verdict:?}{}",
                                if allowed { "allowed" } else { "denied" },
                                if opened.is_some() { " and a prompt" } else { "" }
                            ),
                        );
                    }
                    return Ok(());
                }
                let joined =
                    self.prompts.get(&(thread, dest.clone())).copied().filter(|id| Some(*id) != opened);
                match (verdict, opened, joined) {
                    (Some(_), Some(id), _) => violation(
                        inv::NETWORK_ONE_VERDICT,
                        format!("attempt {key} of thread {thread} got a verdict at once and also prompt #{id}"),
                    ),
                    (Some(true), None, Some(id)) => violation(
                        inv::ONE_NETWORK_PROMPT,
                        format!("attempt {key} of thread {thread} for {dest} was allowed while prompt #{id} for it is outstanding"),
                    ),
                    (None, None, Some(id)) => {
                        self.reqs.get_mut(&id).expect("prompt").attempts.push(key);
                        Ok(())
                    }
                    (None, None, None) if machine.thread_status(thread) != core_sm::wire::ThreadStatus::NotLoaded => {
                        violation(
                            inv::NETWORK_ONE_VERDICT,
                            format!("attempt {key} of thread {thread} for {dest} got no verdict, no prompt and no prompt to wait on: it would wait forever"),
                        )
                    }
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Which requests left the pending set this step, and why; anything else is a violation.
    fn resolutions(&mut self, listed: &[(i64, ThreadId)]) -> Result<Vec<(i64, Cause)>, Violation> {
        let listed: BTreeSet<i64> = listed.iter().map(|(id, _)| *id).collect();
        if let Some(id) = listed.iter().find(|id| self.reqs[id].resolved.is_some()) {
            return Err(Violation::new(
                inv::RESOLVED_EXACTLY_ONCE,
                format!("request #{id} was resolved earlier but the machine lists it pending again"),
            ));
        }
        let mut out = Vec::new();
        for &id in &self.pending {
            let r = &self.reqs[&id];
            let answered = match &self.step.cue {
                Cue::Answer { conn, id: a, .. } => *a == id && r.recipients.contains(conn),
                _ => false,
            };
            let expired =
                matches!(self.step.cue, Cue::Tick) && self.now.0 >= r.opened_at.0 + AUTH_REFRESH_TIMEOUT_MS;
            let told =
                r.key.is_some_and(|k| self.step.told.iter().any(|(t, tk, _)| (*t, *tk) == (r.thread, k)));
            // A thread's teardown (unload, shutdown, archive) drops all of its requests
            // silently, token refreshes included: the engine that asked is closed with it.
            let tears_down = match self.step.cue {
                Cue::Tick | Cue::Shutdown => true,
                Cue::Archive(t) => t == r.thread,
                _ => false,
            };
            let torn_down = tears_down && self.step.closed.contains(&r.thread);
            let gone = if r.kind.thread_scoped() { !listed.contains(&id) } else { told || torn_down };
            let what = || format!("request #{id} {} of thread {}", r.kind.method().unwrap_or("?"), r.thread);
            if !gone {
                if answered {
                    return Err(Violation::new(
                        inv::RESOLVED_EXACTLY_ONCE,
                        format!(
                            "{} is still pending after the first answer from a connection that received it",
                            what()
                        ),
                    ));
                }
                if expired && r.kind == ReqKind::AuthRefresh {
                    return Err(Violation::new(
                        inv::RESOLVED_EXACTLY_ONCE,
                        format!("{} is still pending after its {} ms", what(), AUTH_REFRESH_TIMEOUT_MS),
                    ));
                }
                continue;
            }
            let scoped = r.kind.thread_scoped();
            let cause = match &self.step.cue {
                _ if answered => Cause::Answer,
                Cue::Transition(t) if scoped && *t == r.thread => Cause::Transition,
                Cue::Tick if expired && !scoped && told => Cause::Timeout,
                Cue::Tick | Cue::Shutdown | Cue::Archive(_) if torn_down => Cause::Teardown,
                cue => {
                    return Err(Violation::new(
                        inv::RESOLVED_EXACTLY_ONCE,
                        format!(
                            "{} left the pending set, but this step's input ({cue:?}) is no answer from a connection that received it, turn transition, teardown or timeout",
                            what()
                        ),
                    ))
                }
            };
            out.push((id, cause));
        }
        for &(id, cause) in &out {
            let thread = self.reqs[&id].thread;
            self.touch(thread);
            let r = self.reqs.get_mut(&id).expect("pending");
            r.resolved = Some(cause);
            self.pending.remove(&id);
            if let ReqKind::Network(dest) = &r.kind {
                self.prompts.remove(&(thread, dest.clone()));
            }
        }
        Ok(out)
    }

    /// What must accompany each resolution: the engine told (once, `Abandoned` exactly for
    /// turn transitions), waiting network attempts released per the decision,
    /// `serverRequest/resolved` to every subscriber; and nothing of that without one.
    fn check_consequences(
        &mut self,
        resolved: &[(i64, Cause)],
        conns: &BTreeMap<ConnectionId, ConnModel>,
    ) -> Result<(), Violation> {
        let answer = match &self.step.cue {
            Cue::Answer { answer, .. } => Some(answer.clone()),
            _ => None,
        };
        for &(id, cause) in resolved {
            let r = &self.reqs[&id];
            let what = format!("request #{id} {} of thread {}", r.kind.method().unwrap_or("?"), r.thread);
            if cause == Cause::Teardown {
                if self.step.notes.iter().any(|(_, n)| *n == id) {
                    return violation(
                        inv::RESOLVED_NOTIFICATION,
                        format!("{what} was dropped by teardown, which is silent, but serverRequest/resolved was sent"),
                    );
                }
                continue;
            }
            if let Some(key) = r.key {
                let told = self.step.told.iter().find(|(t, k, _)| (*t, *k) == (r.thread, key));
                let Some((_, _, outcome)) = told else {
                    return violation(
                        inv::ENGINE_TOLD_ONCE,
                        format!("{what} was resolved ({cause:?}) but the engine was not told (key {key})"),
                    );
                };
                let abandoned = matches!(outcome, RequestOutcome::Abandoned);
                if abandoned != (cause == Cause::Transition) {
                    return violation(
                        inv::ENGINE_TOLD_ONCE,
                        format!("{what} was resolved by {cause:?} but the engine was told {outcome:?}"),
                    );
                }
                if let (Cause::Answer, Some(a)) = (cause, &answer) {
                    if let Some(want) = expected_outcome(&r.kind, a) {
                        if !same_outcome(&want, outcome) {
                            return violation(
                                inv::ENGINE_TOLD_ONCE,
                                format!("{what} was answered {a:?} but the engine was told {outcome:?}"),
                            );
                        }
                    }
                }
            }
            if let ReqKind::Network(dest) = &r.kind {
                let (allow, session) = match (cause, &answer) {
                    (Cause::Answer, Some(a)) => network_answer(a),
                    _ => (false, None),
                };
                for key in &r.attempts {
                    let verdict = self.step.verdicts.iter().find(|(t, k, _)| (*t, *k) == (r.thread, *key));
                    if verdict.map(|v| v.2) != Some(allow) {
                        return violation(
                            inv::NETWORK_ONE_VERDICT,
                            format!(
                                "{what} for {dest} was resolved ({cause:?}, allows: {allow}); waiting attempt {key} got verdict {:?}",
                                verdict.map(|v| v.2)
                            ),
                        );
                    }
                }
                if let Some(allowed) = session {
                    self.session.insert((r.thread, dest.clone()), allowed);
                }
            }
            if r.kind.announces() && cause != Cause::Timeout {
                let missing = conns.iter().find(|(c, m)| {
                    m.initialized
                        && m.subs.contains(&r.thread)
                        && m.wants("serverRequest/resolved")
                        && !self.step.notes.contains(&(**c, id))
                });
                if let Some((c, _)) = missing {
                    return violation(
                        inv::RESOLVED_NOTIFICATION,
                        format!("{what} was resolved ({cause:?}) but subscriber {c} got no serverRequest/resolved"),
                    );
                }
            }
        }
        for (conn, id) in &self.step.notes {
            let ok = resolved.iter().any(|(r, c)| r == id && matches!(c, Cause::Answer | Cause::Transition));
            if !ok {
                return violation(
                    inv::RESOLVED_NOTIFICATION,
                    format!("{conn} got serverRequest/resolved for #{id}, which no answer or turn transition resolved in this step"),
                );
            }
        }
        let immediate = |t: ThreadId, k: u64, cue: &Cue, opened: Option<i64>| {
            opened.is_none()
                && matches!(cue, Cue::Open { thread, key, .. } | Cue::Attempt { thread, key, .. } if *thread == t && *key == k)
        };
        for (t, k, outcome) in &self.step.told {
            if immediate(*t, *k, &self.step.cue, self.step.opened) {
                continue;
            }
            let id = self.by_key.get(&(*t, *k));
            if !id.is_some_and(|id| resolved.iter().any(|(r, c)| r == id && *c != Cause::Teardown)) {
                return violation(
                    inv::ENGINE_TOLD_ONCE,
                    format!("RequestResolved ({outcome:?}) for key {k} of thread {t}, whose request (#{id:?}) did not resolve in this step"),
                );
            }
        }
        for (t, k, ok) in &self.step.verdicts {
            if immediate(*t, *k, &self.step.cue, self.step.opened) {
                continue;
            }
            let released = resolved.iter().any(|(id, c)| {
                let r = &self.reqs[id];
                *c != Cause::Teardown && r.thread == *t && r.attempts.contains(k)
            });
            if !released {
                return violation(
                    inv::NETWORK_ONE_VERDICT,
                    format!("NetworkVerdict (allowed: {ok}) for attempt {k} of thread {t}, whose prompt did not resolve in this step"),
                );
            }
        }
        Ok(())
    }

    /// A new request goes, with one id, to every initialized subscriber of its thread at that
    /// moment (every initialized connection for token refreshes).
    fn check_opened_fan_out(&self, conns: &BTreeMap<ConnectionId, ConnModel>) -> Result<(), Violation> {
        let Some(id) = self.step.opened else {
            return Ok(());
        };
        let r = &self.reqs[&id];
        let scoped = r.kind.thread_scoped();
        let expected: BTreeSet<ConnectionId> = conns
            .iter()
            .filter(|(_, c)| c.initialized && (!scoped || c.subs.contains(&r.thread)))
            .map(|(id, _)| *id)
            .collect();
        if r.recipients != expected {
            return violation(
                inv::SERVER_REQUEST_ROUTING,
                format!(
                    "request #{id} {} reached {:?}, but the {} at that moment are {expected:?}",
                    r.kind.method().unwrap_or("?"),
                    r.recipients,
                    if scoped { "initialized subscribers" } else { "initialized connections" }
                ),
            );
        }
        Ok(())
    }

    /// After a `thread/resume` reply the resumer holds every pending request of the thread.
    fn check_resumes(&self) -> Result<(), Violation> {
        for (conn, thread, got) in &self.step.resumes {
            let want: Vec<i64> = self
                .pending
                .iter()
                .copied()
                .filter(|id| self.reqs[id].thread == *thread && self.reqs[id].kind.thread_scoped())
                .collect();
            if *got != want {
                return violation(
                    inv::REPLAY_ON_RESUME,
                    format!("after its thread/resume reply for {thread}, {conn} was sent requests {got:?}, but the pending ones are {want:?} (original ids, ascending)"),
                );
            }
        }
        Ok(())
    }

    /// The thread's engine was closed: its open keys are dropped, its session decisions end.
    fn teardown(&mut self, thread: ThreadId) {
        for ((t, _), k) in self.keys.range_mut((thread, 0)..=(thread, u64::MAX)) {
            debug_assert_eq!(*t, thread);
            if k.state == KeyState::Open {
                k.state = KeyState::Dropped;
            }
        }
        self.session.retain(|(t, _), _| *t != thread);
    }

    /// Checks once the run is quiescent: nothing pending, every engine request and network
    /// attempt answered (or dropped with its thread).
    pub(crate) fn quiescent(&self, machine: &Machine) -> Result<(), Violation> {
        if let Some(p) = self.describe_pending().first() {
            return violation(inv::EVERY_REQUEST_RESOLVED, format!("{p} is still pending"));
        }
        if let Some((id, t)) = machine.pending_requests().first() {
            return violation(
                inv::EVERY_REQUEST_RESOLVED,
                format!("the machine still lists request #{id} of thread {t} as pending"),
            );
        }
        if let Some(((t, k), key)) = self.keys.iter().find(|(_, k)| k.state == KeyState::Open) {
            let name =
                if key.network.is_some() { inv::NETWORK_ONE_VERDICT } else { inv::EVERY_REQUEST_RESOLVED };
            return violation(
                name,
                format!("the engine of thread {t} still waits for an answer to its key {k}"),
            );
        }
        Ok(())
    }
}
