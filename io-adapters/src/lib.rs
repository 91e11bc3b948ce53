//! `io-adapters`: everything around the turnstile core that touches the world.
//!
//! * [`cli`]: the `turnstile` command line and its resolution into [`cli::Settings`];
//!   [`config`]: host facts and `-c key=value` overrides for the machine's configuration.
//! * [`stdio`]: the newline-delimited JSON transport; [`ws`]: the websocket listener;
//!   [`transport`]: what they share (events, peers, admission under backpressure).
//! * [`server`]: the runtime loop around the [`core_sm::Machine`].
//! * [`scripted`]: the deterministic scripted engine; [`engine`]: the engine host boundary.
//! * [`store`]: rollout files under `<home>/sessions/`.
//! * [`clock`], [`logging`]: time and diagnostics.
//!
//! The binary is a thin wrapper around [`run`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod logging;
pub mod scripted;
pub mod server;
pub mod stdio;
pub mod store;
pub mod transport;
pub mod ws;

#[cfg(test)]
mod test_support;

use std::process::ExitCode;

use clap::Parser;

pub use error::StartupError;

/// Runs the `turnstile` binary: parses the command line, installs logging, serves stdio until
/// end of input (or websocket connections) until SIGTERM/SIGINT. Exit status: 0 after a clean end of input or a signal, 2
/// for startup errors (bad options, bad scenario, unusable home), 1 if serving failed.
pub fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init();
    let settings = match cli.resolve() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("turnstile: error: {error}");
            return ExitCode::from(error.exit_code());
        }
    };
    for warning in &settings.warnings {
        eprintln!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            let error = StartupError::Runtime(e.to_string());
            eprintln!("turnstile: error: {error}");
            return ExitCode::from(error.exit_code());
        }
    };
    // Installed before serving starts, so no signal slips through with its default action.
    let signalled = {
        let _guard = runtime.enter();
        termination()
    };
    let result = match settings.listen {
        cli::Listen::Stdio => runtime.block_on(server::serve_until(
            tokio::io::stdin(),
            tokio::io::stdout(),
            settings,
            signalled,
        )),
        cli::Listen::Ws(addr) => {
            let listener = match runtime.block_on(tokio::net::TcpListener::bind(addr)) {
                Ok(listener) => listener,
                Err(e) => {
                    let error = StartupError::Bind { addr: addr.to_string(), message: e.to_string() };
                    eprintln!("turnstile: error: {error}");
                    return ExitCode::from(error.exit_code());
                }
            };
            match listener.local_addr() {
                Ok(bound) => {
                    eprint!("{}", ws::banner(bound, settings.ws_auth.is_some()));
                    tracing::info!("app-server websocket listening on ws://{bound}");
                }
                Err(e) => tracing::warn!(error = %e, "bound address unknown"),
            }
            runtime.block_on(ws::serve_ws(listener, settings, signalled))
        }
    };
    // A blocking stdin read may still be pending; do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("turnstile: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on the first SIGTERM or SIGINT (Ctrl-C elsewhere). The handlers are installed
/// when this is called, which must be inside the runtime; if they cannot be, it never completes.
fn termination() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let handlers =
            signal(SignalKind::terminate()).and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
        async move {
            match handlers {
                Ok((mut terminate, mut interrupt)) => {
                    let name = tokio::select! {
                        _ = terminate.recv() => "SIGTERM",
                        _ = interrupt.recv() => "SIGINT",
                    };
                    tracing::info!(signal = name, "signal received");
                }
                Err(error) => {
                    tracing::warn!(%error, "signal handlers could not be installed");
                    std::future::pending::<()>().await
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await
            }
        }
    }
}
