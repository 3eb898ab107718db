//! Plain descriptions the engine hands out: topics, partitions, groups, lag.

use super::config::TopicConfig;
use serde::{Deserialize, Serialize};

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
        self.partitions.iter().map(|p| p.end_offset - p.log_start).sum()
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

/// A member of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub member_id: String,
    pub client_id: String,
    pub topics: Vec<String>,
    pub assignment: Vec<(String, u32)>,
    /// Milliseconds since the member was last heard from.
    pub last_seen_ms: u64,
    pub session_timeout_ms: u64,
}

/// Offsets and lag of one partition for one group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: u32,
    pub committed: Option<u64>,
    pub log_start: u64,
    pub end_offset: u64,
    /// Records not yet consumed: end − committed (from the log start when nothing was committed).
    pub lag: u64,
    /// Age in ms of the oldest unconsumed record; 0 when caught up.
    pub lag_ms: u64,
    pub owner: Option<String>,
    pub redeliveries: u64,
}

/// A consumer group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub name: String,
    /// `stable` with members, `empty` without.
    pub state: String,
    pub generation: u64,
    pub assignor: String,
    pub members: Vec<MemberInfo>,
    pub partitions: Vec<PartitionLag>,
    /// Records consumed per second (last ten seconds).
    pub consume_rate: f64,
}

impl GroupInfo {
    pub fn total_lag(&self) -> u64 {
        self.partitions.iter().map(|p| p.lag).sum()
    }
    pub fn max_lag_ms(&self) -> u64 {
        self.partitions.iter().map(|p| p.lag_ms).max().unwrap_or(0)
    }
    pub fn redeliveries(&self) -> u64 {
        self.partitions.iter().map(|p| p.redeliveries).sum()
    }
}
