//! Replay: copy an offset range or a time window of a topic to the same or another topic, keeping
//! key, value and headers and adding `depot.origin.*` headers. A plan first, then execute.

use serde::{Deserialize, Serialize};

/// Header names added to every replayed record.
pub const ORIGIN_TOPIC: &str = "depot.origin.topic";
pub const ORIGIN_PARTITION: &str = "depot.origin.partition";
pub const ORIGIN_OFFSET: &str = "depot.origin.offset";

/// What to replay, per partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplayRange {
    /// Offsets `from..to` (the end is exclusive).
    Offsets { from: u64, to: u64 },
    /// Records with `since_ms <= timestamp < until_ms`.
    Time { since_ms: i64, until_ms: i64 },
}

/// One partition of a replay plan: offsets `from..to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRow {
    pub partition: u32,
    pub from: u64,
    pub to: u64,
    pub count: u64,
}

/// A replay, computed but not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayPlan {
    pub source: String,
    pub target: String,
    pub range: ReplayRange,
    pub rows: Vec<ReplayRow>,
    pub total: u64,
}

/// What a replay did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayResult {
    pub target: String,
    pub appended: u64,
}
