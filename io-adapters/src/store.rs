//! The rollout store: one JSONL file per thread under `<home>/sessions/`.
//!
//! [`RolloutStore`] does the file work synchronously; [`StoreHandle`] runs it on a dedicated
//! thread so appends and loads happen in the order the machine asked for them, without
//! blocking the runtime. Each record is one line of `serde_json` (`{"type":…,"payload":…}`).
//! On load, a torn last line (a crash mid-append) is skipped with a warning; a bad line
//! anywhere else means the rollout is corrupt and the load fails.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use core_sm::history::RolloutRecord;
use core_sm::{StorageResult, ThreadId};
use tokio::sync::mpsc;

/// Synchronous access to the rollout files under one home directory.
#[derive(Debug, Clone)]
pub struct RolloutStore {
    sessions: PathBuf,
}

impl RolloutStore {
    /// A store keeping rollouts in `<home>/sessions/` (created on first append).
    pub fn new(home: &Path) -> Self {
        Self { sessions: home.join("sessions") }
    }

    /// The file holding a thread's rollout.
    pub fn path_for(&self, thread_id: ThreadId) -> PathBuf {
        self.sessions.join(format!("{thread_id}.jsonl"))
    }

    /// Appends one record as one line.
    pub fn append(&self, thread_id: ThreadId, record: &RolloutRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        fs::create_dir_all(&self.sessions)?;
        let mut file = OpenOptions::new().create(true).append(true).open(self.path_for(thread_id))?;
        file.write_all(&line)
    }

    /// Reads a thread's rollout.
    pub fn load(&self, thread_id: ThreadId) -> StorageResult {
        let path = self.path_for(thread_id);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return StorageResult::NotFound { thread_id },
            Err(e) => {
                return StorageResult::Failed {
                    thread_id,
                    message: format!("cannot read {}: {e}", path.display()),
                }
            }
        };
        match parse_rollout(&bytes) {
            Ok(records) => StorageResult::Loaded { thread_id, records },
            Err(message) => {
                StorageResult::Failed { thread_id, message: format!("{}: {message}", path.display()) }
            }
        }
    }
}

/// Parses JSONL rollout text. Blank lines are ignored; an unparseable last line is skipped
/// with a warning (torn write); an unparseable line elsewhere is an error.
pub fn parse_rollout(bytes: &[u8]) -> Result<Vec<RolloutRecord>, String> {
    let lines: Vec<(usize, &[u8])> = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    let mut records = Vec::with_capacity(lines.len());
    for (position, (number, line)) in lines.iter().enumerate() {
        match serde_json::from_slice::<RolloutRecord>(line) {
            Ok(record) => records.push(record),
            Err(e) if position + 1 == lines.len() => {
                tracing::warn!(line = number + 1, error = %e, "torn last rollout line skipped");
            }
            Err(e) => return Err(format!("line {}: {e}", number + 1)),
        }
    }
    Ok(records)
}

enum Request {
    Persist(ThreadId, Box<RolloutRecord>),
    Load(ThreadId),
}

/// A [`RolloutStore`] running on its own thread; loads are answered on a channel.
#[derive(Debug)]
pub struct StoreHandle {
    tx: Option<std::sync::mpsc::Sender<Request>>,
    worker: Option<JoinHandle<()>>,
}

impl StoreHandle {
    /// Starts the worker thread. Load answers are sent to `results`.
    pub fn spawn(store: RolloutStore, results: mpsc::UnboundedSender<StorageResult>) -> io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<Request>();
        let worker = std::thread::Builder::new().name("rollout-store".into()).spawn(move || {
            for request in rx {
                match request {
                    Request::Persist(thread_id, record) => {
                        if let Err(error) = store.append(thread_id, &record) {
                            tracing::error!(%thread_id, %error, "rollout append failed");
                        }
                    }
                    Request::Load(thread_id) => {
                        // The machine task may be gone at shutdown; nothing to do then.
                        let _ = results.send(store.load(thread_id));
                    }
                }
            }
        })?;
        Ok(Self { tx: Some(tx), worker: Some(worker) })
    }

    /// Queues an append.
    pub fn persist(&self, thread_id: ThreadId, record: RolloutRecord) {
        self.send(Request::Persist(thread_id, Box::new(record)));
    }

    /// Queues a load; the answer arrives on the results channel.
    pub fn load(&self, thread_id: ThreadId) {
        self.send(Request::Load(thread_id));
    }

    fn send(&self, request: Request) {
        if let Some(tx) = &self.tx {
            if tx.send(request).is_err() {
                tracing::error!("rollout store worker is gone; request dropped");
            }
        }
    }

    /// Finishes every queued request and stops the worker.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.tx = None;
        if let Some(worker) = self.worker.take() {
            if worker.join().is_err() {
                tracing::error!("rollout store worker panicked");
            }
        }
    }
}

impl Drop for StoreHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core_sm::history::SessionMeta;
    use core_sm::TurnId;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn temp_home(tag: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("turnstile-store-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn thread_id(n: u8) -> ThreadId {
        ThreadId::parse(&format!("0190a5b2-0000-7000-8000-0000000000{n:02x}")).unwrap()
    }

    fn meta(id: ThreadId) -> RolloutRecord {
        RolloutRecord::SessionMeta(SessionMeta {
            id,
            created_at_ms: 1_764_000_000_000,
            cwd: "/w".into(),
            model: "m".into(),
            model_provider: "p".into(),
            originator: Some("t".into()),
            name: None,
            preview: "hello".into(),
            forked_from_id: None,
        })
    }

    fn started() -> RolloutRecord {
        RolloutRecord::TurnStarted {
            turn_id: TurnId::parse("0190a5b2-0000-7000-8000-0000000000ff").unwrap(),
            started_at: 1_764_000_000,
        }
    }

    #[test]
    fn append_then_load_round_trips_in_order() {
        let home = temp_home("roundtrip");
        let store = RolloutStore::new(&home);
        let id = thread_id(1);
        assert!(matches!(store.load(id), StorageResult::NotFound { .. }));
        let records = vec![meta(id), started(), RolloutRecord::ThreadNameUpdated { name: "n".into() }];
        for r in &records {
            store.append(id, r).unwrap();
        }
        match store.load(id) {
            StorageResult::Loaded { thread_id, records: got } => {
                assert_eq!(thread_id, id);
                assert_eq!(got, records);
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = fs::read_to_string(store.path_for(id)).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with(r#"{"type":"session_meta","payload":{"#));
        fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn torn_last_line_is_skipped_and_bad_middle_line_fails() {
        let good = serde_json::to_string(&meta(thread_id(2))).unwrap();
        let table: &[(String, Result<usize, &str>)] = &[
            (format!("{good}\n{good}\n"), Ok(2)),
            (format!("{good}\n{{\"type\":\"turn_sta"), Ok(1)),
            (format!("{good}\n\n{good}"), Ok(2)),
            (format!("{good}\nnot json\n{good}\n"), Err("line 2")),
            (String::new(), Ok(0)),
        ];
        for (text, want) in table {
            let got = parse_rollout(text.as_bytes()).map(|r| r.len());
            match (got, want) {
                (Ok(n), Ok(w)) => assert_eq!(n, *w, "{text}"),
                (Err(e), Err(w)) => assert!(e.starts_with(w), "{e}"),
                (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn corrupt_file_is_a_failed_load() {
        let home = temp_home("corrupt");
        let store = RolloutStore::new(&home);
        let id = thread_id(3);
        fs::create_dir_all(home.join("sessions")).unwrap();
        fs::write(store.path_for(id), "garbage\n{}\n").unwrap();
        match store.load(id) {
            StorageResult::Failed { message, .. } => assert!(message.contains("line 1")),
            other => panic!("unexpected {other:?}"),
        }
        fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn handle_keeps_order_and_answers_loads() {
        let home = temp_home("handle");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let handle = StoreHandle::spawn(RolloutStore::new(&home), tx).unwrap();
        let id = thread_id(4);
        handle.persist(id, meta(id));
        handle.persist(id, started());
        handle.load(id);
        handle.load(thread_id(5));
        handle.close();
        match rx.try_recv().unwrap() {
            StorageResult::Loaded { records, .. } => assert_eq!(records, vec![meta(id), started()]),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(rx.try_recv().unwrap(), StorageResult::NotFound { .. }));
        fs::remove_dir_all(&home).unwrap();
    }
}
