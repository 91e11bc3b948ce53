//! Per-connection state: the handshake, capabilities and notification opt-outs.

use std::collections::BTreeSet;

/// One open connection.
#[derive(Debug, Default)]
pub(crate) struct Connection {
    /// Set once `initialize` succeeded; capabilities never change afterwards.
    pub(crate) session: Option<ClientSession>,
}

/// What a connection declared in its `initialize`.
#[derive(Debug)]
pub(crate) struct ClientSession {
    pub(crate) client_name: String,
    pub(crate) experimental_api: bool,
    pub(crate) opt_out: BTreeSet<String>,
}

impl Connection {
    /// Whether the connection may receive broadcasts and requests.
    pub(crate) fn is_initialized(&self) -> bool {
        self.session.is_some()
    }

    /// Whether a notification with this method may be sent here (opt-outs apply to every
    /// notification, broadcast or targeted, and never to responses or requests).
    pub(crate) fn wants(&self, method: &str) -> bool {
        self.session.as_ref().is_none_or(|s| !s.opt_out.contains(method))
    }
}

/// Whether `name` is a valid HTTP header value (visible ASCII, space and tab), as Codex
/// requires of `clientInfo.name` because it becomes the user-agent prefix.
pub(crate) fn is_valid_header_value(name: &str) -> bool {
    name.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        for ok in ["codex_vscode", "my client 1.0", "a\tb", ""] {
            assert!(is_valid_header_value(ok), "{ok:?}");
        }
        for bad in ["line\nbreak", "nul\0", "del\x7f", "é"] {
            assert!(!is_valid_header_value(bad), "{bad:?}");
        }
    }
}
