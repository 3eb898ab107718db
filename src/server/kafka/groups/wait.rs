//! Waiting for a join phase or the leader's assignment: ask the engine, and while it says
//! "pending", wait on its group events or for as long as it says time alone may take — holding
//! no thread — until an overall limit or the listener's shutdown.

use super::super::{Broker, Session};
use crate::engine::{ClassicError, Engine, Wait};
use std::time::Duration;

/// How long a wait may last whatever the engine says (a join phase ends within the longest
/// rebalance timeout; this only bounds a wait nothing ends).
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// The answer of `ask` once ready; `Ok(None)` when `limit` passed or the listener stops first.
pub async fn until_ready<T>(
    b: &Broker,
    s: &Session,
    limit: Duration,
    mut ask: impl FnMut(&Engine) -> Result<Wait<T>, ClassicError>,
) -> Result<Option<T>, ClassicError> {
    let end = tokio::time::Instant::now() + limit.min(MAX_WAIT);
    let mut stop = s.stop.clone();
    loop {
        // Listen before asking, so a change between the two is not missed.
        let changed = b.engine.group_changes();
        let pause = match ask(&b.engine)? {
            Wait::Ready(t) => return Ok(Some(t)),
            Wait::Pending(d) => d.unwrap_or(MAX_WAIT).max(Duration::from_millis(1)),
        };
        let now = tokio::time::Instant::now();
        if now >= end || *stop.borrow() {
            return Ok(None);
        }
        let wake = (now + pause).min(end);
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep_until(wake) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}
