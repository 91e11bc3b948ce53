//! The fake rollout store: keeps every persisted record per thread (surviving server
//! restarts) and answers the machine's loads from them, late, failed or twice when the
//! fault profile says so.

use std::collections::BTreeMap;

use core_sm::history::{RolloutRecord, SessionMeta};
use core_sm::wire::{ItemBody, ThreadItem, TurnStatus, UserInput};
use core_sm::{ItemId, StorageResult, ThreadId, Timestamp, TurnId};

use crate::faults::FaultProfile;

/// Persisted records per thread.
#[derive(Debug, Default)]
pub struct Storage {
    threads: BTreeMap<ThreadId, Vec<RolloutRecord>>,
    /// Loads asked for and not yet answered, for the liveness report.
    pending: BTreeMap<ThreadId, u32>,
}

/// A random UUIDv7 with the given time, from the simulation's PRNG.
pub fn uuid_v7(rng: &mut fastrand::Rng, ms: u64) -> uuid::Uuid {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid()
}

impl Storage {
    /// Appends a record the machine asked to persist.
    pub fn append(&mut self, thread: ThreadId, record: RolloutRecord) {
        self.threads.entry(thread).or_default().push(record);
    }

    /// Number of records stored for a thread.
    pub fn len(&self, thread: ThreadId) -> usize {
        self.threads.get(&thread).map_or(0, Vec::len)
    }

    /// Whether nothing is stored at all.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Decides how a load is answered: a list of (delay in ms, answer). Usually one answer
    /// after a short delay; faults make it slow, failed or duplicated.
    pub fn load(
        &mut self,
        thread: ThreadId,
        rng: &mut fastrand::Rng,
        profile: &FaultProfile,
    ) -> Vec<(u64, StorageResult)> {
        let delay = if rng.f64() < profile.slow_storage { rng.u64(300..5000) } else { rng.u64(1..20) };
        let answer = if rng.f64() < profile.failed_storage {
            StorageResult::Failed { thread_id: thread, message: "simulated storage failure".into() }
        } else if rng.f64() < profile.wrong_storage && !self.threads.is_empty() {
            let other = rng.usize(..self.threads.len());
            let records = self.threads.values().nth(other).cloned().unwrap_or_default();
            StorageResult::Loaded { thread_id: thread, records }
        } else {
            match self.threads.get(&thread) {
                Some(records) => StorageResult::Loaded { thread_id: thread, records: records.clone() },
                None => StorageResult::NotFound { thread_id: thread },
            }
        };
        let mut answers = vec![(delay, answer.clone())];
        if rng.f64() < profile.duplicate_storage {
            answers.push((delay + rng.u64(0..50), answer));
        }
        *self.pending.entry(thread).or_default() += 1;
        answers
    }

    /// A load's (first) answer was delivered.
    pub fn answered(&mut self, thread: ThreadId) {
        if let Some(n) = self.pending.get_mut(&thread) {
            *n -= 1;
            if *n == 0 {
                self.pending.remove(&thread);
            }
        }
    }

    /// Forgets loads in flight (the server that asked is gone).
    pub fn drop_pending(&mut self) {
        self.pending.clear();
    }

    /// Threads with loads not yet answered.
    pub fn pending(&self) -> Vec<ThreadId> {
        self.pending.keys().copied().collect()
    }

    /// Stores `n` threads a previous server run left behind and returns their ids. Some end
    /// mid-turn (a crash), which a load must report as `interrupted`.
    pub fn seed_previous_run(&mut self, rng: &mut fastrand::Rng, now: Timestamp, n: usize) -> Vec<ThreadId> {
        let mut ids = Vec::new();
        for i in 0..n {
            let created = now.0 - rng.u64(3_600_000..86_400_000);
            let id = ThreadId(uuid_v7(rng, created));
            let mut records = vec![RolloutRecord::SessionMeta(SessionMeta {
                id,
                created_at_ms: created,
                cwd: "/tmp".into(),
                model: "turnstile-scripted".into(),
                model_provider: "turnstile".into(),
                originator: Some("earlier-client".into()),
                name: (i % 2 == 0).then(|| format!("stored {i}")),
                preview: format!("old task {i}"),
                forked_from_id: None,
            })];
            let turns = rng.usize(0..=3);
            let mut t = created;
            for k in 0..turns {
                t += rng.u64(1000..60_000);
                let turn_id = TurnId(uuid_v7(rng, t));
                let secs = i64::try_from(t / 1000).unwrap_or(0);
                records.push(RolloutRecord::TurnStarted { turn_id, started_at: secs });
                let user = ItemBody::UserMessage {
                    content: vec![UserInput::Text {
                        text: format!("old task {i}.{k}"),
                        text_elements: Vec::new(),
                    }],
                    client_id: None,
                };
                let agent = ItemBody::AgentMessage { text: "done".into(), phase: None };
                for body in [user, agent] {
                    let item = ThreadItem {
                        id: ItemId(uuid_v7(rng, t).hyphenated().to_string()),
                        body,
                        started_at_ms: Some(i64::try_from(t).unwrap_or(0)),
                        completed_at_ms: Some(i64::try_from(t).unwrap_or(0)),
                    };
                    records.push(RolloutRecord::ItemCompleted { turn_id, item });
                }
                let crashed = k + 1 == turns && rng.u8(..4) == 0;
                if !crashed {
                    records.push(RolloutRecord::TurnEnded {
                        turn_id,
                        status: TurnStatus::Completed,
                        error: None,
                        completed_at: secs,
                        duration_ms: Some(5),
                    });
                }
            }
            self.threads.insert(id, records);
            ids.push(id);
        }
        ids
    }
}

/// The thread a storage answer is about.
pub fn thread_of(result: &StorageResult) -> ThreadId {
    match result {
        StorageResult::Loaded { thread_id, .. }
        | StorageResult::NotFound { thread_id }
        | StorageResult::Failed { thread_id, .. } => *thread_id,
        // Future variants: not one of ours; the nil id matches no thread.
        _ => ThreadId(uuid::Uuid::nil()),
    }
}
