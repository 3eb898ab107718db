//! Rates that an engine does not report itself (JetStream, Redis): records per second between two
//! looks at a counter (a stream's last sequence, a group's delivered count).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Samples older than this are dropped once a newer one stands in for the window's start.
const WINDOW: Duration = Duration::from_secs(10);
/// A rate needs samples at least this far apart.
const MIN_SPAN: Duration = Duration::from_millis(500);
/// A counter not looked at for this long is forgotten (a topic deleted, a view closed).
const FORGET: Duration = Duration::from_secs(120);
/// At most this many counters are kept; beyond it all are forgotten (names from a huge cluster).
const MAX_SERIES: usize = 10_000;

/// (instant, counter) samples per counter over the last ten seconds.
#[derive(Debug, Default)]
pub struct Rates {
    series: HashMap<String, VecDeque<(Instant, u64)>>,
}

impl Rates {
    /// Records `counter` for `key` now and returns its rate per second (0 until two samples at
    /// least half a second apart exist; a counter that went back starts over).
    pub fn rate(&mut self, key: &str, counter: u64) -> f64 {
        self.rate_at(key, counter, Instant::now())
    }

    /// [`Rates::rate`] at a given instant.
    pub fn rate_at(&mut self, key: &str, counter: u64, now: Instant) -> f64 {
        self.series.retain(|_, s| s.back().is_some_and(|(t, _)| now.saturating_duration_since(*t) < FORGET));
        if self.series.len() >= MAX_SERIES && !self.series.contains_key(key) {
            self.series.clear();
        }
        let s = self.series.entry(key.to_string()).or_default();
        if s.back().is_some_and(|&(_, v)| v > counter) {
            s.clear(); // the counter went back (stream re-created, consumer reset)
        }
        s.push_back((now, counter));
        while s.len() > 2 && s.get(1).is_some_and(|(t, _)| now.saturating_duration_since(*t) >= WINDOW) {
            s.pop_front();
        }
        match s.front() {
            Some(&(t0, v0)) if now.saturating_duration_since(t0) >= MIN_SPAN => {
                (counter - v0) as f64 / now.saturating_duration_since(t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_need_two_samples_and_restart_when_counters_go_back() {
        let mut r = Rates::default();
        let t0 = Instant::now();
        assert_eq!(r.rate_at("k", 10, t0), 0.0, "one sample is no rate");
        assert_eq!(r.rate_at("k", 12, t0 + Duration::from_millis(100)), 0.0, "samples too close together");
        assert_eq!(r.rate_at("k", 30, t0 + Duration::from_secs(2)), 10.0);
        assert_eq!(r.rate_at("k", 5, t0 + Duration::from_secs(3)), 0.0, "the counter went back: start over");
        assert_eq!(r.rate_at("other", 100, t0 + Duration::from_secs(3)), 0.0, "each key has its own series");
    }

    #[test]
    fn the_window_slides_and_idle_counters_are_forgotten() {
        let mut r = Rates::default();
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        r.rate_at("k", 0, t0);
        r.rate_at("k", 1_000, t0 + s);
        // 30 s later only the last ten seconds count: 100/s since the sample at 21 s.
        for i in 2..=30u32 {
            r.rate_at("k", 1_000 + 100 * u64::from(i - 1), t0 + s * i);
        }
        let v = r.rate_at("k", 1_000 + 100 * 30, t0 + s * 31);
        assert!((99.0..=101.0).contains(&v), "{v}");
        r.rate_at("k", 5_000, t0 + s * 200);
        assert_eq!(r.rate_at("k", 5_100, t0 + s * 201), 100.0, "a fresh series after a long gap");
        assert!(r.rate_at("gone", 1, t0 + s * 400) == 0.0 && !r.series.contains_key("k"), "idle keys are dropped");
    }
}
