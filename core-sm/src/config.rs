//! What the embedder tells the machine at construction.

use crate::wire::SandboxMode;

/// The Codex release whose app-server protocol turnstile implements.
pub const PROTOCOL_VERSION: &str = "0.169.0";

/// Facts and defaults the machine cannot find out by itself (it does no I/O).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MachineConfig {
    /// Seeds every id the machine mints; the same seed and inputs give the same bytes.
    pub seed: u64,
    /// The server's home directory, reported as `codexHome`.
    pub home: String,
    /// Version reported in `userAgent` and `Thread.cliVersion`. Clients read it as the Codex
    /// version whose protocol the server speaks (the Python SDK gates features on it), so it
    /// defaults to [`PROTOCOL_VERSION`], not turnstile's own crate version.
    pub server_version: String,
    /// `platformFamily`, e.g. `unix`.
    pub platform_family: String,
    /// `platformOs`, e.g. `linux`.
    pub platform_os: String,
    /// OS description for the user agent, e.g. `Debian 12.0.0`.
    pub os_version: String,
    /// CPU architecture for the user agent, e.g. `x86_64`.
    pub arch: String,
    /// Terminal name for the user agent.
    pub terminal: String,
    /// Default working directory for threads that name none.
    pub cwd: String,
    /// Default model name.
    pub model: String,
    /// Model provider id; `thread/list` shows this provider's threads by default.
    pub model_provider: String,
    /// Default sandbox.
    pub sandbox: SandboxMode,
    /// A thread with no subscribers and no activity for this long is unloaded.
    pub thread_unload_delay_ms: u64,
    /// A deliberately broken behaviour, for proving the simulator finds bugs.
    #[cfg(feature = "inject-bugs")]
    pub injected_bug: Option<InjectedBug>,
}

/// Known-bad behaviours real app-servers shipped, re-created on demand so tests can prove the
/// simulator's oracle catches them. Only with the `inject-bugs` feature.
#[cfg(feature = "inject-bugs")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InjectedBug {
    /// Emit `turn/started` from the `turn/start` handler, before the thread is `active`.
    EarlyTurnStarted,
    /// Leave a closed connection in every subscriber set, so thread events reach whichever
    /// connection later reuses its id although that connection never subscribed.
    LeakSubscriptionOnClose,
    /// Keep answered server requests and replay them, with the pending ones, to a connection
    /// that resumes the thread.
    ReplayResolvedRequests,
    /// When archiving tears down a thread whose turn the engine has not started yet, forget
    /// the `turn/interrupt` requests waiting on that turn (the first version of archiving did,
    /// and the simulator found it).
    ArchiveForgetsUnstartedInterrupters,
}

impl MachineConfig {
    /// A configuration with defaults suitable for tests and simulations.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            home: "/tmp/turnstile-home".into(),
            server_version: PROTOCOL_VERSION.into(),
            platform_family: "unix".into(),
            platform_os: "linux".into(),
            os_version: "Linux".into(),
            arch: "x86_64".into(),
            terminal: "unknown".into(),
            cwd: "/tmp".into(),
            model: "turnstile-scripted".into(),
            model_provider: "turnstile".into(),
            sandbox: SandboxMode::WorkspaceWrite,
            thread_unload_delay_ms: 30 * 60 * 1000,
            #[cfg(feature = "inject-bugs")]
            injected_bug: None,
        }
    }
}
