//! Engine settings (topic settings are core's `TopicConfig`).

use super::clock::{Clock, SystemClock};
use super::error::{EngineError, Result};
use super::storage::{self, Storage};
use std::sync::Arc;
use std::time::Duration;

/// When an append is made durable (see the README for what a crash can lose in each mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// fsync before the append is acknowledged; concurrent appenders share one fsync (group commit).
    Always,
    /// Acknowledge after the write to the page cache; a background flusher fsyncs every interval.
    Interval(Duration),
    /// Never fsync while running (only on a clean close); the OS decides when data reaches the disk.
    Never,
}

impl std::str::FromStr for SyncMode {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "always" => Ok(SyncMode::Always),
            "never" => Ok(SyncMode::Never),
            _ => {
                let ms = s
                    .strip_prefix("interval:")
                    .or_else(|| s.strip_prefix("interval="))
                    .unwrap_or(if s == "interval" { "200" } else { "" });
                match ms.parse::<u64>() {
                    Ok(ms) if ms > 0 => Ok(SyncMode::Interval(Duration::from_millis(ms))),
                    _ => Err(EngineError::InvalidArgument(format!(
                        "sync mode {s:?} is not one of: always, interval:MS (MS > 0, e.g. interval:200), never"
                    ))),
                }
            }
        }
    }
}

impl std::fmt::Display for SyncMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncMode::Always => write!(f, "always"),
            SyncMode::Interval(d) => write!(f, "interval:{}", d.as_millis()),
            SyncMode::Never => write!(f, "never"),
        }
    }
}

/// Settings of an engine instance.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub sync: SyncMode,
    /// Default maximum size of one segment file before a new one is started.
    pub segment_bytes: u64,
    /// Bytes of log between two sparse index entries.
    pub index_interval_bytes: u64,
    /// How often retention and session timeouts are checked in the background (real time: the
    /// maintenance thread is a scheduler; what it decides follows `clock`).
    pub maintenance_interval: Duration,
    /// Where the engine reads the time (timestamps, retention by age, session timeouts, lag in
    /// time, rates, reset times). The system clock unless a test or the demo sets a manual one.
    pub clock: Arc<dyn Clock>,
    /// Where every file of the data directory is read and written: the real file system unless
    /// a test sets a simulated disk.
    pub storage: Arc<dyn Storage>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            sync: SyncMode::Interval(Duration::from_millis(200)),
            segment_bytes: 256 * 1024 * 1024,
            index_interval_bytes: 4096,
            maintenance_interval: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
            storage: storage::real(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_modes_parse_and_print() {
        assert_eq!("always".parse::<SyncMode>().unwrap(), SyncMode::Always);
        assert_eq!("never".parse::<SyncMode>().unwrap(), SyncMode::Never);
        let i: SyncMode = "interval:50".parse().unwrap();
        assert_eq!(i, SyncMode::Interval(Duration::from_millis(50)));
        assert_eq!(i.to_string(), "interval:50");
        let err = "sometimes".parse::<SyncMode>().unwrap_err().to_string();
        assert!(err.contains("always, interval:MS"), "{err}");
        assert!("interval:0".parse::<SyncMode>().is_err());
    }
}
