//! A cheap per-second rate meter: counts in one-second buckets, averaged over the last ten seconds.

use parking_lot::Mutex;
use std::time::Instant;

const BUCKETS: usize = 12;
const WINDOW: u64 = 10;

/// Counts events and reports their rate per second over a sliding ten-second window.
#[derive(Debug)]
pub struct RateMeter {
    start: Instant,
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

impl Default for RateMeter {
    fn default() -> Self {
        RateMeter { start: Instant::now(), inner: Mutex::new(Buckets::default()) }
    }
}

impl RateMeter {
    /// Records `n` events now.
    pub fn add(&self, n: u64) {
        let now = self.start.elapsed().as_secs();
        let mut b = self.inner.lock();
        b.advance(now);
        b.counts[(now % BUCKETS as u64) as usize] += n;
        b.total += n;
    }

    /// Events per second over the last ten complete seconds (fewer while the meter is young).
    pub fn per_second(&self) -> f64 {
        let elapsed = self.start.elapsed();
        let now = elapsed.as_secs();
        let mut b = self.inner.lock();
        b.advance(now);
        let span = now.min(WINDOW);
        if span == 0 {
            let secs = elapsed.as_secs_f64().max(0.001);
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
