//! The memo of validated turns behind [`scan_with`](super::scan_with).

use std::collections::BTreeMap;

/// Turns validated in earlier frames, by id. `thread/resume` and `thread/read` repeat a
/// thread's finished turns byte for byte; comparing bytes with text already validated (at the
/// same place, `thread.turns`) proves the same as validating them again, for a fraction of
/// the cost.
#[derive(Debug, Default)]
pub struct TurnMemo {
    pub(super) turns: BTreeMap<[u8; 36], Box<str>>,
    bytes: usize,
}

impl TurnMemo {
    /// Memory the memo may hold; past it, new turns are validated every time.
    const MAX_BYTES: usize = 16 << 20;
    /// Turns shorter than this are validated every time: the lookup would cost as much.
    const MIN_LEN: usize = 128;

    /// The id of a turn that starts `{"id":"<36 bytes>"`.
    pub(super) fn key(text: &[u8]) -> Option<&[u8; 36]> {
        const HEAD: &[u8] = br#"{"id":""#;
        if !text.starts_with(HEAD) || text.get(HEAD.len() + 36) != Some(&b'"') {
            return None;
        }
        text[HEAD.len()..HEAD.len() + 36].try_into().ok()
    }

    pub(super) fn remember(&mut self, key: &[u8; 36], text: &str) {
        if text.len() < Self::MIN_LEN || self.bytes + text.len() > Self::MAX_BYTES {
            return;
        }
        self.bytes += text.len();
        if let Some(old) = self.turns.insert(*key, text.into()) {
            self.bytes -= old.len();
        }
    }
}
