//! Engine and topic settings.

use super::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
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
    /// How often retention and session timeouts are checked in the background.
    pub maintenance_interval: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            sync: SyncMode::Interval(Duration::from_millis(200)),
            segment_bytes: 256 * 1024 * 1024,
            index_interval_bytes: 4096,
            maintenance_interval: Duration::from_secs(1),
        }
    }
}

/// Settings of one topic, stored in `topic.json` beside its partitions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    pub partitions: u32,
    /// Delete whole segments whose newest record is older than this.
    #[serde(default)]
    pub retention_ms: Option<u64>,
    /// Delete the oldest whole segments while the partition is larger than this.
    #[serde(default)]
    pub retention_bytes: Option<u64>,
    /// Segment size for this topic (engine default when absent).
    #[serde(default)]
    pub segment_bytes: Option<u64>,
}

impl TopicConfig {
    pub fn with_partitions(partitions: u32) -> Self {
        TopicConfig { partitions, retention_ms: None, retention_bytes: None, segment_bytes: None }
    }

    pub fn validate(&self) -> Result<()> {
        if self.partitions == 0 || self.partitions > 10_000 {
            return Err(EngineError::InvalidArgument(format!(
                "a topic needs between 1 and 10000 partitions, not {}",
                self.partitions
            )));
        }
        if let Some(s) = self.segment_bytes
            && !(1024..=(1 << 30)).contains(&s)
        {
            return Err(EngineError::InvalidArgument(format!(
                "segment size must be between 1 KiB and 1 GiB, not {s} bytes"
            )));
        }
        if self.retention_ms == Some(0) || self.retention_bytes == Some(0) {
            return Err(EngineError::InvalidArgument(
                "retention must be greater than zero (leave it out to keep everything)".into(),
            ));
        }
        Ok(())
    }
}

/// Checks a topic or group name: 1..=249 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
pub fn validate_name(kind: &str, name: &str) -> Result<()> {
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if name.is_empty() || name.len() > 249 || !ok_chars || name == "." || name == ".." || name.starts_with('.') {
        return Err(EngineError::InvalidArgument(format!(
            "{kind} name {name:?} is not allowed: use 1 to 249 characters of letters, digits, '.', '_' and '-', not starting with '.'"
        )));
    }
    Ok(())
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

    #[test]
    fn names_are_checked() {
        assert!(validate_name("topic", "orders.v2_eu-1").is_ok());
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", &"x".repeat(250)] {
            assert!(validate_name("topic", bad).is_err(), "{bad:?} accepted");
        }
    }
}
