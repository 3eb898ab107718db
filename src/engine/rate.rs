//! A cheap per-second rate meter: counts in one-second buckets, averaged over the last ten seconds.
//! Its seconds are the engine clock's (monotonic reading), so rates follow a manual clock too.

use super::clock::Clock;
use parking_lot::Mutex;
use std::sync::Arc;

const BUCKETS: usize = 12;
const WINDOW: u64 = 10;

/// Counts events and reports their rate per second over a sliding ten-second window.
#[derive(Debug)]
pub struct RateMeter {
    clock: Arc<dyn Clock>,
    /// The clock's monotonic reading (ms) when the meter was made.
    start: u64,
    inner: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    /// Second (since `start`) of the newest bucket written.
    head: u64,
    counts: [u64; BUCKETS],
    total: u64,
}

impl Buckets {
    fn advance(&mut self, now: u64) {
        if now > self.head {
            let gap = (now - self.head).min(BUCKETS as u64);
            for i in 1..=gap {
                self.counts[((self.head + i) % BUCKETS as u64) as usize] = 0;
            }
            self.head = now;
        }
    }
}

impl RateMeter {
    /// A meter that starts counting now, on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> RateMeter {
        let start = clock.mono_ms();
        RateMeter { clock, start, inner: Mutex::new(Buckets::default()) }
    }

    /// Milliseconds since the meter was made.
    fn elapsed_ms(&self) -> u64 {
        self.clock.mono_ms().saturating_sub(self.start)
    }

    /// Records `n` events now.
    pub fn add(&self, n: u64) {
        let now = self.elapsed_ms() / 1000;
        let mut b = self.inner.lock();
        b.advance(now);
        b.counts[(now % BUCKETS as u64) as usize] += n;
        b.total += n;
    }

    /// Events per second over the last ten complete seconds (fewer while the meter is young).
    pub fn per_second(&self) -> f64 {
        let elapsed = self.elapsed_ms();
        let now = elapsed / 1000;
        let mut b = self.inner.lock();
        b.advance(now);
        let span = now.min(WINDOW);
        if span == 0 {
            let secs = (elapsed as f64 / 1000.0).max(0.001);
            return b.counts[0] as f64 / secs;
        }
        let sum: u64 = (1..=span).map(|i| b.counts[((now - i) % BUCKETS as u64) as usize]).sum();
        sum as f64 / span as f64
    }

    /// Events counted since the meter was made.
    pub fn total(&self) -> u64 {
        self.inner.lock().total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::clock::ManualClock;
    use std::time::Duration;

    #[test]
    fn n_events_per_simulated_second_read_as_n_per_second() {
        let clock = Arc::new(ManualClock::new(0));
        let meter = RateMeter::new(clock.clone());
        for second in 1..=15u64 {
            meter.add(30);
            meter.add(12);
            clock.advance(Duration::from_secs(1));
            assert_eq!(meter.per_second(), 42.0, "after {second} simulated seconds");
        }
        assert_eq!(meter.total(), 15 * 42);
        // Quiet seconds push the old ones out of the ten-second window.
        clock.advance(Duration::from_secs(5));
        assert_eq!(meter.per_second(), 21.0, "five of the last ten seconds had events");
        clock.advance(Duration::from_secs(5));
        assert_eq!(meter.per_second(), 0.0);
    }
}
