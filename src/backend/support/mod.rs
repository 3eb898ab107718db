//! Rules every backend follows, written once so the engines cannot drift apart: the limits of one
//! call, running blocking client calls off the async threads, and (in the files below) the checks
//! and plan rows whose wording the user sees the same on every engine.
//!
//! - [`checks`]: partition numbers, offsets in the log, records to publish, commits
//! - [`reads`]: where a peek starts, merging peeked partitions, the offsets that commit a pull
//! - [`plans`]: "changed since the plan", undo rows clamped to the log, replay rows, origin headers
//! - [`rates`]: records per second from two samples of a counter
//! - [`search`]: search by scanning with a backend's own reads (engines without a search)

pub mod checks;
pub mod plans;
pub mod rates;
pub mod reads;
pub mod search;

pub use checks::*;
pub use plans::*;
pub use rates::Rates;
pub use reads::*;

use super::{BResult, BackendError};
use std::time::Duration;

/// The most records one peek, fetch or pull hands back.
pub const MAX_RECORDS: usize = 100_000;
/// The longest a fetch or pull waits for new records.
pub const MAX_WAIT_MS: u64 = 60_000;

/// A requested record count within `1..=MAX_RECORDS`.
pub fn clamp_max(max: usize) -> usize {
    max.clamp(1, MAX_RECORDS)
}

/// A requested wait, at most [`MAX_WAIT_MS`].
pub fn clamp_wait(wait_ms: u64) -> Duration {
    Duration::from_millis(wait_ms.min(MAX_WAIT_MS))
}

/// Runs blocking work (disk IO, librdkafka's synchronous calls) on tokio's blocking pool; `what`
/// names the work in the error when the task itself fails (a panic in it).
pub async fn blocking<T, F>(what: &str, f: F) -> BResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> BResult<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(BackendError::Internal(format!("{what} task failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_clamp_both_ways() {
        assert_eq!((clamp_max(0), clamp_max(7), clamp_max(usize::MAX)), (1, 7, MAX_RECORDS));
        assert_eq!(clamp_wait(u64::MAX), Duration::from_millis(MAX_WAIT_MS));
        assert_eq!(clamp_wait(5), Duration::from_millis(5));
    }

    #[tokio::test]
    async fn blocking_work_returns_its_result_and_a_panic_is_an_internal_error() {
        assert_eq!(blocking("sum", || Ok(2 + 2)).await, Ok(4));
        let e = blocking::<(), _>("an engine", || panic!("boom")).await.unwrap_err();
        assert!(matches!(&e, BackendError::Internal(m) if m.starts_with("an engine task failed")), "{e:?}");
    }
}
