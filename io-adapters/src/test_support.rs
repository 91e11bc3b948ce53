//! Helpers shared by the runtime's and the transports' tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::cli::{EngineKind, Listen, Settings, DEFAULT_MAX_FRAME_BYTES};
use crate::clock::Clock;
use crate::config::EnvFacts;
use crate::scripted::Scenario;

/// The deterministic clock's start.
pub(crate) const START_MS: u64 = 1_764_000_000_000;

/// A fresh, empty home directory under the system temp dir.
pub(crate) fn temp_home() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("turnstile-server-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Settings with fixed host facts, seed 3 and the deterministic clock.
pub(crate) fn settings(home: &Path) -> Settings {
    let facts = EnvFacts {
        platform_family: "unix".into(),
        platform_os: "linux".into(),
        os_version: "Linux".into(),
        arch: "x86_64".into(),
        terminal: "unknown".into(),
        cwd: "/w".into(),
    };
    Settings {
        listen: Listen::Stdio,
        machine: facts.machine_config(3, home),
        engine: EngineKind::Scripted,
        scenario: Scenario::default(),
        clock: Clock::deterministic(START_MS),
        max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
        ws_auth: None,
        warnings: Vec::new(),
    }
}
