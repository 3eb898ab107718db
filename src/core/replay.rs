//! Replays: copy an offset range or a time window of a topic to the same or another topic,
//! keeping key, value and headers and adding the `depot.origin.*` headers. A plan first, then run.

use super::Invalid;
use serde::{Deserialize, Serialize};

/// What every origin header name starts with.
pub const ORIGIN_PREFIX: &str = "depot.origin.";
/// Header names added to every replayed record: where the copy came from.
pub const ORIGIN_TOPIC: &str = "depot.origin.topic";
pub const ORIGIN_PARTITION: &str = "depot.origin.partition";
pub const ORIGIN_OFFSET: &str = "depot.origin.offset";
/// The original record's timestamp, in milliseconds since the epoch (decimal text).
pub const ORIGIN_TIMESTAMP: &str = "depot.origin.timestamp";

/// The origin headers of a copy of `source/partition@offset` written at `timestamp` (ms), as
/// (name, text value) in this order; every engine's replay adds exactly these.
pub fn origin(source: &str, partition: u32, offset: u64, timestamp: i64) -> [(&'static str, String); 4] {
    [
        (ORIGIN_TOPIC, source.to_string()),
        (ORIGIN_PARTITION, partition.to_string()),
        (ORIGIN_OFFSET, offset.to_string()),
        (ORIGIN_TIMESTAMP, timestamp.to_string()),
    ]
}

/// What to replay, per partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplayRange {
    /// Offsets `from..to` (the end is exclusive).
    Offsets { from: u64, to: u64 },
    /// Records with `since_ms <= timestamp < until_ms`.
    Time { since_ms: i64, until_ms: i64 },
}

impl ReplayRange {
    /// Refuses a range that ends before it starts (every backend checks this before planning).
    pub fn check(&self) -> Result<(), Invalid> {
        match *self {
            ReplayRange::Offsets { from, to } if from > to => {
                Err(Invalid(format!("the range {from}..{to} ends before it starts")))
            }
            ReplayRange::Time { since_ms, until_ms } if since_ms > until_ms => {
                Err(Invalid::new("the time window ends before it starts"))
            }
            _ => Ok(()),
        }
    }
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

/// A replay to plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    pub source: String,
    #[serde(default)]
    pub partitions: Vec<u32>,
    pub range: ReplayRange,
    #[serde(default)]
    pub target: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_headers_keep_their_documented_names() {
        assert_eq!(ORIGIN_TOPIC, "depot.origin.topic");
        assert_eq!(ORIGIN_PARTITION, "depot.origin.partition");
        assert_eq!(ORIGIN_OFFSET, "depot.origin.offset");
        assert_eq!(ORIGIN_TIMESTAMP, "depot.origin.timestamp");
        assert!(
            [ORIGIN_TOPIC, ORIGIN_PARTITION, ORIGIN_OFFSET, ORIGIN_TIMESTAMP]
                .iter()
                .all(|h| h.starts_with(ORIGIN_PREFIX))
        );
        let o = origin("orders", 2, 41, -5);
        assert_eq!(o.map(|(_, v)| v), ["orders", "2", "41", "-5"].map(String::from));
    }

    #[test]
    fn ranges_that_end_before_they_start_are_refused() {
        assert!(ReplayRange::Offsets { from: 3, to: 3 }.check().is_ok());
        let e = ReplayRange::Offsets { from: 5, to: 2 }.check().unwrap_err();
        assert_eq!(e.0, "the range 5..2 ends before it starts");
        assert!(ReplayRange::Time { since_ms: i64::MIN, until_ms: i64::MAX }.check().is_ok());
        let e = ReplayRange::Time { since_ms: 2, until_ms: 1 }.check().unwrap_err();
        assert_eq!(e.0, "the time window ends before it starts");
    }
}
