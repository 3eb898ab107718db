//! End-to-end latency at a fixed rate, corrected for coordinated omission.
//!
//! The latency phase sends record `i` at `start + i / rate` on a fixed [`Schedule`], whatever
//! happened before. A producer that was held up (a slow acknowledgement, a stalled engine) sends
//! the records that fell due meanwhile as soon as it can — each stamped with the time it was
//! *due*, not the time it finally left. A consumer records `receive − intended send time`. So a
//! stall of 500 ms costs every record that should have gone out during it the time it waited, as
//! a user of the queue would have seen it; measured from the actual send, those records would
//! look fast, and the stall would all but vanish (coordinated omission: the load generator slows
//! down together with the system it measures).
//!
//! We stamp the intended time rather than recording with HdrHistogram's `record_correct`: that
//! back-fills synthetic samples from one expected interval, which is right for one sample per
//! interval of a closed loop; here every record is real, and its own intended time is known
//! exactly, also when producers send due records in batches.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Lowest latency told apart: 1 µs (in ns).
const LOW_NS: u64 = 1_000;
/// Highest latency recorded: one hour (longer ones are recorded as one hour).
const HIGH_NS: u64 = 3_600_000_000_000;

/// When each record of the latency phase is due.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    start_ns: u64,
    rate: u64,
}

impl Schedule {
    /// `rate` records per second from `start_ns` (clamped to at least one per second).
    pub fn new(start_ns: u64, rate: u64) -> Schedule {
        Schedule { start_ns, rate: rate.max(1) }
    }

    /// When record `i` is due.
    pub fn due_ns(&self, i: u64) -> u64 {
        self.start_ns.saturating_add((i as u128 * 1_000_000_000 / self.rate as u128).min(u64::MAX as u128) as u64)
    }
}

/// An empty latency histogram (ns, three significant digits).
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that HdrHistogram accepts (low ≥ 1, high ≥ 2 × low, 3 digits).
    Histogram::new_with_bounds(LOW_NS, HIGH_NS, 3).expect("constant, valid histogram bounds")
}

/// Records one record's latency: from when it was due to when it arrived.
pub fn record(h: &mut Histogram<u64>, intended_ns: u64, received_ns: u64) {
    h.saturating_record(received_ns.saturating_sub(intended_ns));
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |ns: u64| ns as f64 / 1e6;
        Percentiles {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.5)),
            p90_ms: ms(h.value_at_quantile(0.9)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// Points of the latency CDF: (latency in ms, fraction of records at or below it), at most
/// about `points` of them, for the plot.
pub fn cdf(h: &Histogram<u64>, points: usize) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let n = points.max(2);
    let mut out: Vec<(f64, f64)> = (0..=n)
        .map(|k| {
            // Denser towards the tail: quantiles 1 − 10^(−4k/n).
            let q = 1.0 - 10f64.powf(-4.0 * k as f64 / n as f64);
            (h.value_at_quantile(q) as f64 / 1e6, q)
        })
        .collect();
    out.push((h.max() as f64 / 1e6, 1.0));
    out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// 1,000 records/s for 2 s; the producer is stalled from 1.0 s to 1.5 s and sends what fell
    /// due as soon as it can; the engine delivers each record 1 ms after it was actually sent.
    #[test]
    fn a_stall_shows_in_the_corrected_tail_and_would_vanish_uncorrected() {
        let s = Schedule::new(0, 1000);
        let (mut corrected, mut uncorrected) = (histogram(), histogram());
        let mut next = 0u64;
        for now in (0..2000 * MS).step_by(MS as usize) {
            if (1000 * MS..1500 * MS).contains(&now) {
                continue; // stalled: nothing leaves
            }
            while next < 2000 && s.due_ns(next) <= now {
                let received = now + MS;
                record(&mut corrected, s.due_ns(next), received);
                record(&mut uncorrected, now, received);
                next += 1;
            }
        }
        assert_eq!((corrected.len(), uncorrected.len()), (2000, 2000));
        let (c, u) = (Percentiles::of(&corrected), Percentiles::of(&uncorrected));
        assert!(c.p99_ms > 400.0 && c.p99_ms < 510.0, "the stall reaches the corrected p99: {c:?}");
        assert!(c.max_ms > 495.0, "{c:?}");
        assert!(c.p50_ms < 2.0, "half the records never met the stall: {c:?}");
        assert!(u.p99_ms < 2.0 && u.max_ms < 2.0, "uncorrected, the stall disappears: {u:?}");
    }

    #[test]
    fn the_schedule_spaces_records_evenly_and_cannot_overflow() {
        let s = Schedule::new(5, 4);
        assert_eq!((s.due_ns(0), s.due_ns(1), s.due_ns(4)), (5, 250_000_005, 1_000_000_005));
        assert_eq!(Schedule::new(u64::MAX - 1, 1).due_ns(u64::MAX), u64::MAX);
        assert_eq!(Schedule::new(0, 0).due_ns(1), 1_000_000_000, "a rate of 0 is one per second");
    }

    #[test]
    fn the_cdf_rises_to_one_at_the_maximum() {
        let mut h = histogram();
        for ms in 1..=100u64 {
            record(&mut h, 0, ms * MS);
        }
        let c = cdf(&h, 50);
        assert!(c.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1), "monotonic: {c:?}");
        let last = c.last().copied().unwrap_or_default();
        assert!((last.0 - 100.0).abs() < 0.1 && last.1 == 1.0, "{last:?}");
        assert!(cdf(&histogram(), 50).is_empty());
    }
}
