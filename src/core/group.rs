//! Consumer groups: members, per-partition offsets and lag, and committed offsets.

use serde::{Deserialize, Serialize};

/// A member of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub member_id: String,
    pub client_id: String,
    /// Where the member connects from, when the server knows (a Kafka consumer's address).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_host: String,
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

impl PartitionLag {
    /// What one description of the partition says about its health on its own. A verdict
    /// (Burrow's OK, WARN, STALL, STOP, REWIND) needs a window of samples over time, so from a
    /// single look only the facts: never committed, caught up, or behind with no verdict yet.
    pub fn at_a_glance(&self) -> &'static str {
        match (self.committed, self.lag) {
            (None, 0) => "no commits yet, nothing to consume",
            (None, _) => "no commits yet",
            (Some(_), 0) => "caught up",
            (Some(_), _) => "behind: no verdict from one sample",
        }
    }
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
        self.partitions.iter().map(|p| p.lag).fold(0, u64::saturating_add)
    }
    pub fn max_lag_ms(&self) -> u64 {
        self.partitions.iter().map(|p| p.lag_ms).max().unwrap_or(0)
    }
    pub fn redeliveries(&self) -> u64 {
        self.partitions.iter().map(|p| p.redeliveries).fold(0, u64::saturating_add)
    }
}

/// A committed offset: the next offset the group will consume in that partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitOffset {
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
}
