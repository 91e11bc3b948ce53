//! Diagnostics to stderr (stdout carries only protocol frames).
//!
//! `RUST_LOG` selects what is logged (an `EnvFilter` directive; default `warn`);
//! `LOG_FORMAT=json` switches from human-readable text to one JSON object per line.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable text.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The format `LOG_FORMAT` asks for (`json`, case-insensitive; anything else is text).
    pub fn from_env_value(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// Installs the global subscriber: stderr only, filter from `RUST_LOG` (default `warn`),
/// format from `LOG_FORMAT`. Does nothing if a subscriber is already installed.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match LogFormat::from_env_value(std::env::var("LOG_FORMAT").ok().as_deref()) {
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
    // Already installed (tests): keep the existing one.
    drop(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_from_env() {
        assert_eq!(LogFormat::from_env_value(Some("json")), LogFormat::Json);
        assert_eq!(LogFormat::from_env_value(Some("JSON ")), LogFormat::Json);
        assert_eq!(LogFormat::from_env_value(Some("text")), LogFormat::Text);
        assert_eq!(LogFormat::from_env_value(None), LogFormat::Text);
    }

    #[test]
    fn init_twice_is_harmless() {
        init();
        init();
    }
}
