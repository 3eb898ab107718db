//! Topics: their settings and what an engine says about them and their partitions.

use super::Invalid;
use serde::{Deserialize, Serialize};

/// Settings of one topic (the embedded engine stores them in `topic.json` beside its partitions).
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

    pub fn validate(&self) -> Result<(), Invalid> {
        if self.partitions == 0 || self.partitions > 10_000 {
            return Err(Invalid(format!("a topic needs between 1 and 10000 partitions, not {}", self.partitions)));
        }
        if let Some(s) = self.segment_bytes
            && !(1024..=(1 << 30)).contains(&s)
        {
            return Err(Invalid(format!("segment size must be between 1 KiB and 1 GiB, not {s} bytes")));
        }
        if self.retention_ms == Some(0) || self.retention_bytes == Some(0) {
            return Err(Invalid::new("retention must be greater than zero (leave it out to keep everything)"));
        }
        Ok(())
    }
}

/// One partition of a topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartitionInfo {
    pub partition: u32,
    pub log_start: u64,
    pub end_offset: u64,
    pub size_bytes: u64,
    pub segments: usize,
    /// Records appended per second (last ten seconds).
    pub rate_in: f64,
    /// Records handed to consumer groups per second (last ten seconds).
    pub rate_out: f64,
}

/// A topic with its partitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicInfo {
    pub name: String,
    pub config: TopicConfig,
    pub partitions: Vec<PartitionInfo>,
}

impl TopicInfo {
    /// Records in the log (end − log start, summed over partitions).
    pub fn backlog(&self) -> u64 {
        self.partitions.iter().map(|p| p.end_offset.saturating_sub(p.log_start)).sum()
    }
    pub fn size_bytes(&self) -> u64 {
        self.partitions.iter().map(|p| p.size_bytes).sum()
    }
    pub fn rate_in(&self) -> f64 {
        self.partitions.iter().map(|p| p.rate_in).sum()
    }
    pub fn rate_out(&self) -> f64 {
        self.partitions.iter().map(|p| p.rate_out).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_settings_are_checked() {
        assert!(TopicConfig::with_partitions(3).validate().is_ok());
        assert!(TopicConfig::with_partitions(0).validate().unwrap_err().0.contains("between 1 and 10000"));
        let small = TopicConfig { segment_bytes: Some(10), ..TopicConfig::with_partitions(1) };
        assert!(small.validate().unwrap_err().0.contains("1 KiB and 1 GiB"));
        let zero = TopicConfig { retention_ms: Some(0), ..TopicConfig::with_partitions(1) };
        assert!(zero.validate().is_err());
    }
}
