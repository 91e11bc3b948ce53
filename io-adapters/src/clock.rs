//! The clock that stamps every input fed to the machine.
//!
//! The machine never reads a clock; the runtime passes `now` with every input. With the wall
//! clock that is Unix time. With the deterministic clock (`--deterministic-clock START_MS`) the
//! first input is stamped `START_MS` and each later input exactly 1 ms more, so ids and
//! timestamps depend only on the order of inputs, never on real time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use core_sm::Timestamp;

/// Where `now` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clock {
    /// Unix time in milliseconds.
    Wall,
    /// Virtual time: the next input is stamped `next`; every input advances it by 1 ms.
    Deterministic {
        /// The stamp of the next input.
        next: u64,
    },
}

impl Clock {
    /// A deterministic clock whose first input is stamped `start_ms`.
    pub fn deterministic(start_ms: u64) -> Self {
        Clock::Deterministic { next: start_ms }
    }

    /// The time to stamp the next input with (advances a deterministic clock by 1 ms).
    pub fn stamp_input(&mut self) -> Timestamp {
        match self {
            Clock::Wall => wall_now(),
            Clock::Deterministic { next } => {
                let now = *next;
                *next = next.saturating_add(1);
                Timestamp(now)
            }
        }
    }

    /// The time to stamp a timer tick for `deadline` with. A deterministic clock jumps forward
    /// to the deadline if it is not there yet (and then still advances by 1 ms).
    pub fn stamp_tick(&mut self, deadline: Timestamp) -> Timestamp {
        match self {
            Clock::Wall => wall_now(),
            Clock::Deterministic { next } => {
                *next = (*next).max(deadline.0);
                self.stamp_input()
            }
        }
    }

    /// How long to sleep (in real time) until `deadline` is due on this clock.
    pub fn until(&self, deadline: Timestamp) -> Duration {
        let now = match self {
            Clock::Wall => wall_now(),
            Clock::Deterministic { next } => Timestamp(next.saturating_sub(1)),
        };
        Duration::from_millis(deadline.millis_since(now))
    }
}

fn wall_now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Timestamp(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_clock_advances_one_ms_per_input() {
        let mut c = Clock::deterministic(1_000);
        let stamps: Vec<u64> = (0..3).map(|_| c.stamp_input().0).collect();
        assert_eq!(stamps, vec![1_000, 1_001, 1_002]);
        assert_eq!(c.until(Timestamp(1_010)), Duration::from_millis(8));
        assert_eq!(c.until(Timestamp(10)), Duration::ZERO);
    }

    #[test]
    fn deterministic_tick_jumps_to_the_deadline() {
        let mut c = Clock::deterministic(1_000);
        c.stamp_input();
        assert_eq!(c.stamp_tick(Timestamp(5_000)), Timestamp(5_000));
        assert_eq!(c.stamp_input(), Timestamp(5_001));
        // A deadline already passed does not move time backwards.
        assert_eq!(c.stamp_tick(Timestamp(10)), Timestamp(5_002));
    }

    #[test]
    fn wall_clock_is_unix_time() {
        let mut c = Clock::Wall;
        let t = c.stamp_input();
        assert!(t.0 > 1_600_000_000_000);
        assert!(c.until(Timestamp(0)).is_zero());
    }
}
