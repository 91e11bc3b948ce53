//! Errors that stop the server before it serves anything (exit status 2).

/// A problem with the command line, the environment or a file named on the command line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// `--listen ws://…` whose address is not `IP:PORT` (host names are refused, as in Codex).
    #[error("invalid websocket --listen URL `{0}`; expected `ws://IP:PORT`")]
    InvalidWebsocketListen(String),
    /// The `--ws-*` options do not fit together, or a secret file is unusable.
    #[error("{0}")]
    WsAuth(String),
    /// The websocket listener could not bind its address.
    #[error("cannot listen on {addr}: {message}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        message: String,
    },
    /// `--listen` with anything else.
    #[error("unsupported --listen URL `{0}`; expected `stdio://` or `ws://IP:PORT`")]
    UnsupportedListen(String),
    /// Neither `--home`, `$TURNSTILE_HOME` nor `$HOME` is set.
    #[error("cannot choose a home directory: pass --home DIR or set TURNSTILE_HOME or HOME")]
    NoHome,
    /// The home directory could not be created or resolved.
    #[error("cannot use home directory `{path}`: {message}")]
    Home {
        /// The directory.
        path: String,
        /// Why.
        message: String,
    },
    /// A `-c` argument without `=`.
    #[error("invalid -c/--config argument `{0}`: expected KEY=VALUE")]
    ConfigSyntax(String),
    /// A known `-c` key with a value it cannot take.
    #[error("invalid value for -c {key}: `{value}`: {reason}")]
    ConfigValue {
        /// The key.
        key: String,
        /// The value as given.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// The `--scenario` file could not be read or is not a valid scenario.
    #[error("invalid scenario file `{path}`: {message}")]
    Scenario {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(String),
}

impl StartupError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        2
    }
}
