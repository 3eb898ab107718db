//! Where the engine reads the time: the wall clock (ms since the Unix epoch) for timestamps,
//! retention by age, lag in time and reset times, and a monotonic reading (ms) for intervals
//! (session timeouts, rates). [`SystemClock`] is the real one; [`ManualClock`] moves only when it
//! is told to, so tests and the demo's simulation decide what time it is.
//!
//! Waiting (long polls, the group-commit spin, the interval flusher's cadence) stays on real time:
//! it is about threads and the disk, not about what the engine decides.

use parking_lot::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A source of time for the engine.
pub trait Clock: std::fmt::Debug + Send + Sync {
    /// Wall-clock milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Milliseconds on a clock that never goes back (its zero is arbitrary).
    fn mono_ms(&self) -> u64;
}

/// The operating system's clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::core::time::now_ms()
    }

    fn mono_ms(&self) -> u64 {
        static ZERO: OnceLock<Instant> = OnceLock::new();
        let elapsed = ZERO.get_or_init(Instant::now).elapsed();
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock that stands still until it is moved. Share it as `Arc<ManualClock>`: one handle in
/// the engine's config, one in the test (or simulation) that moves it.
#[derive(Debug)]
pub struct ManualClock {
    /// (wall ms since the epoch, monotonic ms)
    at: Mutex<(i64, u64)>,
}

impl ManualClock {
    /// A clock that reads `start_ms` (wall) and 0 (monotonic) until moved.
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock { at: Mutex::new((start_ms, 0)) }
    }

    /// Moves both readings forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let mut at = self.at.lock();
        at.0 = at.0.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
        at.1 = at.1.saturating_add(ms);
    }

    /// Sets the wall clock to `ms`. Moving it forward moves the monotonic reading by as much;
    /// moving it back (as a wall clock may be set back) leaves the monotonic reading where it is.
    pub fn set_ms(&self, ms: i64) {
        let mut at = self.at.lock();
        if ms > at.0 {
            at.1 = at.1.saturating_add(ms.abs_diff(at.0));
        }
        at.0 = ms;
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.at.lock().0
    }

    fn mono_ms(&self) -> u64 {
        self.at.lock().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_monotonic_reading_never_goes_back() {
        let c = ManualClock::new(1_000);
        assert_eq!((c.now_ms(), c.mono_ms()), (1_000, 0));
        c.advance(Duration::from_millis(250));
        assert_eq!((c.now_ms(), c.mono_ms()), (1_250, 250));
        c.set_ms(2_000);
        assert_eq!((c.now_ms(), c.mono_ms()), (2_000, 1_000));
        c.set_ms(500);
        assert_eq!((c.now_ms(), c.mono_ms()), (500, 1_000), "the wall clock was set back; the monotonic one stays");
        c.advance(Duration::from_secs(1));
        assert_eq!((c.now_ms(), c.mono_ms()), (1_500, 2_000));
    }

    #[test]
    fn the_system_clock_reads_the_wall_clock_and_a_monotonic_one() {
        let c = SystemClock;
        let wall = crate::core::time::now_ms();
        assert!((c.now_ms() - wall).abs() < 5_000);
        let a = c.mono_ms();
        assert!(c.mono_ms() >= a);
    }
}
