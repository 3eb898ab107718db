//! The periodic refresh: which loads are in flight (they coalesce), when the next is due, and the
//! failures it backs off on.

use crate::console::effect::Kind;
use std::collections::BTreeSet;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refresh {
    pub inflight: BTreeSet<Kind>,
    pub next_refresh_ms: i64,
    /// Consecutive failed refreshes (for backoff).
    pub failures: u32,
    /// The refresh in flight already failed for one kind (it counts once in `failures`).
    pub round_failed: bool,
    /// Why the backend is away, while it is.
    pub backend_error: Option<String>,
}

impl Refresh {
    /// How long to wait after the failures so far: 2 s, doubling, at most 30 s.
    pub fn backoff_ms(&self) -> i64 {
        (1_000i64 << self.failures.min(5)).min(30_000)
    }
}
