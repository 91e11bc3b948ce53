//! Wall-clock time as the caller supplies it.

use std::fmt;

/// A point in wall-clock time, in milliseconds since the Unix epoch.
///
/// The machine never reads a clock: every input carries the caller's `now`, and every
/// timestamp on the wire (`emittedAtMs`, `createdAt`, `startedAtMs`, ...) is derived from it.
/// A simulator passes virtual time; a server passes the wall clock it reads itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// A timestamp from Unix milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Unix milliseconds, as the wire's `*Ms` fields carry them.
    pub fn millis(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }

    /// Unix seconds, as the wire's `createdAt` / `startedAt` fields carry them.
    pub fn secs(self) -> i64 {
        self.millis() / 1000
    }

    /// This time plus `ms` milliseconds, saturating.
    pub fn plus_millis(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Milliseconds elapsed since `earlier` (zero if `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}
