//! The machine's configuration: facts about the host (platform, terminal, working directory)
//! and `-c key=value` overrides.
//!
//! The core does no I/O, so everything it reports about its environment is collected here.

use std::path::Path;

use core_sm::wire::SandboxMode;
use core_sm::MachineConfig;

use crate::error::StartupError;

/// Facts about the host, read once at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFacts {
    /// `std::env::consts::FAMILY`, e.g. `unix`.
    pub platform_family: String,
    /// `std::env::consts::OS`, e.g. `linux`.
    pub platform_os: String,
    /// OS description for the user agent, e.g. `Debian 12`.
    pub os_version: String,
    /// `std::env::consts::ARCH`, e.g. `x86_64`.
    pub arch: String,
    /// `$TERM_PROGRAM`, else `$TERM`, else `unknown`.
    pub terminal: String,
    /// The process's working directory.
    pub cwd: String,
}

impl EnvFacts {
    /// Reads the facts from the running process.
    pub fn detect() -> Self {
        let os_release = std::fs::read_to_string("/etc/os-release").ok();
        Self {
            platform_family: std::env::consts::FAMILY.to_owned(),
            platform_os: std::env::consts::OS.to_owned(),
            os_version: os_description(std::env::consts::OS, os_release.as_deref()),
            arch: std::env::consts::ARCH.to_owned(),
            terminal: terminal_name(
                std::env::var("TERM_PROGRAM").ok().as_deref(),
                std::env::var("TERM").ok().as_deref(),
            ),
            cwd: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "/".to_owned()),
        }
    }

    /// A machine configuration carrying these facts, the seed and the home directory, with
    /// the core's defaults for everything else. `server_version` keeps the core's default
    /// ([`core_sm::PROTOCOL_VERSION`]): clients read it as the Codex version whose protocol the
    /// server speaks and gate features on it.
    pub fn machine_config(&self, seed: u64, home: &Path) -> MachineConfig {
        let mut config = MachineConfig::new(seed);
        config.home = home.display().to_string();
        config.platform_family = self.platform_family.clone();
        config.platform_os = self.platform_os.clone();
        config.os_version = self.os_version.clone();
        config.arch = self.arch.clone();
        config.terminal = self.terminal.clone();
        config.cwd = self.cwd.clone();
        config
    }
}

/// `$TERM_PROGRAM`, else `$TERM`, else `unknown` (empty values count as unset).
pub fn terminal_name(term_program: Option<&str>, term: Option<&str>) -> String {
    term_program
        .filter(|t| !t.trim().is_empty())
        .or(term.filter(|t| !t.trim().is_empty()))
        .unwrap_or("unknown")
        .trim()
        .to_owned()
}

/// The OS description: `NAME VERSION_ID` from os-release on Linux, else a name for the OS.
pub fn os_description(os: &str, os_release: Option<&str>) -> String {
    if let Some(text) = os_release {
        let field = |key: &str| {
            text.lines().find_map(|line| {
                let value = line.strip_prefix(key)?.strip_prefix('=')?;
                let value = value.trim().trim_matches('"').trim_matches('\'');
                (!value.is_empty()).then(|| value.to_owned())
            })
        };
        if let Some(name) = field("NAME") {
            return match field("VERSION_ID") {
                Some(version) => format!("{name} {version}"),
                None => name,
            };
        }
    }
    match os {
        "linux" => "Linux".to_owned(),
        "macos" => "Mac OS".to_owned(),
        "windows" => "Windows".to_owned(),
        other => other.to_owned(),
    }
}

/// Strips one pair of surrounding quotes (`"…"` or `'…'`), TOML-style.
pub fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// Applies `-c key=value` overrides in order (later ones win). Returns one warning per
/// ignored (unknown) key; fails on malformed arguments and bad values for known keys.
pub fn apply_overrides(config: &mut MachineConfig, pairs: &[String]) -> Result<Vec<String>, StartupError> {
    let mut warnings = Vec::new();
    for pair in pairs {
        let Some((key, raw)) = pair.split_once('=') else {
            return Err(StartupError::ConfigSyntax(pair.clone()));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(StartupError::ConfigSyntax(pair.clone()));
        }
        let value = unquote(raw);
        let bad = |reason: &str| StartupError::ConfigValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        match key {
            "model" => config.model = value.to_owned(),
            "model_provider" => config.model_provider = value.to_owned(),
            "cwd" => config.cwd = value.to_owned(),
            "sandbox_mode" => {
                config.sandbox = match value {
                    "read-only" => SandboxMode::ReadOnly,
                    "workspace-write" => SandboxMode::WorkspaceWrite,
                    "danger-full-access" => SandboxMode::DangerFullAccess,
                    _ => return Err(bad("expected read-only, workspace-write or danger-full-access")),
                }
            }
            "thread_unload_delay_secs" => {
                let secs: u64 = value.parse().map_err(|_| bad("expected a whole number of seconds"))?;
                config.thread_unload_delay_ms = secs.saturating_mul(1000);
            }
            other => warnings
                .push(format!("turnstile: warning: ignoring unknown config key `{other}` (from -c {pair})")),
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn overrides_apply_known_keys() {
        let mut c = MachineConfig::new(0);
        let warnings = apply_overrides(
            &mut c,
            &strings(&[
                "model=\"gpt-5\"",
                "model_provider='openai'",
                "sandbox_mode=danger-full-access",
                "thread_unload_delay_secs=60",
                "cwd=/work",
            ]),
        )
        .unwrap();
        assert!(warnings.is_empty());
        assert_eq!(c.model, "gpt-5");
        assert_eq!(c.model_provider, "openai");
        assert_eq!(c.sandbox, SandboxMode::DangerFullAccess);
        assert_eq!(c.thread_unload_delay_ms, 60_000);
        assert_eq!(c.cwd, "/work");
    }

    #[test]
    fn overrides_warn_on_unknown_keys_and_fail_on_bad_values() {
        let mut c = MachineConfig::new(0);
        let warnings = apply_overrides(&mut c, &strings(&["approval_policy=never", "model=x"])).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("`approval_policy`"));
        assert_eq!(c.model, "x");
        for bad in ["sandbox_mode=open", "thread_unload_delay_secs=soon", "novalue", "=x"] {
            assert!(apply_overrides(&mut c, &strings(&[bad])).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn unquote_strips_one_pair() {
        let table = [
            ("\"a\"", "a"),
            ("'a b'", "a b"),
            ("plain", "plain"),
            ("\"", "\""),
            ("\"mismatch'", "\"mismatch'"),
            ("\"\"", ""),
        ];
        for (input, want) in table {
            assert_eq!(unquote(input), want, "{input}");
        }
    }

    #[test]
    fn terminal_fallbacks() {
        assert_eq!(terminal_name(Some("iTerm.app"), Some("xterm")), "iTerm.app");
        assert_eq!(terminal_name(Some(""), Some("xterm")), "xterm");
        assert_eq!(terminal_name(None, None), "unknown");
    }

    #[test]
    fn os_descriptions() {
        let debian =
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n";
        assert_eq!(os_description("linux", Some(debian)), "Debian GNU/Linux 12");
        assert_eq!(os_description("linux", Some("NAME=Arch\n")), "Arch");
        assert_eq!(os_description("linux", None), "Linux");
        assert_eq!(os_description("macos", None), "Mac OS");
    }

    #[test]
    fn machine_config_carries_facts() {
        let facts = EnvFacts {
            platform_family: "unix".into(),
            platform_os: "linux".into(),
            os_version: "Debian 12".into(),
            arch: "aarch64".into(),
            terminal: "xterm".into(),
            cwd: "/srv".into(),
        };
        let c = facts.machine_config(9, Path::new("/h"));
        assert_eq!(c.seed, 9);
        assert_eq!(c.home, "/h");
        assert_eq!(c.arch, "aarch64");
        assert_eq!(c.terminal, "xterm");
        assert_eq!(c.cwd, "/srv");
        assert_eq!(c.os_version, "Debian 12");
        assert_eq!(c.server_version, core_sm::PROTOCOL_VERSION);
    }
}
