//! Offset resets with kafka-consumer-groups' vocabulary: a plan (dry run) with before/after per
//! partition, execution that is journaled durably, and undo from the journal.

use serde::{Deserialize, Serialize};

/// Where to move a group's committed offsets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "value", rename_all = "kebab-case")]
pub enum ResetSpec {
    ToEarliest,
    ToLatest,
    ToOffset(u64),
    ShiftBy(i64),
    /// First offset with a timestamp at or after this time (ms since the epoch).
    ToDatetime(i64),
    /// Like `ToDatetime(now - duration)`; the duration in ms.
    ByDuration(u64),
}

impl std::fmt::Display for ResetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResetSpec::ToEarliest => write!(f, "to-earliest"),
            ResetSpec::ToLatest => write!(f, "to-latest"),
            ResetSpec::ToOffset(o) => write!(f, "to-offset {o}"),
            ResetSpec::ShiftBy(n) => write!(f, "shift-by {n:+}"),
            ResetSpec::ToDatetime(ms) => write!(f, "to-datetime {}", fmt_ms(*ms)),
            ResetSpec::ByDuration(ms) => {
                write!(f, "by-duration {}", humantime::format_duration(std::time::Duration::from_millis(*ms)))
            }
        }
    }
}

/// Formats ms since the epoch as RFC 3339 (UTC, milliseconds).
pub fn fmt_ms(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// One partition of a reset plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRow {
    pub partition: u32,
    /// Committed offset now (`None`: the group never committed here).
    pub before: Option<u64>,
    /// Committed offset after the reset.
    pub after: u64,
    pub log_start: u64,
    pub end_offset: u64,
    /// Set when the requested target was outside the log and was clamped.
    pub note: Option<String>,
}

/// A reset, computed but not applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPlan {
    pub group: String,
    pub topic: String,
    pub spec: ResetSpec,
    pub rows: Vec<ResetRow>,
    /// Live members of the group when planned; executing is refused while there are any, unless forced.
    pub live_members: Vec<String>,
    /// When this plan undoes an earlier reset, that reset's id.
    pub undo_of: Option<u64>,
}

/// An executed reset, as written to the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub id: u64,
    pub at_ms: i64,
    pub group: String,
    pub topic: String,
    pub spec: ResetSpec,
    /// (partition, before, after)
    pub rows: Vec<(u32, Option<u64>, u64)>,
    pub forced: bool,
    pub undo_of: Option<u64>,
}

/// The committed offset a spec asks for, clamped to `[log_start, end]`, with a note when clamped.
/// `at_time` resolves a timestamp to the first offset at or after it.
pub fn target(
    spec: &ResetSpec,
    before: Option<u64>,
    log_start: u64,
    end: u64,
    now_ms: i64,
    at_time: &mut dyn FnMut(i64) -> crate::engine::Result<u64>,
) -> crate::engine::Result<(u64, Option<String>)> {
    let wanted: i128 = match spec {
        ResetSpec::ToEarliest => i128::from(log_start),
        ResetSpec::ToLatest => i128::from(end),
        ResetSpec::ToOffset(o) => i128::from(*o),
        ResetSpec::ShiftBy(n) => i128::from(before.unwrap_or(log_start)) + i128::from(*n),
        ResetSpec::ToDatetime(ms) => i128::from(at_time(*ms)?),
        ResetSpec::ByDuration(d) => i128::from(at_time(now_ms - *d as i64)?),
    };
    if wanted < i128::from(log_start) {
        Ok((log_start, Some(format!("{wanted} is before the log start; clamped to {log_start}"))))
    } else if wanted > i128::from(end) {
        Ok((end, Some(format!("{wanted} is past the end; clamped to {end}"))))
    } else {
        Ok((wanted as u64, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(spec: ResetSpec, before: Option<u64>) -> (u64, Option<String>) {
        target(&spec, before, 10, 100, 5_000, &mut |ts| Ok(if ts <= 1_000 { 10 } else { 60 })).unwrap()
    }

    #[test]
    fn targets_follow_kafka_consumer_groups() {
        assert_eq!(t(ResetSpec::ToEarliest, Some(50)).0, 10);
        assert_eq!(t(ResetSpec::ToLatest, Some(50)).0, 100);
        assert_eq!(t(ResetSpec::ToOffset(42), Some(50)).0, 42);
        assert_eq!(t(ResetSpec::ShiftBy(-5), Some(50)).0, 45);
        assert_eq!(t(ResetSpec::ShiftBy(1), None).0, 11);
        assert_eq!(t(ResetSpec::ToDatetime(2_000), Some(50)).0, 60);
        assert_eq!(t(ResetSpec::ByDuration(4_500), Some(50)).0, 10);
    }

    #[test]
    fn out_of_range_targets_are_clamped_and_say_so() {
        let (o, note) = t(ResetSpec::ToOffset(500), Some(50));
        assert_eq!(o, 100);
        assert!(note.unwrap().contains("clamped to 100"));
        let (o, note) = t(ResetSpec::ShiftBy(-1000), Some(50));
        assert_eq!(o, 10);
        assert!(note.unwrap().contains("before the log start"));
    }
}
