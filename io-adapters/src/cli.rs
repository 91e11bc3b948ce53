//! The command line: what `turnstile --help` documents, and its resolution into [`Settings`].
//!
//! Every option is global, so it may be given before or after the `app-server` subcommand
//! (`turnstile --seed 7 app-server --listen stdio://` and `turnstile app-server --seed 7` are
//! the same). The subcommand itself is optional and only exists so that clients which spawn
//! `codex app-server --listen stdio://` can spawn turnstile instead.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use core_sm::MachineConfig;

use crate::clock::Clock;
use crate::config::{apply_overrides, EnvFacts};
use crate::error::StartupError;
use crate::scripted::Scenario;
use crate::ws::{WsAuth, WsAuthArgs};

/// Default for `--max-frame-bytes`: 64 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

const AFTER_HELP: &str = "\
Environment:
  TURNSTILE_HOME   default for --home (otherwise ~/.turnstile)
  RUST_LOG         log filter for stderr, e.g. `info` or `io_adapters=debug` (default: warn)
  LOG_FORMAT=json  log to stderr as JSON lines instead of text

stdout carries only protocol frames (one JSON message per line); logs go to stderr.
The scripted engine's directive language and scenario format are described in
docs/scripted-engine.md.";

/// `turnstile`: an app-server speaking the Codex app-server JSON-RPC v2 protocol.
#[derive(Debug, Parser)]
#[command(
    name = "turnstile",
    version,
    about = "An app-server speaking the Codex app-server JSON-RPC v2 protocol.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Optional subcommand; running without one is the same as `app-server`.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Transport to serve: `stdio://` (newline-delimited JSON on stdin/stdout; the default) or
    /// `ws://IP:PORT` (websocket connections, one JSON message per text message; port 0 picks a
    /// free port, printed to stderr as `listening on: ws://…`).
    #[arg(long, global = true, value_name = "URL")]
    pub listen: Option<String>,

    /// Server home directory (rollouts live in DIR/sessions); created if missing.
    /// Default: $TURNSTILE_HOME, else ~/.turnstile.
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Engine that runs turns. `scripted` is deterministic and needs no network.
    #[arg(long, global = true, value_enum, value_name = "ENGINE")]
    pub engine: Option<EngineKind>,

    /// JSON scenario file for the scripted engine (see docs/scripted-engine.md).
    #[arg(long, global = true, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Seed for every id the server mints; the same seed and inputs give the same ids.
    #[arg(long, global = true, value_name = "N")]
    pub seed: Option<u64>,

    /// Use a deterministic clock instead of the wall clock: time starts at START_MS (Unix
    /// milliseconds) and advances by exactly 1 ms for every input the server handles (a timer
    /// firing jumps it to the timer's deadline). Together with --seed this makes a transcript
    /// byte-identical across runs for the same client behaviour.
    #[arg(long, global = true, value_name = "START_MS")]
    pub deterministic_clock: Option<u64>,

    /// Override a configuration value; repeatable. Known keys: model, model_provider,
    /// sandbox_mode (read-only | workspace-write | danger-full-access),
    /// thread_unload_delay_secs, cwd. Values may be quoted (model="gpt-5"). Unknown keys are
    /// ignored with a warning on stderr.
    #[arg(short = 'c', long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,

    /// Longest accepted input message in bytes (default 64 MiB). A longer stdio line is
    /// discarded with a warning and the connection keeps serving; a longer websocket message
    /// ends its connection.
    #[arg(long, global = true, value_name = "BYTES")]
    pub max_frame_bytes: Option<usize>,

    /// Websocket auth (`--ws-auth` and its files).
    #[command(flatten)]
    pub ws_auth: WsAuthArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the app server (the default); accepted for `codex app-server` compatibility.
    AppServer(AppServerArgs),
}

/// Options of `app-server` that add to (rather than replace) the same options given before it.
#[derive(Debug, Args, Clone, PartialEq, Eq, Default)]
pub struct AppServerArgs {
    /// Override a configuration value; repeatable; applied after any `-c` given before
    /// `app-server`. See the top-level `--config`.
    #[arg(short = 'c', long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
}

/// Engines `--engine` can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum EngineKind {
    /// Deterministic engine driven by directives in the user's text or a scenario file.
    #[default]
    Scripted,
}

/// A transport `--listen` can select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// One connection on stdin/stdout.
    Stdio,
    /// A websocket listener on this address.
    Ws(std::net::SocketAddr),
}

/// Everything the server needs, resolved from the command line and the environment.
#[derive(Debug)]
pub struct Settings {
    /// The transport.
    pub listen: Listen,
    /// The machine's configuration (home, seed, facts, overrides applied).
    pub machine: MachineConfig,
    /// The engine.
    pub engine: EngineKind,
    /// Scenario for the scripted engine.
    pub scenario: Scenario,
    /// The clock.
    pub clock: Clock,
    /// Longest accepted input message.
    pub max_frame_bytes: usize,
    /// How websocket upgrades are authorized (`None`: they are not).
    pub ws_auth: Option<WsAuth>,
    /// Warnings to print (ignored `-c` keys).
    pub warnings: Vec<String>,
}

/// Parses a `--listen` value.
pub fn parse_listen(url: &str) -> Result<Listen, StartupError> {
    if url == "stdio://" {
        return Ok(Listen::Stdio);
    }
    if let Some(addr) = url.strip_prefix("ws://") {
        return addr
            .parse()
            .map(Listen::Ws)
            .map_err(|_| StartupError::InvalidWebsocketListen(url.to_owned()));
    }
    Err(StartupError::UnsupportedListen(url.to_owned()))
}

/// The home directory: `--home`, else `$TURNSTILE_HOME`, else `$HOME/.turnstile`.
pub fn choose_home(
    flag: Option<&Path>,
    turnstile_home: Option<&str>,
    user_home: Option<&str>,
) -> Result<PathBuf, StartupError> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = turnstile_home.filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match user_home.filter(|d| !d.is_empty()) {
        Some(home) => Ok(Path::new(home).join(".turnstile")),
        None => Err(StartupError::NoHome),
    }
}

/// Creates the home directory and returns its absolute path.
pub fn prepare_home(dir: &Path) -> Result<PathBuf, StartupError> {
    let fail =
        |e: std::io::Error| StartupError::Home { path: dir.display().to_string(), message: e.to_string() };
    std::fs::create_dir_all(dir).map_err(fail)?;
    std::fs::canonicalize(dir).map_err(fail)
}

impl Cli {
    /// Every `-c` override in command-line order (those before `app-server` first).
    pub fn config_overrides(&self) -> Vec<String> {
        let mut all = self.config.clone();
        if let Some(Command::AppServer(args)) = &self.command {
            all.extend(args.config.iter().cloned());
        }
        all
    }

    /// Resolves the command line against the process environment: creates the home directory,
    /// loads the scenario and applies `-c` overrides.
    pub fn resolve(self) -> Result<Settings, StartupError> {
        let listen = parse_listen(self.listen.as_deref().unwrap_or("stdio://"))?;
        let home = choose_home(
            self.home.as_deref(),
            std::env::var("TURNSTILE_HOME").ok().as_deref(),
            std::env::var("HOME").ok().as_deref(),
        )?;
        let home = prepare_home(&home)?;
        let scenario = match &self.scenario {
            Some(path) => Scenario::load(path)?,
            None => Scenario::default(),
        };
        let facts = EnvFacts::detect();
        let mut machine = facts.machine_config(self.seed.unwrap_or(0), &home);
        let warnings = apply_overrides(&mut machine, &self.config_overrides())?;
        Ok(Settings {
            listen,
            machine,
            engine: self.engine.unwrap_or_default(),
            scenario,
            clock: match self.deterministic_clock {
                Some(start) => Clock::deterministic(start),
                None => Clock::Wall,
            },
            max_frame_bytes: self.max_frame_bytes.unwrap_or(DEFAULT_MAX_FRAME_BYTES),
            ws_auth: self.ws_auth.resolve().map_err(StartupError::WsAuth)?,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        let mut argv = vec!["turnstile"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("parses")
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_work_before_and_after_the_subcommand() {
        let before = parse(&["--seed", "7", "-c", "model=a", "app-server", "-c", "cwd=/x"]);
        assert!(matches!(before.command, Some(Command::AppServer(_))));
        assert_eq!(before.seed, Some(7));
        assert_eq!(before.config_overrides(), vec!["model=a", "cwd=/x"]);
        let after = parse(&[
            "app-server",
            "--listen",
            "stdio://",
            "--deterministic-clock",
            "5",
            "--config",
            "model=b",
        ]);
        assert_eq!(after.listen.as_deref(), Some("stdio://"));
        assert_eq!(after.deterministic_clock, Some(5));
        assert_eq!(after.config_overrides(), vec!["model=b"]);
        let bare = parse(&[]);
        assert_eq!(bare.command, None);
        assert_eq!(bare.engine, None);
        let before_listen = parse(&["--listen", "stdio://", "app-server"]);
        assert_eq!(before_listen.listen.as_deref(), Some("stdio://"));
    }

    #[test]
    fn engine_names() {
        assert_eq!(parse(&["--engine", "scripted"]).engine, Some(EngineKind::Scripted));
        assert!(Cli::try_parse_from(["turnstile", "--engine", "gpt"]).is_err());
    }

    #[test]
    fn listen_urls() {
        assert_eq!(parse_listen("stdio://").unwrap(), Listen::Stdio);
        assert_eq!(parse_listen("ws://127.0.0.1:4000").unwrap(), Listen::Ws(([127, 0, 0, 1], 4000).into()));
        assert_eq!(parse_listen("ws://[::1]:0").unwrap(), Listen::Ws("[::1]:0".parse().unwrap()));
        for bad in ["ws://localhost:1234", "ws://127.0.0.1", "ws://127.0.0.1:1234/", "ws://"] {
            assert_eq!(
                parse_listen(bad).unwrap_err().to_string(),
                format!("invalid websocket --listen URL `{bad}`; expected `ws://IP:PORT`")
            );
        }
        let other = parse_listen("tcp://x").unwrap_err();
        assert_eq!(
            other.to_string(),
            "unsupported --listen URL `tcp://x`; expected `stdio://` or `ws://IP:PORT`"
        );
    }

    #[test]
    fn home_resolution_order() {
        let flag = Path::new("/flag");
        assert_eq!(choose_home(Some(flag), Some("/env"), Some("/u")).unwrap(), PathBuf::from("/flag"));
        assert_eq!(choose_home(None, Some("/env"), Some("/u")).unwrap(), PathBuf::from("/env"));
        assert_eq!(choose_home(None, Some(""), Some("/u")).unwrap(), PathBuf::from("/u/.turnstile"));
        assert!(choose_home(None, None, None).is_err());
    }

    #[test]
    fn prepare_home_creates_an_absolute_dir() {
        let dir = std::env::temp_dir().join(format!("turnstile-home-{}", std::process::id()));
        let made = prepare_home(&dir).unwrap();
        assert!(made.is_absolute() && made.is_dir());
        std::fs::remove_dir_all(&made).unwrap();
    }

    #[test]
    fn help_documents_every_option() {
        let help = Cli::command().render_long_help().to_string();
        for option in [
            "--listen",
            "--home",
            "--engine",
            "--scenario",
            "--seed",
            "--deterministic-clock",
            "--config",
            "--max-frame-bytes",
            "RUST_LOG",
            "LOG_FORMAT",
            "TURNSTILE_HOME",
            "app-server",
        ] {
            assert!(help.contains(option), "{option} missing from --help");
        }
    }
}
